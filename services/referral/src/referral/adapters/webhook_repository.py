"""Where referral keeps webhooks: providers' endpoints (their secrets encrypted), one delivery per event and endpoint,
and each delivery's attempts (the delivery log). The abstract repositories, their SQL and in-memory versions.

Owned by the webhooks area; the tables live here on `referral.adapters.orm.metadata` (migration 0010). The delivery
job claims due deliveries `FOR UPDATE SKIP LOCKED` and moves them a lease ahead in the same short transaction, so
two replicas never attempt the same delivery at once, and no transaction stays open while a receiver answers.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import metadata
from referral.domain.webhooks import (
    Attempt,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
    EndpointStatus,
    SigningSecret,
    WebhookDelivery,
    WebhookEventType,
)
from simpul_platform.bulk import insert_rows
from simpul_platform.field_encryption import EncryptedString, RowBound, row_key

webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    Column("event_types", String(600), nullable=False),  # space-separated, sorted
    # The signing secrets (JSON: value and expiry) in one AES-256-GCM token: no secret is readable in the database.
    # The token is bound to its row (the endpoint id): one endpoint's secrets copied onto another fail to open.
    Column("secrets", EncryptedString("webhook_endpoints.secrets", row_bound=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("disabled_reason", String(32)),
    Column("disabled_at", DateTime(timezone=True)),
    Column("failing_since", DateTime(timezone=True)),
    Column("exhausted_in_a_row", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.endpoint_id", ondelete="CASCADE"),
           nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("retry_from", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    Index("ix_webhook_deliveries_next_attempt_at", "next_attempt_at"),
    Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("delivery_id", String(40), ForeignKey("webhook_deliveries.delivery_id", ondelete="CASCADE"),
           primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("error", String(200)),
)


def utc(moment: dt.datetime) -> dt.datetime:
    """A moment as stored and read back: in UTC (SQLite keeps no offset)."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def maybe_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """`utc` of a moment that may be missing."""
    return None if moment is None else utc(moment)


class WebhookEndpoints(abc.ABC):
    """Providers' webhook endpoints."""

    @abc.abstractmethod
    async def add(self, endpoint: Endpoint) -> None:
        """Keep a new endpoint."""

    @abc.abstractmethod
    async def get(self, endpoint_id: str, *, for_update: bool = False) -> Endpoint | None:
        """The endpoint, if any (locked for this transaction when `for_update`)."""

    @abc.abstractmethod
    async def of_providers(self, provider_ids: Iterable[str]) -> list[Endpoint]:
        """The endpoints of these providers, oldest first."""

    @abc.abstractmethod
    async def save(self, endpoint: Endpoint) -> None:
        """Store the endpoint's current state."""

    @abc.abstractmethod
    async def delete(self, endpoint_id: str) -> None:
        """Forget the endpoint with its deliveries and their attempts."""


