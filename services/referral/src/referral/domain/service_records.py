"""What a service record says besides its service type and day: attendance, outcome, notes, attachments.

Code lists (the wire mirrors them; add members, never rename or reuse a value):
- attendance, whether the child (or household) came to the session:
  `attended`, `did_not_attend`, `rescheduled` (moved to another day by the provider or the family).
- outcome, where the service stands after this session, given only when the child attended:
  `in_progress` (the service continues), `achieved` (its aim is met: re-enrolled in school, the birth certificate
  issued, enrolled in PKH/KIP, ...), `partially_achieved`, `not_achieved` (the service ended without its aim),
  `referred_on` (the child needs another provider's service: the district refers again).
Attachments are references only (an https URL and the file's sha256), never the file: the provider keeps it.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from referral.domain.errors import require

NOTES_MAX_LENGTH = 2000
ATTACHMENTS_MAX = 10
URL_MAX_LENGTH = 2000
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LATEST_OFFSET = dt.timedelta(hours=9)
"""Eastern Indonesia (WIT, UTC+9): the latest local date in the country, so a same-day record is never 'future'."""


class Attendance(enum.StrEnum):
    """Whether the child came to the session."""

    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"
    RESCHEDULED = "rescheduled"


class Outcome(enum.StrEnum):
    """Where the service stands after the session (only when the child attended)."""

    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    PARTIALLY_ACHIEVED = "partially_achieved"
    NOT_ACHIEVED = "not_achieved"
    REFERRED_ON = "referred_on"


@dataclass(frozen=True)
class Attachment:
    """A file the provider keeps, by reference: where it is (https) and its sha256 (lowercase hex)."""

    url: str
    sha256: str

    def __post_init__(self) -> None:
        require(self.url.startswith("https://") and len(self.url) > len("https://"), "attachments.url",
                "an attachment is an https URL")
        require(len(self.url) <= URL_MAX_LENGTH, "attachments.url", f"at most {URL_MAX_LENGTH} characters")
        require(bool(SHA256.match(self.sha256)), "attachments.sha256", "64 lowercase hexadecimal digits")


def check_details(attendance: Attendance, outcome: Outcome | None, notes: str,
                  attachments: tuple[Attachment, ...]) -> None:
    """The rules of a record's details: an outcome only when attended, bounded notes and attachments."""
    require(outcome is None or attendance is Attendance.ATTENDED, "outcome",
            "an outcome is recorded only when the child attended")
    require(len(notes) <= NOTES_MAX_LENGTH, "notes", f"at most {NOTES_MAX_LENGTH} characters")
    require(len(attachments) <= ATTACHMENTS_MAX, "attachments", f"at most {ATTACHMENTS_MAX} attachments")
    require(len({a.sha256 for a in attachments}) == len(attachments), "attachments", "an attachment is listed twice")


def check_delivered_on(delivered_on: dt.date, issued_at: dt.datetime, recorded_at: dt.datetime) -> None:
    """A service is delivered neither in the future nor before the referral was issued. Both bounds are lenient
    by the time zones: not after the recording's date in eastern Indonesia (UTC+9), not before the issue's UTC date
    (every Indonesian date of the issue is that or the next), so a same-day record is taken in any zone."""
    require(delivered_on <= (recorded_at + LATEST_OFFSET).date(), "delivered_on", "a service is not delivered in "
            "the future")
    require(delivered_on >= issued_at.astimezone(dt.UTC).date(), "delivered_on", "a service is not delivered "
            "before the referral was issued")
