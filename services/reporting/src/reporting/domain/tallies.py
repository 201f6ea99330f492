"""Indicators kept incrementally: what each person and each referral contributes to the counters (pure Python).

A unit (a person, a referral) contributes a `Contribution` (a person's in `reporting.domain.person_tallies`): the
cells it counts in, before they are rolled up the regions, margins and periods. The contribution is a pure
function of the unit's facts, computed with the same rules as `reporting.domain.indicators` and
`reporting.domain.referral_indicators`; when a fact of a unit arrives, its contribution is computed again and the
counters move by the difference (`deltas`). So the counters do not depend on the order events arrived in, a
redelivered event moves nothing, and a merge or unmerge moves a person's counts between cells, past months
included.

The monitoring coverage depends on the reading day: a person counts among the open cases visited in the last 90
days on day D when a visit on their open case fell in [D - 90, D]. Each visit opens a window [v, v + 90]; the
person contributes +1 on the day their union of windows starts and -1 on the day after it ends, so the count on
day D is the sum of the contributions dated up to D (and the age band is taken at D from the birth year).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from reporting.domain.cells import CUMULATIVE, AgeBand, CellKey, RegionLevel, Sex
from reporting.domain.facts import ReferralStep
from reporting.domain.referral_indicators import STEP_INDICATORS, Referral, time_to
from reporting.domain.regions import ancestry, month

K = TypeVar("K")
ALWAYS = dt.date.min
"""The day an open case's count is dated: it counts on every reading day."""
UNKNOWN_YEAR = 0

# (indicator, month, village or district, sex or None, band or None): one unit counted in a month's cell
Slot = tuple[str, str, str, str | None, str | None]
# (indicator, village, sex or None, birth year or 0, day ordinal, +1/-1): a step of a coverage count
Step = tuple[str, str, str | None, int, int, int]
# (district, provider, service type, indicator): one referral in a funnel row
FunnelSlot = tuple[str, str, str, str]
# (district, step, microseconds from issue, to the nearest minute): one referral's time to a step
Duration = tuple[str, str, int]


@dataclass(frozen=True)
class Contribution:
    """What one unit counts in (every part sorted, so equal contributions compare and serialize alike)."""

    slots: tuple[Slot, ...] = ()
    coverage: tuple[Step, ...] = ()
    funnel: tuple[FunnelSlot, ...] = ()
    durations: tuple[Duration, ...] = ()

    @classmethod
    def of(cls, slots: Iterable[Slot] = (), coverage: Iterable[Step] = (), funnel: Iterable[FunnelSlot] = (),
           durations: Iterable[Duration] = ()) -> Contribution:
        """A contribution with its parts in a fixed order."""
        return cls(tuple(sorted(slots, key=_slot_order)), tuple(sorted(coverage, key=_order)),
                   tuple(sorted(funnel)), tuple(sorted(durations)))

    def __bool__(self) -> bool:
        return bool(self.slots or self.coverage or self.funnel or self.durations)


def _order(item: tuple[object, ...]) -> tuple[str, ...]:
    return tuple("" if part is None else str(part) for part in item)


def _slot_order(slot: Slot) -> tuple[str, ...]:
    # `_order` of a slot (its parts are text or None), without a generator: slots are sorted for every person counted
    indicator, period, region, sex, band = slot
    return indicator, period, region, sex or "", band or ""


UNKNOWN = "-"
"""The sex or age band of a counter that counts in the margin only (unknown sex, an age outside 5-17)."""


class CellCount(NamedTuple):
    """A counter of the finest cells (plain strings: tuples of them hash fast, enums do not). Only the finest sex
    and age band are counted; the margins are summed when read (`cells`), a quarter of the writes."""

    indicator: str
    region_code: str
    region_level: str
    period: str
    sex: str
    age_band: str

    def cells(self) -> list[CellKey]:
        """The cells it counts in: its sex and age band and their margins."""
        level = RegionLevel(self.region_level)
        sexes = [Sex.ALL] if self.sex == UNKNOWN else [Sex(self.sex), Sex.ALL]
        bands = [AgeBand.ALL] if self.age_band == UNKNOWN else [AgeBand(self.age_band), AgeBand.ALL]
        return [CellKey(self.indicator, self.region_code, level, self.period, sex, band)
                for sex in sexes for band in bands]


class CoverageKey(NamedTuple):
    """A coverage counter: contributions dated `day` in a region, sex margin and birth year."""

    indicator: str
    region_code: str
    region_level: str
    sex: str
    birth_year: int
    day: dt.date


class FunnelKey(NamedTuple):
    """A funnel counter: referrals of one district, provider and service type that reached a step."""

    district: str
    provider_id: str
    service_type: str
    indicator: str


class DurationKey(NamedTuple):
    """A timeliness counter: referrals in a region that reached a step this many microseconds after issue (a whole
    number of minutes: `reporting.domain.referral_indicators.time_to`)."""

    region_code: str
    step: str
    micros: int


