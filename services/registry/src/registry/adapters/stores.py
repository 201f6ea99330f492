"""Idempotency keys (their answers sealed) and survey import records in SQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.adapters.repository import ChildAnswers, SurveyImports
from registry.domain.survey import ImportReport, RowError, SurveyFile
from simpul_platform.field_encryption import row_key
from simpul_platform.idempotency import ANSWER_PURPOSE, SqlIdempotencyKeys


class SealedIdempotencyKeys(SqlIdempotencyKeys, ChildAnswers):
    """The platform's keys (`simpul_platform.idempotency`) in `idempotency_keys`, each stored answer sealed.

    A registration's answer is the child's record, NIK and KK included, which the registry never stores in clear: the
    platform seals every answer under the service's keyring (the one its NIK column uses), bound to the key's row, so
    a token copied to another client's key fails to open; `simpul keys rotate` rewrites the answers too.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, orm.idempotency_keys)

    async def forget_answers_naming(self, child_id: str) -> int:
        """Open every stored answer (they are few: keys expire within hours) and delete those holding the child."""
        t, keyring = orm.idempotency_keys.c, self._keyring()
        rows = (await self.session.execute(select(t.subject, t.key, t.body))).all()
        naming = [(row.subject, row.key) for row in rows if child_id in keyring.decrypt(
            bytes(row.body).decode(), ANSWER_PURPOSE, row_key(row.subject, row.key))]
        if naming:
            await self.session.execute(delete(orm.idempotency_keys).where(tuple_(t.subject, t.key).in_(naming)))
        return len(naming)


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
