"""The official AsyncAPI parser: installed once with `npm ci` from the pinned lock, again only when the tool changes,
and its verdict is the script's exit code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simpul_infra import asyncapi_parser


@pytest.fixture(scope="module")
def installed() -> tuple[str, Path]:
    try:
        return asyncapi_parser.ensure_installed()
    except asyncapi_parser.AsyncApiParserError as error:
        pytest.skip(f"the AsyncAPI parser cannot be installed here: {error}")


def test_a_second_install_reuses_the_first(installed: tuple[str, Path]) -> None:
    stamp = asyncapi_parser.install_dir() / ".installed"
    before = stamp.stat().st_mtime_ns

    assert asyncapi_parser.ensure_installed() == installed
    assert stamp.stat().st_mtime_ns == before
    assert (asyncapi_parser.install_dir() / "node_modules" / "@asyncapi" / "parser").is_dir()


def test_a_changed_lock_or_script_means_a_new_install(tmp_path: Path) -> None:
    copy = tmp_path / "tool"
    shutil.copytree(asyncapi_parser.tool_dir(), copy, ignore=shutil.ignore_patterns("node_modules"))
    original = asyncapi_parser._fingerprint(copy)
    (copy / "validate.mjs").write_text((copy / "validate.mjs").read_text() + "\n// changed\n")

    assert asyncapi_parser._fingerprint(copy) != original


def test_a_document_that_is_not_asyncapi_is_invalid(installed: tuple[str, Path], tmp_path: Path) -> None:
    document = tmp_path / "not-asyncapi.yaml"
    document.write_text("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n")

    result = asyncapi_parser.validate(document)

    assert not result.valid
    assert "INVALID" in result.output
