"""Debian packages the local infrastructure needs (PostgreSQL, Chromium), installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from simpul_infra.errors import InfraError


def can_install() -> bool:
    """True when this is root on a Debian-like system (apt-get can install what is missing)."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install(package: str, error: type[InfraError]) -> None:
    """`apt-get update` then `apt-get install` the package; `error` with the output's tail when either fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", package]):
        print(f"{package}: running {' '.join(cmd)} ...", file=sys.stderr, flush=True)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise error(f"`{' '.join(cmd)}` failed (exit {done.returncode}):\n{output}")
