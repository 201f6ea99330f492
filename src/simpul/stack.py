"""`simpul up`: the whole system on one machine: Kafka, topics, the four services on SQLite, pilot data."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from simpul.services import SERVICES
from simpul_infra import kafka, topics
from simpul_infra.paths import state_dir

READY_TIMEOUT_S = 90.0


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


def run(kafka_port: int = 9092, keep_kafka: bool = False) -> None:
    """Run everything until Ctrl-C, then stop it all cleanly."""
    bootstrap = start_kafka(kafka_port)
    services: list[ServiceProcess] = []
    try:
        services = [start_service(name, spec.port, bootstrap) for name, spec in SERVICES.items()]
        wait_until_ready(services)
        _say(f"all services up; logs in {state_dir() / 'logs'}; SQLite files in {state_dir() / 'data'}")
        _say("a development token: simpul auth token --role cadre --subject me --scope 35.09.11.2007")
        _say("Ctrl-C stops everything")
        while not any(service.exited() for service in services):
            time.sleep(0.5)
        dead = next(service for service in services if service.exited())
        raise RuntimeError(f"{dead.name} stopped unexpectedly:\n{dead.tail()}")
    except KeyboardInterrupt:
        _say("stopping...")
    finally:
        stop_services(services)
        if not keep_kafka:
            kafka.stop(state_dir() / "kafka" / "data")
        _say("stopped")
