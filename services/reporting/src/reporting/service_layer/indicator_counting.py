"""Moving the counters when facts arrive: the units a batch touches are counted again from their facts.

A batch of child events touches its child records (and, when a record's latest event names another person, the
person it counted as before); a batch of merges touches every record whose person the merge re-resolves; a batch
of referral events touches its referrals and, through issues and services, the children they name. Each touched
person and referral gets its contribution computed again from ALL its facts (`reporting.domain.tallies`) and the
counters move by the difference: a handful of statements per batch, whatever the batch holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from reporting.domain.facts import ChildEvent, Merge, ReferralEvent, ReferralStep
from reporting.domain.indicators import child_states
from reporting.domain.person_tallies import ChildLink, LinkedPersons, person_contributions, raw_person, resolve
from reporting.domain.referral_indicators import referrals_of
from reporting.domain.tallies import Contribution, deltas, referral_contribution
from reporting.service_layer.unit_of_work import ReportingUnitOfWork

PERSON, REFERRAL = "person:", "referral:"
SERVED = frozenset({ReferralStep.ISSUED, ReferralStep.SERVICE_RECORDED})


async def count_child_events(uow: ReportingUnitOfWork, events: Sequence[ChildEvent]) -> None:
    """Follow each touched record's latest event to its person, then count those persons again."""
    latest: dict[str, ChildEvent] = {}
    for event in events:
        held = latest.get(event.child_id)
        if held is None or (event.stamp, event.event_id) > (held.stamp, held.event_id):
            latest[event.child_id] = event
    old = await uow.facts.child_links(latest)
    newer = {child: event for child, event in latest.items()
             if child not in old or (event.stamp, event.event_id) > old[child].latest}
    alias = await aliases(uow, {raw_person(event) for event in newer.values()})
    links = {child: ChildLink(child, raw_person(e), resolve(raw_person(e), alias), e.stamp, e.event_id)
             for child, e in newer.items()}
    await uow.facts.save_links(links.values())
    persons = {link.person for link in (old | links).values()} | {old[c].person for c in links if c in old}
    await count_persons(uow, persons)


async def count_merges(uow: ReportingUnitOfWork, merges: Sequence[Merge]) -> None:
    """Re-resolve every record whose person's merges changed, then count the persons they left and joined."""
    names, frontier = set(), {merge.retired_person_id for merge in merges}
    while frontier:  # the persons merged, directly or not, into a retired one: their resolution goes through it
        names |= frontier
        frontier = {m.retired_person_id for m in await uow.facts.merges_in_force(into=sorted(frontier))} - names
    links = await uow.facts.links_naming(names)
    alias = await aliases(uow, {link.raw_person for link in links.values()})
    moved = [replace(link, person=resolve(link.raw_person, alias)) for link in links.values()]
    moved = [link for link in moved if link.person != links[link.child_id].person]
    await uow.facts.save_links(moved)
    await count_persons(uow, {link.person for link in moved} | {links[link.child_id].person for link in moved})


async def aliases(uow: ReportingUnitOfWork, persons: Iterable[str]) -> dict[str, str]:
    """retired -> surviving for the merges in force reachable from `persons` (the latest merge of a person wins,
    as `reporting.domain.indicators.Persons` has it)."""
    alias: dict[str, str] = {}
    asked: set[str] = set()
    frontier = set(persons)
    while frontier:
        asked |= frontier
        for merge in sorted(await uow.facts.merges_in_force(retiring=sorted(frontier)), key=lambda m: m.merge_id):
            alias[merge.retired_person_id] = merge.surviving_person_id
        frontier = set(alias.values()) - asked
    return alias


async def count_persons(uow: ReportingUnitOfWork, persons: set[str]) -> None:
    """Count these persons again from all the facts of all their records."""
    if not persons:
        return
    links = await uow.facts.links_counted_as(persons)
    children = sorted(links)
    events = await uow.facts.child_events_of(children)
    referrals = await uow.facts.referrals_of_children(children)
    known = LinkedPersons(child_states(events), {child: link.person for child, link in links.items()})
    found = person_contributions(events, known, referrals)
    await _move(uow, {PERSON + person: found.get(person, Contribution()) for person in persons})


async def count_referral_events(uow: ReportingUnitOfWork, events: Sequence[ReferralEvent]) -> None:
    """Count the touched referrals again, and the persons whose services an issue or a service names."""
    touched = {event.referral_id for event in events}
    history = await uow.facts.referral_events_of(sorted(touched))
    referrals = referrals_of(history)
    await _move(uow, {REFERRAL + rid: referral_contribution(referrals[rid]) if rid in referrals else Contribution()
                      for rid in touched})
    serving = {event.referral_id for event in events if event.step in SERVED}
    children = {e.child_id for e in history if e.step is ReferralStep.ISSUED and e.child_id and
                e.referral_id in serving}
    await count_persons(uow, {link.person for link in (await uow.facts.child_links(children)).values()})


async def _move(uow: ReportingUnitOfWork, new: dict[str, Contribution]) -> None:
    old = await uow.facts.contributions(new)
    changed = {unit: c for unit, c in new.items() if old.get(unit, Contribution()) != c}
    if changed:
        await uow.facts.move(deltas({unit: old[unit] for unit in changed if unit in old}, changed))
        await uow.facts.save_contributions(changed)
