"""Debian's chromium for the browser tests: found, or installed with apt-get, and runnable headless."""

from __future__ import annotations

import subprocess

import pytest

from simpul_infra import chromium


def test_ensure_installed_gives_a_runnable_debian_chromium() -> None:
    try:
        binary = chromium.ensure_installed()
    except chromium.ChromiumError as error:
        pytest.skip(f"chromium cannot be installed here: {error}")
    assert binary == chromium.find_executable() == chromium.EXECUTABLE
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True, timeout=60)
    assert version.stdout.startswith("Chromium ")
