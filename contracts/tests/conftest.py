"""Fixtures: a throw-away copy of the committed contract artefacts, so tests can break it freely."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from simpul_contracts.layout import Layout

COMMITTED = Layout()
REGISTRY_EVENT = "simpul.registry.child-identity-recorded.v1"


@pytest.fixture
def workspace(tmp_path: Path) -> Layout:
    """A copy of schemas/, released/, topics.yaml and README.md."""
    root = tmp_path / "contracts"
    root.mkdir()
    for name in ("schemas", "released"):
        shutil.copytree(COMMITTED.root / name, root / name)
    for name in ("topics.yaml", "README.md"):
        shutil.copy(COMMITTED.root / name, root / name)
    return Layout(root)


@pytest.fixture
def registry_schema() -> dict[str, Any]:
    """Revision 1 of a real released schema (enums via $defs, nullable fields, patterns), safe to mutate."""
    path = COMMITTED.released / REGISTRY_EVENT / "1.json"
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
