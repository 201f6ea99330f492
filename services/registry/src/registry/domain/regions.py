"""Kemendagri regions: codes are hierarchical (PP.RR.SS.VVVV) and the level follows from the code."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


class Level(enum.StrEnum):
    """Administrative level of a region."""

    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KECAMATAN = "kecamatan"
    DESA = "desa"
    KELURAHAN = "kelurahan"


class InvalidRegionCode(ValueError):
    """A code that is not of the form PP, PP.RR, PP.RR.SS or PP.RR.SS.VVVV."""


@dataclass(frozen=True)
class Region:
    """One region of the official list."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_code(cls, code: str, name: str, aliases: tuple[str, ...] = ()) -> Region:
        """Infer level and parent from the code."""
        code = code.strip()
        if not CODE.match(code):
            raise InvalidRegionCode(f"code: {code!r} is not a Kemendagri region code")
        parts = code.split(".")
        return cls(code, name.strip(), level_of(parts), ".".join(parts[:-1]) or None, aliases)

    @property
    def is_village(self) -> bool:
        """Desa or kelurahan."""
        return self.level in (Level.DESA, Level.KELURAHAN)


def level_of(parts: list[str]) -> Level:
    """The level of a code split at its dots; a village's fourth part starts with 1 (kelurahan) or 2 (desa)."""
    if len(parts) == 4:
        return Level.KELURAHAN if parts[3].startswith("1") else Level.DESA
    return (Level.PROVINSI, Level.KABUPATEN, Level.KECAMATAN)[len(parts) - 1]
