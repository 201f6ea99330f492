"""Reporting's read model: which person each source record belongs to, and who may read which counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RecordPerson:
    """A source record belongs to a person, registered in a village (None when unknown)."""

    record_key: str
    person_id: str
    village_code: str | None


def latest_per_record(links: Iterable[RecordPerson]) -> list[RecordPerson]:
    """The last link of each record: a later link of the same record supersedes an earlier one."""
    return list({link.record_key: link for link in links}.values())


@dataclass(frozen=True)
class Scope:
    """The regions a reader may see counts of; `regions` None means every region (national readers)."""

    regions: tuple[str, ...] | None

    def covers(self, code: str) -> bool:
        """True when a region code lies inside this scope."""
        if self.regions is None:
            return True
        return any(code == region or code.startswith(region + ".") for region in self.regions)
