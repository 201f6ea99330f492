"""Who made a change, when and why: every change to a child's case or consent carries all three."""

from __future__ import annotations

import datetime as dt

from registry.domain.errors import RegistryError


class MissingAttribution(RegistryError):
    """A change without a person, a time zone-aware time or a reason."""


def require_attribution(by: str, at: dt.datetime, reason: str) -> None:
    """Refuse a change that does not say who made it, when and why."""
    require_person(by, "by")
    require_aware(at, "at")
    require_reason(reason)


def require_reason(reason: str) -> None:
    """Refuse a blank reason."""
    if not reason.strip():
        raise MissingAttribution("reason", "must say why")


def require_person(person: str, field: str) -> None:
    """Refuse a blank user or client id."""
    if not person.strip():
        raise MissingAttribution(field, "must name the user or client")


def require_aware(at: dt.datetime, field: str) -> None:
    """Refuse a naive time: changes recorded in three time zones are only comparable with their offsets."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise MissingAttribution(field, "must carry a time zone")
