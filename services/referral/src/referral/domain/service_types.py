"""The service taxonomy: remediation and prevention services by level (child, household, community).

A service type's code is `<level>.<type>` (`child.school_re_entry`). The list is reference data, changed only by an
import, like the regions: each import that changes something is a new version of the list; a code missing from the
file is retired, never deleted, because referrals and agreements made under it still name it; a retired code listed
again returns. Referrals and agreements may only take current codes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from referral.domain.errors import Invalid

CODE = re.compile(r"^(child|household|community)\.[a-z][a-z0-9_]{1,58}$")


class ServiceLevel(enum.StrEnum):
    """Whom a service is for."""

    CHILD = "child"
    HOUSEHOLD = "household"
    COMMUNITY = "community"


def level_of(code: str) -> ServiceLevel:
    """The level a well-formed code names; a malformed code is refused."""
    if not CODE.match(code):
        raise Invalid("service_type", "not a service type code (<child|household|community>.<type>)")
    return ServiceLevel(code.split(".", 1)[0])


@dataclass(frozen=True)
class ServiceType:
    """One entry of the code list: its code, name, the list version that last changed it, and whether it is retired."""

    code: str
    name: str
    version: int = 1
    retired: bool = False

    @property
    def level(self) -> ServiceLevel:
        """Whom the service is for."""
        return level_of(self.code)


@dataclass(frozen=True)
class ListedServiceType:
    """A row of an imported code list."""

    code: str
    name: str


@dataclass(frozen=True)
class CodeListChange:
    """What an import changed, by code."""

    created: tuple[str, ...] = ()
    renamed: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    unretired: tuple[str, ...] = ()

    @property
    def changes(self) -> int:
        """How many codes changed."""
        return len(self.created) + len(self.renamed) + len(self.retired) + len(self.unretired)


@dataclass(frozen=True)
class ServiceTypeList:
    """A version of the code list, retired codes included."""

    version: int
    entries: Mapping[str, ServiceType] = field(default_factory=dict)

    def get(self, code: str) -> ServiceType | None:
        """The entry for a code, current or retired; None when the list never had it."""
        return self.entries.get(code)

    def current(self) -> list[ServiceType]:
        """The codes referrals and agreements may use, in code order."""
        return sorted((entry for entry in self.entries.values() if not entry.retired), key=lambda e: e.code)

    def require_current(self, code: str) -> ServiceType:
        """The current entry for a code; unknown and retired codes are refused."""
        entry = self.entries.get(code)
        if entry is None:
            raise Invalid("service_type", f"{code} is not in the service type list")
        if entry.retired:
            raise Invalid("service_type", f"{code} was retired in version {entry.version} of the service type list")
        return entry

    def imported(self, rows: Iterable[ListedServiceType]) -> tuple[ServiceTypeList, CodeListChange]:
        """The list after importing `rows` (the whole new list), and what changed; no change keeps the version."""
        listed = _checked(rows)
        version = self.version + 1
        entries = dict(self.entries)
        change = _Changes()
        for code, name in listed.items():
            _import_row(entries, change, ServiceType(code, name, version))
        for code, entry in self.entries.items():
            if code not in listed and not entry.retired:
                entries[code] = replace(entry, retired=True, version=version)
                change.retired.append(code)
        result = change.frozen()
        if not result.changes:
            return self, result
        return ServiceTypeList(version, entries), result


@dataclass
class _Changes:
    created: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unretired: list[str] = field(default_factory=list)

    def frozen(self) -> CodeListChange:
        return CodeListChange(tuple(self.created), tuple(self.renamed), tuple(self.retired), tuple(self.unretired))


def _import_row(entries: dict[str, ServiceType], change: _Changes, new: ServiceType) -> None:
    old = entries.get(new.code)
    if old is None:
        change.created.append(new.code)
    elif old.retired:
        change.unretired.append(new.code)
    elif old.name != new.name:
        change.renamed.append(new.code)
    else:
        return
    entries[new.code] = new


def _checked(rows: Iterable[ListedServiceType]) -> dict[str, str]:
    listed: dict[str, str] = {}
    for row in rows:
        level_of(row.code)
        if not row.name.strip():
            raise Invalid("name", f"{row.code} has no name")
        if row.code in listed:
            raise Invalid("service_type", f"{row.code} is listed twice")
        listed[row.code] = row.name.strip()
    if not listed:
        raise Invalid("service_types", "an empty list would retire every service type")
    return listed


PILOT_SERVICE_TYPES: tuple[ListedServiceType, ...] = (
    ListedServiceType("child.school_re_entry", "School re-entry"),
    ListedServiceType("child.non_formal_education", "Non-formal education (Paket A/B/C)"),
    ListedServiceType("child.bridging_class", "Bridging class"),
    ListedServiceType("child.school_kit", "School kit"),
    ListedServiceType("child.vocational_training", "Vocational training"),
    ListedServiceType("child.after_school_activities", "After-school arts, culture and sports"),
    ListedServiceType("child.psychosocial_support", "Psychosocial support"),
    ListedServiceType("child.health", "Health services"),
    ListedServiceType("child.civil_documents", "Birth certificate and civil documents"),
    ListedServiceType("child.legal_aid", "Legal aid"),
    ListedServiceType("household.social_assistance", "Social assistance enrolment (PKH, KIP)"),
    ListedServiceType("household.income_generation", "Income-generating activity"),
    ListedServiceType("household.labour_support", "Labour support"),
    ListedServiceType("community.awareness_session", "Awareness session"),
)
"""The taxonomy of domain.md, the first version of the list."""


def pilot_list() -> ServiceTypeList:
    """The code list as first imported (version 1)."""
    return ServiceTypeList(0).imported(PILOT_SERVICE_TYPES)[0]
