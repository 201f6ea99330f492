"""The provider API's referral bodies and views (HTTP schemas: neither domain objects nor wire contracts): a sync
page, a referral with its ETag, the child's minimal details (never NIK or KK), the provider's capacity."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from referral.domain.child_details import ChildDetails
from referral.domain.providers import Capacity, Provider
from referral.domain.referrals import Referral
from referral.entrypoints.http.child_details import GuardianRead
from referral.entrypoints.http.referral_schemas import ReferralRead, referral_fields
from referral.service_layer.handlers.provider_sync import ProviderReferral, ProviderReferralPage

CURSOR_DOC = ("An opaque sync cursor (URL-safe base64) this API gave as `next`. Keep the last one and pass it back: "
              "the answer holds every referral changed after it, in change order, so a provider that polls after "
              "being offline misses nothing. Never build or parse one.")


def etag_of(referral: Referral) -> str:
    """The referral's ETag: its stored version (If-Match on a lifecycle move takes it)."""
    return f'"{referral.version}"'


class ProviderReferralItem(ReferralRead):
    """A referral as of its last change, with the ETag a lifecycle move may send as If-Match."""

    etag: str = Field(description="The referral's ETag (its version), for If-Match.")


class ProviderReferralPageRead(BaseModel):
    """One page of the provider's changed referrals, in change order (each referral once, at its latest version)."""

    items: list[ProviderReferralItem]
    next: str = Field(description="The cursor to resume from: pass it as `cursor` for the next page, or keep it "
                                  "for the next poll (it stays the same while nothing changed).")
    more: bool = Field(description="More changes are ready now (the `Link: rel=\"next\"` header names the page).")


class ChildRead(BaseModel):
    """What the provider needs to serve the child, and nothing more."""

    full_name: str
    sex: str
    age: int | None = Field(description="Completed years today; null when the birth date is unknown.")
    age_is_approximate: bool = Field(description="The registry knows only the birth year or month.")
    village_code: str
    guardians: list[GuardianRead]


class ProviderReferralRead(ReferralRead):
    """One of the provider's referrals and the child's minimal details (null once consent was withdrawn)."""

    child: ChildRead | None


class CapacityRead(BaseModel):
    """The provider's capacity status as district officers see it."""

    provider_id: str
    capacity: Capacity


def item_view(referral: Referral) -> ProviderReferralItem:
    """A referral of a sync page."""
    return ProviderReferralItem(**referral_fields(referral), etag=etag_of(referral))


def page_view(page: ProviderReferralPage) -> ProviderReferralPageRead:
    """A sync page as the API shows it."""
    return ProviderReferralPageRead(items=[item_view(changed.referral) for changed in page.items],
                                    next=page.next.token(), more=page.more)


def child_view(details: ChildDetails, today: dt.date) -> ChildRead:
    """The child's minimal details as of `today`."""
    return ChildRead(full_name=details.full_name, sex=details.sex, age=details.age_on(today),
                     age_is_approximate=details.birth_date_precision not in (None, "day"),
                     village_code=details.village_code,
                     guardians=[GuardianRead(name=g.name, relationship=g.relationship, phone=g.phone)
                                for g in details.guardians])


def provider_referral_view(found: ProviderReferral, today: dt.date) -> ProviderReferralRead:
    """A referral with its child."""
    child = None if found.child is None else child_view(found.child, today)
    return ProviderReferralRead(**referral_fields(found.referral), child=child)


def capacity_view(provider: Provider) -> CapacityRead:
    """The provider's capacity."""
    return CapacityRead(provider_id=provider.provider_id, capacity=provider.capacity)
