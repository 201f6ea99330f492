"""The persons referral may refer, known pseudonymously by the source records identity linked to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownPerson:
    """A source record's person, the village the record was registered in (None when unknown), and when identity
    linked them (None: a link kept before referral kept that time)."""

    record_key: str
    person_id: str
    village_code: str | None
    linked_at: dt.datetime | None = None

    def supersedes(self, held: KnownPerson | None) -> bool:
        """Whether this link replaces the one held: a link made before it (a replayed dead letter landing after
        newer links) never does. Unknown times, and a tie (the later delivery wins), do."""
        return (held is None or held.linked_at is None or self.linked_at is None
                or self.linked_at >= held.linked_at)


def latest_per_record(persons: Iterable[KnownPerson]) -> list[KnownPerson]:
    """The last word on each record: a later link of the same record supersedes an earlier one (by `linked_at`,
    then by delivery order)."""
    latest: dict[str, KnownPerson] = {}
    for person in persons:
        if person.supersedes(latest.get(person.record_key)):
            latest[person.record_key] = person
    return list(latest.values())
