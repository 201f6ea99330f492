"""Idempotency-Key answers are stored sealed (simpul_platform.idempotency seals every answer under the keyring)

The answers stored before this revision are in clear: they cannot be opened as tokens, so their keys are expired,
i.e. deleted (a client retrying a request it sent before the upgrade runs it again; deploy when clients are idle,
as the registry's 0008 says). The downgrade deletes the keys too: the older code cannot open a sealed answer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:05:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: expire the keys whose answers were stored in clear."""
    op.execute("DELETE FROM idempotency_keys")


def downgrade() -> None:
    """Downgrade schema: the older code cannot open sealed answers, so their keys go."""
    op.execute("DELETE FROM idempotency_keys")