class WebhookDeliveries(abc.ABC):
    """One delivery per event and endpoint, with its attempts."""

    @abc.abstractmethod
    async def add(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Keep new deliveries (none has attempts yet); one of an event to an endpoint already held is skipped."""

    @abc.abstractmethod
    async def get(self, delivery_id: str, *, for_update: bool = False) -> WebhookDelivery | None:
        """The delivery with its attempts, if any."""

    @abc.abstractmethod
    async def claim_due(self, now: dt.datetime, until: dt.datetime, limit: int) -> list[WebhookDelivery]:
        """Up to `limit` pending deliveries to enabled endpoints due at `now`, earliest first, skipping those another
        transaction holds; each is moved to `until` (the lease) in this transaction."""

    @abc.abstractmethod
    async def save(self, delivery: WebhookDelivery) -> None:
        """Store the delivery's state and the attempts not stored yet."""

    @abc.abstractmethod
    async def of_endpoint(self, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
        """The endpoint's newest deliveries, newest first, with their attempts."""

    @abc.abstractmethod
    async def purge_finished(self, before: dt.datetime, limit: int) -> int:
        """Forget up to `limit` succeeded or failed deliveries recorded before `before`, with their attempts (rows
        another transaction holds are skipped); how many went."""


def _endpoint_row(endpoint: Endpoint) -> dict[str, Any]:
    secrets = [{"value": s.value, "expires_at": s.expires_at.isoformat() if s.expires_at else None}
               for s in endpoint.secrets]
    return {"endpoint_id": endpoint.endpoint_id, "provider_id": endpoint.provider_id, "url": endpoint.url,
            "event_types": " ".join(sorted(endpoint.event_types)),
            "secrets": RowBound(row_key(endpoint.endpoint_id), json.dumps(secrets)),
            "status": str(endpoint.status), "disabled_reason": endpoint.disabled_reason,
            "disabled_at": maybe_utc(endpoint.disabled_at), "failing_since": maybe_utc(endpoint.failing_since),
            "exhausted_in_a_row": endpoint.exhausted_in_a_row, "created_at": utc(endpoint.created_at)}


def _endpoint(row: Row[Any]) -> Endpoint:
    secrets = tuple(SigningSecret(s["value"], dt.datetime.fromisoformat(s["expires_at"]) if s["expires_at"] else None)
                    for s in json.loads(row.secrets.open(row_key(row.endpoint_id))))
    return Endpoint(
        row.endpoint_id, row.provider_id, row.url, frozenset(WebhookEventType(t) for t in row.event_types.split()),
        secrets, utc(row.created_at), EndpointStatus(row.status),
        DisabledReason(row.disabled_reason) if row.disabled_reason else None, maybe_utc(row.disabled_at),
        maybe_utc(row.failing_since), row.exhausted_in_a_row)


def _delivery_row(delivery: WebhookDelivery) -> dict[str, Any]:
    return {"delivery_id": delivery.delivery_id, "endpoint_id": delivery.endpoint_id,
            "provider_id": delivery.provider_id, "event_id": delivery.event_id,
            "event_type": str(delivery.event_type), "body": delivery.body, "status": str(delivery.status),
            "next_attempt_at": maybe_utc(delivery.next_attempt_at), "retry_from": delivery.retry_from,
            "created_at": utc(delivery.created_at)}


def _attempt_rows(delivery: WebhookDelivery, after: int) -> list[dict[str, Any]]:
    return [{"delivery_id": delivery.delivery_id, "number": a.number, "at": utc(a.at), "status_code": a.status_code,
             "duration_ms": a.duration_ms, "error": a.error} for a in delivery.attempts if a.number > after]


class SqlWebhookEndpoints(WebhookEndpoints):
    """The `webhook_endpoints` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, endpoint: Endpoint) -> None:
        """One insert."""
        await insert_rows(self.session, webhook_endpoints, [_endpoint_row(endpoint)])

    async def get(self, endpoint_id: str, *, for_update: bool = False) -> Endpoint | None:
        """One primary-key read."""
        query = select(webhook_endpoints).where(webhook_endpoints.c.endpoint_id == endpoint_id)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).one_or_none()
        return None if row is None else _endpoint(row)

    async def of_providers(self, provider_ids: Iterable[str]) -> list[Endpoint]:
        """One indexed read."""
        query = (select(webhook_endpoints).where(webhook_endpoints.c.provider_id.in_(sorted(set(provider_ids))))
                 .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.endpoint_id))
        return [_endpoint(row) for row in (await self.session.execute(query)).all()]

    async def save(self, endpoint: Endpoint) -> None:
        """One update."""
        row = _endpoint_row(endpoint)
        await self.session.execute(update(webhook_endpoints)
                                   .where(webhook_endpoints.c.endpoint_id == endpoint.endpoint_id).values(**row))

    async def delete(self, endpoint_id: str) -> None:
        """Attempts, deliveries, then the endpoint (SQLite enforces no cascade unless told to)."""
        deliveries = select(webhook_deliveries.c.delivery_id).where(webhook_deliveries.c.endpoint_id == endpoint_id)
        await self.session.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(deliveries)))
        await self.session.execute(delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id))
        await self.session.execute(delete(webhook_endpoints).where(webhook_endpoints.c.endpoint_id == endpoint_id))


class SqlWebhookDeliveries(WebhookDeliveries):
    """The `webhook_deliveries` and `webhook_attempts` tables of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """One bulk insert that skips a delivery of an event to an endpoint already held (new deliveries carry no
        attempts yet)."""
        if not deliveries:
            return
        dialect = self.session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(webhook_deliveries)
        statement = insert.on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        await self.session.execute(statement, [_delivery_row(d) for d in deliveries])

    async def get(self, delivery_id: str, *, for_update: bool = False) -> WebhookDelivery | None:
        """The delivery's row and its attempts."""
        query = select(webhook_deliveries).where(webhook_deliveries.c.delivery_id == delivery_id)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).one_or_none()
        return None if row is None else (await self._with_attempts([row]))[0]

    async def claim_due(self, now: dt.datetime, until: dt.datetime, limit: int) -> list[WebhookDelivery]:
        """One indexed range read joined to the enabled endpoints, `FOR UPDATE OF` the deliveries `SKIP LOCKED`
        (SQLite, one writer at a time, ignores the clause), then one update moving them to the lease's end."""
        d, e = webhook_deliveries, webhook_endpoints
        query = (select(d).join(e, e.c.endpoint_id == d.c.endpoint_id)
                 .where(d.c.status == str(DeliveryStatus.PENDING), d.c.next_attempt_at <= utc(now),
                        e.c.status == str(EndpointStatus.ENABLED))
                 .order_by(d.c.next_attempt_at, d.c.delivery_id).limit(limit)
                 .with_for_update(skip_locked=True, of=d))
        rows = (await self.session.execute(query)).all()
        if not rows:
            return []
        await self.session.execute(update(d).where(d.c.delivery_id.in_([r.delivery_id for r in rows]))
                                   .values(next_attempt_at=utc(until)))
        claimed = await self._with_attempts(rows)
        for delivery in claimed:
            delivery.next_attempt_at = until
        return claimed

    async def save(self, delivery: WebhookDelivery) -> None:
        """One update, and one insert of the new attempts."""
        row = _delivery_row(delivery)
        await self.session.execute(update(webhook_deliveries)
                                   .where(webhook_deliveries.c.delivery_id == delivery.delivery_id).values(**row))
        stored = await self.session.scalar(select(func.coalesce(func.max(webhook_attempts.c.number), 0))
                                           .where(webhook_attempts.c.delivery_id == delivery.delivery_id))
        await insert_rows(self.session, webhook_attempts, _attempt_rows(delivery, int(stored or 0)))

    async def of_endpoint(self, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
        """One indexed read of the deliveries, one of their attempts."""
        d = webhook_deliveries
        query = (select(d).where(d.c.endpoint_id == endpoint_id)
                 .order_by(d.c.created_at.desc(), d.c.delivery_id.desc()).limit(limit))
        return await self._with_attempts((await self.session.execute(query)).all())

    async def purge_finished(self, before: dt.datetime, limit: int) -> int:
        """One indexed read `FOR UPDATE SKIP LOCKED`, then two deletes."""
        d = webhook_deliveries
        query = (select(d.c.delivery_id).where(d.c.status != str(DeliveryStatus.PENDING), d.c.created_at < utc(before))
                 .order_by(d.c.created_at).limit(limit).with_for_update(skip_locked=True))
        ids = list((await self.session.scalars(query)).all())
        if ids:
            await self.session.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)))
            await self.session.execute(delete(d).where(d.c.delivery_id.in_(ids)))
        return len(ids)

    async def _with_attempts(self, rows: Sequence[Row[Any]]) -> list[WebhookDelivery]:
        a = webhook_attempts
        query = (select(a).where(a.c.delivery_id.in_([r.delivery_id for r in rows]))
                 .order_by(a.c.delivery_id, a.c.number))
        attempts: dict[str, list[Attempt]] = {}
        for att in (await self.session.execute(query)).all():
            attempts.setdefault(att.delivery_id, []).append(
                Attempt(att.number, utc(att.at), att.status_code, att.duration_ms, att.error))
        return [WebhookDelivery(r.delivery_id, r.endpoint_id, r.provider_id, r.event_id,
                                WebhookEventType(r.event_type), r.body, utc(r.created_at),
                                DeliveryStatus(r.status), maybe_utc(r.next_attempt_at), attempts.get(r.delivery_id, []),
                                r.retry_from) for r in rows]


