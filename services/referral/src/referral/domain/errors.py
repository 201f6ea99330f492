"""Why referral's rules refuse a request: the field at fault and the reason, never a child's data.

Each is the platform's `DomainError` (pure Python, the one error model of ADR 0003): its kind gives the status when
the platform's one handler answers it as problem+json.
"""

from __future__ import annotations

from simpul_platform.errors import DomainError, ErrorKind


class ReferralError(DomainError):
    """A request referral's rules refuse: `field` at fault, `reason` why, `kind` of refusal."""


class Invalid(ReferralError):
    """The request is wrong in itself."""


class NotFound(ReferralError):
    """No such thing in the caller's scope."""

    kind = ErrorKind.NOT_FOUND


class Forbidden(ReferralError):
    """The caller may not do this."""

    kind = ErrorKind.FORBIDDEN


class Conflict(ReferralError):
    """The current state forbids the request."""

    kind = ErrorKind.CONFLICT


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
