"""Domain errors: each names the field at fault and why, never the personal data itself."""

from __future__ import annotations


class RegistryError(Exception):
    """A request the registry's rules reject."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UnknownVillage(RegistryError):
    """The village code is not a current village of the reference data."""

    def __init__(self) -> None:
        super().__init__("village_code", "not a current village in the region reference data")
