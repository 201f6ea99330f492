"""Where referral keeps the minimal details of children it may refer (name, sex, age, village, guardian contact;
never NIK or KK), encrypted at rest and present only while the guardian's consent for referral holds.
The abstract repository, its SQL version and its in-memory version (for the fake).

Owned by the child-details area. The tables live here too, on `referral.adapters.orm.metadata`.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Column, DateTime, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import metadata
from referral.domain.child_details import ChildDetails, GuardianContact, Held, Withdrawal
from simpul_platform.field_encryption import EncryptedString, RowBound, Sealed, row_key, unseal
from simpul_platform.upsert import upsert

# One row per child the registry ever sent details of. After a withdrawal or an erasure the row keeps only the
# moment of the last version (so an older, redelivered version cannot bring the details back), no details.
child_details = Table(
    "child_details",
    metadata,
    Column("child_id", String(64), primary_key=True),
    Column("as_of", DateTime(timezone=True), nullable=False),
    # Every detail in one AES-256-GCM token (JSON inside): nothing about the child is readable in the database. The
    # token is bound to its row (the child id): two children's tokens swapped in the database fail to open.
    Column("details", EncryptedString("child_details.details", row_bound=True)),
    # When the erasure job looks at the child next; null once nothing is held.
    Column("review_at", DateTime(timezone=True), index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


class ChildDetailsVault(abc.ABC):
    """The minimal details of each child, by registry child id."""

    @abc.abstractmethod
    async def held(self, child_ids: Collection[str]) -> dict[str, Held]:
        """What is held of these children (those with a row), locked for this transaction."""

    @abc.abstractmethod
    async def keep(self, details: ChildDetails, review_at: dt.datetime) -> None:
        """Hold this version of the child's details (replacing what was held), for the erasure job after
        `review_at`."""

    @abc.abstractmethod
    async def withdraw(self, withdrawal: Withdrawal) -> None:
        """Forget the child's details and remember the withdrawal's moment."""

    @abc.abstractmethod
    async def erase(self, child_id: str) -> bool:
        """Forget the child's details (consent withdrawn, or the retention after the last referral closed is over);
        whether there were any."""

    @abc.abstractmethod
    async def details_of(self, child_id: str) -> ChildDetails | None:
        """The child's details, if held."""

    @abc.abstractmethod
    async def due_for_review(self, now: dt.datetime, limit: int) -> list[str]:
        """Children whose details the erasure job should look at by `now`, oldest first, at most `limit`; locked
        for this transaction, skipping those another transaction holds (two replicas share the work)."""

    @abc.abstractmethod
    async def review_at(self, child_id: str, at: dt.datetime) -> None:
        """Look at the child's details again at `at`."""


def _to_json(details: ChildDetails) -> str:
    return json.dumps({
        "full_name": details.full_name, "sex": details.sex,
        "birth_date": details.birth_date.isoformat() if details.birth_date else None,
        "birth_date_precision": details.birth_date_precision, "village_code": details.village_code,
        "guardians": [[g.name, g.relationship, g.phone] for g in details.guardians],
        "consent_given_on": details.consent_given_on.isoformat()})


def _sealed(details: ChildDetails) -> RowBound:
    return RowBound(row_key(details.child_id), _to_json(details))


def _opened(child_id: str, as_of: dt.datetime, sealed: Sealed | None) -> ChildDetails | None:
    text = unseal(row_key(child_id), sealed)
    return None if text is None else _from_json(child_id, as_of, text)


def _from_json(child_id: str, as_of: dt.datetime, text: str) -> ChildDetails:
    values: dict[str, Any] = json.loads(text)
    born = values["birth_date"]
    return ChildDetails(
        child_id=child_id, full_name=values["full_name"], sex=values["sex"],
        birth_date=dt.date.fromisoformat(born) if born else None,
        birth_date_precision=values["birth_date_precision"], village_code=values["village_code"],
        guardians=tuple(GuardianContact(*guardian) for guardian in values["guardians"]),
        consent_given_on=dt.date.fromisoformat(values["consent_given_on"]), as_of=as_of)


