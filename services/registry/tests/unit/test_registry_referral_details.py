"""Registry publishes a child's minimal details for referral only while referral consent holds (ADR 0004)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from registry.adapters import contract_mapping
from registry.domain.commands import RecordConsent, RegisterChild, UpdateChild
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.details import ChildChanges, ChildDetails, Guardian, InvalidDetails
from registry.domain.model import Sex
from registry.domain.survey import ImportSurvey, SurveyEntry, SurveyFile
from registry.entrypoints.survey import COLUMN_NAMES, check_row
from registry.service_layer.fake import FakeRegistryStore
from registry.service_layer.handlers import cases, children, survey
from simpul_contracts import Event
from simpul_contracts.events import ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1
from simpul_contracts.events.registry import DetailsWithdrawalReason
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

KESILIR = "35.09.11.2007"
CADRE = Principal("kader", Role.CADRE, (KESILIR,))
NIK = "3509114203140001"
KK = "3509110101010001"
SITI = ChildDetails(full_name="Siti Aminah", sex=Sex.FEMALE, village_code=KESILIR, birth_date=dt.date(2014, 3, 2),
                    mother_name="Sulastri binti Karto", nik=NIK, kk_number=KK,
                    guardians=(Guardian("Pak Karto", "grandfather"),))
DAY = dt.date(2026, 11, 2)
DETAILS = (ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1)



async def _child(store: FakeRegistryStore) -> str:
    return (await execute(store.unit_of_work(), children.register_child, RegisterChild(CADRE, SITI))).child_id


async def _consent(store: FakeRegistryStore, child_id: str, decision: ConsentDecision, on: dt.date = DAY,
                   purpose: ConsentPurpose = ConsentPurpose.REFERRAL) -> list[Event]:
    before = len(store.published)
    await execute(store.unit_of_work(), cases.record_consent, RecordConsent(CADRE, child_id, purpose, decision, on))
    return [e for e in store.published[before:] if isinstance(e, DETAILS)]


async def test_no_details_leave_before_referral_consent_is_given(store: FakeRegistryStore) -> None:
    child_id = await _child(store)
    assert await _consent(store, child_id, ConsentDecision.GIVEN, purpose=ConsentPurpose.DATA_SHARING) == []
    assert await _consent(store, child_id, ConsentDecision.REFUSED) == []
    assert not [e for e in store.published if isinstance(e, DETAILS)]


async def test_consent_for_referral_publishes_the_minimal_details_and_never_nik_kk_or_mother(
        store: FakeRegistryStore) -> None:
    child_id = await _child(store)
    [details] = await _consent(store, child_id, ConsentDecision.GIVEN)

    assert isinstance(details, ChildReferralDetailsRecordedV1)
    assert (details.child_id, details.full_name, details.sex, details.birth_date, details.village_code) == (
        child_id, "Siti Aminah", "female", dt.date(2014, 3, 2), KESILIR)
    assert [(g.name, g.relationship) for g in details.guardians] == [("Pak Karto", "grandfather")]
    assert details.consent_given_on == DAY
    body = details.to_bytes().decode()
    assert NIK not in body
    assert KK not in body
    assert "Sulastri" not in body


async def test_a_withdrawal_publishes_the_withdrawal_later_than_the_details(store: FakeRegistryStore) -> None:
    child_id = await _child(store)
    [given] = await _consent(store, child_id, ConsentDecision.GIVEN)
    [withdrawn] = await _consent(store, child_id, ConsentDecision.WITHDRAWN, DAY + dt.timedelta(days=1))

    assert isinstance(withdrawn, ChildReferralDetailsWithdrawnV1)
    assert (withdrawn.child_id, withdrawn.reason) == (child_id, DetailsWithdrawalReason.CONSENT_WITHDRAWN)
    assert withdrawn.recorded_at >= given.recorded_at
    assert await _consent(store, child_id, ConsentDecision.REFUSED, DAY + dt.timedelta(days=2)) == []


async def test_a_late_older_refusal_changes_nothing_while_consent_holds(store: FakeRegistryStore) -> None:
    child_id = await _child(store)
    await _consent(store, child_id, ConsentDecision.GIVEN)
    late = await _consent(store, child_id, ConsentDecision.REFUSED, DAY - dt.timedelta(days=30))

    assert [type(e) for e in late] == [ChildReferralDetailsRecordedV1]  # still in force: the details, again


async def test_a_change_of_the_minimal_details_is_published_only_while_consent_holds(
        store: FakeRegistryStore) -> None:
    child_id = await _child(store)
    rename = ChildChanges(frozenset({"full_name"}), full_name="Siti A.")
    await execute(store.unit_of_work(), children.update_child, UpdateChild(CADRE, child_id, 1, rename))
    assert not [e for e in store.published if isinstance(e, DETAILS)]

    await _consent(store, child_id, ConsentDecision.GIVEN)
    version = store.tables.children[child_id].version
    nik_only = ChildChanges(frozenset({"nik"}), nik="3509114203140002")
    before = len(store.published)
    await execute(store.unit_of_work(), children.update_child, UpdateChild(CADRE, child_id, version, nik_only))
    assert not [e for e in store.published[before:] if isinstance(e, DETAILS)]  # nothing referral holds changed

    guardians = ChildChanges(frozenset({"guardians"}), guardians=(Guardian("Bu Ani", "aunt", "+62 812 1111 2222"),))
    await execute(store.unit_of_work(), children.update_child, UpdateChild(CADRE, child_id, version + 1, guardians))
    latest = store.published[-1]
    assert isinstance(latest, ChildReferralDetailsRecordedV1)
    assert [(g.name, g.relationship, g.phone) for g in latest.guardians] == [("Bu Ani", "aunt", "+62 812 1111 2222")]
    assert latest.full_name == "Siti A."


async def test_a_surveyed_child_with_referral_consent_has_its_details_published(store: FakeRegistryStore) -> None:
    consent = ((ConsentPurpose.REFERRAL, ConsentDecision.GIVEN),)
    rows = [SurveyEntry(2, "S-1", SITI, None, consent, DAY, "d1"), SurveyEntry(3, "S-2", SITI, None, (), None, "d2")]
    await survey.import_survey(ImportSurvey(CADRE, rows, SurveyFile("survey.csv", "sha")), store.unit_of_work)

    details = [e for e in store.published if isinstance(e, DETAILS)]
    assert [type(e) for e in details] == [ChildReferralDetailsRecordedV1]


def test_every_decision_that_ends_consent_has_a_withdrawal_reason_and_every_reason_a_decision() -> None:
    ending = {decision for decision in ConsentDecision if decision is not ConsentDecision.GIVEN}

    assert set(contract_mapping.WITHDRAWAL_REASONS) == ending
    assert set(contract_mapping.WITHDRAWAL_REASONS.values()) == set(DetailsWithdrawalReason)


def test_a_guardians_phone_must_look_like_one() -> None:
    with pytest.raises(InvalidDetails, match=r"guardians\.phone"):
        Guardian("Bu Ani", "aunt", "call the village head")


def test_a_survey_rows_digest_is_what_it_was_before_guardians_had_phones() -> None:
    row = {name: "" for name in COLUMN_NAMES} | {
        "source_record_id": "S-1", "full_name": "Siti Aminah", "sex": "P", "birth_date": "2014-03-02",
        "village_code": KESILIR, "guardian_name": "Sulastri", "guardian_relationship": "mother",
        "guardian2_name": "Karto", "guardian2_relationship": "grandfather", "consent_referral": "given",
        "consent_decided_on": "2026-11-02", "school_status": "enrolled", "school_grade": "5"}
    entry = check_row(2, row, today=dt.date(2026, 12, 1))

    assert isinstance(entry, SurveyEntry)
    # Computed by the code before phones (a813784^): an unchanged survey imported again stays unchanged.
    assert entry.digest == "999c9a1ad72d43f85f7a8bf85070bff42d6e4b124c96f11e829b9c0d2d898392"


async def test_a_changed_survey_row_keeps_the_guardians_phones_recorded_over_http(store: FakeRegistryStore) -> None:
    row = SurveyEntry(2, "S-1", SITI, None, (), None, "d1")
    await survey.import_survey(ImportSurvey(CADRE, [row], SurveyFile("survey.csv", "sha")), store.unit_of_work)
    [child_id] = store.tables.children
    phone = ChildChanges(frozenset({"guardians"}), guardians=(Guardian("Pak Karto", "grandfather", "+62 812 5"),))
    await execute(store.unit_of_work(), children.update_child, UpdateChild(CADRE, child_id, 1, phone))

    renamed = SurveyEntry(2, "S-1", replace(SITI, full_name="Siti A."), None, (), None, "d2")
    await survey.import_survey(ImportSurvey(CADRE, [renamed], SurveyFile("survey.csv", "sha2")), store.unit_of_work)

    record = store.tables.children[child_id]
    assert (record.child.full_name, record.guardians) == ("Siti A.", [Guardian("Pak Karto", "grandfather",
                                                                                 "+62 812 5")])
