"""service records in their own table, out of the referral's document

Each service record becomes a row of `service_records` (keyed by the referral and its position in it), and the
referral's JSON document trades its `service_records` list for their number (`service_count`): a push inserts one row instead of rewriting every earlier
record with the referral. The records move in chunks of referrals; the downgrade puts them back into the documents.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:20:00.000000

"""
import datetime as dt
from typing import Any, Iterator, Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHUNK = 500
referrals = sa.table('referrals', sa.column('referral_id', sa.String), sa.column('document', sa.JSON))
records = sa.table(
    'service_records', sa.column('referral_id', sa.String), sa.column('position', sa.Integer),
    sa.column('record_id', sa.String), sa.column('service_type', sa.String), sa.column('delivered_on', sa.Date),
    sa.column('recorded_by', sa.String), sa.column('recorded_at', sa.DateTime(timezone=True)),
    sa.column('notes', sa.Text), sa.column('attendance', sa.String), sa.column('outcome', sa.String),
    sa.column('attachments', sa.JSON))


def upgrade() -> None:
    """Upgrade schema: create `service_records` and move every document's records into it."""
    op.create_table('service_records',
    sa.Column('referral_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('service_type', sa.String(length=64), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('attendance', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('referral_id', 'position')
    )
    connection = op.get_bind()
    for chunk in _documents(connection):
        rows = [_row(referral_id, position, record) for referral_id, document in chunk
                for position, record in enumerate(document.get('service_records', ()), start=1)]
        if rows:
            connection.execute(records.insert(), rows)
        _rewrite(connection, [(referral_id, {name: value for name, value in document.items()
                                             if name != 'service_records'}
                               | {'service_count': len(document.get('service_records', ()))})
                              for referral_id, document in chunk])


def downgrade() -> None:
    """Downgrade schema: put each referral's records back into its document, then drop the table."""
    connection = op.get_bind()
    for chunk in _documents(connection):
        ids = [referral_id for referral_id, _ in chunk]
        found: dict[str, list[dict[str, Any]]] = {referral_id: [] for referral_id in ids}
        query = (sa.select(records).where(records.c.referral_id.in_(ids))
                 .order_by(records.c.referral_id, records.c.position))
        for row in connection.execute(query):
            found[row.referral_id].append(_record(row))
        _rewrite(connection, [(referral_id, {name: value for name, value in document.items()
                                             if name != 'service_count'} | {'service_records': found[referral_id]})
                              for referral_id, document in chunk])
    op.drop_table('service_records')


def _documents(connection: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every referral's document, CHUNK referrals at a time, in id order."""
    after = ''
    while True:
        query = (sa.select(referrals.c.referral_id, referrals.c.document).where(referrals.c.referral_id > after)
                 .order_by(referrals.c.referral_id).limit(CHUNK))
        chunk = [(row.referral_id, row.document) for row in connection.execute(query)]
        if not chunk:
            return
        yield chunk
        after = chunk[-1][0]


def _rewrite(connection: Any, documents: list[tuple[str, dict[str, Any]]]) -> None:
    statement = (referrals.update().where(referrals.c.referral_id == sa.bindparam('id'))
                 .values(document=sa.bindparam('new_document', type_=sa.JSON)))
    connection.execute(statement, [{'id': referral_id, 'new_document': document}
                                   for referral_id, document in documents])


def _row(referral_id: str, position: int, record: dict[str, Any]) -> dict[str, Any]:
    # Records kept before they had ids, attendance and outcome have the defaults (attended, no outcome).
    return {'referral_id': referral_id, 'position': position, 'record_id': record.get('record_id', ''),
            'service_type': record['service_type'], 'delivered_on': dt.date.fromisoformat(record['delivered_on']),
            'recorded_by': record['recorded_by'],
            'recorded_at': dt.datetime.fromisoformat(record['recorded_at']).astimezone(dt.timezone.utc),
            'notes': record['notes'], 'attendance': record.get('attendance', 'attended'),
            'outcome': record.get('outcome'), 'attachments': record.get('attachments', [])}


def _record(row: Any) -> dict[str, Any]:
    recorded_at = row.recorded_at if row.recorded_at.tzinfo else row.recorded_at.replace(tzinfo=dt.timezone.utc)
    return {'service_type': row.service_type, 'delivered_on': row.delivered_on.isoformat(),
            'recorded_by': row.recorded_by, 'recorded_at': recorded_at.isoformat(), 'notes': row.notes,
            'record_id': row.record_id, 'attendance': row.attendance, 'outcome': row.outcome,
            'attachments': row.attachments}
