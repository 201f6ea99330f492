"""Alembic environment of the reporting service: the shared runner over this service's metadata."""

from reporting.adapters.orm import metadata
from simpul_platform.migrations import run_env

run_env(metadata)
