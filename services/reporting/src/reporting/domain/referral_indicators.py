"""Referral and provider indicators, computed from the kept facts (pure Python).

- Referrals are counted as referrals (not persons), each step once, in the month it first happened, at the
  referral's district and above (referral knows the district, not the village).
- Timeliness: days from issue to acceptance and to completion, median and 90th percentile (nearest rank), each
  time from issue counted to the nearest minute (`RESOLUTION`): the counters then keep one row per minute, not per
  distinct microsecond, so reading the percentiles does not grow with the referrals. A published figure (days to 2
  decimals, steps of 14.4 minutes) moves by at most half a minute, so it differs from the exact one only when the
  exact one lies within 30 seconds of a rounding boundary.
- Providers vetted: the latest vetting or rescoring recommends them (recommended or may be recommended);
  with an agreement in force: an MoU or PKS whose period covers the `as_of` day. Offboarded providers count in
  neither. A provider counts in each district it serves and once above.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reporting.domain.cells import CUMULATIVE, AgeBand, CellKey, RegionLevel, Sex
from reporting.domain.facts import ProviderEvent, ProviderStep, ReferralEvent, ReferralStep
from reporting.domain.indicators import Indicator
from reporting.domain.regions import ancestry, month, within

STEP_INDICATORS = {
    ReferralStep.ISSUED: Indicator.REFERRALS_ISSUED, ReferralStep.ACCEPTED: Indicator.REFERRALS_ACCEPTED,
    ReferralStep.DECLINED: Indicator.REFERRALS_DECLINED, ReferralStep.COMPLETED: Indicator.REFERRALS_COMPLETED,
    ReferralStep.EXPIRED: Indicator.REFERRALS_EXPIRED, ReferralStep.OVERDUE: Indicator.REFERRALS_OVERDUE,
    ReferralStep.REVOKED: Indicator.REFERRALS_REVOKED,
}
FUNNEL_COLUMNS = tuple(indicator.value for indicator in STEP_INDICATORS.values())
"""A funnel row's counts, in step order."""
RECOMMENDING = frozenset({"recommended", "may_be_recommended"})
RESOLUTION = dt.timedelta(minutes=1)
"""Times from issue are counted to the nearest minute."""
MICROSECOND = dt.timedelta(microseconds=1)


def time_to(issued: dt.datetime, reached: dt.datetime) -> int:
    """Microseconds from issue to a step, to the nearest minute (a half minute rounds up)."""
    return (reached - issued + RESOLUTION / 2) // RESOLUTION * (RESOLUTION // MICROSECOND)


@dataclass
class Referral:
    """A referral as its events tell it: when each step first happened."""

    referral_id: str
    provider_id: str = ""
    district: str | None = None
    service_types: tuple[str, ...] = ()
    first: dict[ReferralStep, dt.datetime] = field(default_factory=dict)


def referrals_of(events: Iterable[ReferralEvent]) -> dict[str, Referral]:
    """Each referral's steps (the first time of each), whatever order the events came in."""
    referrals: dict[str, Referral] = {}
    for event in sorted(events, key=lambda e: (e.at, e.event_id)):
        referral = referrals.setdefault(event.referral_id, Referral(event.referral_id))
        if event.step is ReferralStep.ISSUED:
            referral.provider_id, referral.district = event.provider_id, event.district
            referral.service_types = event.service_types
        referral.first.setdefault(event.step, event.at)
    return {rid: r for rid, r in referrals.items() if r.district is not None}


def referral_counts(events: Iterable[ReferralEvent]) -> Counter[CellKey]:
    """Referrals per step, district and above, by month and cumulative."""
    counts: Counter[CellKey] = Counter()
    for referral in referrals_of(events).values():
        assert referral.district is not None
        for step, indicator in STEP_INDICATORS.items():
            if step in referral.first:
                for period in (month(referral.first[step]), CUMULATIVE):
                    for code, level in ancestry(referral.district):
                        counts[CellKey(indicator, code, level, period, Sex.ALL, AgeBand.ALL)] += 1
    return counts


