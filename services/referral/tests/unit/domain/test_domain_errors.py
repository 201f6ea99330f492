"""Referral's domain errors are the platform's, each with the kind its HTTP status comes from."""

from __future__ import annotations

import datetime as dt

import pytest

from referral.domain.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound, require_aware
from simpul_platform.errors import ErrorKind


@pytest.mark.parametrize(("error", "kind"), [
    (Invalid("f", "r"), ErrorKind.INVALID), (NotFound("f", "r"), ErrorKind.NOT_FOUND),
    (Forbidden("f", "r"), ErrorKind.FORBIDDEN), (Conflict("f", "r"), ErrorKind.CONFLICT)])
def test_each_error_carries_its_kind_field_and_reason(error: Invalid, kind: ErrorKind) -> None:
    assert (error.kind, error.field, error.reason) == (kind, "f", "r")


def test_an_illegal_move_is_a_conflict_naming_the_current_state() -> None:
    error = InvalidTransition("status", "declined", "accept")
    assert error.kind is ErrorKind.CONFLICT
    assert error.reason == "cannot accept: the status is declined"
    assert error.current == "declined"


def test_a_moment_without_time_zone_is_refused() -> None:
    with pytest.raises(Invalid, match="time zone"):
        require_aware(dt.datetime(2026, 1, 1), "at")
