"""A referral of a child to a provider, and its closed loop (the statuses are in `lifecycle`).

- Revocation is open to every open state (consent withdrawn, provider suspended or offboarded, case closed, the
  district's decision); expiry only while the provider has not answered (issued, acknowledged).
- Recording a service while accepted starts the service: a delivered service means serving has begun.
- Completion needs at least one service record.
- A re-referral after a decline, an expiry or a revocation links to the referral it follows, of the same child.
- The deadlines (`deadlines`) fire on the referral once each: it keeps the ids of those that fired.
Every step keeps who and when; each change is announced by an event in `events`, for the handlers to publish.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from referral.domain import events as ev
from referral.domain.eligibility import Placement, ensure_eligible
from referral.domain.errors import Conflict, Invalid, InvalidTransition, require, require_aware
from referral.domain.lifecycle import (
    AWAITING_ANSWER,
    OPEN,
    REREFERABLE,
    SYSTEM,
    About,
    ReferralRequest,
    ReferralStatus,
    RevocationReason,
    ServiceRecord,
    Step,
)
from referral.domain.lifecycle import ReferralStatus as S
from referral.domain.person_link import PersonLink
from referral.domain.providers import Provider
from referral.domain.service_records import check_delivered_on


@dataclass
class Referral:
    """The referral aggregate."""

    request: ReferralRequest
    provider_id: str
    history: list[Step]
    person: PersonLink
    previous_referral_id: str | None = None
    service_records: list[ServiceRecord] = field(default_factory=list)
    """The records loaded with the referral, then those recorded on it: all of them, except when the repository
    loaded it without its stored records (as a push does: `service_count` still counts every one)."""
    service_count: int = 0
    """How many service records the referral has, stored or new."""
    fired_deadlines: set[str] = field(default_factory=set)
    case_closed: bool = False
    events: list[ev.ReferralEvent] = field(default_factory=list)
    version: int = 0
    """The stored version (0 until first saved): the repository's optimistic concurrency, the API's ETag."""

    @classmethod
    def issue(cls, request: ReferralRequest, provider: Provider, by: str, at: dt.datetime,
              previous: Referral | None = None) -> Referral:
        """Issue a referral the gate lets through on `at`'s day; a re-referral names the referral it follows."""
        require_aware(at, "at")
        ensure_eligible(provider, Placement(request.service_types, request.district, at.date(),
                                            request.capacity_override))
        if previous is not None:
            _check_follows(previous, request)
        referral = cls(request, provider.provider_id, [Step(S.ISSUED, by, at)], PersonLink(request.person_id),
                       previous.referral_id if previous else None)
        referral.events.append(ev.ReferralIssued(
            **referral._about(by, at), child_id=request.child_id, person_id=request.person_id,
            district=request.district, service_types=request.service_types,
            consent_overridden=request.consent_overridden,
            previous_referral_id=referral.previous_referral_id))
        return referral

    @property
    def referral_id(self) -> str:
        """The referral's id."""
        return self.request.referral_id

    @property
    def status(self) -> ReferralStatus:
        """The status of the last step."""
        return self.history[-1].status

    @property
    def issued_at(self) -> dt.datetime:
        """When the referral was issued (its deadlines count from here)."""
        return self.history[0].at

    @property
    def person_id(self) -> str:
        """The child's person now (following merges)."""
        return self.person.person_id

    def acknowledge(self, by: str, at: dt.datetime) -> None:
        """The provider saw the referral."""
        self._step({S.ISSUED}, Step(S.ACKNOWLEDGED, by, at), "acknowledge")
        self.events.append(ev.ReferralAcknowledged(**self._about(by, at)))

    def accept(self, by: str, at: dt.datetime) -> None:
        """The provider will serve the child."""
        self._step({S.ACKNOWLEDGED}, Step(S.ACCEPTED, by, at), "accept")
        self.events.append(ev.ReferralAccepted(**self._about(by, at)))

    def decline(self, reason: str, by: str, at: dt.datetime) -> None:
        """The provider will not serve the child, and says why."""
        require(bool(reason.strip()), "reason", "a decline says why")
        self._step({S.ACKNOWLEDGED}, Step(S.DECLINED, by, at, reason), "decline")
        self.events.append(ev.ReferralDeclined(**self._about(by, at), reason=reason))

    def start_service(self, by: str, at: dt.datetime) -> None:
        """The provider began serving the child."""
        self._step({S.ACCEPTED}, Step(S.IN_SERVICE, by, at), "start the service")
        self.events.append(ev.ServiceStarted(**self._about(by, at)))

    def record_service(self, record: ServiceRecord) -> None:
        """A service of the referral was delivered (starting the service if it had not started): one of the
        referral's services, delivered neither in the future nor before the referral; every check comes before any
        change, so a refused record leaves the referral as it was."""
        self._require({S.ACCEPTED, S.IN_SERVICE}, "record a service")
        if record.service_type not in self.request.service_types:
            raise Invalid("service_type", f"{record.service_type} is not a service of this referral")
        check_delivered_on(record.delivered_on, self.issued_at, record.recorded_at)
        if record.record_id and any(r.record_id == record.record_id for r in self.service_records):
            raise Conflict("record_id", "the referral already has a service record with this id")
        if self.status is S.ACCEPTED:
            self.start_service(record.recorded_by, record.recorded_at)
        self.service_records.append(record)
        self.service_count += 1
        self.events.append(ev.ServiceRecorded(**self._about(record.recorded_by, record.recorded_at),
                                              service_type=record.service_type, delivered_on=record.delivered_on,
                                              record_id=record.record_id or None, attendance=record.attendance,
                                              outcome=record.outcome))

    def complete(self, by: str, at: dt.datetime) -> None:
        """Close the loop: the services were delivered."""
        self._require({S.IN_SERVICE}, "complete")
        if not self.service_count:
            raise Conflict("service_records", "completion needs at least one service record")
        self._step({S.IN_SERVICE}, Step(S.COMPLETED, by, at), "complete")
        self.events.append(ev.ReferralCompleted(**self._about(by, at)))

    def revoke(self, reason: RevocationReason, note: str, by: str, at: dt.datetime) -> None:
        """Take the referral back from the provider (who is told)."""
        self._step(OPEN, Step(S.REVOKED, by, at, reason), "revoke")
        self.events.append(ev.ReferralRevoked(**self._about(by, at), reason=reason, note=note))

    def revoke_if_open(self, reason: RevocationReason, at: dt.datetime, note: str = "") -> bool:
        """Revoke by rule (consent withdrawn, provider gone, case closed) if still open; whether it was."""
        if self.status not in OPEN:
            return False
        self.revoke(reason, note, SYSTEM, at)
        return True

    def mark_overdue(self, deadline_id: str, step: str, due_at: dt.datetime, at: dt.datetime) -> bool:
        """A response deadline passed (once per deadline id); whether it fired now."""
        if not self._fires(deadline_id, AWAITING_ANSWER):
            return False
        self.events.append(ev.ReferralOverdue(**self._about(SYSTEM, at), deadline_id=deadline_id, step=step,
                                              due_at=due_at))
        return True

    def escalate(self, deadline_id: str, due_at: dt.datetime, at: dt.datetime) -> bool:
        """Send the unanswered referral to the district queue (once per deadline id); whether it fired now."""
        if not self._fires(deadline_id, AWAITING_ANSWER):
            return False
        self.events.append(ev.ReferralEscalated(**self._about(SYSTEM, at), deadline_id=deadline_id, due_at=due_at))
        return True

    def expire(self, deadline_id: str, at: dt.datetime) -> bool:
        """No answer came in time (once per deadline id); whether it expired now."""
        if not self._fires(deadline_id, AWAITING_ANSWER):
            return False
        self.history.append(Step(S.EXPIRED, SYSTEM, at))
        self.events.append(ev.ReferralExpired(**self._about(SYSTEM, at)))
        return True

    def record_case_status(self, closed: bool, at: dt.datetime, revoke_on_closure: bool) -> None:
        """The registry closed or reopened the child's case; closure revokes when the district says so."""
        self.case_closed = closed
        if closed and revoke_on_closure:
            self.revoke_if_open(RevocationReason.CASE_CLOSED, at)

    def follow_merge(self, merge_id: str, retired: str, surviving: str, at: dt.datetime) -> bool:
        """Move to the surviving person if the referral is the retired one's; whether it moved."""
        return self._follow(self.person.merged(merge_id, retired, surviving), merge_id, at)

    def follow_unmerge(self, merge_id: str, at: dt.datetime) -> bool:
        """Move back to the person a merge retired, if that merge moved the referral; whether it moved."""
        return self._follow(self.person.unmerged(merge_id), merge_id, at)

    def _follow(self, link: PersonLink, merge_id: str, at: dt.datetime) -> bool:
        previous, self.person = self.person.person_id, link
        if link.person_id == previous:
            return False
        self.events.append(ev.ReferralPersonChanged(**self._about(SYSTEM, at), previous_person_id=previous,
                                                    person_id=link.person_id, merge_id=merge_id))
        return True

    def _fires(self, deadline_id: str, allowed: Collection[ReferralStatus]) -> bool:
        if deadline_id in self.fired_deadlines or self.status not in allowed:
            return False
        self.fired_deadlines.add(deadline_id)
        return True

    def _step(self, allowed: Collection[ReferralStatus], step: Step, move: str) -> None:
        self._require(allowed, move)
        self.history.append(step)

    def _require(self, allowed: Collection[ReferralStatus], move: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition("status", self.status, move)

    def _about(self, by: str, at: dt.datetime) -> About:
        return About(referral_id=self.referral_id, provider_id=self.provider_id, by=by, at=at)


def _check_follows(previous: Referral, request: ReferralRequest) -> None:
    if previous.request.child_id != request.child_id:
        raise Invalid("previous_referral_id", "a re-referral follows a referral of the same child")
    if previous.status not in REREFERABLE:
        raise InvalidTransition("previous_referral", previous.status, "re-refer")
