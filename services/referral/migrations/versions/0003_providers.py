"""provider directory: providers, vettings, agreements, the service-type code list

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 15:40:00.000000

"""
import datetime as dt
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from referral.domain.service_types import pilot_list


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema; the pilot service-type list is version 1 of the code list."""
    op.create_table('providers',
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('provider_type', sa.String(length=40), nullable=False),
    sa.Column('contacts', sa.JSON(), nullable=False),
    sa.Column('catalogue', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scored', sa.JSON(), nullable=True),
    sa.Column('rescore_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id')
    )
    op.create_index('ix_providers_rescore_on', 'providers', ['rescore_on'], unique=False)
    op.create_table('provider_districts',
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('district', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.provider_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'district')
    )
    op.create_index('ix_provider_districts_district', 'provider_districts', ['district'], unique=False)
    op.create_table('provider_vettings',
    sa.Column('vetting_id', sa.String(length=40), nullable=False),
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('track_record', sa.Integer(), nullable=False),
    sa.Column('vision_and_mission', sa.Integer(), nullable=False),
    sa.Column('child_orientation', sa.Integer(), nullable=False),
    sa.Column('years_with_children', sa.String(length=16), nullable=False),
    sa.Column('vetted_by', sa.String(length=200), nullable=False),
    sa.Column('vetted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.provider_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('vetting_id')
    )
    op.create_index(op.f('ix_provider_vettings_provider_id'), 'provider_vettings', ['provider_id'], unique=False)
    op.create_table('provider_agreements',
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('agreement_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('document_reference', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('service_types', sa.JSON(), nullable=False),
    sa.Column('districts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.provider_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'agreement_id')
    )
    service_types = op.create_table('service_types',
    sa.Column('code', sa.String(length=70), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    versions = op.create_table('service_type_versions',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    pilot = pilot_list()
    op.bulk_insert(service_types, [{"code": e.code, "name": e.name, "version": e.version, "retired": e.retired}
                                   for e in pilot.entries.values()])
    op.bulk_insert(versions, [{"version": pilot.version, "imported_by": "migration:0003",
                               "imported_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                               "changes": {"created": sorted(pilot.entries), "renamed": [], "retired": [],
                                           "unretired": []}}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('service_type_versions')
    op.drop_table('service_types')
    op.drop_table('provider_agreements')
    op.drop_index(op.f('ix_provider_vettings_provider_id'), table_name='provider_vettings')
    op.drop_table('provider_vettings')
    op.drop_index('ix_provider_districts_district', table_name='provider_districts')
    op.drop_table('provider_districts')
    op.drop_index('ix_providers_rescore_on', table_name='providers')
    op.drop_table('providers')
