"""Debian's Chromium for the browser tests and the dashboard bench: installed with apt-get when missing, as
PostgreSQL is (Playwright drives it through `executable_path`; its own browser download is never used)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from simpul_infra import debian
from simpul_infra.errors import InfraError

__all__ = ["EXECUTABLE", "LAUNCH_ARGS", "ChromiumError", "ensure_installed", "find_executable"]

EXECUTABLE = Path("/usr/bin/chromium")
LAUNCH_ARGS = ("--no-sandbox", "--disable-background-networking")
"""Root in a container has no user namespace for the sandbox; no update checks or other calls home."""


class ChromiumError(InfraError):
    """Chromium is missing and could not be installed."""


def find_executable() -> Path | None:
    """Debian's chromium binary, or None when the package is not installed."""
    return EXECUTABLE if EXECUTABLE.is_file() and os.access(EXECUTABLE, os.X_OK) else None


def ensure_installed() -> Path:
    """Return the chromium binary, installing Debian's `chromium` package with apt-get if needed."""
    found = find_executable()
    if found is not None:
        return found
    if not debian.can_install():
        raise ChromiumError("chromium is not installed and this is not root on a Debian-like system: install the "
                            "`chromium` package")
    debian.install("chromium", ChromiumError)
    found = find_executable()
    if found is None:
        raise ChromiumError(f"apt-get installed chromium but no {EXECUTABLE} appeared")
    print(f"chromium: installed {found}", file=sys.stderr, flush=True)
    return found
