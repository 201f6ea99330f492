"""Alembic environment of the referral service: the shared runner over this service's metadata."""

from referral.adapters.orm import metadata
from simpul_platform.migrations import run_env

run_env(metadata)
