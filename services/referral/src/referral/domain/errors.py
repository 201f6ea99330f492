"""Why referral's rules refuse a request: the field at fault and the reason, never a child's data.

The domain is pure Python (the import-layering contract forbids it `simpul_platform`), so these errors carry a `kind`
whose values mirror `simpul_platform.errors.ErrorKind` one for one (a unit test keeps them in step); the service layer
turns a `ReferralError` into the platform's `DomainError(field, reason, ErrorKind(error.kind.value))`.
"""

from __future__ import annotations

import enum


class Kind(enum.Enum):
    """What kind of refusal an error is (the same values as the platform's `ErrorKind`)."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    STALE = "stale"


class ReferralError(Exception):
    """A request referral's rules refuse: `field` at fault, `reason` why, `kind` of refusal."""

    kind: Kind = Kind.INVALID

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Invalid(ReferralError):
    """The request is wrong in itself."""


class NotFound(ReferralError):
    """No such thing in the caller's scope."""

    kind = Kind.NOT_FOUND


class Forbidden(ReferralError):
    """The caller may not do this."""

    kind = Kind.FORBIDDEN


class Conflict(ReferralError):
    """The current state forbids the request."""

    kind = Kind.CONFLICT


class InvalidTransition(Conflict):
    """A lifecycle move the current state does not allow; names the current state and the move."""

    def __init__(self, field: str, current: str, move: str) -> None:
        super().__init__(field, f"cannot {move}: the {field} is {current}")
        self.current = current
        self.move = move


def require(condition: bool, field: str, reason: str) -> None:
    """Refuse as invalid unless `condition` holds."""
    if not condition:
        raise Invalid(field, reason)


def require_aware(at: object, field: str) -> None:
    """Refuse a moment without a time zone (every step is recorded in absolute time)."""
    require(getattr(at, "tzinfo", None) is not None, field, "needs a time zone")
