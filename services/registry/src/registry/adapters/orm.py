"""The registry's tables; adapters map domain objects onto them explicitly."""

from __future__ import annotations

import enum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from registry.domain.model import DatePrecision, Sex
from simpul_platform.audit import audit_table
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.field_encryption import EncryptedString
from simpul_platform.idempotency import idempotency_table

metadata = MetaData()


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_class]


delivery = delivery_tables(metadata)

children = Table(
    "children",
    metadata,
    Column("child_id", String(40), primary_key=True),
    Column("full_name", String(200), nullable=False),
    Column("aliases", JSON, nullable=False, default=list),
    # The full name and aliases, lower case, joined by " | ": what a search by name looks in.
    Column("name_search", String(2400), nullable=False, default=""),
    Column("sex", Enum(Sex, native_enum=False, length=10, values_callable=_values), nullable=False),
    Column("birth_date", Date),
    Column("birth_date_precision", Enum(DatePrecision, native_enum=False, length=10, values_callable=_values)),
    Column("birth_date_estimated", Boolean, nullable=False, default=False),
    Column("mother_name", String(200)),
    Column("nik", EncryptedString("children.nik", row_bound=True)),
    # HMAC of the NIK: the only way to find a child by NIK, since each ciphertext has its own nonce.
    Column("nik_index", String(64), index=True),
    Column("kk_number", EncryptedString("children.kk_number", row_bound=True)),
    Column("identity_warnings", JSON, nullable=False, default=list),
    Column("guardians", JSON, nullable=False, default=list),
    Column("school", JSON),
    Column("work", JSON),
    Column("village_code", String(13), nullable=False, index=True),
    Column("source_system", String(64), nullable=False),
    Column("source_record_id", String(64), nullable=False),
    # Digest of the survey row a bulk import registered the child from: an identical re-import changes nothing.
    Column("source_digest", String(64)),
    Column("person_id", String(40), index=True),
    # When identity made the link held: a link made earlier (a replayed dead letter) never replaces it.
    Column("person_linked_at", DateTime(timezone=True)),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, default=1),
    # When the child's identifying data was erased (`domain.erasure`): the row then holds none and takes no change.
    Column("erased_at", DateTime(timezone=True)),
    UniqueConstraint("source_system", "source_record_id", name="uq_children_source_record"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(40), primary_key=True),
    Column("child_id", String(40), ForeignKey("children.child_id", name="fk_cases_child_id"), nullable=False,
           unique=True),
    # The current status and classification again, so searches filter without replaying the history.
    Column("status", String(32), nullable=False, index=True),
    Column("classification", String(32), nullable=False),
)

case_status_changes = Table(
    "case_status_changes",
    metadata,
    Column("case_id", String(40), ForeignKey("cases.case_id", name="fk_case_status_changes_case_id"),
           primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("status", String(32), nullable=False),
    Column("previous", String(32)),
    Column("closure_reason", String(32)),
    Column("by", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(1000), nullable=False),
)

case_classification_changes = Table(
    "case_classification_changes",
    metadata,
    Column("case_id", String(40), ForeignKey("cases.case_id", name="fk_case_classification_changes_case_id"),
           primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("classification", String(32), nullable=False),
    Column("previous", String(32)),
    Column("by", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(1000), nullable=False),
)

monitoring_visits = Table(
    "monitoring_visits",
    metadata,
    Column("visit_id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("cases.case_id", name="fk_monitoring_visits_case_id"),
           nullable=False, index=True),
    Column("visited_on", Date, nullable=False),
    Column("visitor", String(200), nullable=False),
    Column("child_working", Boolean, nullable=False),
    Column("school_status", String(32), nullable=False),
    Column("school_grade", Integer),
    Column("attends_school_regularly", Boolean),
    Column("sectors", JSON, nullable=False, default=list),
    Column("hazards", JSON, nullable=False, default=list),
    Column("work_activities", String(1000), nullable=False, default=""),
    Column("hours_per_week", Integer),
    Column("notes", String(2000), nullable=False, default=""),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

consent_records = Table(
    "consent_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("child_id", String(40), ForeignKey("children.child_id", name="fk_consent_records_child_id"),
           nullable=False, index=True),
    Column("purpose", String(32), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Client-supplied Idempotency-Keys of creates, in the platform's shape (`simpul_platform.idempotency`): the request's
# fingerprint and the first answer, replayed to a retry until the key expires. The answer can hold a child's NIK, so
# the registry stores it sealed, bound to its row (`adapters.stores.SealedIdempotencyKeys`).
idempotency_keys = idempotency_table(metadata)

# One bulk import of a survey: who ran it, what it did, and the per-row errors (row, column, reason; no values).
survey_imports = Table(
    "survey_imports",
    metadata,
    Column("import_id", String(40), primary_key=True),
    Column("source_system", String(64), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("imported_by", String(200), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", JSON, nullable=False, default=dict),
    Column("errors", JSON, nullable=False, default=list),
)

regions = Table(
    "regions",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(12), nullable=False),
    Column("parent_code", String(10), index=True),
    Column("aliases", JSON, nullable=False, default=list),
    Column("version", Integer, nullable=False, default=1),
    Column("retired_at", DateTime(timezone=True)),
)

# Every name a region has had while current: `regions` holds the latest version, this table all of them.
# A rename or a return from retirement closes the open version (valid_to) and opens the next; retiring closes it.
region_versions = Table(
    "region_versions",
    metadata,
    Column("code", String(13), ForeignKey("regions.code", name="fk_region_versions_code"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True)),
    Index("uq_region_versions_open", "code", unique=True,
          postgresql_where=text("valid_to IS NULL"), sqlite_where=text("valid_to IS NULL")),
)

audit_log = audit_table(metadata, resource_id_length=64)
