"""Registry HTTP routes: bulk import of a survey for district systems (the HTTP twin of `simpul registry import`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from registry.domain.survey import ImportReport, ImportSurvey, ReadImport, SurveyFile
from registry.entrypoints.http import edge
from registry.entrypoints.http.edge import FieldStaff
from registry.entrypoints.survey import (
    XLSX_MEDIA_TYPE,
    UnusableSurvey,
    check_row,
    file_digest,
    read_survey,
    template_csv,
    template_xlsx,
)
from registry.service_layer.handlers import survey
from simpul_platform.problems import Problem

MAX_BYTES = 20 * 1024 * 1024
CSV_MEDIA_TYPE = "text/csv"
SourceSystem = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                                           description="Whose record ids source_record_id holds")]

router = APIRouter(prefix="/imports/children", tags=["imports"])


class RowErrorRead(BaseModel):
    """Why a row was refused: its row number as the spreadsheet shows it (the header is row 1) and the column."""

    row: int
    column: str
    reason: str


class ImportReportRead(BaseModel):
    """What an import did, and the rows to fix."""

    import_id: str
    source_system: str
    rows: int
    created: int
    updated: int = Field(description="Rows registered before from the same source record id, with changes")
    unchanged: int = Field(description="Rows registered before from the same source record id, identical")
    rejected: int
    errors: list[RowErrorRead]


@router.post("", response_model=ImportReportRead, summary="Import a survey (CSV or XLSX body)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 CSV_MEDIA_TYPE: {"schema": {"type": "string", "minLength": 1}},
                 XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary", "minLength": 1}}}}})
async def import_children(request: Request, principal: FieldStaff, response: Response, *,
                          content_type: Annotated[str, Header()] = "",
                          source_system: SourceSystem = None) -> ImportReportRead:
    """Register every good row, refuse bad rows with their row, column and reason; re-importing never duplicates.

    Rows outside the caller's villages or districts are refused. The layout is the one of
    `GET /imports/children/template.csv`, documented in docs/registry-import.md.
    """
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in {CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE}:
        raise Problem(415, "Unsupported media type", f"Content-Type: send {CSV_MEDIA_TYPE} or {XLSX_MEDIA_TYPE}",
                      [{"field": "Content-Type", "reason": "must be text/csv or the .xlsx media type"}])
    content = await _body(request)
    name = "upload.xlsx" if media_type == XLSX_MEDIA_TYPE else "upload.csv"
    today = dt.datetime.now(dt.UTC).date()
    try:
        rows = list(read_survey(name, content))
    except UnusableSurvey as error:
        raise Problem(422, "Unusable survey", f"file: {error}; nothing imported",
                      [{"field": "file", "reason": str(error)}]) from None
    checked = (check_row(number, values, today=today) for number, values in rows)
    command = ImportSurvey(principal, checked, SurveyFile(name, file_digest(content)), source_system)
    report = await survey.import_survey(command, edge.units_of_work(request))
    response.headers["Location"] = f"/imports/children/{report.import_id}"
    return _view(report)


@router.get("/template.csv", summary="The survey template (CSV)", response_class=Response,
            responses={200: {"content": {CSV_MEDIA_TYPE: {}}}})
async def template_as_csv() -> Response:
    """The column layout with one example row."""
    return Response(template_csv(), media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="survey-template.csv"'})


@router.get("/template.xlsx", summary="The survey template (XLSX)", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
async def template_as_xlsx() -> Response:
    """The column layout with one example row, text cells for NIK and KK, and a sheet explaining each column."""
    return Response(template_xlsx(), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="survey-template.xlsx"'})


@router.get("/{import_id}", response_model=ImportReportRead, summary="An import's report (yours only)")
async def read_import(import_id: str, principal: FieldStaff, request: Request) -> ImportReportRead:
    """The report of an import you ran; 404 for anybody else's."""
    return _view(await edge.run(request, survey.read_import, ReadImport(principal, import_id)))


@router.get("/{import_id}/errors.csv", summary="An import's rejected rows as CSV (yours only)",
            response_class=Response, responses={200: {"content": {CSV_MEDIA_TYPE: {}}}})
async def import_errors(import_id: str, principal: FieldStaff, request: Request) -> Response:
    """row,column,reason for every refused row: the list a cadre fixes the survey from."""
    report = await edge.run(request, survey.read_import, ReadImport(principal, import_id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "column", "reason"])
    writer.writerows((error.row, error.column, error.reason) for error in report.errors)
    return Response(out.getvalue(), media_type=CSV_MEDIA_TYPE)


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise Problem(413, "Survey too large", f"file: more than {MAX_BYTES // 2**20} MiB; split the survey",
                          [{"field": "file", "reason": f"is larger than {MAX_BYTES // 2**20} MiB"}])
        chunks.append(chunk)
    if not size:
        raise Problem(422, "Unusable survey", "file: the body is empty", [{"field": "file", "reason": "is empty"}])
    return b"".join(chunks)


def _view(report: ImportReport) -> ImportReportRead:
    return ImportReportRead(**report.counts(), import_id=report.import_id, source_system=report.source_system,
                            errors=[RowErrorRead(row=e.row, column=e.column, reason=e.reason) for e in report.errors])
