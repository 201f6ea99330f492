"""Commands of the `provider_sync` area (see `referral.service_layer.handlers.provider_sync`): a provider lists and
syncs its own referrals by change position, reads one with the child's minimal details, and sets its own capacity.

A `SyncPosition` is where a sync stands in a provider's stream of changes: the writer's transaction id and the row's
change sequence (see `referral.adapters.provider_sync_repository` for why both). Clients see it only as an opaque
cursor (`token()` / `SyncPosition.of_token`); the HTTP and FHIR entry points share the codec.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from referral.domain.errors import Invalid
from referral.domain.providers import Capacity
from simpul_platform.callers import Caller

CURSOR_PREFIX = "s1"
MAX_PAGE = 1000


@dataclass(frozen=True, order=True)
class SyncPosition:
    """A point in the change stream: every change at or before it has been served (0, 0 is the beginning)."""

    transaction: int = 0
    sequence: int = 0

    def token(self) -> str:
        """The opaque cursor a client keeps (URL-safe base64, no padding)."""
        text = f"{CURSOR_PREFIX}.{self.transaction}.{self.sequence}".encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    @classmethod
    def of_token(cls, token: str, field: str = "cursor") -> SyncPosition:
        """The position a cursor names; invalid (naming `field`) when it is not one of ours."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            prefix, transaction, sequence = text.split(".")
            if prefix != CURSOR_PREFIX or not (transaction.isdigit() and sequence.isdigit()):
                raise ValueError(text)
            return cls(int(transaction), int(sequence))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise Invalid(field, "not a cursor this API gave") from None


@dataclass(frozen=True)
class ListProviderReferrals:
    """The provider's referrals changed after `after` (a cursor) or, without one, at or after `updated_since`
    (every referral when neither), in change order, at most `limit`; every referral shown is audited."""

    by: Caller
    after: SyncPosition | None = None
    updated_since: dt.datetime | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise Invalid("limit", f"between 1 and {MAX_PAGE}")
        if self.updated_since is not None and self.updated_since.tzinfo is None:
            raise Invalid("updated_since", "needs a time zone")


@dataclass(frozen=True)
class ReadProviderReferral:
    """One of the provider's referrals with the child's minimal details as of `on` (both reads audited)."""

    by: Caller
    referral_id: str
    on: dt.date
    reason: str | None = None


@dataclass(frozen=True)
class SetOwnCapacity:
    """The provider records its own capacity status (available, limited, full)."""

    by: Caller
    capacity: Capacity
    at: dt.datetime
