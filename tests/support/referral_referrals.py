"""The referrals area's integration helpers: a referral service on the real broker and PostgreSQL, the registry's
consent decisions as it publishes them, and the referral events on the topic."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import ConsentChangedV1
from simpul_contracts.events.common import Sex
from simpul_contracts.events.referral.referrals import ReferralEvent
from simpul_contracts.events.registry import CaseStatus, Classification, ConsentDecision, ConsentPurpose
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.referral_directory import DISTRICT, SERVICE_TYPE
from tests.support.stack import KESILIR, eventually, running, settings_for, token
from tests.support.topics import publish_event

OFFICER = token(Role.DISTRICT_OFFICER, DISTRICT, subject="officer-jember")
CLIENT = token(Role.SERVICE, DISTRICT, subject="jember-sis")
LOMBOK_OFFICER = token(Role.DISTRICT_OFFICER, "52.03", subject="officer-lotim")


@dataclass
class Referral:
    """A running referral service: its app, an HTTP client and its units of work."""

    app: FastAPI
    client: httpx.AsyncClient

    def units(self) -> Callable[[], ReferralUnitOfWork]:
        """The service's unit-of-work factory (for the directory's provider builder)."""
        factory: Callable[[], ReferralUnitOfWork] = self.app.state.wiring.unit_of_work
        return factory


@contextlib.asynccontextmanager
async def referral_service(database_url: str, bootstrap: str, namespace: str) -> AsyncIterator[Referral]:
    """The referral service in process on its own database and the test's namespace."""
    async with running({"referral": settings_for("referral", database_url, bootstrap, namespace)}) as stack:
        yield Referral(stack.apps["referral"], stack.clients["referral"])


def consent(child_id: str, decision: ConsentDecision, recorded_at: dt.datetime,
            in_force: ConsentDecision | None = None) -> ConsentChangedV1:
    """The registry's event for a guardian's decision on consent for referral."""
    return ConsentChangedV1(
        child_id=child_id, person_id=f"per_{child_id}", sex=Sex.FEMALE, birth_year=2013, village_code=KESILIR,
        case_id=f"case_{child_id}", classification=Classification.CHILD_LABOURER,
        status=CaseStatus.REMEDIATION_IN_PROGRESS, purpose=ConsentPurpose.REFERRAL, decision=decision,
        decided_on=recorded_at.date(), decision_in_force=in_force or decision, recorded_at=recorded_at,
        recorded_by="kader-kesilir")


def new_referral(child_id: str, provider_id: str, **extra: Any) -> dict[str, Any]:
    """A create body for a referral of the child for SERVICE_TYPE in DISTRICT."""
    return {"child_id": child_id, "person_id": f"per_{child_id}", "district": DISTRICT, "provider_id": provider_id,
            "service_types": [SERVICE_TYPE]} | extra


async def referral_events(bootstrap: str, namespace: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event on referral.referral.v1 so far: (ce_type, body), in topic order per referral."""
    records = await read_topic(bootstrap, namespace + ReferralEvent.topic)
    return [(dict(record.headers or ())["ce_type"].decode(), json.loads(record.value)) for record in records]


async def referred(service: Referral, bootstrap: str, namespace: str, child_id: str, provider_id: str) -> str:
    """A referral of the child to the provider, issued once the registry's consent reached referral; its id."""
    await publish_event(bootstrap, namespace, consent(child_id, ConsentDecision.GIVEN, dt.datetime.now(dt.UTC)))

    async def created() -> httpx.Response | None:
        answer = await service.client.post("/referrals", headers=OFFICER, json=new_referral(child_id, provider_id))
        return answer if answer.status_code != 409 or "consent" not in answer.text else None
    answer = await eventually(created)
    assert answer.status_code == 201, answer.text
    referral_id: str = answer.json()["referral_id"]
    return referral_id
