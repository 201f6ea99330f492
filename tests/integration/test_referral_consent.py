"""The consent gate on the real broker and PostgreSQL: the registry's ConsentChangedV1 reaches referral's consumer;
no consent is a refusal; an override needs a district officer and a written reason and is audited; a withdrawal
revokes the child's open referrals and tells the provider (ReferralRevokedV1); a redelivered event is applied once
and an older decision arriving late changes nothing (newest recording wins)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select

from referral.adapters.orm import audit_log, delivery
from simpul_contracts.events.referral import ReferralIssuedV1
from simpul_contracts.events.registry import ConsentDecision
from tests.support.database import scalar
from tests.support.referral_directory import GateState, provider_in_state
from tests.support.referral_referrals import (
    CLIENT,
    OFFICER,
    Referral,
    consent,
    new_referral,
    referral_events,
    referral_service,
)
from tests.support.stack import eventually
from tests.support.topics import publish, publish_event, published_types

NOW = dt.datetime.now(dt.UTC)
WITHDRAWN = "simpul.referral.referral-revoked.v1"


async def _status(service: Referral, referral_id: str) -> str:
    return str((await service.client.get(f"/referrals/{referral_id}", headers=OFFICER)).json()["status"])


async def _refer_once_consented(service: Referral, child_id: str, provider_id: str) -> str:
    async def created() -> str | None:
        answer = await service.client.post("/referrals", headers=OFFICER, json=new_referral(child_id, provider_id))
        return str(answer.json()["referral_id"]) if answer.status_code == 201 else None
    return await eventually(created)


async def test_no_consent_is_refused_and_an_override_needs_an_officer_and_a_reason_audited(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace) as service:
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        refused = await service.client.post("/referrals", headers=OFFICER, json=new_referral("chd_x", provider_id))
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["field"] == "consent"
        by_client = await service.client.post("/referrals", headers=CLIENT, json=new_referral(
            "chd_x", provider_id, consent_override_reason="at risk of trafficking"))
        assert by_client.status_code == 403
        blank = await service.client.post("/referrals", headers=OFFICER, json=new_referral(
            "chd_x", provider_id, consent_override_reason=" "))
        assert blank.status_code == 422
        overridden = await service.client.post("/referrals", headers=OFFICER, json=new_referral(
            "chd_x", provider_id, consent_override_reason="at risk of trafficking"))
        assert overridden.status_code == 201, overridden.text
        assert overridden.json()["consent_overridden"] is True
        referral_id = overridden.json()["referral_id"]
        audited = select(audit_log.c.subject, audit_log.c.reason).where(
            audit_log.c.resource_id == referral_id, audit_log.c.action == "override_consent")
        assert await scalar(url, select(func.count()).select_from(audited.subquery())) == 1
        assert await scalar(url, select(audited.subquery().c.reason)) == "at risk of trafficking"
        # The refusals published nothing, the override its issue.
        issued = ReferralIssuedV1
        assert await published_types(url, kafka_bootstrap, namespace, issued.topic) == [issued.event_type]


async def test_a_withdrawal_on_the_broker_revokes_open_referrals_once_and_tells_the_provider(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with referral_service(make_database("referral"), kafka_bootstrap, namespace) as service:
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        await publish_event(kafka_bootstrap, namespace, consent("chd_w", ConsentDecision.GIVEN, NOW))
        first = await _refer_once_consented(service, "chd_w", provider_id)
        second = await _refer_once_consented(service, "chd_w", provider_id)
        await service.client.post(f"/referrals/{second}/acknowledge", headers=OFFICER)

        withdrawal = consent("chd_w", ConsentDecision.WITHDRAWN, NOW + dt.timedelta(minutes=5))
        headers = withdrawal.envelope().to_headers()
        for _ in range(2):  # a redelivery: the same event id twice
            await publish(kafka_bootstrap, namespace + withdrawal.topic, withdrawal.to_bytes(), headers,
                          withdrawal.key.encode())
        assert await eventually(lambda: _both_revoked(service, first, second))

        async def revocations() -> list[str] | None:
            found = [body["referral_id"] for kind, body in await referral_events(kafka_bootstrap, namespace)
                     if kind == WITHDRAWN]
            return found if len(found) >= 2 else None
        revoked = await eventually(revocations)
        assert sorted(revoked) == sorted([first, second])  # once each, the redelivery changed nothing
        events = await referral_events(kafka_bootstrap, namespace)
        assert {body["reason"] for kind, body in events if kind == WITHDRAWN} == {"consent_withdrawn"}
        refused = await service.client.post("/referrals", headers=OFFICER, json=new_referral("chd_w", provider_id))
        assert refused.status_code == 409


async def test_an_older_decision_arriving_late_changes_nothing(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace) as service:
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        await publish_event(kafka_bootstrap, namespace, consent("chd_o", ConsentDecision.GIVEN, NOW))
        referral_id = await _refer_once_consented(service, "chd_o", provider_id)
        stale = consent("chd_o", ConsentDecision.WITHDRAWN, NOW - dt.timedelta(days=1))
        event_id = await publish_event(kafka_bootstrap, namespace, stale)
        applied = select(func.count()).select_from(delivery.processed_events).where(
            delivery.processed_events.c.event_id == event_id)
        assert await eventually(lambda: scalar(url, applied))  # the consumer took it, and ignored it
        assert await _status(service, referral_id) == "issued"
        again = await service.client.post("/referrals", headers=OFFICER, json=new_referral("chd_o", provider_id))
        assert again.status_code == 201, again.text


async def _both_revoked(service: Referral, *referral_ids: str) -> bool:
    return all([await _status(service, referral_id) == "revoked" for referral_id in referral_ids])
