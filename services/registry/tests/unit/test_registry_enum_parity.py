"""Every registry enum that crosses the wire has the same members as its contract enum: drift fails here."""

from __future__ import annotations

import enum

import pytest

from registry.domain import case_lifecycle, consent, erasure, model, visits
from simpul_contracts.events import common
from simpul_contracts.events import registry as wire

PAIRS = [
    (model.Sex, common.Sex),
    (model.DatePrecision, common.DatePrecision),
    (case_lifecycle.CaseStatus, wire.CaseStatus),
    (case_lifecycle.Classification, wire.Classification),
    (case_lifecycle.ClosureReason, wire.ClosureReason),
    (consent.ConsentPurpose, wire.ConsentPurpose),
    (consent.ConsentDecision, wire.ConsentDecision),
    (visits.WorkSector, wire.WorkSector),
    (visits.Hazard, wire.Hazard),
    (visits.SchoolStatus, wire.SchoolStatus),
    (erasure.ErasureReason, wire.ErasureReason),
]


@pytest.mark.parametrize(("domain", "contract"), PAIRS, ids=[d.__name__ for d, _ in PAIRS])
def test_domain_and_wire_enums_have_the_same_values(domain: type[enum.Enum], contract: type[enum.Enum]) -> None:
    assert {m.value for m in domain} == {m.value for m in contract}
