"""Idempotency-Key on the registry's creates: the platform's rules (`simpul_platform.idempotency`), as in every service.

- A create with a key runs at most once per key and client (the token's subject); its answer (status and JSON body)
  is stored with the key in the create's transaction, sealed (`adapters.stores.SealedIdempotencyKeys`).
- A retry with the same key and request (method, target, body) gets that answer again, marked
  `Idempotent-Replayed: true`, and changes nothing. Before the stored answer is sent again, the read it discloses is
  run as on the first answer: the caller's scope is checked again (a record out of scope, or gone, is a 404) and the
  access is audited.
- The same key with another request is a 422 naming `Idempotency-Key`; a retry while the first is still running, a
  409. A refused create stores nothing: a retry runs again.
- Keys expire after `REGISTRY_IDEMPOTENCY_KEY_HOURS` (24 h): an expired key is forgotten (a request with it runs as
  new), and a periodic job purges expired keys (`entrypoints.idempotency_purge`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

from registry.service_layer.unit_of_work import RegistryUnitOfWork, UnitsOfWork
from simpul_platform.idempotency import Answer, IdempotencyKey, Outcome, execute_once

C = TypeVar("C")
Q = TypeVar("Q")
R = TypeVar("R")


async def create_once(uows: UnitsOfWork, handler: Callable[[C, RegistryUnitOfWork], Awaitable[R]], command: C, *,
                      key: IdempotencyKey | None, answer: Callable[[R], Answer],
                      on_replay: Callable[[Answer], Awaitable[object]], now: dt.datetime,
                      ttl: dt.timedelta) -> Outcome:
    """Run a create in its own unit of work at most once per key, store its answer with the key, and commit; a
    replay first awaits `on_replay` (the read the answer discloses, in its own unit of work), which may refuse it."""
    outcome = await execute_once(uows(), handler, command, key=key, answer=answer, now=now, ttl=ttl)
    if outcome.replayed:
        await on_replay(outcome.answer)
    return outcome


def then_read(create: Callable[[C, RegistryUnitOfWork], Awaitable[object]],
              read: Callable[[Q, RegistryUnitOfWork], Awaitable[R]], query: Callable[[C], Q]
              ) -> Callable[[C, RegistryUnitOfWork], Awaitable[R]]:
    """A create, then the (audited) read its answer shows, in the create's transaction: what the answer is made of."""

    async def create_and_read(command: C, uow: RegistryUnitOfWork) -> R:
        await create(command, uow)
        return await read(query(command), uow)

    return create_and_read
