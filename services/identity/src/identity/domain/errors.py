"""Why identity's rules refuse a request: the field at fault and the reason, never a value.

Each is the platform's `DomainError` (pure Python, the one error model of ADR 0003): its kind gives the status when
the platform's one handler answers it as problem+json.
"""

from __future__ import annotations

from simpul_platform.errors import DomainError, ErrorKind


class Refused(DomainError):
    """The request is wrong in itself."""


class NotFound(Refused):
    """No such review or person in the caller's scope: the same answer whether it exists elsewhere or not at all."""

    kind = ErrorKind.NOT_FOUND


class Conflict(Refused):
    """The state forbids it: a review already decided, a merged person, a verified non-link in the way."""

    kind = ErrorKind.CONFLICT
