"""The persons referral may refer, known pseudonymously by the source records identity linked to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownPerson:
    """A source record's person, and the village the record was registered in (None when unknown)."""

    record_key: str
    person_id: str
    village_code: str | None


def latest_per_record(persons: Iterable[KnownPerson]) -> list[KnownPerson]:
    """The last word on each record: a later link of the same record supersedes an earlier one."""
    return list({person.record_key: person for person in persons}.values())
