"""No name, NIK or KK appears in any log line or exported span while a child moves through registry, identity and
reporting, including the rejections (problem responses), a search by name through a real uvicorn server (its access
log prints the request line), and the DEBUG output of every library."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simpul_platform.auth import Role
from tests.support.stack import KESILIR, eventually, running, served, settings_for, token

CADRE = token(Role.CADRE, KESILIR)
NAME, ALIAS, MOTHER = "Baiq Nurhayati", "Nunung", "Lalu Sumarni"
NIK, KK = "3509114203140001", "3509110101090007"
CHILD = {"full_name": NAME, "aliases": [ALIAS], "sex": "female", "village_code": KESILIR, "birth_date": "2014-03-02",
         "birth_date_precision": "day", "nik": NIK, "kk_number": KK, "mother_name": MOTHER,
         "guardians": [{"name": MOTHER, "relationship": "mother"}]}
SECRETS = (NAME, ALIAS, MOTHER, NIK, KK)
# As a query string carries them, too.
SEARCHABLE = (*SECRETS, *(s.replace(" ", sep) for s in (NAME, MOTHER) for sep in ("+", "%20")))


async def test_no_personal_data_in_any_log_line(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str, caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    settings = {name: settings_for(name, make_database(name), kafka_bootstrap, namespace)
                for name in ("registry", "identity", "reporting")}
    caplog.set_level(logging.DEBUG)
    async with running(settings) as stack:
        registry = stack.clients["registry"]
        created = await registry.post("/children", json=CHILD, headers=CADRE)
        assert created.status_code == 201, created.text
        path = f"/children/{created.json()['child_id']}"

        async def linked() -> str | None:
            return (await registry.get(path, headers=CADRE)).json()["person_id"]

        await eventually(linked)
        bad_nik = await registry.post("/children", json=CHILD | {"nik": "9999114203140001"}, headers=CADRE)
        assert bad_nik.status_code == 422
        too_long = await registry.post("/children", json=CHILD | {"full_name": NAME * 20}, headers=CADRE)
        assert too_long.status_code == 422
        for response in (bad_nik, too_long):
            assert not [s for s in SECRETS if s in response.text], response.text
        access = logging.getLogger("uvicorn.access")  # uvicorn's own log config may stop it propagating
        access.addHandler(caplog.handler)
        async with served(stack.apps["registry"]) as base, httpx.AsyncClient(base_url=base) as http:
            logging.getLogger("httpx").setLevel(logging.WARNING)  # this test's own client, not a service
            found = await http.get("/children", params={"name": NAME, "village_code": KESILIR}, headers=CADRE)
            logging.getLogger("httpx").setLevel(logging.NOTSET)
            assert found.status_code == 200, found.text
            assert found.json(), "the search found the child"
        access.removeHandler(caplog.handler)
    assert len(caplog.records) > 20  # the capture really saw the services' logging
    assert [r for r in caplog.records if r.name == "uvicorn.access" and "/children" in r.getMessage()], \
        "the capture saw the access log"
    leaked = [(record.name, s) for record in caplog.records for s in SEARCHABLE if s in record.getMessage()]
    assert leaked == []
    searched = [span for span in spans.get_finished_spans() if span.name == "GET /children"]
    assert searched  # the exporter really saw the search
    in_spans = [(span.name, key) for span in spans.get_finished_spans()
                for key, value in (span.attributes or {}).items() for s in SEARCHABLE if s in str(value)]
    assert in_spans == []
