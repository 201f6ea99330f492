"""Domain errors: each names the field at fault and why, never the personal data itself.

Every one is the platform's `DomainError` (pure Python, the one error model of ADR 0003): its `kind` gives the HTTP
status when the platform's one handler answers it as problem+json, and a `title` keeps the titles the API has always
answered with where it differs from the kind's.
"""

from __future__ import annotations

from simpul_platform.errors import DomainError, ErrorKind


class RegistryError(DomainError):
    """A request the registry's rules reject (422 unless its kind says otherwise)."""


class RegistryConflict(RegistryError):
    """A request the current state cannot take (409)."""

    kind = ErrorKind.CONFLICT


class UnknownVillage(RegistryError):
    """The village code is not a current village of the reference data."""

    def __init__(self) -> None:
        super().__init__("village_code", "not a current village in the region reference data")


class ChildNotFound(RegistryError):
    """No such child in the caller's scope: the same answer whether it exists elsewhere or not at all."""

    kind = ErrorKind.NOT_FOUND
    title = "Child not found"

    def __init__(self) -> None:
        super().__init__("child_id", "no child with this id in your scope")


class OutsideScope(RegistryError):
    """A village outside the caller's villages or districts."""

    kind = ErrorKind.FORBIDDEN
    title = "Outside your scope"

    def __init__(self) -> None:
        super().__init__("village_code", "not in your villages or districts")


class StaleVersion(RegistryError):
    """The caller's If-Match names a version the record has moved past."""

    kind = ErrorKind.STALE

    def __init__(self) -> None:
        super().__init__("If-Match", "the record changed since you read it: read it again")


class CaseRequired(RegistryConflict):
    """A case change on a child without a case."""

    def __init__(self) -> None:
        super().__init__("classification", "the child has no case yet: classify the child first")


class NoCase(RegistryError):
    """A read of a case the child does not have yet."""

    kind = ErrorKind.NOT_FOUND
    title = "No case"

    def __init__(self) -> None:
        super().__init__("child_id", "the child has no case yet")


class ImportNotFound(RegistryError):
    """No finished import of the caller's with this id."""

    kind = ErrorKind.NOT_FOUND
    title = "Import not found"

    def __init__(self) -> None:
        super().__init__("import_id", "no import of yours with this id")


class DuplicateSource(RegistryError):
    """A second child from the same source record."""

    def __init__(self) -> None:
        super().__init__("source_record_id", "a child with this source record id is already registered")


class VersionConflict(Exception):
    """The record changed since the version the caller read (a repository's answer, made a StaleVersion)."""
