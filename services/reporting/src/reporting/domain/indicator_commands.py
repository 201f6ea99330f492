"""What reporting's indicators area is asked to do: keep facts from events, read indicators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reporting.domain.cells import RegionLevel
from reporting.domain.facts import ChildEvent, Merge, ProviderEvent, ReferralEvent
from reporting.domain.regions import NATIONAL


@dataclass(frozen=True)
class KeepChildEvents:
    """Keep a run of `registry.child.v1` events."""

    events: tuple[ChildEvent, ...]


@dataclass(frozen=True)
class KeepMerges:
    """Keep a run of identity's merges and their undoings."""

    merges: tuple[Merge, ...]


@dataclass(frozen=True)
class KeepReferralEvents:
    """Keep a run of `referral.referral.v1` events."""

    events: tuple[ReferralEvent, ...]


@dataclass(frozen=True)
class KeepProviderEvents:
    """Keep a run of `referral.provider.v1` events."""

    events: tuple[ProviderEvent, ...]


@dataclass(frozen=True)
class IndicatorCells:
    """The true counts of every indicator in `region` and the regions under it (only `level` when given), for
    `period` ('yyyyMM', 'cumulative', or None for every period), with snapshots taken on `as_of`."""

    as_of: dt.date
    region: str = NATIONAL
    level: RegionLevel | None = None
    period: str | None = None


@dataclass(frozen=True)
class ReferralFigures:
    """The referral funnel by district, provider and service type, and its timeliness, inside `region`."""

    region: str = NATIONAL


@dataclass(frozen=True)
class IndicatorReport:
    """What `GET /indicators` shows: the cells of `cells` and the referral figures of its region, read in one
    transaction."""

    cells: IndicatorCells