@dataclass
class Deltas:
    """How the counters move."""

    cells: Counter[CellCount]
    coverage: Counter[CoverageKey]
    funnel: Counter[FunnelKey]
    durations: Counter[DurationKey]

    @classmethod
    def none(cls) -> Deltas:
        """No movement."""
        return cls(Counter(), Counter(), Counter(), Counter())

    def nonzero(self) -> Deltas:
        """The same movements without those that cancel out."""
        return Deltas(_nonzero(self.cells), _nonzero(self.coverage), _nonzero(self.funnel), _nonzero(self.durations))


def _nonzero(counts: Counter[K]) -> Counter[K]:
    return Counter({key: value for key, value in counts.items() if value})


EMPTY = Contribution()


def deltas(old: Mapping[str, Contribution], new: Mapping[str, Contribution]) -> Deltas:
    """The counters' movement when the units' contributions go from `old` to `new`: the parts that moved are
    netted first (a person counted again in the same cells moves nothing), then rolled up."""
    slots, coverage, funnel, durations = _netted(old, new)
    moved = Deltas.none()
    _roll_up(moved.cells, slots, cell_keys, lambda slot: 1)
    _roll_up(moved.coverage, coverage, coverage_keys, lambda step: step[-1])
    for (district, provider, service_type, indicator), count in funnel.items():
        moved.funnel[FunnelKey(district, provider, service_type, indicator)] += count
    for (district, step_name, micros), count in durations.items():
        for code, _ in _chain(district):
            moved.durations[DurationKey(code, step_name, micros)] += count
    return moved.nonzero()


def _roll_up(counters: Counter[Any], parts: Counter[Any], keys: Callable[[Any], list[Any]],
             sign: Callable[[Any], int]) -> None:
    # a batch's hottest loop: the parts netted out move nothing and are skipped
    for part, count in parts.items():
        if count:
            moved = count * sign(part)
            for key in keys(part):
                counters[key] += moved


def _netted(old: Mapping[str, Contribution], new: Mapping[str, Contribution]) -> tuple[
        Counter[Slot], Counter[Step], Counter[FunnelSlot], Counter[Duration]]:
    slots: Counter[Slot] = Counter()
    coverage: Counter[Step] = Counter()
    funnel: Counter[FunnelSlot] = Counter()
    durations: Counter[Duration] = Counter()
    for unit in old.keys() | new.keys():
        before, after = old.get(unit, EMPTY), new.get(unit, EMPTY)
        if before != after:
            _net(slots, before.slots, after.slots)
            _net(coverage, before.coverage, after.coverage)
            _net(funnel, before.funnel, after.funnel)
            _net(durations, before.durations, after.durations)
    return slots, coverage, funnel, durations


def _net(counts: Counter[K], was: Iterable[K], now: Iterable[K]) -> None:
    for part in was:  # plain loops: Counter.subtract/update check for a Mapping on every call
        counts[part] -= 1
    for part in now:
        counts[part] += 1


@functools.lru_cache(maxsize=1 << 16)
def _chain(code: str) -> tuple[tuple[str, str], ...]:
    return tuple((each, level.value) for each, level in ancestry(code))


def cell_keys(slot: Slot) -> list[CellCount]:
    """Every counter one counted slot adds to: its month and the cumulative period, its region and those above (its
    sex and age band only: `CellCount.cells` adds the margins, as `reporting.domain.indicators.keys_of` has them)."""
    indicator, period, region, sex, band = slot
    sex, band, make = sex or UNKNOWN, band or UNKNOWN, CellCount._make
    chain = _chain(region)
    return [make((indicator, code, level, each, sex, band)) for each in (period, CUMULATIVE) for code, level in chain]


def coverage_keys(step: Step) -> list[CoverageKey]:
    """Every coverage counter one step adds to: its region and those above (its sex only; the margin when read)."""
    indicator, village, sex, year, day, _ = step
    on, sex, make = _day(day), sex or UNKNOWN, CoverageKey._make
    return [make((indicator, code, level, sex, year, on)) for code, level in _chain(village)]


@functools.lru_cache(maxsize=1 << 12)
def _day(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


# --- referrals ---------------------------------------------------------------------------------------------------

def referral_contribution(referral: Referral) -> Contribution:
    """A referral's steps (month of the first time of each), its funnel rows and its times from issue."""
    if referral.district is None:
        return Contribution()
    district, reached = referral.district, [(s, i) for s, i in STEP_INDICATORS.items() if s in referral.first]
    slots = [(indicator.value, month(referral.first[step]), district, None, None) for step, indicator in reached]
    funnel = [(district, referral.provider_id, service_type, indicator.value)
              for service_type in referral.service_types for _, indicator in reached]
    issued = referral.first.get(ReferralStep.ISSUED)
    durations = [(district, step.value, time_to(issued, referral.first[step]))
                 for step in (ReferralStep.ACCEPTED, ReferralStep.COMPLETED) if issued and step in referral.first]
    return Contribution.of(slots, funnel=funnel, durations=durations)
