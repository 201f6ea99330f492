"""The estimate job over what identity holds, and the registry's wire record as identity keeps it."""

from __future__ import annotations

import datetime as dt

from identity.adapters.contract_mapping import record_seen
from identity.domain.commands import EstimateMatchModel
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.estimate import estimate_match_model
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_platform.unit_of_work import execute

from .conftest import BAMBANG, NIK, SITI, Link, key, seen


async def test_nothing_is_estimated_before_identity_holds_records(uow: FakeIdentityUnitOfWork) -> None:
    estimate = await execute(uow, estimate_match_model, EstimateMatchModel())
    assert (estimate.model, estimate.records) == (None, 0)


async def test_the_estimate_covers_every_stored_record_and_reports_its_stages(uow: FakeIdentityUnitOfWork,
                                                                              link: Link) -> None:
    await link(seen("r-1", **SITI, nik=NIK), seen("r-2", **BAMBANG))
    stages: list[str] = []
    estimate = await execute(uow, estimate_match_model,
                             EstimateMatchModel(lambda stage, _done, _total: stages.append(stage)))
    assert estimate.records == 2
    assert estimate.model is not None
    assert estimate.model.auto_link > 0
    assert "blocking" in stages


def test_a_registry_record_keeps_its_details_and_codes() -> None:
    event = ChildIdentityRecordedV1(
        child_id="chd_1", source_system="simpul-registry", source_record_id="r-1", full_name="Siti Aminah",
        sex="female", birth_date=dt.date(2014, 3, 2), birth_date_precision="day", nik=NIK,
        village_code="35.09.11.2007", recorded_at=dt.datetime.now(dt.UTC))
    recorded = record_seen(event)
    assert recorded.key == key("r-1")
    assert (recorded.details.sex, recorded.details.birth_date_precision, recorded.details.nik) == ("female", "day", NIK)
    assert recorded.details.mother_name is None
