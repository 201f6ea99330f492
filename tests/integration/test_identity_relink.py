"""`simpul identity relink` on the real broker and PostgreSQL: links two old models made (one linking on
demographics alone, one linking nothing short of certainty) are corrected under the default model, a reviewer's
verified link and verified non-link stay, a second run changes nothing, and reporting's count follows."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from identity.domain.model import MatchModel
from simpul_platform.auth import Role
from tests.integration.test_identity_linking import SITI, applied, child, person_of
from tests.support.stack import KESILIR, Stack, eventually, running, settings_for, token
from tests.support.topics import publish_event

OFFICER = token(Role.DISTRICT_OFFICER, "35.09", subject="officer-jember") | {"X-Access-Reason": "monthly review"}
MINISTRY = token(Role.MINISTRY)


def _boy(name: str, born: dt.date) -> dict[str, Any]:
    return {"full_name": name, "sex": "male", "birth_date": born, "birth_date_precision": "day",
            "village_code": KESILIR}


def _girl(name: str, born: dt.date) -> dict[str, Any]:
    return _boy(name, born) | {"sex": "female"}


# Alike only in sex, village and birth date: two children, whatever an old model said.
RAHMAT, ZAINAL = _boy("Rahmat Hidayat", dt.date(2013, 7, 7)), _boy("Zainal Abidin", dt.date(2013, 7, 7))
FAJAR, AGUS = _boy("Fajar Nugroho", dt.date(2015, 2, 11)), _boy("Agus Setiawan", dt.date(2015, 2, 11))
AYU, PUTRI = _girl("Ayu Hidayat Maya", dt.date(2014, 6, 22)), _girl("Putri Maulana Agus", dt.date(2014, 6, 22))
DEWI = _girl("Dewi Lestari", dt.date(2012, 1, 5))
STRICT = {"auto_link_threshold": 0.99999, "review_threshold": 0.05}  # links nothing short of certainty
PERMISSIVE = {"auto_link_threshold": 0.05, "review_threshold": 0.05}  # links on demographics alone


def _simpul(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("simpul")), *arguments], capture_output=True,
                          text=True, timeout=300, check=False)


async def _children_counted(client: httpx.AsyncClient, expected: int) -> None:
    async def counted() -> bool:
        feed = (await client.get("/indicators/registered-children", headers=MINISTRY)).json()
        return [v["children"] for v in feed["villages"] if v["village_code"] == KESILIR] == [expected]

    await eventually(counted, timeout=60)


async def _open_reviews(client: httpx.AsyncClient, count: int) -> dict[str, dict[str, Any]]:
    async def queued() -> dict[str, dict[str, Any]] | None:
        items = (await client.get("/reviews", headers=OFFICER)).json()["items"]
        return {item["source_record_id"]: item for item in items} if len(items) >= count else None

    return await eventually(queued)


async def test_relink_corrects_old_links_keeps_decisions_and_reporting_follows(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url, reports = make_database("identity"), make_database("reporting")

    @contextlib.asynccontextmanager
    async def services(**identity_settings: Any) -> AsyncIterator[Stack]:
        async with running({
            "identity": settings_for("identity", url, kafka_bootstrap, namespace, **identity_settings),
            "reporting": settings_for("reporting", reports, kafka_bootstrap, namespace, min_cell_size=1),
        }) as stack:
            yield stack

    strict = [child("ayu", **AYU), child("putri", **PUTRI), child("siti-1", **SITI), child("siti-2", **SITI),
              child("dewi-1", **DEWI), child("dewi-2", **DEWI)]
    permissive = [child("rahmat", **RAHMAT), child("zainal", **ZAINAL), child("fajar", **FAJAR),
                  child("agus", **AGUS)]
    async with services(**STRICT) as stack:
        client = stack.clients["identity"]
        for number, record in enumerate(strict, start=1):
            await publish_event(kafka_bootstrap, namespace, record)
            await applied(url, number)
        reviews = await _open_reviews(client, 3)
        accepted = await client.post(f"/reviews/{reviews['putri']['review_id']}/accept", headers=OFFICER,
                                     json={"person_id": await person_of(url, "ayu")})
        assert accepted.status_code == 200, accepted.text  # a verified link the default model would not make
        rejected = await client.post(f"/reviews/{reviews['siti-2']['review_id']}/reject", headers=OFFICER,
                                     json={"person_id": await person_of(url, "siti-1")})
        assert rejected.status_code == 200, rejected.text  # a verified non-link it would cross
    async with services(**PERMISSIVE) as stack:
        for number, record in enumerate(permissive, start=len(strict) + 1):
            await publish_event(kafka_bootstrap, namespace, record)
            await applied(url, number)
        assert await person_of(url, "rahmat") == await person_of(url, "zainal")
        assert await person_of(url, "fajar") == await person_of(url, "agus")
        assert await person_of(url, "dewi-1") != await person_of(url, "dewi-2")
        await _children_counted(stack.clients["reporting"], 7)
    verified = await person_of(url, "ayu"), await person_of(url, "siti-1"), await person_of(url, "siti-2")

    async with services() as stack:  # the default configuration
        shown = (await stack.clients["identity"].get("/model")).json()
        default = MatchModel.default()
        assert (shown["name"], shown["checksum"]) == (default.identity().name, default.identity().checksum)
        assert (shown["auto_link_threshold"], shown["review_threshold"]) == (default.auto_link, default.review)
        first = await asyncio.to_thread(_simpul, "identity", "relink", "--database-url", url, "--batch", "4")
        assert first.returncode == 0, first.stderr
        assert "relink pass 1: 4/10 records" in first.stderr
        assert "3 moved" in first.stderr
        await _children_counted(stack.clients["reporting"], 8)
        second = await asyncio.to_thread(_simpul, "identity", "relink", "--database-url", url)
        assert second.returncode == 0, second.stderr
        assert "0 moved, 0 events" in second.stderr

    assert await person_of(url, "rahmat") != await person_of(url, "zainal")
    assert await person_of(url, "fajar") != await person_of(url, "agus")
    assert await person_of(url, "dewi-1") == await person_of(url, "dewi-2")
    assert await person_of(url, "putri") == await person_of(url, "ayu") == verified[0]
    assert (await person_of(url, "siti-1"), await person_of(url, "siti-2")) == verified[1:]
