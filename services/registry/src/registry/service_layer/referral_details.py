"""The minimal details referral may hold of a child (ADR 0004): published on `registry.child-referral.v1` only
while the guardian's consent for referral holds, again when they change, and withdrawn when consent ends."""

from __future__ import annotations

import datetime as dt

from registry.adapters import contract_mapping
from registry.domain.consent import ConsentPurpose, GuardianConsent
from registry.domain.record import ChildRecord
from simpul_contracts import Event


def minimal(record: ChildRecord) -> tuple[object, ...]:
    """What the details event carries, to tell whether a change must reach referral (never NIK, KK, mother)."""
    child = record.child
    return (child.full_name, child.sex, child.birth_date, child.birth_date_precision, record.birth_date_estimated,
            child.village_code, tuple(record.guardians))


def on_consent(record: ChildRecord, consent: GuardianConsent, held_before: bool, at: dt.datetime) -> list[Event]:
    """After a referral decision: the details while consent holds, a withdrawal when it just ended, else nothing."""
    if consent.may_refer():
        return [contract_mapping.referral_details(record, consent, at)]
    if held_before:
        decision = consent.decision(ConsentPurpose.REFERRAL)
        assert decision is not None  # consent held before, so some decision is in force
        return [contract_mapping.referral_details_withdrawn(record.child_id, decision, at)]
    return []


def on_change(record: ChildRecord, consent: GuardianConsent, at: dt.datetime) -> list[Event]:
    """After an edit of the minimal details: them again while consent holds."""
    return [contract_mapping.referral_details(record, consent, at)] if consent.may_refer() else []
