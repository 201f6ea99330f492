"""Why a reviewer's request cannot be done, naming the field and the reason (never a value)."""

from __future__ import annotations


class DecisionRefused(Exception):
    """Base: a request about reviews or persons that cannot be done."""

    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DecisionRefused):
    """No such review or person in the caller's scope: the same answer whether it exists elsewhere or not at all."""

    status = 404


class Conflict(DecisionRefused):
    """The state forbids it: a review already decided, a merged person, a verified non-link in the way."""

    status = 409
