"""Where things live: the repository root and the local state directory (jars, data dirs)."""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = Path("infra", "kafka", "pom.xml")


class RepoNotFoundError(RuntimeError):
    """No Simpul checkout above the working directory or this module."""


def _walk_up(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    return None


def repo_root(start: Path | None = None) -> Path:
    """The checkout root: the nearest directory above `start` (else cwd, else this module) with the Kafka POM."""
    starts = [start] if start is not None else [Path.cwd(), Path(__file__).resolve().parent]
    for origin in starts:
        found = _walk_up(origin.resolve())
        if found is not None:
            return found
    raise RepoNotFoundError(
        f"no Simpul checkout found above {', '.join(str(s) for s in starts)} (looked for {_MARKER})"
    )


def state_dir() -> Path:
    """Local state (jars, data dirs): $SIMPUL_STATE_DIR, else <repo>/.local."""
    override = os.environ.get("SIMPUL_STATE_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return repo_root() / ".local"


def kafka_pom() -> Path:
    """The pinned Kafka POM whose runtime jars make up the local broker."""
    return repo_root() / _MARKER


def topic_catalogue() -> Path:
    """The topic catalogue, `contracts/topics.yaml`."""
    return repo_root() / "contracts" / "topics.yaml"
