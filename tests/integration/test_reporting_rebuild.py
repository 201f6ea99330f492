"""`simpul reporting rebuild` on the real broker and PostgreSQL: the pilot scenario (with redeliveries and identity's
links) replayed from the beginning equals what the live consumers hold and is swapped in; a live table that lost
a row makes the rebuild say so and swap nothing; the command line shows its progress and exit status."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from reporting.adapters.indicator_tables import LIVE
from reporting.service_layer.rebuild import Source, rebuild
from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.topic_reader import read_topic
from tests.support.database import scalar
from tests.support.reporting_pilot import FINAL, Sent, pilot
from tests.support.reporting_service import http_figures, reporting, run_phases

SIMPUL = Path(sys.executable).with_name("simpul")


def _links() -> list[Sent]:
    links = [RecordLinkedV1(source_system="simpul-registry", source_record_id=f"rec-{n}", person_id=f"P-{n % 3}",
                            village_code="35.09.11.2007", reason=LinkReason.NEW_PERSON,
                            linked_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC)) for n in range(6)]
    return [(link, link.envelope()) for link in links]


async def test_the_rebuild_equals_live_and_is_swapped_in_and_a_difference_swaps_nothing(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("reporting")
    first, second = pilot()
    everything = first + second + _links()
    await run_phases(url, kafka_bootstrap, namespace, [(everything + first[:20], FINAL)])  # 20 redelivered
    async with reporting(url, kafka_bootstrap, namespace) as (app, client):
        wiring = app.state.wiring
        sources = [Source(c.topic, c.inbox, c.handlers) for c in wiring.runtime.consumers]
        steps: list[tuple[str, int, int]] = []
        report = await rebuild(wiring.runtime.database, wiring.runtime.tables, sources,
                               lambda topic: read_topic(kafka_bootstrap, topic), lambda *step: steps.append(step))
        assert report.differences == dict.fromkeys([*(t.name for t in LIVE.all()), "record_persons"], 0)
        assert report.swapped
        assert sum(report.replayed.values()) == len(everything) + 20
        assert steps[-1][1] == steps[-1][2]  # the last topic's bar reached its end
        assert await http_figures(client, FINAL) == FINAL

        rows = int(await scalar(url, select(func.count()).select_from(LIVE.child_events)))
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                oldest = select(LIVE.child_events.c.event_id).order_by(LIVE.child_events.c.event_id).limit(1)
                await connection.execute(delete(LIVE.child_events).where(LIVE.child_events.c.event_id.in_(oldest)))
        finally:
            await engine.dispose()
        report = await rebuild(wiring.runtime.database, wiring.runtime.tables, sources,
                               lambda topic: read_topic(kafka_bootstrap, topic), lambda *step: None)
        assert not report.swapped
        assert {table: n for table, n in report.differences.items() if n} == {"child_events": 1}
        assert await scalar(url, select(func.count()).select_from(LIVE.child_events)) == rows - 1  # kept as it was


async def test_the_command_line_rebuilds_with_a_progress_bar(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    url = make_database("reporting")
    first, second = pilot()
    await run_phases(url, kafka_bootstrap, namespace, [(first + second, FINAL)])
    env = os.environ | {"REPORTING_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                        "SIMPUL_TOPIC_NAMESPACE": namespace}
    process = await asyncio.create_subprocess_exec(str(SIMPUL), "reporting", "rebuild", env=env,
                                                   stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), timeout=300)
    stderr = err.decode()
    assert process.returncode == 0, stderr
    assert f"{namespace}registry.child.v1" in stderr
    assert "#" * 30 in stderr
    assert "the rebuild equals the live tables; swapped in" in stderr
