"""Run a service as a real OS process (uvicorn), so tests can SIGKILL it at a failpoint and restart it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simpul_infra.ports import free_port


@dataclass
class ServiceProcess:
    """One service process with its environment; `start` may be called again after a crash."""

    service: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def url(self) -> str:
        """Base URL of its HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """The log file of the latest run."""
        return self.log_dir / f"{self.service}-{self.runs}.log"

    def start(self, failpoints: str = "") -> None:
        """Start the process, with the named failpoints armed."""
        self.runs += 1
        env = os.environ | self.env | {"SIMPUL_FAILPOINTS": failpoints}
        command = [sys.executable, "-m", "uvicorn", f"{self.service}.bootstrap:build", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until /ready answers 200; fail with the log if the process dies first."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(base_url=self.url) as client:
            while asyncio.get_running_loop().time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.service} exited {self.process.returncode}:\n{self.log.read_text()}")
                try:
                    if (await client.get("/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.service} not ready in {timeout}s:\n{self.log.read_text()}")

    async def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the process to end by itself (a failpoint); return its exit code."""
        assert self.process is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while self.process.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.service} still running after {timeout}s:\n{self.log.read_text()}")
            await asyncio.sleep(0.1)
        return self.process.returncode

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
