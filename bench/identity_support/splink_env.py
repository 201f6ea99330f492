"""The separate Splink environment of the identity benchmark: a venv at `<repo>/.local/bench-splink` with the
exact pins of `splink_requirements.txt`, created on first use and reused while the requirements file is unchanged
(its SHA-256 is stamped into the venv). Splink runs there as `run_splink.py`, in its own process, so none of its
dependencies touch the project environment."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VENV = REPO / ".local" / "bench-splink"
REQUIREMENTS = HERE / "splink_requirements.txt"
RUNNER = HERE / "run_splink.py"
STAMP = VENV / ".requirements.sha256"


def _python311() -> str:
    found = shutil.which("python3.11")
    if found:
        return found
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    raise RuntimeError("python3.11 is needed to create the Splink environment")


def _log(message: str) -> None:
    print(f"[splink-env] {message}", file=sys.stderr, flush=True)


def python() -> Path:
    return VENV / "bin" / "python"


def ensure() -> Path:
    """The Python of a ready Splink venv, installing it when missing or when the requirements changed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python().exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        _log(f"reusing {VENV}")
        return python()
    if VENV.exists():
        _log(f"requirements changed: recreating {VENV}")
        shutil.rmtree(VENV)
    started = time.perf_counter()
    _log(f"creating {VENV} with {_python311()} -m venv")
    subprocess.run([_python311(), "-m", "venv", str(VENV)], check=True)
    _log(f"pip install -r {REQUIREMENTS.name} (progress below)")
    subprocess.run(
        [str(python()), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
        stdout=sys.stderr,
    )
    STAMP.write_text(digest)
    _log(f"ready in {time.perf_counter() - started:.0f} s")
    return python()


def run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `run_splink.py` with these arguments in the Splink venv (stdout/stderr captured)."""
    return subprocess.run(
        [str(ensure()), str(RUNNER), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
