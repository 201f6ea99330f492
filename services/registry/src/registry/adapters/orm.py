"""The registry's tables and the mapping of domain objects onto them."""

from __future__ import annotations

import enum

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import registry as orm_registry

from registry.domain.model import Child, DatePrecision, Sex
from simpul_platform.delivery_tables import delivery_tables

metadata = MetaData()


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_class]


mapper = orm_registry(metadata=metadata)
delivery = delivery_tables(metadata)

children = Table(
    "children",
    metadata,
    Column("child_id", String(40), primary_key=True),
    Column("full_name", String(200), nullable=False),
    Column("sex", Enum(Sex, native_enum=False, length=10, values_callable=_values), nullable=False),
    Column("birth_date", Date),
    Column("birth_date_precision", Enum(DatePrecision, native_enum=False, length=10, values_callable=_values)),
    Column("mother_name", String(200)),
    Column("village_code", String(13), nullable=False, index=True),
    Column("source_system", String(64), nullable=False),
    Column("source_record_id", String(64), nullable=False),
    Column("person_id", String(40), index=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_system", "source_record_id", name="uq_children_source_record"),
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

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("action", String(40), nullable=False),
    Column("resource", String(40), nullable=False),
    Column("resource_id", String(64), nullable=False, index=True),
    Column("reason", String(500)),
)


def start_mappers() -> None:
    """Map domain classes to tables once per process."""
    if not mapper.mappers:
        mapper.map_imperatively(Child, children)
