"""A local single-node Kafka (KRaft) run from the pinned Maven jars: install, start, stop, status."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from simpul_infra import paths
from simpul_infra.errors import InfraError, first_error, log_tail
from simpul_infra.kafka_probe import broker_answers
from simpul_infra.processes import is_alive, pid_from_file, spawn_detached, terminate

HOST = "127.0.0.1"
DEFAULT_PORT = 9092
DEFAULT_CONTROLLER_PORT = 9093
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0

# Kafka 4 ships no logging config with its Maven jars. Everything goes to <data>/logs/server.log (the broker gets
# -Dkafka.logs.dir); per-partition state changes and the full config dumps (~2,500 lines per start) are noise here.
LOG4J2_PROPERTIES = """\
status = warn
name = simpul-kafka
appender.server.type = RollingFile
appender.server.name = SERVER
appender.server.fileName = ${sys:kafka.logs.dir}/server.log
appender.server.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 50MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = SERVER
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""

class KafkaError(InfraError):
    """The local broker could not be installed, started or stopped."""


@dataclass(frozen=True)
class KafkaStatus:
    """What is known about the broker of one data dir."""

    data_dir: Path
    pid: int | None
    bootstrap: str | None
    answering: bool

    def describe(self) -> str:
        """One human-readable line."""
        if self.pid is None and not self.answering:
            return f"kafka: stopped ({self.data_dir})"
        state = "running" if self.answering else "not answering"
        return f"kafka: {state} on {self.bootstrap}, pid {self.pid or '?'} ({self.data_dir})"


def home() -> Path:
    """Where the jars and logging config live: <state>/kafka."""
    return paths.state_dir() / "kafka"


def default_data_dir() -> Path:
    """The data dir used by `simpul infra kafka` when none is given."""
    return home() / "data"


def java_executable() -> str:
    """The `java` to run: $JAVA_HOME/bin/java, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise KafkaError("no Java found: install a JDK 17+ (apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
    return found


def install(*, force: bool = False) -> Path:
    """Copy the pinned Kafka jars into <state>/kafka/libs with Maven unless already there; return that dir."""
    home().mkdir(parents=True, exist_ok=True)
    _write_if_changed(home() / "log4j2.properties", LOG4J2_PROPERTIES)
    libs, stamp = home() / "libs", home() / "libs.sha256"
    pom = paths.kafka_pom()
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    # Several test sessions may share the state dir: one installs, the others wait and then find it done.
    with (home() / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else ""
        if not force and current == digest and any(libs.glob("kafka_*.jar")):
            return libs
        _copy_jars(pom, libs)
        stamp.write_text(digest + "\n", encoding="utf-8")
    return libs


def _copy_jars(pom: Path, libs: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaError("Maven (`mvn`) is needed to fetch the Kafka jars: apt-get install maven")
    print(f"kafka: fetching the Kafka jars pinned in {pom} with Maven ...", file=sys.stderr, flush=True)
    # Copy into a fresh dir and swap it in: stale jars of an older version would shadow the new ones.
    staging = libs.with_name("libs.new")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
           "-DincludeScope=runtime", f"-DoutputDirectory={staging}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KafkaError(f"Maven failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    print(f"kafka: {len(list(libs.glob('*.jar')))} jars in {libs}", file=sys.stderr, flush=True)


def _write_if_changed(path: Path, text: str) -> None:
    """Replace atomically, and only on change: a broker starting elsewhere may be reading the file."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _server_properties(data_dir: Path, port: int, controller_port: int) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir / "kraft"),
        # A single node can only ever hold one replica: every internal topic must accept that.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Topics come from the catalogue only; a typo in a producer must fail, not create a topic.
        "auto.create.topics.enable": "false",
        "num.partitions": "3",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _java_command(libs: Path, data_dir: Path, main: str, *args: str, heap: str | None = None) -> list[str]:
    memory = [f"-Xmx{heap}", f"-Xms{heap}"] if heap else []
    return [
        java_executable(), *memory, "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={(home() / 'log4j2.properties').resolve()}",
        f"-Dkafka.logs.dir={(data_dir / 'logs').resolve()}",
        "-cp", f"{libs}/*", main, *args,
    ]


