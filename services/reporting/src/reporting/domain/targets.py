"""The pilot's targets, per village and national, and a region's share of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reporting.domain.indicators import Indicator
from reporting.domain.regions import NATIONAL, within

PER_VILLAGE = {Indicator.REGISTERED: 220, Indicator.WITHDRAWN: 20, Indicator.PROTECTED: 200}
NATIONAL_ONLY = {Indicator.PROVIDERS_WITH_AGREEMENT: 30}


@dataclass(frozen=True)
class Targets:
    """Targets of the villages in the programme: a region's target is the sum of its programme villages'."""

    villages: tuple[str, ...]
    per_village: Mapping[str, int]
    national: Mapping[str, int]

    def of(self, indicator: str, region: str) -> int | None:
        """The target of `indicator` in `region`; None when it has none there."""
        if indicator in self.per_village:
            count = sum(1 for village in self.villages if within(village, region))
            return self.per_village[indicator] * count if count else None
        return self.national.get(indicator) if region == NATIONAL else None


def pilot_targets(villages: tuple[str, ...]) -> Targets:
    """The 2025 pilot's targets (160 withdrawn, 1,600 protected, 1,760 registered over eight villages; 30 providers
    under MoU)."""
    return Targets(villages, {k.value: v for k, v in PER_VILLAGE.items()},
                   {k.value: v for k, v in NATIONAL_ONLY.items()})
