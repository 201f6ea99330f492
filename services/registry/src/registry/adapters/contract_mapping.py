"""Domain <-> wire: the only place registry objects become contract events."""

from __future__ import annotations

from datetime import UTC, datetime

from registry.domain.model import Child
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_contracts.events.common import DatePrecision, Sex


def identity_recorded(child: Child) -> ChildIdentityRecordedV1:
    """The restricted event identity matches on."""
    return ChildIdentityRecordedV1(
        child_id=child.child_id,
        source_system=child.source_system,
        source_record_id=child.source_record_id,
        full_name=child.full_name,
        sex=Sex(child.sex.value),
        birth_date=child.birth_date,
        birth_date_precision=DatePrecision(child.birth_date_precision.value) if child.birth_date_precision else None,
        mother_name=child.mother_name,
        village_code=child.village_code,
        recorded_at=datetime.now(UTC),
    )
