"""The one error type the CLI reports cleanly, and the log excerpt that makes such errors actionable."""

from __future__ import annotations

from pathlib import Path


class InfraError(RuntimeError):
    """Local infrastructure could not be installed, started or stopped; the message says why."""


def log_tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file, indented, or a note that it does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"    ({path} does not exist)"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in tail) or f"    ({path} is empty)"


def first_error(path: Path, lines: int = 8) -> str | None:
    """The first ERROR/FATAL line of a log and the lines after it (a stack trace's cause), indented; or None."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for index, line in enumerate(text):
        # A failed start ends in pages of orderly shutdown; the cause is the first error, long before the tail.
        if " ERROR " in line or " FATAL " in line:
            return "\n".join(f"    {entry}" for entry in text[index:index + lines])
    return None
