"""Idempotency-Key handling, in one place: a create runs at most once per key; a retry gets what it created."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError

from registry.domain.errors import IdempotencyKeyReused
from registry.service_layer.unit_of_work import RegistryUnitOfWork, UnitsOfWork

C = TypeVar("C")
R = TypeVar("R")


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one create, and the fingerprint of the request that sent it."""

    subject: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Created(Generic[R]):
    """What a create made: its id, and the handler's result (None when a retry found the first attempt's)."""

    resource_id: str
    result: R | None


def fingerprint(target: str, body: Any) -> str:
    """A digest of a request (where it went and its validated body) to tell a retry from a reuse of its key."""
    canonical = json.dumps([target, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def create_once(uows: UnitsOfWork, handler: Callable[[C, RegistryUnitOfWork], Awaitable[R]], command: C,
                      key: IdempotencyKey | None, resource_id: Callable[[R], str]) -> Created[R]:
    """Run a create handler in its own unit of work at most once per key, and commit."""
    for attempt in (1, 2):
        try:
            return await _attempt(uows(), handler, command, key, resource_id)
        except IntegrityError:
            # Two attempts with one key raced: the loser's transaction rolled back; look again for the winner's.
            if key is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _attempt(uow: RegistryUnitOfWork, handler: Callable[[C, RegistryUnitOfWork], Awaitable[R]], command: C,
                   key: IdempotencyKey | None, resource_id: Callable[[R], str]) -> Created[R]:
    async with uow:
        if key is not None and (stored := await uow.idempotency_keys.get(key.subject, key.key)):
            if stored[0] != key.fingerprint:
                raise IdempotencyKeyReused
            return Created(stored[1], None)
        result = await handler(command, uow)
        created = resource_id(result)
        if key is not None:
            await uow.idempotency_keys.add(key.subject, key.key, key.fingerprint, created)
        await uow.commit()
    return Created(created, result)
