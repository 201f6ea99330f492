"""Dead-letter reasons name fields and error types, never the values that failed."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from simpul_contracts import ContractError
from simpul_platform.dead_letters import describe

BIRTH_DATE = "2014-03-02"


class DriverDataError(Exception):
    """Stands in for asyncpg's DataError, whose message echoes the offending value."""


def test_driver_errors_are_reduced_to_their_type() -> None:
    error = DBAPIError("INSERT INTO children ...", None, DriverDataError(f"invalid input for $5: {BIRTH_DATE!r}"))
    reason = describe(error)
    assert BIRTH_DATE not in reason
    assert "DriverDataError" in reason


def test_contract_errors_keep_their_field_and_reason() -> None:
    assert describe(ContractError("person_id: Field required")) == "person_id: Field required"
