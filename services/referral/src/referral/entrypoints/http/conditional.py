"""If-Match on a referral, one reading for every route that changes one (the district's and the provider's)."""

from __future__ import annotations

from simpul_platform.errors import Stale


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names (None without one); 412 when it cannot be one of this referral's ETags."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):
        raise Stale("If-Match", "does not match the referral's ETag")
    return int(value)
