"""Identity's tables: persons, the source records linked to them, reviewers' decisions, reviews, merges, audit.

Source records keep the identifying details they were matched on (names, NIK, KK and birth date encrypted at rest),
so the matching index can be rebuilt from this database alone.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    false,
)

from simpul_platform.audit import audit_table
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.field_encryption import EncryptedString

metadata = MetaData()
delivery = delivery_tables(metadata)

persons = Table(
    "persons",
    metadata,
    Column("person_id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Set when a merge retired this id into another person; cleared when the merge is undone.
    Column("retired_into", String(40)),
)

source_records = Table(
    "source_records",
    metadata,
    Column("source_system", String(64), nullable=False),
    Column("source_record_id", String(64), nullable=False),
    Column("person_id", String(40), nullable=False, index=True),
    Column("nik_digest", String(64), index=True),
    Column("village_code", String(13), nullable=False, index=True),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    Column("full_name", EncryptedString("source_records.full_name", row_bound=True)),
    Column("sex", String(10)),
    Column("birth_date", EncryptedString("source_records.birth_date", row_bound=True)),
    Column("birth_date_precision", String(10)),
    Column("nik", EncryptedString("source_records.nik", row_bound=True)),
    Column("kk_number", EncryptedString("source_records.kk_number", row_bound=True)),
    Column("mother_name", EncryptedString("source_records.mother_name", row_bound=True)),
    # The version of the details the matching index holds (a fresh token whenever they change), and the link
    # clock value of the transaction that wrote them: indexes catch up on `feature_seq > last seen`.
    Column("feature_version", String(32), index=True),
    Column("feature_seq", BigInteger, index=True),
    # When the source recorded the details held: details recorded earlier (a replay) never overwrite them.
    Column("details_recorded_at", DateTime(timezone=True)),
    # When the source erased the child's data: the row then keeps its person and nothing identifying.
    Column("erased_at", DateTime(timezone=True)),
    # A reviewer's decision put this record where it is: automatic matching never moves it again.
    Column("link_verified", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("source_system", "source_record_id"),
)

# One row, updated by every transaction that links records: the update's row lock serialises linking across
# replicas, and its value orders the details written (see `IndexedMatcher`).
link_clock = Table(
    "link_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)

# Pairs of source records a reviewer decided are two different children (a < b, as `system:id`).
non_links = Table(
    "non_links",
    metadata,
    Column("record_a", String(130), nullable=False),
    Column("record_b", String(130), nullable=False, index=True),
    Column("decision_id", Integer, nullable=False),
    PrimaryKeyConstraint("record_a", "record_b"),
)

# Every human decision: verified link, verified non-link, merge, unmerge; by whom, when and why.
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("record", String(130)),
    Column("person_id", String(40), nullable=False),
    Column("other_person_id", String(40)),
    Column("review_id", String(40), index=True),
    Column("decided_by", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500)),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(40), primary_key=True),
    Column("source_system", String(64), nullable=False),
    Column("source_record_id", String(64), nullable=False),
    Column("person_id", String(40), nullable=False),
    Column("village_code", String(13), nullable=False),
    Column("district_code", String(5), nullable=False, index=True),
    Column("status", String(12), nullable=False, index=True),
    # [{person_id, score, vetoed, decision, contributions: [{field, level, weight}]}]
    Column("candidates", JSON, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(200)),
)

merges = Table(
    "merges",
    metadata,
    Column("merge_id", String(40), primary_key=True),
    Column("surviving_person_id", String(40), nullable=False, index=True),
    Column("retired_person_id", String(40), nullable=False, index=True),
    Column("moved_records", JSON, nullable=False),  # ["system:id", ...] moved from retired to surviving
    Column("verified_by_merge", JSON, nullable=False),  # records the merge marked verified: unmerge clears them
    Column("merged_by", String(200), nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Column("unmerged_by", String(200)),
    Column("unmerged_at", DateTime(timezone=True)),
)

audit_log = audit_table(metadata)
