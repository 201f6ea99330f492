"""`simpul up` under signals and crashes: nothing is left running, and a crashed service comes back.

The stack's Kafka and services are replaced by sleeping processes (the supervision and the signal handling are what
is under test, not the services), so these run without a broker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from simpul.stack import ServiceProcess, Supervisor


def process(tmp_path: Path, name: str, code: str) -> ServiceProcess:
    log = tmp_path / f"{name}.log"
    log.write_text(f"{name} log line\n")
    return ServiceProcess(name, 0, subprocess.Popen([sys.executable, "-c", code]), log)


def test_a_crashed_service_is_restarted_after_a_backoff_that_doubles(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    spawned: list[str] = []

    def spawn(name: str) -> ServiceProcess:
        spawned.append(name)
        return process(tmp_path, name, "raise SystemExit(3)")

    supervisor = Supervisor(spawn, {"registry": spawn("registry"), "identity": process(tmp_path, "identity",
                                                                                        "import time; time.sleep(30)")})
    try:
        supervisor.services["registry"].process.wait(10)
        supervisor.check(now=100.0)  # noticed: restart in 1 s
        supervisor.check(now=100.5)
        assert spawned == ["registry"]
        supervisor.check(now=101.0)  # restarted
        assert spawned == ["registry", "registry"]
        supervisor.services["registry"].process.wait(10)
        supervisor.check(now=101.5)  # second crash in a row: 2 s
        supervisor.check(now=103.0)
        assert spawned == ["registry", "registry"]
        supervisor.check(now=103.5)
        assert spawned == ["registry", "registry", "registry"]
        assert not supervisor.services["identity"].exited()  # the others are left alone
    finally:
        for service in supervisor.services.values():
            service.process.kill()
    err = capsys.readouterr().err
    assert "registry: exited with code 3; restart 1 in 1s" in err
    assert "restart 2 in 2s" in err
    assert "registry log line" in err  # the end of its log, to see why


STACK = textwrap.dedent("""
    import subprocess, sys
    from pathlib import Path
    import simpul.stack as stack

    pids = Path(sys.argv[1])
    def sleeper(name, port, bootstrap):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
        with pids.open("a") as out:
            out.write(f"{child.pid}\\n")
        log = pids.parent / f"{name}.log"
        log.write_text("")
        return stack.ServiceProcess(name, port, child, log)

    stack.start_kafka = lambda port: "127.0.0.1:1"
    stack.start_service = sleeper
    stack.wait_until_ready = lambda services: print("READY", flush=True)
    stack.kafka.stop = lambda data: print("KAFKA STOPPED", flush=True)
    stack.run()
""")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_stops_every_service_and_kafka(tmp_path: Path, stop_signal: signal.Signals) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "stack.py"
    script.write_text(STACK)
    up = subprocess.Popen([sys.executable, str(script), str(pids)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    assert up.stdout is not None
    assert up.stdout.readline().strip() == "READY"
    up.send_signal(stop_signal)
    out, err = up.communicate(timeout=30)
    children = [int(pid) for pid in pids.read_text().split()]
    assert len(children) == 4
    time.sleep(0.2)
    assert [pid for pid in children if _alive(pid)] == [], err
    assert "KAFKA STOPPED" in out
    assert "stopping" in err


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie has stopped
