"""AsyncAPI 3 (from the topic catalogue and the event models: `simpul.asyncapi`) and OpenAPI (from FastAPI) documents
of every service, committed under contracts/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from simpul import asyncapi
from simpul.services import SERVICES
from simpul_infra.catalogue import load_catalogue
from simpul_platform.runtime import ServiceRuntime, consumer_group
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
    settings = runtime.settings
    consumes = []
    for consumer in runtime.consumers:
        topic = consumer.topic.removeprefix(settings.topic_namespace)
        group = consumer_group(settings.topic_namespace, name, topic)
        consumes.append(asyncapi.Consumption(topic, group, list(consumer.handlers)))
    document = asyncapi.document(name, title=f"Simpul {name}", version=VERSION, description=app.description,
                                 server=settings.kafka_bootstrap_servers,
                                 catalogue=load_catalogue(CONTRACTS / "topics.yaml"), consumes=consumes)
    return {
        f"asyncapi/{name}.yaml": yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=120),
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
