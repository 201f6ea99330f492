"""Service records in rows of their own (migration 0013): the records kept in referral documents move into the
`service_records` table and load back as they were; a push adds rows and leaves the stored ones alone; the
downgrade puts the documents back as they were."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from referral.adapters.referral_documents import document
from referral.adapters.referral_repository import SqlReferrals
from referral.bootstrap import MIGRATIONS
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ServiceRecord, Step
from referral.domain.lifecycle import ReferralStatus as S
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.domain.service_records import Attachment, Attendance, Outcome
from tests.support.database import migrate

AT = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
SHA = "a" * 64
LEGACY = [  # a record kept before records had ids, attendance and outcome, then one with every field
    {"service_type": "child.education", "delivered_on": "2026-03-03", "recorded_by": "officer-1",
     "recorded_at": "2026-03-03T09:00:00+00:00", "notes": "first session"},
    {"service_type": "child.education", "delivered_on": "2026-03-10", "recorded_by": "client-1",
     "recorded_at": "2026-03-10T09:30:00+00:00", "notes": "", "record_id": "rec_2", "attendance": "attended",
     "outcome": "achieved", "attachments": [["https://files.example.org/a.pdf", SHA]]},
]
EXPECTED = [
    ServiceRecord("child.education", dt.date(2026, 3, 3), "officer-1", dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC),
                  "first session"),
    ServiceRecord("child.education", dt.date(2026, 3, 10), "client-1",
                  dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC), "", Attendance.ATTENDED, Outcome.ACHIEVED,
                  (Attachment("https://files.example.org/a.pdf", SHA),), "rec_2"),
]


def _referral(referral_id: str) -> Referral:
    request = ReferralRequest(referral_id, "child_1", "person_1", "33.01", ("child.education",),
                              RecordedConsent(AT), None)
    history = [Step(S.ISSUED, "officer-1", AT), Step(S.ACKNOWLEDGED, "p", AT), Step(S.ACCEPTED, "p", AT),
               Step(S.IN_SERVICE, "p", AT)]
    return Referral(request, "prov_1", history, PersonLink("person_1"))


def _legacy_document(referral_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    today = document(_referral(referral_id))  # the document before 0013: records inside, no count
    return {name: value for name, value in today.items() if name != "service_count"} | {"service_records": records}


def _insert(connection: sa.Connection, referral_id: str, values: dict[str, Any]) -> None:
    connection.execute(sa.text(
        "INSERT INTO referrals (referral_id, child_id, person_id, provider_id, district, status, is_open,"
        " issued_at, version, updated_at, document, change_xid, change_seq) VALUES (:id, 'child_1', 'person_1',"
        " 'prov_1', '33.01', 'in_service', true, :at, 3, :at, :document, 0, 1)"),
        {"id": referral_id, "at": AT, "document": json.dumps(values)})


def _documents(connection: sa.Connection) -> dict[str, Any]:
    rows = connection.execute(sa.text("SELECT referral_id, document FROM referrals ORDER BY referral_id"))
    return {row[0]: row[1] if isinstance(row[1], dict) else json.loads(row[1]) for row in rows}


async def test_the_migration_moves_the_records_out_of_the_documents_and_back(any_store: Callable[[str], str]) -> None:
    engine = create_async_engine(any_store("referral"))
    legacy = {"ref_a": _legacy_document("ref_a", LEGACY), "ref_b": _legacy_document("ref_b", [])}
    async with engine.begin() as connection:
        await connection.run_sync(migrate, MIGRATIONS, "0012")
        for referral_id, values in legacy.items():
            await connection.run_sync(_insert, referral_id, values)
        await connection.run_sync(migrate, MIGRATIONS, "head")
        moved = await connection.run_sync(_documents)
    assert [("service_records" in values, values["service_count"]) for values in moved.values()] == [
        (False, 2), (False, 0)]
    async with AsyncSession(engine) as session:
        loaded = await SqlReferrals(session).get_many(["ref_a", "ref_b"])
        assert (loaded["ref_a"].service_records, loaded["ref_b"].service_records) == (EXPECTED, [])
    pushed = ServiceRecord("child.education", dt.date(2026, 3, 17), "client-1", AT + dt.timedelta(days=15),
                           "third", record_id="rec_3")
    async with AsyncSession(engine) as session, session.begin():  # as a push loads: without the stored records
        repository = SqlReferrals(session)
        loaded = await repository.get_many(["ref_a", "ref_b"], for_update=True, records=False)
        assert [(r.service_records, r.service_count) for r in loaded.values()] == [([], 2), ([], 0)]
        loaded["ref_a"].record_service(pushed)
        await repository.save_many(list(loaded.values()))
    async with AsyncSession(engine) as session:
        positions = (await session.execute(sa.text(
            "SELECT position, record_id, notes FROM service_records ORDER BY position"))).all()
        assert [tuple(row) for row in positions] == [(1, "", "first session"), (2, "rec_2", ""), (3, "rec_3", "third")]
        assert (await SqlReferrals(session).get("ref_a")).service_records == [*EXPECTED, pushed]  # type: ignore[union-attr]
    async with engine.begin() as connection:
        await connection.run_sync(migrate, MIGRATIONS, "0012", True)
        restored = await connection.run_sync(_documents)
    await engine.dispose()
    assert restored["ref_b"] == legacy["ref_b"]
    assert "service_count" not in restored["ref_a"]
    assert restored["ref_a"]["service_records"][:2] == [
        {"record_id": "", "attendance": "attended", "outcome": None, "attachments": []} | LEGACY[0], LEGACY[1]]


async def test_an_erasure_rewrites_only_the_stored_records_that_changed(any_store: Callable[[str], str]) -> None:
    engine = create_async_engine(any_store("referral"))
    async with engine.begin() as connection:
        await connection.run_sync(migrate, MIGRATIONS, "head")
    async with AsyncSession(engine) as session, session.begin():
        referral = _referral("ref_c")
        for record in EXPECTED:
            referral.record_service(record)
        await SqlReferrals(session).save(referral)
    async with AsyncSession(engine) as session, session.begin():
        repository = SqlReferrals(session)
        stored = await repository.get("ref_c", for_update=True)
        assert stored is not None
        assert stored.service_records == EXPECTED
        stored.service_records = [replace(stored.service_records[0], notes="(erased)"), stored.service_records[1]]
        await repository.save(stored)
    async with AsyncSession(engine) as session:
        notes = (await session.execute(sa.text("SELECT position, notes FROM service_records ORDER BY position"))).all()
    await engine.dispose()
    assert [tuple(row) for row in notes] == [(1, "(erased)"), (2, "")]
