"""A local PostgreSQL cluster from Debian's package: install, start, stop, status (callers honour DATABASE_URL)."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

from simpul_infra import debian, paths
from simpul_infra.errors import InfraError, log_tail
from simpul_infra.pg_server import SUPERUSER, PostgresServer
from simpul_infra.ports import HOST, free_port

__all__ = ["PostgresError", "PostgresServer", "default_data_dir", "ensure_installed", "find_bin_dir", "start",
           "status", "stop"]

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
START_TIMEOUT_S = 60


class PostgresError(InfraError):
    """The local PostgreSQL could not be installed, started or stopped."""


def default_data_dir() -> Path:
    """The cluster used by `simpul infra postgres` when none is given: <state>/postgres."""
    return paths.state_dir() / "postgres"


def find_bin_dir() -> Path | None:
    """The highest installed Debian PostgreSQL version's bin dir, or None."""
    versions = []
    for candidate in _DEBIAN_ROOT.glob("*/bin/pg_ctl"):
        if re.fullmatch(r"\d+", candidate.parent.parent.name):
            versions.append((int(candidate.parent.parent.name), candidate.parent))
    return max(versions)[1] if versions else None


def ensure_installed() -> Path:
    """Return the PostgreSQL bin dir, installing Debian's `postgresql` package with apt-get if needed."""
    found = find_bin_dir()
    if found is not None:
        return found
    if not debian.can_install():
        raise PostgresError("PostgreSQL is not installed and this is not root on a Debian-like system: install the "
                            "`postgresql` package, or point SIMPUL_TEST_POSTGRES_URL / DATABASE_URL at a server")
    debian.install("postgresql", PostgresError)
    found = find_bin_dir()
    if found is None:
        raise PostgresError(f"apt-get installed postgresql but no {_DEBIAN_ROOT}/<version>/bin/pg_ctl appeared")
    print(f"postgres: installed {found}", file=sys.stderr, flush=True)
    return found


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(bin_dir: Path, tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; as root, every server-side tool runs as the `postgres` OS user.
    cmd = [str(bin_dir / tool), *args]
    if _as_root():
        cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


def _db_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresError(f"running as root needs the `{SUPERUSER}` OS user (Debian's postgresql package "
                            f"creates it): useradd --system {SUPERUSER}") from None


def _prepare_dir(data_dir: Path) -> None:
    """Create the data dir; as root hand it to `postgres`, which must be able to reach it."""
    (data_dir / "run").mkdir(parents=True, exist_ok=True)
    if not _as_root():
        return
    user = _db_user()
    for path in (data_dir, data_dir / "run", data_dir / "postgres.log", data_dir / "port"):
        if path.exists():
            os.chown(path, user.pw_uid, user.pw_gid)
    for parent in data_dir.parents:
        mode = parent.stat()
        if not mode.st_mode & stat.S_IXOTH and mode.st_uid != user.pw_uid:
            raise PostgresError(f"the `{SUPERUSER}` OS user cannot enter {parent} (mode "
                                f"{stat.filemode(mode.st_mode)}), so it cannot use {data_dir}: choose a data dir "
                                f"under world-traversable directories, or chmod o+x {parent}")


def _write_settings(pgdata: Path, data_dir: Path, port: int, fast: bool) -> None:
    settings = {
        "listen_addresses": f"'{HOST}'",
        "port": str(port),
        "unix_socket_directories": f"'{data_dir / 'run'}'",
        "max_connections": "200",
    }
    if fast:
        # Throwaway test clusters: durability costs time and buys nothing.
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    (pgdata / "simpul.conf").write_text("".join(f"{k} = {v}\n" for k, v in settings.items()), encoding="utf-8")
    main_conf = pgdata / "postgresql.conf"
    include = "include_if_exists = 'simpul.conf'\n"
    if include not in main_conf.read_text(encoding="utf-8"):
        with main_conf.open("a", encoding="utf-8") as conf:
            conf.write("\n# Simpul: settings rewritten on each `start`\n" + include)
    if _as_root():
        user = _db_user()
        os.chown(pgdata / "simpul.conf", user.pw_uid, user.pw_gid)


def _initdb(bin_dir: Path, data_dir: Path, fast: bool) -> None:
    pgdata = data_dir / "pgdata"
    if (pgdata / "PG_VERSION").is_file():
        return
    args = ["-D", str(pgdata), "--auth=trust", f"--username={SUPERUSER}", "-E", "UTF8", "--locale=C.UTF-8"]
    done = _run(bin_dir, "initdb", *args, *(["--no-sync"] if fast else []), cwd=data_dir)
    if done.returncode != 0:
        raise PostgresError(f"initdb {pgdata} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def _choose_port(data_dir: Path, port: int | None) -> int:
    """The given port, else the one this cluster used before (clients keep their URL), else a free one."""
    port_file = data_dir / "port"
    if port is None and port_file.is_file():
        port = int(port_file.read_text(encoding="utf-8").strip())
    port = port or free_port()
    port_file.write_text(f"{port}\n", encoding="utf-8")
    return port


def start(data_dir: Path, port: int | None = None, *, fast: bool = False) -> PostgresServer:
    """Start the cluster in `data_dir` (initdb on first use) unless running; wait until it accepts connections."""
    data_dir = data_dir.resolve()
    running = status(data_dir)
    if running is not None:
        return running
    bin_dir = ensure_installed()
    _prepare_dir(data_dir)
    _initdb(bin_dir, data_dir, fast)
    port = _choose_port(data_dir, port)
    _write_settings(data_dir / "pgdata", data_dir, port, fast)
    _prepare_dir(data_dir)  # again: the port file and log are new, and the server writes to its log
    log = data_dir / "postgres.log"
    done = _run(bin_dir, "pg_ctl", "-D", str(data_dir / "pgdata"), "-l", str(log), "-w",
                "-t", str(START_TIMEOUT_S), "-s", "start", cwd=data_dir)
    if done.returncode != 0:
        raise PostgresError(f"pg_ctl start failed (exit {done.returncode}): {done.stdout}{done.stderr}\n"
                            f"last lines of {log}:\n{log_tail(log)}")
    _wait_ready(bin_dir, data_dir, port)
    return PostgresServer(host=HOST, port=port, data_dir=data_dir)


def _wait_ready(bin_dir: Path, data_dir: Path, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while _run(bin_dir, "pg_isready", "-q", "-h", HOST, "-p", str(port), cwd=data_dir).returncode != 0:
        if time.monotonic() > deadline:
            log = data_dir / "postgres.log"
            raise PostgresError(f"PostgreSQL on {HOST}:{port} not ready after {START_TIMEOUT_S} s; "
                                f"last lines of {log}:\n{log_tail(log)}")
        time.sleep(0.2)


def stop(data_dir: Path) -> bool:
    """Stop the cluster in `data_dir` (fast shutdown); return whether it was running."""
    data_dir = data_dir.resolve()
    bin_dir = find_bin_dir()
    if bin_dir is None or status(data_dir) is None:
        return False
    done = _run(bin_dir, "pg_ctl", "-D", str(data_dir / "pgdata"), "-m", "fast", "-w", "-t", "60", "-s", "stop",
                cwd=data_dir)
    if done.returncode != 0 and status(data_dir) is not None:
        raise PostgresError(f"pg_ctl stop failed (exit {done.returncode}): {done.stdout}{done.stderr}")
    return True


def status(data_dir: Path) -> PostgresServer | None:
    """The running cluster of `data_dir`, or None when it is not running (or never was)."""
    data_dir = data_dir.resolve()
    bin_dir = find_bin_dir()
    pgdata = data_dir / "pgdata"
    if bin_dir is None or not (pgdata / "PG_VERSION").is_file():
        return None
    if _run(bin_dir, "pg_ctl", "-D", str(pgdata), "status", cwd=data_dir).returncode != 0:
        return None
    # postmaster.pid line 4 is the port the running server actually uses.
    lines = (pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()
    return PostgresServer(host=HOST, port=int(lines[3]), data_dir=data_dir)
