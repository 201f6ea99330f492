"""child records, cases, monitoring visits, consent and idempotency keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_NEW_CHILD_COLUMNS = ('aliases', 'birth_date_estimated', 'nik', 'nik_index', 'kk_number', 'identity_warnings',
                      'guardians', 'school', 'work', 'updated_at', 'version')


def upgrade() -> None:
    """Upgrade schema."""
    # Server defaults let rows registered before this revision take the new NOT NULL columns.
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('birth_date_estimated', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('nik', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('nik_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('kk_number', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('identity_warnings', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('guardians', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('school', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('work', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_index(batch_op.f('ix_children_nik_index'), ['nik_index'], unique=False)

    op.create_table('cases',
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('child_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('classification', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.child_id'], name='fk_cases_child_id'),
    sa.PrimaryKeyConstraint('case_id'),
    sa.UniqueConstraint('child_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)

    for table, column in (('case_status_changes', 'status'), ('case_classification_changes', 'classification')):
        op.create_table(table,
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column(column, sa.String(length=32), nullable=False),
        sa.Column('previous', sa.String(length=32), nullable=True),
        *([sa.Column('closure_reason', sa.String(length=32), nullable=True)] if column == 'status' else []),
        sa.Column('by', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], name=f'fk_{table}_case_id'),
        sa.PrimaryKeyConstraint('case_id', 'seq')
        )

    op.create_table('monitoring_visits',
    sa.Column('visit_id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visitor', sa.String(length=200), nullable=False),
    sa.Column('child_working', sa.Boolean(), nullable=False),
    sa.Column('school_status', sa.String(length=32), nullable=False),
    sa.Column('school_grade', sa.Integer(), nullable=True),
    sa.Column('attends_school_regularly', sa.Boolean(), nullable=True),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.Column('hazards', sa.JSON(), nullable=False),
    sa.Column('work_activities', sa.String(length=1000), nullable=False),
    sa.Column('hours_per_week', sa.Integer(), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], name='fk_monitoring_visits_case_id'),
    sa.PrimaryKeyConstraint('visit_id')
    )
    with op.batch_alter_table('monitoring_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_visits_case_id'), ['case_id'], unique=False)

    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('child_id', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.child_id'], name='fk_consent_records_child_id'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_records_child_id'), ['child_id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'key')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_child_id'))
    op.drop_table('consent_records')
    with op.batch_alter_table('monitoring_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_visits_case_id'))
    op.drop_table('monitoring_visits')
    op.drop_table('case_classification_changes')
    op.drop_table('case_status_changes')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_status'))
    op.drop_table('cases')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_nik_index'))
        for column in reversed(_NEW_CHILD_COLUMNS):
            batch_op.drop_column(column)
