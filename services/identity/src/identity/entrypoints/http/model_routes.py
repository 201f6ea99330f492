"""Which match model is in force: its name, version and checksum, and the thresholds the service applies."""

from __future__ import annotations

from fastapi import APIRouter, Request

from identity.entrypoints.http.schemas import ModelInForce

router = APIRouter(tags=["model"])


@router.get("/model", response_model=ModelInForce, summary="The match model and thresholds in force")
async def model_in_force(request: Request) -> ModelInForce:
    """The model read at start (`IDENTITY_MATCH_MODEL_PATH`, else the shipped default) and the thresholds applied
    (the settings', else the model's), with the match rate of the records held that replaces the model's prior.
    Nothing identifying: parameters only."""
    wiring = request.app.state.wiring
    about = wiring.model.identity()
    return ModelInForce(name=about.name, version=about.version, checksum=about.checksum,
                        estimated_from=dict(wiring.model.estimated_from),
                        auto_link_threshold=wiring.thresholds.auto_link, review_threshold=wiring.thresholds.review,
                        match_rate=wiring.match_rate())
