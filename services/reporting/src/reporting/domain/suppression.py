"""Small-cell suppression: a published count below the threshold could identify a child."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """One published count; `count` is None when suppressed."""

    region_code: str
    count: int | None

    @property
    def suppressed(self) -> bool:
        """True when the count is withheld."""
        return self.count is None


def suppress(counts: dict[str, int], min_cell_size: int) -> list[Cell]:
    """Withhold every count in 1..min_cell_size-1 (zero identifies nobody)."""
    return [
        Cell(code, None if 0 < count < min_cell_size else count) for code, count in sorted(counts.items())
    ]
