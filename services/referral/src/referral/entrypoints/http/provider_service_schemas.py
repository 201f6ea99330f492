"""The provider API's service-record bodies and views (HTTP schemas: neither domain objects nor wire contracts)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from referral.domain.commands.service_records import BATCH_MAX, ServiceRecordIn
from referral.domain.lifecycle import ServiceRecord
from referral.domain.service_records import ATTACHMENTS_MAX, URL_MAX_LENGTH, Attendance, Outcome
from referral.entrypoints.http.referral_schemas import Body, LongId, Note, ServiceType
from referral.service_layer.handlers.service_records import Pushed
from simpul_platform.problems import domain_problem, problem_type

# White space by Python's regular expressions and JSON Schema's alike is refused.
HttpsUrl = Annotated[str, StringConstraints(min_length=9, max_length=URL_MAX_LENGTH,
                                            pattern=r"^https://[^\s\x1c-\x1f\x85]+$"),
                     Field(examples=["https://files.lpa-jember.example/records/2026/03/att-1.pdf"])]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"),
                   Field(description="The file's SHA-256, 64 lowercase hexadecimal digits")]


class AttachmentIn(Body):
    """A file the provider keeps, by reference (never the file itself)."""

    url: HttpsUrl
    sha256: Sha256


class ServiceRecordPush(Body):
    """A service delivered under the referral."""

    service_type: ServiceType = Field(description="One of the services the referral asked for.")
    delivered_on: dt.date = Field(description="The day it was delivered: not in the future, not before the "
                                              "referral was issued.")
    attendance: Attendance = Field(default=Attendance.ATTENDED, description="Whether the child attended: "
                                   "attended, did_not_attend, rescheduled.")
    outcome: Outcome | None = Field(default=None, description="Where the service stands (only when attended): "
                                    "in_progress, achieved, partially_achieved, not_achieved, referred_on.")
    notes: Note = Field(default="", description="Free text for the district (never published on a topic).")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=ATTACHMENTS_MAX)

    def command_record(self, referral_id: str, record_id: str) -> ServiceRecordIn:
        """The command's record."""
        return ServiceRecordIn(referral_id, record_id, self.service_type, self.delivered_on, self.attendance,
                               self.outcome, self.notes, tuple((a.url, a.sha256) for a in self.attachments))


class BatchRecordPush(ServiceRecordPush):
    """A service record of a batch: the same fields, and the referral it belongs to."""

    referral_id: LongId


class BatchPush(Body):
    """Up to 500 service records, each taken or refused alone."""

    records: list[BatchRecordPush] = Field(min_length=1, max_length=BATCH_MAX)


class AttachmentRead(BaseModel):
    """An attachment by reference."""

    url: str
    sha256: str


class ServiceRecordRead(BaseModel):
    """A recorded service."""

    record_id: str
    referral_id: str
    service_type: str
    delivered_on: dt.date
    attendance: Attendance
    outcome: Outcome | None
    notes: str
    attachments: list[AttachmentRead]
    recorded_by: str
    recorded_at: dt.datetime


class RecordResult(BaseModel):
    """What became of one record of a batch: 201 and its id, or the refusal as problem details."""

    index: int = Field(description="The record's position in the batch, from 0.")
    status: int = Field(description="201 recorded; else the status a single push would have had.")
    referral_id: str
    record_id: str | None = None
    problem: dict[str, Any] | None = Field(default=None, description="RFC 9457 problem details of a refusal.")


class BatchRead(BaseModel):
    """One result per record, in the batch's order."""

    recorded: int
    refused: int
    results: list[RecordResult]


def record_view(referral_id: str, record: ServiceRecord) -> ServiceRecordRead:
    """The record as the API shows it."""
    return ServiceRecordRead(
        record_id=record.record_id, referral_id=referral_id, service_type=record.service_type,
        delivered_on=record.delivered_on, attendance=record.attendance, outcome=record.outcome, notes=record.notes,
        attachments=[AttachmentRead(url=a.url, sha256=a.sha256) for a in record.attachments],
        recorded_by=record.recorded_by, recorded_at=record.recorded_at)


def batch_view(results: list[Pushed]) -> BatchRead:
    """The batch's results."""
    views = [_result(pushed) for pushed in results]
    recorded = sum(1 for view in views if view.status == 201)
    return BatchRead(recorded=recorded, refused=len(views) - recorded, results=views)


def _result(pushed: Pushed) -> RecordResult:
    if pushed.record is not None:
        return RecordResult(index=pushed.index, status=201, referral_id=pushed.referral_id,
                            record_id=pushed.record.record_id)
    assert pushed.refusal is not None
    problem = domain_problem(pushed.refusal)
    return RecordResult(index=pushed.index, status=problem.status, referral_id=pushed.referral_id, problem={
        "type": problem_type(problem.title), "title": problem.title, "status": problem.status,
        "detail": problem.detail, "errors": problem.errors})
