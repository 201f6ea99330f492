"""Alembic environment of the identity service: the shared runner over this service's metadata."""

from identity.adapters.orm import metadata
from simpul_platform.migrations import run_env

run_env(metadata)
