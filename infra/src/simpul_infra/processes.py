"""Detached server processes: spawn, find again through a pid file, check liveness, terminate."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

# Processes spawned by this interpreter, so they can be reaped instead of lingering as zombies that look alive.
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn_detached(cmd: list[str], output: Path, cwd: Path) -> int:
    """Start `cmd` in its own session (Ctrl-C in the caller's terminal does not reach it); return its pid."""
    with output.open("ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cwd, start_new_session=True)
    _children[proc.pid] = proc
    return proc.pid


def is_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not count)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    if not Path("/proc").is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    # A zombie has exited; only its parent's wait() is missing.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def pid_from_file(pid_file: Path, *markers: str) -> int | None:
    """The pid in `pid_file` if it is alive and its command line holds every marker (pids get reused)."""
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    if not is_alive(pid):
        return None
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no /proc: trust the pid file
    return pid if all(marker.encode() in args for marker in markers) else None


def terminate(pid: int, grace: float) -> bool:
    """SIGTERM `pid`, SIGKILL it after `grace` seconds; return whether it is gone."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not is_alive(pid):
            _children.pop(pid, None)
            return True
    return False
