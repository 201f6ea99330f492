"""The official AsyncAPI parser (`@asyncapi/parser` from npm) for validating the committed AsyncAPI documents.

`tools/asyncapi/` pins the parser (package.json, package-lock.json) and holds the script that runs it. It is
installed with `npm ci` into <state>/asyncapi-parser (gitignored), again whenever any of those files changes; Node.js
comes from Debian's `npm` package when missing, as PostgreSQL and Chromium do.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from simpul_infra import debian, paths
from simpul_infra.errors import InfraError

__all__ = ["AsyncApiParserError", "Validation", "ensure_installed", "install_dir", "tool_dir", "validate"]

FILES = ("package.json", "package-lock.json", "validate.mjs")
SCRIPT = "validate.mjs"
NPM_TIMEOUT_S = 600
VALIDATE_TIMEOUT_S = 300


class AsyncApiParserError(InfraError):
    """Node.js or the parser is missing and could not be installed."""


@dataclass(frozen=True)
class Validation:
    """One run of the parser over some documents: its exit code (0 when every document is valid) and output."""

    returncode: int
    output: str

    @property
    def valid(self) -> bool:
        """Every document parsed without an error or a warning."""
        return self.returncode == 0


def tool_dir() -> Path:
    """The committed tool: package.json, package-lock.json and the validation script."""
    return paths.repo_root() / "tools" / "asyncapi"


def install_dir() -> Path:
    """Where the tool is installed with its node_modules: <state>/asyncapi-parser."""
    return paths.state_dir() / "asyncapi-parser"


def _fingerprint(source: Path) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + (source / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _executables() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if not debian.can_install():
            raise AsyncApiParserError("node and npm are needed to validate AsyncAPI documents and this is not root "
                                      "on a Debian-like system: install the `nodejs` and `npm` packages")
        debian.install("npm", AsyncApiParserError)  # depends on nodejs
        node, npm = shutil.which("node"), shutil.which("npm")
        if node is None or npm is None:
            raise AsyncApiParserError("apt-get installed npm but node or npm is still not on PATH")
    return node, npm


def ensure_installed() -> tuple[str, Path]:
    """The node executable and the installed validation script, running `npm ci` first when needed."""
    node, npm = _executables()
    source, target = tool_dir(), install_dir()
    wanted = _fingerprint(source)
    stamp = target / ".installed"
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once install once
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted and (target / "node_modules").is_dir():
            return node, target / SCRIPT
        stamp.unlink(missing_ok=True)
        for name in FILES:
            shutil.copyfile(source / name, target / name)
        print(f"asyncapi-parser: npm ci in {target} ...", file=sys.stderr, flush=True)
        try:
            done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target,
                                  capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AsyncApiParserError(f"`npm ci` did not finish in {NPM_TIMEOUT_S} s") from exc
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise AsyncApiParserError(f"`npm ci` failed (exit {done.returncode}) in {target}:\n{tail}")
        stamp.write_text(wanted, encoding="utf-8")
    return node, target / SCRIPT


def validate(*documents: Path) -> Validation:
    """Parse and validate the documents with the official parser; the output lists every diagnostic."""
    node, script = ensure_installed()
    try:
        done = subprocess.run([node, str(script), *map(str, documents)], capture_output=True, text=True,
                              timeout=VALIDATE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AsyncApiParserError(f"the AsyncAPI parser did not finish in {VALIDATE_TIMEOUT_S} s") from exc
    return Validation(done.returncode, done.stdout + done.stderr)