class SqlChildDetailsVault(ChildDetailsVault):
    """The `child_details` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def held(self, child_ids: Collection[str]) -> dict[str, Held]:
        """One locking query for all of them."""
        c = child_details.c
        query = select(c.child_id, c.as_of, c.details).where(c.child_id.in_(list(child_ids))).with_for_update()
        rows = (await self.session.execute(query)).all()
        return {row.child_id: Held(row.child_id, _aware(row.as_of), _opened(row.child_id, _aware(row.as_of),
                                                                           row.details))
                for row in rows}

    async def keep(self, details: ChildDetails, review_at: dt.datetime) -> None:
        """Insert or replace the child's row."""
        await upsert(self.session, child_details, {
            "child_id": details.child_id, "as_of": details.as_of, "details": _sealed(details),
            "review_at": review_at, "updated_at": dt.datetime.now(dt.UTC)}, key=["child_id"])

    async def withdraw(self, withdrawal: Withdrawal) -> None:
        """Insert or replace the child's row with the withdrawal's moment and no details."""
        await upsert(self.session, child_details, {
            "child_id": withdrawal.child_id, "as_of": withdrawal.as_of, "details": None, "review_at": None,
            "updated_at": dt.datetime.now(dt.UTC)}, key=["child_id"])

    async def erase(self, child_id: str) -> bool:
        """Clear the details, keep the moment."""
        c = child_details.c
        statement = update(child_details).where(c.child_id == child_id, c.details.is_not(None)).values(
            details=None, review_at=None, updated_at=dt.datetime.now(dt.UTC))
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def details_of(self, child_id: str) -> ChildDetails | None:
        """One primary-key look-up."""
        c = child_details.c
        row = (await self.session.execute(
            select(c.as_of, c.details).where(c.child_id == child_id))).one_or_none()
        return _opened(child_id, _aware(row.as_of), row.details) if row else None

    async def due_for_review(self, now: dt.datetime, limit: int) -> list[str]:
        """FOR UPDATE SKIP LOCKED over the review index."""
        c = child_details.c
        query = (select(c.child_id).where(c.review_at <= now).order_by(c.review_at).limit(limit)
                 .with_for_update(skip_locked=True))
        return list((await self.session.execute(query)).scalars())

    async def review_at(self, child_id: str, at: dt.datetime) -> None:
        """Move the child's next review."""
        await self.session.execute(update(child_details).where(child_details.c.child_id == child_id)
                                   .values(review_at=at))


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every moment is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class InMemoryChildDetailsVault(ChildDetailsVault):
    """What is held in a dict, plus each child's next review (the fake copies and restores it whole)."""

    def __init__(self) -> None:
        self.rows: dict[str, Held] = {}
        self.reviews: dict[str, dt.datetime] = {}

    async def held(self, child_ids: Collection[str]) -> dict[str, Held]:
        """The rows of these children."""
        return {child_id: self.rows[child_id] for child_id in child_ids if child_id in self.rows}

    async def keep(self, details: ChildDetails, review_at: dt.datetime) -> None:
        """Replace the child's row."""
        self.rows[details.child_id] = Held(details.child_id, details.as_of, details)
        self.reviews[details.child_id] = review_at

    async def withdraw(self, withdrawal: Withdrawal) -> None:
        """Keep only the moment."""
        self.rows[withdrawal.child_id] = Held(withdrawal.child_id, withdrawal.as_of, None)
        self.reviews.pop(withdrawal.child_id, None)

    async def erase(self, child_id: str) -> bool:
        """Keep only the moment; whether there were details."""
        held = self.rows.get(child_id)
        if held is None or held.details is None:
            return False
        self.rows[child_id] = Held(child_id, held.as_of, None)
        self.reviews.pop(child_id, None)
        return True

    async def details_of(self, child_id: str) -> ChildDetails | None:
        """The details, if held."""
        held = self.rows.get(child_id)
        return held.details if held else None

    async def due_for_review(self, now: dt.datetime, limit: int) -> list[str]:
        """Due children, earliest review first."""
        due = sorted((at, child_id) for child_id, at in self.reviews.items() if at <= now)
        return [child_id for _, child_id in due[:limit]]

    async def review_at(self, child_id: str, at: dt.datetime) -> None:
        """Move the child's next review."""
        if child_id in self.reviews:
            self.reviews[child_id] = at
