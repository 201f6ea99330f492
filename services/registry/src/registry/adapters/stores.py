"""Idempotency keys (their answers sealed) and survey import records in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.adapters.repository import SurveyImports
from registry.domain.survey import ImportReport, RowError, SurveyFile
from simpul_platform.field_encryption import Keyring, bound_keyring, row_key
from simpul_platform.idempotency import Answer, IdempotencyKey, SqlIdempotencyKeys, StoredKey

ANSWER_PURPOSE = "idempotency_keys.body"
"""What a sealed answer's token is bound to, with its row (subject and key)."""


class SealedIdempotencyKeys(SqlIdempotencyKeys):
    """The platform's keys (`simpul_platform.idempotency`) in `idempotency_keys`, each stored answer sealed.

    A registration's answer is the child's record, NIK and KK included, which the registry never stores in clear: the
    answer is encrypted under the service's keyring (the one its NIK column uses), bound to the key's row, so a token
    copied to another client's key fails to open. Tokens are not rewritten by `simpul keys rotate`: keep a retired
    key in the keyring for the Idempotency-Key window (24 h by default) after rotating.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, orm.idempotency_keys)

    async def claim(self, key: IdempotencyKey, now: dt.datetime) -> StoredKey | None:
        """The stored key with its answer opened (None when absent or expired)."""
        stored = await super().claim(key, now)
        if stored is None:
            return None
        body = self._keyring().decrypt(stored.answer.body.decode(), ANSWER_PURPOSE, _row(key))
        return replace(stored, answer=Answer(stored.answer.status, body.encode()))

    async def add(self, key: IdempotencyKey, answer: Answer, now: dt.datetime, expires_at: dt.datetime) -> None:
        """Store the key with its answer sealed."""
        token = self._keyring().encrypt(answer.body.decode(), ANSWER_PURPOSE, _row(key))
        await super().add(key, Answer(answer.status, token.encode()), now, expires_at)

    def _keyring(self) -> Keyring:
        return bound_keyring(self.session.get_bind().dialect)


def _row(key: IdempotencyKey) -> str:
    return row_key(key.subject, key.key)


class SqlSurveyImports(SurveyImports):
    """Import records in `survey_imports`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def start(self, report: ImportReport, subject: str, survey: SurveyFile) -> None:
        """Insert the import's row."""
        await self.session.execute(insert(orm.survey_imports).values(
            import_id=report.import_id, source_system=report.source_system, file_name=survey.name[:255],
            file_sha256=survey.sha256, imported_by=subject, started_at=dt.datetime.now(dt.UTC),
            counts=report.counts(), errors=[]))

    async def finish(self, report: ImportReport) -> None:
        """Store the counts and the errors, and when it finished."""
        s = orm.survey_imports.c
        await self.session.execute(update(orm.survey_imports).where(s.import_id == report.import_id).values(
            finished_at=dt.datetime.now(dt.UTC), counts=report.counts(),
            errors=[{"row": e.row, "column": e.column, "reason": e.reason} for e in report.errors]))

    async def finished(self, import_id: str, subject: str) -> ImportReport | None:
        """The report of a finished import by `subject`."""
        s = orm.survey_imports.c
        row = (await self.session.execute(select(orm.survey_imports).where(
            s.import_id == import_id, s.imported_by == subject, s.finished_at.is_not(None)))).first()
        if row is None:
            return None
        counts = row.counts
        return ImportReport(row.import_id, row.source_system, counts["rows"], counts["created"], counts["updated"],
                            counts["unchanged"], [RowError(**error) for error in row.errors])
