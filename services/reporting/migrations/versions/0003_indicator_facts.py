"""indicator facts: child events, person merges, referral events and provider events, one row per event

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('child_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('child_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('village_code', sa.String(length=13), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('classification', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=True),
    sa.Column('previous_status', sa.String(length=30), nullable=True),
    sa.Column('closure_reason', sa.String(length=30), nullable=True),
    sa.Column('child_working', sa.Boolean(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stamp', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_child_events_child_id', 'child_events', ['child_id'], unique=False)
    op.create_table('person_merges',
    sa.Column('merge_id', sa.String(length=64), nullable=False),
    sa.Column('retired_person_id', sa.String(length=64), nullable=False),
    sa.Column('surviving_person_id', sa.String(length=64), nullable=False),
    sa.Column('undone', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('merge_id')
    )
    op.create_table('referral_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('referral_id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('child_id', sa.String(length=64), nullable=True),
    sa.Column('district', sa.String(length=5), nullable=True),
    sa.Column('service_types', sa.String(length=2000), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_referral_events_referral_id', 'referral_events', ['referral_id'], unique=False)
    op.create_table('provider_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('districts', sa.String(length=2000), nullable=False),
    sa.Column('recommendation', sa.String(length=30), nullable=True),
    sa.Column('agreement_id', sa.String(length=64), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('provider_events')
    op.drop_index('ix_referral_events_referral_id', table_name='referral_events')
    op.drop_table('referral_events')
    op.drop_table('person_merges')
    op.drop_index('ix_child_events_child_id', table_name='child_events')
    op.drop_table('child_events')
