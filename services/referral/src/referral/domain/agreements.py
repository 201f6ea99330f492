"""Agreements formalising a partnership: an MoU (general, over a year) or a PKS (detailed, with a programme matrix).

An agreement is in force from `starts_on` to `ends_on`, both days included, as the signed period reads ("1 January
to 31 December"). It covers a set of service types and districts (Kemendagri district codes, `PP.RR`); a referral
needs one agreement in force on its day that covers both its service type and the child's district.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from referral.domain.errors import require

DISTRICT_CODE = re.compile(r"^\d{2}\.\d{2}$")


class AgreementKind(enum.StrEnum):
    """The kind of cooperation document."""

    MOU = "mou"
    PKS = "pks"


def district_of(region_code: str) -> str:
    """The district (`PP.RR`) of any region code below a province (`PP.RR`, `PP.RR.SS`, `PP.RR.SS.VVVV`)."""
    district = ".".join(region_code.split(".")[:2])
    require(bool(DISTRICT_CODE.match(district)), "district_code", "not a district or lower region code")
    return district


def require_districts(codes: frozenset[str], field: str) -> None:
    """Refuse an empty set or a code that is not a district's."""
    require(bool(codes), field, "names at least one district")
    for code in codes:
        require(bool(DISTRICT_CODE.match(code)), field, f"{code} is not a district code (PP.RR)")


@dataclass(frozen=True)
class Agreement:
    """An MoU or PKS: its period, the service types and districts it covers, and the document it rests on."""

    agreement_id: str
    kind: AgreementKind
    document_reference: str
    starts_on: dt.date
    ends_on: dt.date
    service_types: frozenset[str]
    districts: frozenset[str]

    def __post_init__(self) -> None:
        require(bool(self.document_reference.strip()), "document_reference", "an agreement names its document")
        require(self.starts_on <= self.ends_on, "ends_on", "the last day in force cannot come before the first")
        require(bool(self.service_types), "service_types", "an agreement covers at least one service type")
        require_districts(self.districts, "districts")

    def in_force_on(self, day: dt.date) -> bool:
        """Whether the agreement is in force on `day` (first and last day included)."""
        return self.starts_on <= day <= self.ends_on

    def covers_service(self, service_type: str) -> bool:
        """Whether the agreement covers a service type."""
        return service_type in self.service_types

    def covers_district(self, district: str) -> bool:
        """Whether the agreement covers a district."""
        return district in self.districts

    def covers(self, service_type: str, district: str, day: dt.date) -> bool:
        """Whether the agreement lets a referral of this service type in this district go ahead on `day`."""
        return self.in_force_on(day) and self.covers_service(service_type) and self.covers_district(district)
