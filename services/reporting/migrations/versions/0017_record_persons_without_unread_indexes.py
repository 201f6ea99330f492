"""record_persons loses its person_id and village_code indexes

No query reads record_persons by person or by village: the one read, distinct persons per village, aggregates the
whole table, which neither index helps. Each cost PostgreSQL an index insertion on every upserted link (identity's
RecordLinkedV1 stream is the busiest this service consumes).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 22:30:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('record_persons', schema=None) as batch_op:
        batch_op.drop_index('ix_record_persons_village_code')
        batch_op.drop_index('ix_record_persons_person_id')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('record_persons', schema=None) as batch_op:
        batch_op.create_index('ix_record_persons_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_record_persons_village_code', ['village_code'], unique=False)
