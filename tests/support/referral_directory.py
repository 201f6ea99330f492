"""Providers in a given state of the eligibility gate, built through the directory's own handlers (the fake or the
SQL unit of work alike): what the referrals area's gate tests refer children to.

    provider_id = await provider_in_state(units, GateState.SCORE_5, on=day)

`units` makes a fresh unit of work (`FakeReferralUnitOfWork` shared through `lambda: uow`, or a running service's
`app.state.wiring.unit_of_work`). Every provider serves DISTRICT and OTHER_DISTRICT and offers SERVICE_TYPE; a
referral for SERVICE_TYPE in DISTRICT on `on` passes the gate for ELIGIBLE (and SCORE_6) and fails it, naming the
rule in GATE_RULE, for the others.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable

from referral.domain.agreements import AgreementKind
from referral.domain.commands.directory import (
    AgreementTerms,
    ProviderDetails,
    RecordAgreement,
    RecordVetting,
    RegisterProvider,
    Scores,
    SetCapacity,
    SuspendProvider,
)
from referral.domain.providers import Capacity, Contact, ProviderType
from referral.domain.vetting import LegalDocument, LegalDocumentKind, YearsWithChildren
from referral.service_layer.handlers import directory
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

DISTRICT, OTHER_DISTRICT = "35.09", "52.03"  # Jember, Lombok Timur
SERVICE_TYPE, OTHER_SERVICE_TYPE = "child.school_re_entry", "child.psychosocial_support"
OFFICER = Principal("officer-directory", Role.DISTRICT_OFFICER, (DISTRICT, OTHER_DISTRICT))


class GateState(enum.StrEnum):
    """A provider's standing at the gate, for a referral of SERVICE_TYPE in DISTRICT on the given day."""

    ELIGIBLE = "eligible"  # vetted 9 (recommended), an MoU in force covering both
    SCORE_6 = "score_6"  # vetted 6 (may be recommended): eligible, the lowest score that is
    UNVETTED = "unvetted"
    SCORE_5 = "score_5"
    OUT_OF_SERVICE_TYPES = "out_of_service_types"  # the agreement covers OTHER_SERVICE_TYPE only
    OUT_OF_DISTRICTS = "out_of_districts"  # the agreement covers OTHER_DISTRICT only
    AGREEMENT_EXPIRED = "agreement_expired"  # its last day was the day before
    SUSPENDED = "suspended"
    FULL = "full"  # eligible but at full capacity: needs an officer's override


GATE_RULE = {GateState.ELIGIBLE: None, GateState.SCORE_6: None, GateState.UNVETTED: "provider_vetted",
             GateState.SCORE_5: "vetting_score", GateState.OUT_OF_SERVICE_TYPES: "agreement_service_type",
             GateState.OUT_OF_DISTRICTS: "agreement_district", GateState.AGREEMENT_EXPIRED: "agreement_in_force",
             GateState.SUSPENDED: "provider_active", GateState.FULL: "capacity_full"}
"""The rule code (`eligibility.Rule`) a referral to a provider in each state is refused with; None: let through."""


def documents(on: dt.date, valid: int = 4) -> tuple[LegalDocument, ...]:
    """`valid` of the four documents of legality valid on `on` (the others expired the day before)."""
    since = on - dt.timedelta(days=400)
    return tuple(LegalDocument(kind, f"DOC-{kind.value}", since, None if index < valid else on)
                 for index, kind in enumerate(LegalDocumentKind))


def scores(total: int) -> tuple[int, Scores]:
    """Valid documents and scores adding up to `total` (0-11), legality first."""
    legality = min(total, 4)
    rest = total - legality
    track, vision = min(rest, 2), min(max(rest - 2, 0), 2)
    orientation, years = min(max(rest - 4, 0), 2), max(rest - 6, 0)
    return legality, Scores(track, vision, orientation,
                            YearsWithChildren.OVER_10 if years else YearsWithChildren.UNDER_5)


async def provider_in_state(units: Callable[[], ReferralUnitOfWork], state: GateState, *, on: dt.date,
                            by: Principal = OFFICER, organisation: str = "LPA Jember") -> str:
    """A new provider in `state` for a referral on `on`; its id."""
    at = dt.datetime.combine(on - dt.timedelta(days=30), dt.time(9), tzinfo=dt.UTC)
    provider = await execute(units(), directory.register_provider, RegisterProvider(
        by, organisation, ProviderType.NGO, ProviderDetails(
            frozenset({DISTRICT, OTHER_DISTRICT}), (Contact("Koordinator", "coordinator", "+62 331 000"),),
            frozenset({SERVICE_TYPE, OTHER_SERVICE_TYPE})), at))
    pid = provider.provider_id
    if state is not GateState.UNVETTED:
        total = {GateState.SCORE_5: 5, GateState.SCORE_6: 6}.get(state, 9)
        legality, rest = scores(total)
        await execute(units(), directory.record_vetting, RecordVetting(by, pid, documents(at.date(), legality),
                                                                       rest, at, ("site visit",), "checked"))
    ends_on = on - dt.timedelta(days=1) if state is GateState.AGREEMENT_EXPIRED else on + dt.timedelta(days=365)
    service_types = {GateState.OUT_OF_SERVICE_TYPES: OTHER_SERVICE_TYPE}.get(state, SERVICE_TYPE)
    districts = {GateState.OUT_OF_DISTRICTS: OTHER_DISTRICT}.get(state, DISTRICT)
    await execute(units(), directory.record_agreement, RecordAgreement(by, pid, AgreementTerms(
        AgreementKind.MOU, "MoU 1/2026", on - dt.timedelta(days=60), ends_on, frozenset({service_types}),
        frozenset({districts})), at))
    if state is GateState.SUSPENDED:
        await execute(units(), directory.suspend_provider, SuspendProvider(by, pid, "documents under review", at))
    if state is GateState.FULL:
        await execute(units(), directory.set_capacity, SetCapacity(by, pid, Capacity.FULL, at))
    return pid
