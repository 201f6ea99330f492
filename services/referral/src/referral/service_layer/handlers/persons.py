"""Use cases of the `persons` area (see the package's docstring): the record -> person map, following identity's
merges and unmerges onto the referrals, and showing the registry's case status on them.

Consumers call these with a run of events in order; redeliveries are the inbox's business, and what arrives out of
order is the domain's (`person_link` remembers an unmerge that came before its merge; the case status that took
effect last wins).
"""

from __future__ import annotations

import logging

from referral.domain.commands.persons import FollowMerges, FollowUnmerges, RecordCaseStatuses, RecordKnownPersons
from referral.domain.model import latest_per_record
from referral.service_layer.handlers.referrals import save_and_publish
from referral.service_layer.unit_of_work import ReferralUnitOfWork

log = logging.getLogger(__name__)


async def record_known_persons(command: RecordKnownPersons, uow: ReferralUnitOfWork) -> None:
    """Keep the record -> person mapping current, so referrals can name a person id. A link made before the one
    held (a replayed dead letter) changes nothing."""
    latest = latest_per_record(command.persons)
    held = await uow.known_persons.held([person.record_key for person in latest])
    fresh = [person for person in latest if person.supersedes(held.get(person.record_key))]
    if len(fresh) < len(latest):
        log.debug("skipped %d link(s) older than the ones held", len(latest) - len(fresh))
    await uow.known_persons.save(fresh)


async def follow_merges(command: FollowMerges, uow: ReferralUnitOfWork) -> int:
    """Move the retired persons' referrals to the surviving persons; how many moved."""
    moved = 0
    for merge in command.merges:
        for referral in await uow.referrals.of_person(merge.retired_person_id):
            if referral.follow_merge(merge.merge_id, merge.retired_person_id, merge.surviving_person_id, merge.at):
                await save_and_publish(uow, [referral])
                moved += 1
    return moved


async def follow_unmerges(command: FollowUnmerges, uow: ReferralUnitOfWork) -> int:
    """Move the referrals each undone merge moved back to the person it had retired; how many moved.

    The retired person's own referrals learn of the unmerge too, so a merge arriving after its undoing is ignored.
    """
    moved = 0
    for unmerge in command.unmerges:
        concerned = [*await uow.referrals.of_person(unmerge.unmerged_from_person_id),
                     *await uow.referrals.of_person(unmerge.person_id)]
        for referral in concerned:
            before = referral.person
            moved += referral.follow_unmerge(unmerge.merge_id, unmerge.at)
            if referral.person != before:
                await save_and_publish(uow, [referral])
    return moved


async def record_case_statuses(command: RecordCaseStatuses, uow: ReferralUnitOfWork) -> int:
    """Show each child's latest case status on its open referrals; a closure revokes them where the district's
    rule says so. A status older than the one kept changes nothing. How many referrals changed."""
    changed = 0
    for status in command.statuses:
        if not status.supersedes(await uow.case_statuses.get(status.child_id)):
            continue
        await uow.case_statuses.save([status])
        for referral in await uow.referrals.open_of_child(status.child_id):
            before = (referral.case_closed, referral.status)
            referral.record_case_status(status.closed, status.changed_at,
                                        command.closure.revokes_in(referral.request.district))
            if (referral.case_closed, referral.status) != before:
                await save_and_publish(uow, [referral])
                changed += 1
    return changed