@dataclass(frozen=True)
class FunnelRow:
    """Referral steps of one provider and service type in one district (a referral counts once per service type
    it asks for)."""

    district: str
    provider_id: str
    service_type: str
    counts: dict[str, int]


def funnel(events: Iterable[ReferralEvent], region: str) -> list[FunnelRow]:
    """Steps by district, provider and service type, cumulative, inside `region`."""
    rows: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for referral in referrals_of(events).values():
        assert referral.district is not None
        if not within(referral.district, region):
            continue
        for service_type in referral.service_types:
            row = rows[(referral.district, referral.provider_id, service_type)]
            for step, indicator in STEP_INDICATORS.items():
                row[indicator.value] += step in referral.first
    return [FunnelRow(d, p, s, {name: counts[name] for name in FUNNEL_COLUMNS})
            for (d, p, s), counts in sorted(rows.items())]


@dataclass(frozen=True)
class Timeliness:
    """Days from issue to a step: how many referrals reached it, median and 90th percentile."""

    step: str
    referrals: int
    median_days: float | None
    p90_days: float | None


def timeliness(events: Iterable[ReferralEvent], region: str) -> list[Timeliness]:
    """Issue -> acceptance and issue -> completion, inside `region`."""
    referrals = [r for r in referrals_of(events).values() if r.district and within(r.district, region)]
    answers = []
    for step in (ReferralStep.ACCEPTED, ReferralStep.COMPLETED):
        days = sorted(time_to(r.first[ReferralStep.ISSUED], r.first[step]) / 1_000_000 / 86_400 for r in referrals
                      if step in r.first and ReferralStep.ISSUED in r.first)
        answers.append(Timeliness(step.value, len(days), round(statistics.median(days), 2) if days else None,
                                  round(nearest_rank(days, 0.9), 2) if days else None))
    return answers


def nearest_rank(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of sorted values (the p90 of 10 values is the 9th)."""
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


@dataclass
class Provider:
    """A provider as its events tell it, in the order they were recorded."""

    provider_id: str
    districts: tuple[str, ...] = ()
    recommendation: str | None = None
    offboarded: bool = False
    agreements: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)


def providers_of(events: Iterable[ProviderEvent]) -> dict[str, Provider]:
    """Each provider's latest districts, recommendation and agreements."""
    providers: dict[str, Provider] = {}
    for event in sorted(events, key=lambda e: (e.recorded_at, e.event_id)):
        provider = providers.setdefault(event.provider_id, Provider(event.provider_id))
        if event.districts and event.step in (ProviderStep.REGISTERED, ProviderStep.DETAILS_CHANGED):
            provider.districts = event.districts
        if event.step is ProviderStep.VETTED:
            provider.recommendation = event.recommendation
        if event.step is ProviderStep.AGREEMENT_CHANGED and event.agreement_id and event.starts_on and event.ends_on:
            provider.agreements[event.agreement_id] = (event.starts_on, event.ends_on)
        provider.offboarded = provider.offboarded or event.step is ProviderStep.OFFBOARDED
    return providers


def provider_counts(events: Iterable[ProviderEvent], as_of: dt.date) -> Counter[CellKey]:
    """Providers vetted and with an agreement in force on `as_of`, per district served and above (cumulative)."""
    members: dict[tuple[Indicator, str, RegionLevel], set[str]] = defaultdict(set)
    for provider in providers_of(events).values():
        if provider.offboarded:
            continue
        indicators = [Indicator.PROVIDERS_VETTED] if provider.recommendation in RECOMMENDING else []
        if any(start <= as_of <= end for start, end in provider.agreements.values()):
            indicators.append(Indicator.PROVIDERS_WITH_AGREEMENT)
        for indicator in indicators:
            for district in provider.districts:
                for code, level in ancestry(district):
                    members[(indicator, code, level)].add(provider.provider_id)
    return Counter({CellKey(i, code, level, CUMULATIVE, Sex.ALL, AgeBand.ALL): len(ids)
                    for (i, code, level), ids in members.items()})
