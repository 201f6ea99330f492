"""A referral aggregate as the JSON document its row keeps, and back: every field but the service records, which
have rows of their own (`service_record_rows`), so a load is exact.

A load rebuilds the aggregate's values without running their checks again (as SQLAlchemy's ORM loads rows without
calling `__init__`): the document was written from values that passed them, and every push and lifecycle move loads
its referral (the checks were about a third of a load)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from referral.domain.consent import ConsentBasis, RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, ServiceRecord, Step
from referral.domain.overrides import Override
from referral.domain.person_link import PersonLink, PersonMove
from referral.domain.referrals import Referral

Json = dict[str, Any]
T = TypeVar("T")
STATUSES = {str(status): status for status in ReferralStatus}


def document(referral: Referral) -> Json:
    """The referral (without its service records, unpublished events and version) as JSON values."""
    request = referral.request
    return {
        "request": {"referral_id": request.referral_id, "child_id": request.child_id,
                    "person_id": request.person_id, "district": request.district,
                    "service_types": list(request.service_types), "consent": _basis(request.consent),
                    "capacity_override": _override(request.capacity_override)},
        "provider_id": referral.provider_id,
        "history": [{"status": str(s.status), "by": s.by, "at": s.at.isoformat(), "reason": s.reason}
                    for s in referral.history],
        "person": {"person_id": referral.person.person_id, "undone": sorted(referral.person.undone),
                   "moves": [[m.merge_id, m.from_person_id, m.to_person_id] for m in referral.person.moves]},
        "previous_referral_id": referral.previous_referral_id,
        "service_count": referral.service_count,
        "fired_deadlines": sorted(referral.fired_deadlines),
        "case_closed": referral.case_closed,
    }


def referral_of(values: Json, version: int, service_records: list[ServiceRecord]) -> Referral:
    """The aggregate a document and its service records describe, at the stored version."""
    request = values["request"]
    person = values["person"]
    return Referral(
        request=_loaded(
            ReferralRequest, referral_id=request["referral_id"], child_id=request["child_id"],
            person_id=request["person_id"], district=request["district"],
            service_types=tuple(request["service_types"]), consent=_basis_of(request["consent"]),
            capacity_override=_override_of(request["capacity_override"])),
        provider_id=values["provider_id"],
        history=[_loaded(Step, status=STATUSES[s["status"]], by=s["by"], at=_at(s["at"]), reason=s["reason"])
                 for s in values["history"]],
        person=_loaded(PersonLink, person_id=person["person_id"],
                       moves=tuple(PersonMove(*move) for move in person["moves"]), undone=frozenset(person["undone"])),
        previous_referral_id=values["previous_referral_id"],
        service_records=service_records,
        service_count=values["service_count"],
        fired_deadlines=set(values["fired_deadlines"]),
        case_closed=values["case_closed"],
        version=version,
    )


def _loaded(cls: type[T], **fields: Any) -> T:
    """A frozen value with every field given, as stored, without `__post_init__`'s checks."""
    value = object.__new__(cls)
    value.__dict__.update(fields)
    return value


def _basis(basis: ConsentBasis) -> Json:
    if isinstance(basis, RecordedConsent):
        return {"given_at": basis.given_at.isoformat()}
    return {"override": _override(basis)}


def _basis_of(values: Json) -> ConsentBasis:
    if "given_at" in values:
        return _loaded(RecordedConsent, given_at=_at(values["given_at"]))
    override = _override_of(values["override"])
    assert override is not None
    return override


def _override(override: Override | None) -> Json | None:
    return None if override is None else {"by": override.by, "reason": override.reason}


def _override_of(values: Json | None) -> Override | None:
    return None if values is None else Override(values["by"], values["reason"])


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
