"""matching on stored details, reviewers' decisions, review queue, merge history, audit log

Source records keep the details they were matched on (names, NIK, KK and birth date encrypted: Text columns of
field tokens), replacing the plaintext exact-match key. Records linked before this revision have no details: they
keep their person and are matched again, details and all, when their source sends them next.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 21:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_into', sa.String(length=40), nullable=True))

    with op.batch_alter_table('source_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_records_exact_key'))
        batch_op.drop_column('exact_key')
        for name in ('full_name', 'birth_date', 'nik', 'kk_number', 'mother_name'):
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sex', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('birth_date_precision', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('feature_version', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('feature_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('link_verified', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_source_records_feature_version'), ['feature_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_records_feature_seq'), ['feature_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_records_village_code'), ['village_code'], unique=False)

    link_clock = op.create_table(
        'link_clock',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(link_clock, [{'id': 1, 'value': 0}])

    op.create_table(
        'non_links',
        sa.Column('record_a', sa.String(length=130), nullable=False),
        sa.Column('record_b', sa.String(length=130), nullable=False),
        sa.Column('decision_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('record_a', 'record_b'),
    )
    op.create_index('ix_non_links_record_b', 'non_links', ['record_b'], unique=False)

    op.create_table(
        'decisions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('record', sa.String(length=130), nullable=True),
        sa.Column('person_id', sa.String(length=40), nullable=False),
        sa.Column('other_person_id', sa.String(length=40), nullable=True),
        sa.Column('review_id', sa.String(length=40), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_decisions_review_id', 'decisions', ['review_id'], unique=False)

    op.create_table(
        'reviews',
        sa.Column('review_id', sa.String(length=40), nullable=False),
        sa.Column('source_system', sa.String(length=64), nullable=False),
        sa.Column('source_record_id', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.String(length=40), nullable=False),
        sa.Column('village_code', sa.String(length=13), nullable=False),
        sa.Column('district_code', sa.String(length=5), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('candidates', sa.JSON(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('review_id'),
    )
    op.create_index('ix_reviews_district_code', 'reviews', ['district_code'], unique=False)
    op.create_index('ix_reviews_status', 'reviews', ['status'], unique=False)

    op.create_table(
        'merges',
        sa.Column('merge_id', sa.String(length=40), nullable=False),
        sa.Column('surviving_person_id', sa.String(length=40), nullable=False),
        sa.Column('retired_person_id', sa.String(length=40), nullable=False),
        sa.Column('moved_records', sa.JSON(), nullable=False),
        sa.Column('verified_by_merge', sa.JSON(), nullable=False),
        sa.Column('merged_by', sa.String(length=200), nullable=False),
        sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('unmerged_by', sa.String(length=200), nullable=True),
        sa.Column('unmerged_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('merge_id'),
    )
    op.create_index('ix_merges_surviving_person_id', 'merges', ['surviving_person_id'], unique=False)
    op.create_index('ix_merges_retired_person_id', 'merges', ['retired_person_id'], unique=False)

    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('resource', sa.String(length=40), nullable=False),
        sa.Column('resource_id', sa.String(length=130), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_resource_id', 'audit_log', ['resource_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    for table in ('audit_log', 'merges', 'reviews', 'decisions', 'non_links', 'link_clock'):
        op.drop_table(table)
    with op.batch_alter_table('source_records', schema=None) as batch_op:
        for index in ('village_code', 'feature_seq', 'feature_version'):
            batch_op.drop_index(batch_op.f(f'ix_source_records_{index}'))
        for name in ('link_verified', 'feature_seq', 'feature_version', 'birth_date_precision', 'sex',
                     'mother_name', 'kk_number', 'nik', 'birth_date', 'full_name'):
            batch_op.drop_column(name)
        batch_op.add_column(sa.Column('exact_key', sa.String(length=400), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_source_records_exact_key'), ['exact_key'], unique=False)
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('retired_into')
