"""survey imports: the digest of a child's source row, and a report per import

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 21:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_digest', sa.String(length=64), nullable=True))
    op.create_table(
        'survey_imports',
        sa.Column('import_id', sa.String(length=40), nullable=False),
        sa.Column('source_system', sa.String(length=64), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('file_sha256', sa.String(length=64), nullable=False),
        sa.Column('imported_by', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('import_id'),
    )
    op.create_index(op.f('ix_survey_imports_imported_by'), 'survey_imports', ['imported_by'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_survey_imports_imported_by'), table_name='survey_imports')
    op.drop_table('survey_imports')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('source_digest')