def new_cluster_id() -> str:
    """A random KRaft cluster id: base64url of a UUID, never starting with '-' (Kafka's own rule: the storage
    tool would read it as an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _format_storage(libs: Path, data_dir: Path) -> None:
    if (data_dir / "kraft" / "meta.properties").is_file():
        return
    cluster_id = new_cluster_id()
    cmd = _java_command(libs, data_dir, "kafka.tools.StorageTool",
                        "format", "-t", cluster_id, "-c", str(data_dir / "server.properties"))
    # StorageTool prints its progress with println; keep it out of the caller's output unless it fails.
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KafkaError(f"formatting {data_dir / 'kraft'} failed (exit {done.returncode}):\n"
                         f"{done.stdout}{done.stderr}")


def start(data_dir: Path, port: int = DEFAULT_PORT, controller_port: int = DEFAULT_CONTROLLER_PORT,
          heap: str = "512m", timeout: float = START_TIMEOUT_S) -> str:
    """Start the broker of `data_dir` unless one answers on `port`; wait until it serves metadata; return bootstrap."""
    bootstrap = f"{HOST}:{port}"
    if broker_answers(HOST, port):
        return bootstrap
    data_dir = data_dir.resolve()
    libs = install()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    pid = _live_pid(data_dir)
    configured = _configured_port(data_dir)
    if pid is not None and configured != port:
        raise KafkaError(f"the broker of {data_dir} (pid {pid}) is configured for port {configured}, not {port}: "
                         "stop it first, or start it with its own port")
    if pid is None:
        (data_dir / "server.properties").write_text(_server_properties(data_dir, port, controller_port), "utf-8")
        _format_storage(libs, data_dir)
        cmd = _java_command(libs, data_dir, "kafka.Kafka", str(data_dir / "server.properties"), heap=heap)
        pid = spawn_detached(cmd, data_dir / "logs" / "stdout.log", cwd=data_dir)
        (data_dir / "kafka.pid").write_text(f"{pid}\n", encoding="utf-8")
    _wait_until_answering(data_dir, pid, port, timeout)
    return bootstrap


def _wait_until_answering(data_dir: Path, pid: int, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker_answers(HOST, port):
            return
        if not is_alive(pid):
            (data_dir / "kafka.pid").unlink(missing_ok=True)
            raise KafkaError(f"the Kafka broker (pid {pid}) exited during startup; {_logs_excerpt(data_dir)}")
        time.sleep(0.2)
    stop(data_dir)
    raise KafkaError(f"the Kafka broker did not answer on {HOST}:{port} within {timeout:.0f} s; "
                     f"{_logs_excerpt(data_dir)}")


def _logs_excerpt(data_dir: Path) -> str:
    logs = data_dir / "logs"
    error = first_error(logs / "server.log")
    cause = f"first error in {logs / 'server.log'}:\n{error}\n" if error else ""
    return (f"{cause}last lines of {logs / 'server.log'}:\n{log_tail(logs / 'server.log')}\n"
            f"last lines of {logs / 'stdout.log'}:\n{log_tail(logs / 'stdout.log', 10)}")


def stop(data_dir: Path, timeout: float = STOP_TIMEOUT_S) -> bool:
    """Stop the broker of `data_dir` (SIGTERM, then SIGKILL after `timeout`); return whether one was running."""
    data_dir = data_dir.resolve()
    pid = _live_pid(data_dir)
    pid_file = data_dir / "kafka.pid"
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    if not terminate(pid, timeout):
        raise KafkaError(f"the Kafka broker (pid {pid}) survived SIGKILL")
    pid_file.unlink(missing_ok=True)
    return True


def status(data_dir: Path) -> KafkaStatus:
    """The broker of `data_dir`: its live pid, its bootstrap address and whether it answers."""
    data_dir = data_dir.resolve()
    port = _configured_port(data_dir)
    return KafkaStatus(
        data_dir=data_dir,
        pid=_live_pid(data_dir),
        bootstrap=f"{HOST}:{port}" if port else None,
        answering=port is not None and broker_answers(HOST, port),
    )


def _configured_port(data_dir: Path) -> int | None:
    props = data_dir / "server.properties"
    if not props.is_file():
        return None
    for line in props.read_text(encoding="utf-8").splitlines():
        if line.startswith("advertised.listeners="):
            return int(line.rsplit(":", 1)[1])
    return None


def _live_pid(data_dir: Path) -> int | None:
    return pid_from_file(data_dir / "kafka.pid", "kafka.Kafka", str(data_dir / "server.properties"))
