"""The provider guide (docs/providers.md) cannot rot: its code blocks run against a live referral service (real
uvicorn on 127.0.0.1, the real broker and PostgreSQL). The district officer's shell block registers a client; the
Python blocks, as one script, take a referral from token to FHIR completion with a verified webhook; the shell
blocks, as one bash script, take a second referral the same way and verify a real delivery with openssl."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from referral.adapters.referral_repository import referrals as referral_rows
from simpul_contracts.events.registry import ConsentDecision
from simpul_platform.auth import Role
from tests.support.referral_directory import GateState, provider_in_state
from tests.support.referral_referrals import OFFICER, Referral, consent, new_referral
from tests.support.stack import eventually, running, served, settings_for, token
from tests.support.topics import publish_event

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
SHOWN_ONLY = {"json"}
NOW = dt.datetime.now(dt.UTC)  # example answers and payloads, not code


def blocks() -> list[tuple[str, str, str]]:
    """The guide's fenced blocks: (language, tag after it, code)."""
    return [(m[1], m[2].strip(), m[3]) for m in BLOCK.finditer(GUIDE.read_text())]


def _script(language: str, tag: str = "") -> str:
    return "\n".join(code for lang, t, code in blocks() if (lang, t) == (language, tag))


def test_every_block_of_the_guide_is_run_or_only_shown() -> None:
    kinds = {(language, tag) for language, tag, _ in blocks()}
    assert kinds - {(k, "") for k in SHOWN_ONLY} == {("python", ""), ("bash", ""), ("bash", "officer")}
    assert _script("python").count("\n") > 50
    compile(_script("python"), str(GUIDE), "exec")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def capturing() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A webhook receiver on 127.0.0.1 that keeps every delivery's headers and raw body."""
    captured: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            captured.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/capture", captured
    finally:
        server.shutdown()
        server.server_close()


async def _run(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 240) -> str:
    """Run a script without blocking the event loop that serves the API; its output, or a failure showing it."""
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    text = output.decode()
    assert process.returncode == 0, f"{command[0]} failed:\n{text}"
    return text


async def _issue(service: Referral, bootstrap: str, namespace: str, child_id: str, provider_id: str) -> str:
    await publish_event(bootstrap, namespace, consent(child_id, ConsentDecision.GIVEN, NOW))

    async def created() -> Any:
        answer = await service.client.post("/referrals", headers=OFFICER, json=new_referral(child_id, provider_id))
        return answer if answer.status_code != 409 or "consent" not in answer.text else None
    answer = await eventually(created)
    assert answer.status_code == 201, answer.text
    referral_id: str = answer.json()["referral_id"]
    return referral_id


async def _statuses(url: str) -> dict[str, str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(referral_rows.c.referral_id, referral_rows.c.status))
            return {row.referral_id: row.status for row in rows}
    finally:
        await engine.dispose()


async def test_the_guides_examples_run_against_a_live_stack(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    url = make_database("referral")
    settings = settings_for("referral", url, kafka_bootstrap, namespace, webhook_allowed_destinations=["127.0.0.1"],
                            webhook_delivery_seconds=0.2)
    async with running({"referral": settings}) as stack:
        service = Referral(stack.apps["referral"], stack.clients["referral"])
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        issued = [await _issue(service, kafka_bootstrap, namespace, child, provider_id)
                  for child in ("chd_guide_py", "chd_guide_sh")]
        registered = await service.client.post(f"/providers/{provider_id}/clients", headers=OFFICER,
                                               json={"name": "guide"})
        client = registered.json()
        with capturing() as (capture_url, captured):
            endpoint = await service.client.post("/provider/webhooks", headers=token(Role.PROVIDER, provider_id),
                                                 json={"url": capture_url, "event_types": ["referral.accepted"]})
            assert endpoint.status_code == 201, endpoint.text
            async with served(stack.apps["referral"]) as base:
                env = {k: v for k, v in os.environ.items() if not k.startswith(("REFERRAL_", "SIMPUL_"))} | {
                    "SIMPUL_URL": base, "SIMPUL_CLIENT_ID": client["client_id"],
                    "SIMPUL_CLIENT_SECRET": client["client_secret"], "RECEIVER_PORT": str(_free_port())}
                officer_env = env | {"PROVIDER_ID": provider_id, "OFFICER_TOKEN": OFFICER["Authorization"][7:]}
                officer = await _run(["bash", "-euo", "pipefail", "-c", _script("bash", "officer")], officer_env,
                                     tmp_path)
                assert officer.startswith("cli_"), officer
                python = await _run([sys.executable, "-c", _script("python")], env, tmp_path)
                assert "webhook " in python
                assert "referral.accepted accepted" in python
                assert "4.3.0" in python

                async def delivered() -> tuple[dict[str, str], bytes] | None:
                    return captured[0] if captured else None
                headers, body = await eventually(delivered)
                (tmp_path / "body.json").write_bytes(body)
                hook = {"WEBHOOK_SECRET": endpoint.json()["secret"], "WEBHOOK_ID": headers["webhook-id"],
                        "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
                        "WEBHOOK_SIGNATURE": headers["webhook-signature"]}
                shell = await _run(["bash", "-euo", "pipefail", "-c", _script("bash")], env | hook, tmp_path)
                assert shell.splitlines()[0] == "valid", shell
                assert json.loads(body)["type"] == "referral.accepted"
        statuses = await _statuses(url)
        assert [statuses[r] for r in issued] == ["completed", "completed"], (python, shell)
        for referral_id in issued:
            view = (await service.client.get(f"/referrals/{referral_id}", headers=OFFICER)).json()
            assert len(view["service_records"]) == 1  # the Python retry with the same key made no second record
