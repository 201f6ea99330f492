"""Events the referral service publishes about referrals (pseudonymous: ids, codes and timestamps, never a child's
details or free text)."""

from __future__ import annotations

__all__: list[str] = []
