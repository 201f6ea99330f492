"""The committed AsyncAPI and OpenAPI documents match what the services generate."""

from __future__ import annotations

from pathlib import Path

from simpul import api_documents


def test_committed_api_documents_are_current() -> None:
    assert api_documents.drift() == [], "run `simpul api-docs` and commit the result"


def test_a_changed_document_is_reported_as_drift(tmp_path: Path) -> None:
    api_documents.write_all(tmp_path)
    assert api_documents.drift(tmp_path) == []
    openapi = tmp_path / "openapi" / "registry.json"
    openapi.write_text(openapi.read_text().replace('"Register a child"', '"Register a kid"'))
    (tmp_path / "asyncapi" / "identity.yaml").unlink()
    assert sorted(api_documents.drift(tmp_path)) == ["asyncapi/identity.yaml", "openapi/registry.json"]
