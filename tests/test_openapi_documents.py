"""Every committed OpenAPI document is valid OpenAPI (openapi-spec-validator), documents its conditional and
idempotency headers, and every service serves its API documentation without the internet."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from simpul.services import SERVICES

DOCUMENTS = sorted((Path(__file__).resolve().parents[1] / "contracts" / "openapi").glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_the_committed_document_is_valid_openapi(path: Path) -> None:
    validate(_load(path))


def test_the_validator_refuses_a_broken_copy() -> None:
    broken = copy.deepcopy(_load(DOCUMENTS[0]))
    operation = next(iter(next(iter(broken["paths"].values())).values()))
    operation["responses"] = {"200": {"content": {"application/json": {"schema": {"type": "no-such-type"}}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_if_match_and_idempotency_key_are_described_and_versioned_reads_declare_their_etag() -> None:
    registry = _load(next(p for p in DOCUMENTS if p.stem == "registry"))
    headers = [(path, p) for path, operations in registry["paths"].items() for operation in operations.values()
               for p in operation.get("parameters", []) if p.get("in") == "header"]
    named = {p["name"] for _, p in headers}
    assert {"If-Match", "Idempotency-Key"} <= named
    assert all(p.get("description") for _, p in headers if p["name"] in {"If-Match", "Idempotency-Key"})
    read = registry["paths"]["/children/{child_id}"]["get"]
    assert "ETag" in read["responses"]["200"]["headers"]


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_api_documentation_loads_every_asset_from_the_service(service: str) -> None:
    app = SERVICES[service].build(SERVICES[service].settings_with(database_url="sqlite+aiosqlite:///:memory:"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?'([^']+)'""", html)
            assets = [u for pair in urls for u in pair if u]
            assert assets, html
            assert not [u for u in assets if u.startswith(("http:", "https:", "//"))], (page, assets)
            for url in assets:
                answer = await client.get(url)
                assert answer.status_code == 200, (page, url)
