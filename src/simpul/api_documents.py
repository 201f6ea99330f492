"""AsyncAPI 3 (from FastStream) and OpenAPI (from FastAPI) documents of every service, committed under contracts/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from faststream.specification import AsyncAPI

from simpul.services import SERVICES
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.web import VERSION

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def _settings(name: str) -> Any:
    # Fixed values so the documents do not depend on the machine they are generated on.
    return SERVICES[name].settings_with(
        database_url="sqlite+aiosqlite://", kafka_bootstrap_servers="kafka:9092", topic_namespace=""
    )


def render(name: str) -> dict[str, str]:
    """The service's documents: relative path -> text."""
    app = SERVICES[name].build(_settings(name), for_documentation=True)
    runtime: ServiceRuntime = app.state.runtime
    asyncapi = AsyncAPI(runtime.broker, title=f"Simpul {name}", version=VERSION,
                        description=app.description, schema_version="3.0.0")
    return {
        # Sorted: FastStream lists several publishers of one topic in no stable order.
        f"asyncapi/{name}.yaml": yaml.safe_dump(asyncapi.to_specification().to_jsonable(), sort_keys=True,
                                                allow_unicode=True),
        f"openapi/{name}.json": json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n",
    }


def write_all(root: Path = CONTRACTS) -> list[str]:
    """Regenerate every document; return the paths written."""
    written = []
    for name in SERVICES:
        for relative, text in render(name).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(relative)
    return written


def drift(root: Path = CONTRACTS) -> list[str]:
    """Documents that are missing or differ from what the code generates."""
    stale = []
    for name in SERVICES:
        for relative, text in render(name).items():
            path = root / relative
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(relative)
    return stale
