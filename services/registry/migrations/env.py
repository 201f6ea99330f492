"""Alembic environment of the registry: the shared runner over this service's metadata."""

from registry.adapters.orm import metadata
from simpul_platform.migrations import run_env

run_env(metadata)
