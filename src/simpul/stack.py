"""`simpul up`: the whole system on one machine: Kafka, topics, the four services on SQLite, pilot data."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simpul.services import SERVICES
from simpul_infra import kafka, topics
from simpul_infra.paths import state_dir

READY_TIMEOUT_S = 90.0
STABLE_AFTER_S = 60.0  # a service up this long has recovered: its next crash restarts after 1 s again
MAX_BACKOFF_S = 60.0


@dataclass
class ServiceProcess:
    """A service running under uvicorn, its output in a log file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> bool:
        """True when /ready answers 200."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def exited(self) -> bool:
        """True when the process has ended."""
        return self.process.poll() is not None

    def tail(self, lines: int = 30) -> str:
        """The end of its log, for error messages."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_kafka(port: int) -> str:
    """Start (or reuse) the local broker and provision the topic catalogue."""
    _say(f"kafka: starting a local broker on 127.0.0.1:{port} (first run downloads the jars with Maven)")
    bootstrap = kafka.start(state_dir() / "kafka" / "data", port=port, controller_port=port + 1)
    report = asyncio.run(topics.provision(bootstrap))
    _say(f"kafka: ready at {bootstrap}; topics {report}")
    return bootstrap


def start_service(name: str, port: int, bootstrap: str) -> ServiceProcess:
    """Spawn one service on its port with the embedded SQLite default."""
    log = state_dir() / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, f"{name.upper()}_HTTP_PORT": str(port),
                        "SIMPUL_STATE_DIR": str(state_dir())}
    command = [sys.executable, "-m", "uvicorn", f"{name}.bootstrap:build", "--factory",
               "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return ServiceProcess(name, port, process, log)


def wait_until_ready(services: list[ServiceProcess]) -> None:
    """Block until every service is ready; raise with its log when one dies or times out."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = list(services)
    while pending:
        for service in list(pending):
            if service.exited():
                raise RuntimeError(f"{service.name} exited during start-up:\n{service.tail()}")
            if service.ready():
                _say(f"{service.name:>10}: http://127.0.0.1:{service.port}  (API docs: /docs)")
                pending.remove(service)
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"{pending[0].name} not ready after {READY_TIMEOUT_S:.0f}s:\n{pending[0].tail()}")
        time.sleep(0.3)


def stop_services(services: list[ServiceProcess]) -> None:
    """SIGTERM every service, then SIGKILL what is still running after 15 s."""
    for service in services:
        if not service.exited():
            service.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for service in services:
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.process.kill()


class Stop(Exception):
    """A signal asked the stack to stop (SIGTERM, SIGHUP; Ctrl-C arrives as KeyboardInterrupt)."""


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so nothing is left running when a terminal or a supervisor goes away."""
    def stop(signum: int, _frame: object) -> None:
        raise Stop(signal.Signals(signum).name)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, stop)


@dataclass
class Supervisor:
    """Keeps the services running: one that exits is restarted after a backoff that doubles with each consecutive
    crash (1 s up to a minute), and the crash is logged with the end of its log."""

    spawn: Callable[[str], ServiceProcess]
    services: dict[str, ServiceProcess]
    crashes: dict[str, int] = field(default_factory=dict)
    restart_at: dict[str, float] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)

    def check(self, now: float) -> None:
        """Notice exits, schedule their restarts, and restart those whose backoff is over."""
        for name, service in list(self.services.items()):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self.services[name] = self.spawn(name)
                    self.started_at[name] = now
                continue
            if not service.exited():
                if now - self.started_at.get(name, now) > STABLE_AFTER_S:
                    self.crashes[name] = 0  # it ran long enough: the next crash starts the backoff again
                continue
            self.crashes[name] = crashes = self.crashes.get(name, 0) + 1
            delay = min(MAX_BACKOFF_S, 2.0 ** (crashes - 1))
            _say(f"{name}: exited with code {service.process.returncode}; restart {crashes} in {delay:.0f}s. "
                 f"End of its log:\n{service.tail(10)}")
            self.restart_at[name] = now + delay


def run(kafka_port: int = 9092, keep_kafka: bool = False) -> None:
    """Run everything until Ctrl-C, then stop it all cleanly."""
    stop_on_signals()
    supervisor: Supervisor | None = None
    try:
        bootstrap = start_kafka(kafka_port)

        def spawn(name: str) -> ServiceProcess:
            return start_service(name, SERVICES[name].port, bootstrap)

        supervisor = Supervisor(spawn, {name: spawn(name) for name in SERVICES})
        wait_until_ready(list(supervisor.services.values()))
        _say(f"all services up; logs in {state_dir() / 'logs'}; SQLite files in {state_dir() / 'data'}")
        _say("a development token: simpul auth token --role cadre --subject me --scope 35.09.11.2007")
        _say("Ctrl-C (or SIGTERM, SIGHUP) stops everything; a service that crashes is restarted")
        while True:
            supervisor.check(time.monotonic())
            time.sleep(0.5)
    except (KeyboardInterrupt, Stop) as reason:
        _say(f"stopping ({reason or 'Ctrl-C'})...")
    finally:
        for number in (signal.SIGTERM, signal.SIGHUP):  # a second signal must not cut the clean-up short
            signal.signal(number, signal.SIG_IGN)
        stop_services(list(supervisor.services.values()) if supervisor else [])
        if not keep_kafka:
            kafka.stop(state_dir() / "kafka" / "data")
        _say("stopped")
