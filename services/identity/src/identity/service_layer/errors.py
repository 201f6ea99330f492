"""Identity's refusals leave the service layer as the platform's `DomainError` kinds (mapped to problem+json once,
by the platform)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from identity.domain import errors
from simpul_platform.errors import DomainError, ErrorKind

C = TypeVar("C")
U = TypeVar("U")
R = TypeVar("R")


def as_domain_error(error: errors.Refused) -> DomainError:
    """The platform's error of a domain refusal: same field and reason, its kind."""
    kind = (ErrorKind.NOT_FOUND if isinstance(error, errors.NotFound)
            else ErrorKind.CONFLICT if isinstance(error, errors.Conflict) else ErrorKind.INVALID)
    return DomainError(error.field, error.reason, kind)


def refusals(handler: Callable[[C, U], Awaitable[R]]) -> Callable[[C, U], Awaitable[R]]:
    """Decorate a handler: the domain's refusals leave it as `DomainError`s."""

    @functools.wraps(handler)
    async def handle(command: C, uow: U) -> R:
        try:
            return await handler(command, uow)
        except errors.Refused as error:
            raise as_domain_error(error) from None

    return handle
