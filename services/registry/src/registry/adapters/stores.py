"""Idempotency keys and survey import records in SQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.adapters.repository import IdempotencyKeys, SurveyImports
from registry.domain.survey import ImportReport, RowError, SurveyFile


class SqlIdempotencyKeys(IdempotencyKeys):
    """Keys in `idempotency_keys`; the primary key (subject, key) makes a racing second insert fail."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, subject: str, key: str) -> tuple[str, str] | None:
        """The request's fingerprint and what it created, or None."""
        k = orm.idempotency_keys.c
        row = (await self.session.execute(select(k.fingerprint, k.resource_id).where(
            k.subject == subject, k.key == key))).first()
        return (row.fingerprint, str(row.resource_id)) if row else None

    async def add(self, subject: str, key: str, fingerprint: str, resource_id: str) -> None:
        """Keep the key in this transaction."""
        await self.session.execute(insert(orm.idempotency_keys).values(
            subject=subject, key=key, fingerprint=fingerprint, resource_id=resource_id,
            created_at=dt.datetime.now(dt.UTC)))


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
