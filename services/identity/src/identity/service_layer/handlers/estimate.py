"""The estimate job: the real-time service's match parameters, estimated from every record identity holds."""

from __future__ import annotations

from dataclasses import dataclass

from identity.domain.commands import EstimateMatchModel
from identity.domain.model import MatchModel
from identity.service_layer.dedupe import dedupe_records
from identity.service_layer.unit_of_work import IdentityUnitOfWork


@dataclass(frozen=True)
class Estimate:
    """The parameters (None when identity holds no records yet) and how many records they came from."""

    model: MatchModel | None
    records: int


async def estimate_match_model(command: EstimateMatchModel, uow: IdentityUnitOfWork) -> Estimate:
    """Estimate the match parameters as `dedupe` does, over every stored record."""
    records = await uow.records.all_details()
    model = dedupe_records(records, progress=command.progress).model if records else None
    return Estimate(model, len(records))
