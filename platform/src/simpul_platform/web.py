"""The FastAPI application of a service: lifespan around the runtime, health, problem+json, tracing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from simpul_platform.auth import TokenKeys
from simpul_platform.problems import install_problem_handlers
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.telemetry import configure_logging, configure_telemetry, trace_engine

VERSION = "0.1.0"


def create_app(runtime: ServiceRuntime, *, title: str, description: str, routers: Sequence[APIRouter]) -> FastAPI:
    """Build the service's app; the broker and relay start in its lifespan, not at import."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        configure_telemetry(runtime.settings.service_name)
        trace_engine(runtime.database.engine.sync_engine)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version=VERSION, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.token_keys = TokenKeys(
        secret=runtime.settings.jwt_secret.get_secret_value(), public_key=runtime.settings.jwt_public_key
    )
    install_problem_handlers(app)
    app.include_router(_health_router(runtime))
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready")
    return app


def _health_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: database and Kafka answer", responses={503: {"description": "Not ready"}})
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"status": "ready" if status == 200 else "not ready", "checks": checks}, status)

    return router
