"""Simpul installs on Python 3.11 to 3.13: Debian 12 ships 3.11, Debian 13 ships 3.13 (`<3.12` ruled it out)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = sorted([ROOT / "pyproject.toml", *ROOT.glob("*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")])


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: str(p.relative_to(ROOT).parent))
def test_every_package_accepts_python_3_11_to_3_13(project: Path) -> None:
    accepted = SpecifierSet(tomllib.loads(project.read_text())["project"]["requires-python"])
    assert all(version in accepted for version in ("3.11.2", "3.12.0", "3.13.5"))


def test_the_lock_resolves_for_3_11_to_3_13() -> None:
    accepted = SpecifierSet(tomllib.loads((ROOT / "uv.lock").read_text())["requires-python"].replace(" ", ""))
    assert all(version in accepted for version in ("3.11.2", "3.12.0", "3.13.5"))


def test_bootstrap_finds_python_3_13_when_3_11_is_missing() -> None:
    assert "python3.13" in (ROOT / "scripts" / "bootstrap").read_text()