class InMemoryWebhookEndpoints(WebhookEndpoints):
    """Endpoints in a dict (the fake runs one transaction at a time: nothing to lock)."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}

    async def add(self, endpoint: Endpoint) -> None:
        """Keep it."""
        self.endpoints[endpoint.endpoint_id] = endpoint

    async def get(self, endpoint_id: str, *, for_update: bool = False) -> Endpoint | None:
        """By id."""
        return self.endpoints.get(endpoint_id)

    async def of_providers(self, provider_ids: Iterable[str]) -> list[Endpoint]:
        """Oldest first."""
        wanted = set(provider_ids)
        return sorted((e for e in self.endpoints.values() if e.provider_id in wanted),
                      key=lambda e: (e.created_at, e.endpoint_id))

    async def save(self, endpoint: Endpoint) -> None:
        """Replace it."""
        self.endpoints[endpoint.endpoint_id] = endpoint

    async def delete(self, endpoint_id: str) -> None:
        """Drop it (its deliveries are out of reach with it)."""
        self.endpoints.pop(endpoint_id, None)


class InMemoryWebhookDeliveries(WebhookDeliveries):
    """Deliveries in a dict; `endpoints` gives the endpoints repository of the moment (the fake's, which a rollback
    replaces: a function, so the fake's deep copy of this repository does not copy the endpoints along)."""

    def __init__(self, endpoints: Callable[[], WebhookEndpoints]) -> None:
        self.deliveries: dict[str, WebhookDelivery] = {}
        self.endpoints = endpoints

    def _held(self) -> dict[str, Endpoint]:
        endpoints = self.endpoints()
        assert isinstance(endpoints, InMemoryWebhookEndpoints)  # the fake's, always
        return endpoints.endpoints

    async def add(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Keep each, once per event and endpoint."""
        held = {(d.endpoint_id, d.event_id) for d in self.deliveries.values()}
        self.deliveries |= {d.delivery_id: d for d in deliveries if (d.endpoint_id, d.event_id) not in held}

    async def get(self, delivery_id: str, *, for_update: bool = False) -> WebhookDelivery | None:
        """By id (gone with its endpoint)."""
        delivery = self.deliveries.get(delivery_id)
        return delivery if delivery and delivery.endpoint_id in self._held() else None

    async def claim_due(self, now: dt.datetime, until: dt.datetime, limit: int) -> list[WebhookDelivery]:
        """The earliest due, moved to `until`."""
        enabled = {i for i, e in self._held().items() if e.status is EndpointStatus.ENABLED}
        due = sorted((d for d in self.deliveries.values() if d.status is DeliveryStatus.PENDING
                      and d.endpoint_id in enabled and d.next_attempt_at is not None and d.next_attempt_at <= now),
                     key=lambda d: (d.next_attempt_at or now, d.delivery_id))[:limit]
        for delivery in due:
            delivery.next_attempt_at = until
        return due

    async def save(self, delivery: WebhookDelivery) -> None:
        """Replace it."""
        self.deliveries[delivery.delivery_id] = delivery

    async def of_endpoint(self, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
        """Newest first (none once the endpoint is gone)."""
        mine = [d for d in self.deliveries.values() if d.endpoint_id == endpoint_id and endpoint_id in self._held()]
        return sorted(mine, key=lambda d: (d.created_at, d.delivery_id), reverse=True)[:limit]

    async def purge_finished(self, before: dt.datetime, limit: int) -> int:
        """The oldest finished ones go."""
        done = sorted((d for d in self.deliveries.values()
                       if d.status is not DeliveryStatus.PENDING and d.created_at < before),
                      key=lambda d: d.created_at)[:limit]
        for delivery in done:
            del self.deliveries[delivery.delivery_id]
        return len(done)
