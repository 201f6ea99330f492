"""The one error model of every service: a rule a request breaks, naming the field and the reason, never a value."""

from __future__ import annotations

import enum


class ErrorKind(enum.Enum):
    """What kind of refusal an error is; the HTTP edge maps each kind to one status (problem+json)."""

    INVALID = "invalid"  # the request is wrong in itself
    NOT_FOUND = "not_found"  # no such thing in the caller's scope (the same answer when it exists elsewhere)
    FORBIDDEN = "forbidden"  # the caller may not do this
    CONFLICT = "conflict"  # the current state forbids it
    STALE = "stale"  # the caller's precondition (If-Match) names a version the thing has moved past


class DomainError(Exception):
    """A request a service's rules refuse: `field` at fault, `reason` why, `kind` of refusal."""

    kind: ErrorKind = ErrorKind.INVALID
    title: str | None = None  # the problem's title when the error names itself ("Child not found"); else its kind's

    def __init__(self, field: str, reason: str, kind: ErrorKind | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        if kind is not None:
            self.kind = kind


class NotFound(DomainError):
    """No such thing in the caller's scope."""

    kind = ErrorKind.NOT_FOUND


class Conflict(DomainError):
    """The state forbids the request."""

    kind = ErrorKind.CONFLICT


class Forbidden(DomainError):
    """The caller may not do this."""

    kind = ErrorKind.FORBIDDEN


class Stale(DomainError):
    """The caller read an older version."""

    kind = ErrorKind.STALE
