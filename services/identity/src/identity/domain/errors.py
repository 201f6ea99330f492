"""Why identity's rules refuse a request: the field at fault and the reason, never a value.

The domain stays free of the platform; the service layer turns these into the platform's `DomainError` kinds.
"""

from __future__ import annotations


class Refused(Exception):
    """The request is wrong in itself."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(Refused):
    """No such review or person in the caller's scope: the same answer whether it exists elsewhere or not at all."""


class Conflict(Refused):
    """The state forbids it: a review already decided, a merged person, a verified non-link in the way."""
