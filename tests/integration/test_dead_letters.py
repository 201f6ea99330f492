"""Poison records go to the dead-letter topic with the reason in headers; the records behind them still flow;
`simpul dlq replay` puts a corrected record back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.auth import Role
from simpul_platform.dead_letter_tools import read_dead_letters
from tests.support.stack import KESILIR, eventually, running, settings_for, token
from tests.support.topics import publish, publish_event

MINISTRY = token(Role.MINISTRY)
SECRET_NIK = "3509114203140001"


def _linked(record_id: str, person_id: str) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="district-app", source_record_id=record_id, person_id=person_id,
                          village_code=KESILIR, reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


async def _simpul(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simpul", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_poison_records_are_dead_lettered_and_replayable(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    topic = namespace + RecordLinkedV1.topic
    good = _linked("rec-good", "per_good")
    envelope_of = good.envelope().to_headers
    settings = {"reporting": settings_for("reporting", make_database("reporting"), kafka_bootstrap, namespace,
                                          min_cell_size=1)}
    invalid = json.loads(_linked("rec-bad", "per_bad").to_bytes())
    del invalid["person_id"]
    invalid["note"] = SECRET_NIK  # an unknown field with personal data: must not leak into the error

    await publish(kafka_bootstrap, topic, b"\xff\xfe{not json", envelope_of(), b"k1")
    await publish(kafka_bootstrap, topic, json.dumps(invalid).encode(), envelope_of(), b"k2")
    await publish(kafka_bootstrap, topic, b"{}", [], b"k3")  # no CloudEvents envelope at all
    # A header value that is not UTF-8 (the Kafka client's own parser would have failed the whole batch on it).
    await publish(kafka_bootstrap, topic, good.to_bytes(),
                  [(name, b"\xff\xfe" if name == "ce_source" else value) for name, value in envelope_of()], b"k4")
    await publish_event(kafka_bootstrap, namespace, good)
    # Kafka allows null header values: a valid event that carries some (a null trace context too) is applied.
    nulls = _linked("rec-nulls", "per_nulls")
    await publish(kafka_bootstrap, topic, nulls.to_bytes(),
                  [*nulls.envelope().to_headers(), ("traceparent", None), ("x-note", None)], b"k5")  # type: ignore[list-item]

    async with running(settings) as stack:
        reporting = stack.clients["reporting"]

        async def children() -> int | None:
            feed = (await reporting.get("/indicators/registered-children", headers=MINISTRY)).json()
            return feed["villages"][0]["children"] if feed["villages"] else None

        assert await eventually(lambda: _at_least(children, 2)) == 2  # the good records behind the poison ones
        letters = await eventually(lambda: _letters(kafka_bootstrap, topic, 4))
        reasons = {letter.headers["dlq_error_message"].split(":")[0] for letter in letters}
        assert reasons == {"body", "person_id", "missing CloudEvents header(s)", "header ce_source"}, reasons
        for letter in letters:
            assert letter.headers["dlq_source_topic"] == topic
            assert letter.headers["dlq_error_type"] in {"ContractError", "EnvelopeError"}
            assert letter.headers["dlq_attempts"] == "1"
            assert {"dlq_source_partition", "dlq_source_offset", "dlq_consumer", "dlq_failed_at"} <= set(letter.headers)
            assert SECRET_NIK not in json.dumps(letter.headers)

        invalid_letter = next(d for d in letters if d.headers["dlq_error_message"].startswith("person_id"))
        fixed = tmp_path / "fixed.json"
        fixed.write_text(json.dumps(invalid | {"person_id": "per_fixed"}))
        listing = await _simpul("dlq", "list", topic, "--bootstrap", kafka_bootstrap)
        assert "person_id: Field required" in listing
        await _simpul("dlq", "replay", topic, "--bootstrap", kafka_bootstrap,
                      "--offset", str(invalid_letter.offset), "--value-file", str(fixed))
        assert await eventually(lambda: _at_least(children, 3)) == 3


async def _letters(bootstrap: str, topic: str, count: int) -> list | None:  # type: ignore[type-arg]
    letters = await read_dead_letters(bootstrap, topic)
    return letters if len(letters) >= count else None


async def _at_least(probe: Callable[[], object], minimum: int) -> int | None:
    value = await probe()  # type: ignore[misc]
    return value if value is not None and value >= minimum else None
