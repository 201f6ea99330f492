"""referrals, their history and services, consent decisions; the audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('resource', sa.String(length=40), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_resource_id'), ['resource_id'], unique=False)

    op.create_table('referrals',
    sa.Column('referral_id', sa.String(length=64), nullable=False),
    sa.Column('child_id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('district', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('queue_reason', sa.String(length=20), nullable=True),
    sa.Column('previous_referral_id', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('referral_id')
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_district_status', ['district', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_previous_referral_id'), ['previous_referral_id'],
                              unique=False)

    op.create_table('referral_consents',
    sa.Column('child_id', sa.String(length=40), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('child_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('referral_consents')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_previous_referral_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_provider_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_person_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_child_id'))
        batch_op.drop_index('ix_referrals_district_status')
    op.drop_table('referrals')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_resource_id'))
    op.drop_table('audit_log')
