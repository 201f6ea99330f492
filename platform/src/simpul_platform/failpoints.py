"""Named crash points for fault tests: `SIMPUL_FAILPOINTS=outbox.after_fetch` makes the process SIGKILL itself there.

Production never sets the variable; the fault tests use it to crash at the exact moment a guarantee is at stake.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    """Kill this process, as abruptly as a power cut, when `name` is armed."""
    armed = os.environ.get("SIMPUL_FAILPOINTS", "")
    if name in armed.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
