"""Referral's Idempotency-Key table (the platform's rules and repositories, `simpul_platform.idempotency`), on
`referral.adapters.orm.metadata`; created by migration 0009."""

from __future__ import annotations

from referral.adapters.orm import metadata
from simpul_platform.idempotency import idempotency_table

idempotency_keys = idempotency_table(metadata)
