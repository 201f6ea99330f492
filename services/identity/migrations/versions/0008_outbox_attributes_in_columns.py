"""the outbox keeps the CloudEvents source and dataschema in columns instead of a JSON document of headers

The relay writes the headers from the row's columns; the document, parsed by PostgreSQL and read back for every
event, was most of the row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 05:30:00.000000

"""
from typing import Sequence, Union

from simpul_platform.migrations import outbox_attributes_in_columns, outbox_headers_document


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    outbox_attributes_in_columns()


def downgrade() -> None:
    """Downgrade schema."""
    outbox_headers_document()
