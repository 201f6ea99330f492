"""Events the referral service publishes about providers (pseudonymous: ids, codes and timestamps, never a child's
details or free text)."""

from __future__ import annotations

__all__: list[str] = []
