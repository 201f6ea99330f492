"""FULL_TRANSITIVE compatibility of the current snapshot with every released revision, both ways:

- backward, over closed schemas (the writers' contracts): a reader of the current schema reads every message any
  released revision allows;
- forward, from the current closed schema to each released revision's reader-safe (open) form: a reader built on
  any released revision reads every message the current schema allows. It ignores properties it does not know, so
  adding an optional property passes; a new enum value, accepting null, a loosened constraint or a required
  property becoming optional does not: an older reader would reject (dead-letter) the new messages.

Released revisions live in `released/<event_type>/<n>.json` (append-only, revision 1 = first release), closed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simpul_contracts.layout import Layout
from simpul_contracts.schema_diff import incompatibilities
from simpul_contracts.snapshots import closed, dumps, reader_safe

SUFFIX = ".json"
# The forward check compares the current schema (as "old") with a released one (as "new"): its findings, worded.
_FORWARD_WORDING = (
    ("enum values removed", "enum values older readers do not know"),
    ("optional property became required", "optional now, required by older readers"),
    ("no longer accepted (now", "not accepted by older readers (they accept"),
    ("no longer accepts any value", "is refused by older readers whatever its value"),
)
_FORWARD_PATTERNS = (
    (re.compile(r"(\S+) tightened from (.+) to (.+)$"), r"\1 loosened to \2, older readers keep \3"),
    (re.compile(r": (\S+) (.+) added$"), r": \1 \2 dropped, older readers keep it"),
    (re.compile(r"changed from (.+) to (.+)$"), r"changed to \1, older readers keep \2"),
)


class IncompatibleChange(ValueError):
    """The current snapshot cannot read messages valid under a released revision."""

    def __init__(self, event_type: str, problems: list[str]) -> None:
        super().__init__(f"{event_type}: " + "; ".join(problems))
        self.event_type = event_type
        self.problems = problems


def check(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why a consumer using `new` might reject a message valid under `old` (BACKWARD); empty if none."""
    return incompatibilities(old, new)


def check_forward(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why a reader built on `old` (reader-safe: it ignores unknown properties) might reject a message `new` allows
    (FORWARD); empty if none."""
    return [_forward_wording(problem) for problem in incompatibilities(closed(new), reader_safe(old))]


def _forward_wording(problem: str) -> str:
    for backward, forward in _FORWARD_WORDING:
        problem = problem.replace(backward, forward)
    for pattern, wording in _FORWARD_PATTERNS:
        problem = pattern.sub(wording, problem, count=1)
    return problem


def check_transitive(released: list[dict[str, Any]], new: dict[str, Any]) -> list[str]:
    """Both checks against every released revision (FULL_TRANSITIVE), over closed contracts, each problem naming
    its revision; forward ones say so."""
    contract = closed(new)
    problems = []
    for number, old in enumerate(released, start=1):
        problems += [f"revision {number}: {problem}" for problem in check(closed(old), contract)]
        problems += [f"revision {number}: forward-breaking, older readers would reject new messages: {problem}"
                     for problem in check_forward(old, contract)]
    return problems


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable schema: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a JSON Schema object")
    return document


def revision_files(event_type: str, released_dir: Path) -> list[Path]:
    """Released revision files of one event type, oldest first."""
    folder = released_dir / event_type
    files = [path for path in folder.glob(f"*{SUFFIX}") if path.stem.isdigit()] if folder.is_dir() else []
    return sorted(files, key=lambda path: int(path.stem))


def revisions(event_type: str, released_dir: Path) -> list[dict[str, Any]]:
    """Every released revision of one event type, oldest first."""
    return [_load(path) for path in revision_files(event_type, released_dir)]


def current(event_type: str, schemas_dir: Path) -> dict[str, Any]:
    """The committed snapshot of one event type."""
    return _load(schemas_dir / f"{event_type}{SUFFIX}")


def release(event_type: str, layout: Layout | None = None) -> int | None:
    """Record the current snapshot's contract (closed) as the next revision if it differs from the latest; return
    its number."""
    layout = layout or Layout()
    snapshot = closed(current(event_type, layout.schemas))
    files = revision_files(event_type, layout.released)
    released = [_load(path) for path in files]
    if released and dumps(released[-1]) == dumps(snapshot):
        return None
    problems = check_transitive(released, snapshot)
    if problems:
        raise IncompatibleChange(event_type, problems)
    number = int(files[-1].stem) + 1 if files else 1
    target = layout.released / event_type / f"{number}{SUFFIX}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(snapshot), encoding="utf-8")
    return number


def snapshot_types(schemas_dir: Path) -> list[str]:
    """Event types that have a committed snapshot."""
    return sorted(path.name.removesuffix(SUFFIX) for path in schemas_dir.glob(f"*{SUFFIX}"))


def released_types(released_dir: Path) -> list[str]:
    """Event types with at least one released revision directory."""
    return sorted(path.name for path in released_dir.iterdir() if path.is_dir()) if released_dir.is_dir() else []


def registry_problems(event_type: str, released_dir: Path) -> list[str]:
    """Revision files must be 1.json, 2.json, ... with nothing else beside them."""
    folder = released_dir / event_type
    names = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
    expected = [f"{n}{SUFFIX}" for n in range(1, len(names) + 1)]
    if sorted(names, key=lambda name: (len(name), name)) == expected:
        return []
    return [f"{event_type}: released revisions must be numbered 1.json..N.json without gaps, found {names}"]


def verify(layout: Layout | None = None) -> list[str]:
    """Every incompatibility of the committed snapshots with the released revisions, plus registry faults."""
    layout = layout or Layout()
    present = set(snapshot_types(layout.schemas))
    problems: list[str] = []
    for event_type in released_types(layout.released):
        problems += registry_problems(event_type, layout.released)
        if event_type not in present:
            problems.append(f"{event_type}: released, but its snapshot is gone (released versions stay until retired)")
            continue
        new = current(event_type, layout.schemas)
        released = revisions(event_type, layout.released)
        problems += [f"{event_type}: {problem}" for problem in check_transitive(released, new)]
    return problems


def release_all(layout: Layout | None = None) -> dict[str, int]:
    """Release every changed snapshot; all are checked first so a failure records nothing."""
    layout = layout or Layout()
    problems = verify(layout)
    if problems:
        raise IncompatibleChange("contracts", problems)
    recorded = {}
    for event_type in snapshot_types(layout.schemas):
        number = release(event_type, layout)
        if number is not None:
            recorded[event_type] = number
    return recorded
