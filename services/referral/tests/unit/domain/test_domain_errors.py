"""Referral's domain errors mirror the platform's error kinds, so the service layer maps each one to its status."""

from __future__ import annotations

import datetime as dt

import pytest

from referral.domain.errors import Conflict, Forbidden, Invalid, InvalidTransition, Kind, NotFound, require_aware
from simpul_platform.errors import ErrorKind


def test_every_kind_is_a_platform_error_kind_and_back() -> None:
    assert {kind.value for kind in Kind} == {kind.value for kind in ErrorKind}
    assert {kind.name for kind in Kind} == {kind.name for kind in ErrorKind}


@pytest.mark.parametrize(("error", "kind"), [(Invalid("f", "r"), Kind.INVALID), (NotFound("f", "r"), Kind.NOT_FOUND),
                                            (Forbidden("f", "r"), Kind.FORBIDDEN), (Conflict("f", "r"), Kind.CONFLICT)])
def test_each_error_carries_its_kind_field_and_reason(error: Invalid, kind: Kind) -> None:
    assert (error.kind, error.field, error.reason) == (kind, "f", "r")
    assert ErrorKind(error.kind.value).name == kind.name


def test_an_illegal_move_is_a_conflict_naming_the_current_state() -> None:
    error = InvalidTransition("status", "declined", "accept")
    assert error.kind is Kind.CONFLICT
    assert error.reason == "cannot accept: the status is declined"
    assert error.current == "declined"


def test_a_moment_without_time_zone_is_refused() -> None:
    with pytest.raises(Invalid, match="time zone"):
        require_aware(dt.datetime(2026, 1, 1), "at")
