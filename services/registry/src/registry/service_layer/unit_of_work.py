"""The registry's unit of work: its repositories and the rules its handlers apply, over SQL or in memory."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.adapters.children_repository import SqlChildrenRepository
from registry.adapters.region_repository import SqlRegionRepository
from registry.adapters.repository import ChildAnswers, ChildrenRepository, RegionRepository, SurveyImports
from registry.adapters.stores import SealedIdempotencyKeys, SqlSurveyImports
from registry.domain.closure import ClosureRule
from simpul_platform.database import Database
from simpul_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


@dataclass(frozen=True)
class RegistryRules:
    """What the handlers need besides repositories: our source system, the NIK blind index key, the closure rule."""

    source_system: str
    blind_index_key: bytes
    closure_rule: ClosureRule = field(default_factory=ClosureRule)


class RegistryUnitOfWork(UnitOfWork, abc.ABC):
    """A registry business transaction: children (with cases and consent), regions, idempotency keys, imports."""

    rules: RegistryRules
    children: ChildrenRepository
    regions: RegionRepository
    idempotency_keys: ChildAnswers  # the platform's IdempotencyKeys, able to forget a child's answers
    imports: SurveyImports


UnitsOfWork = Callable[[], RegistryUnitOfWork]  # a fresh unit of work per call: what bulk handlers take


class SqlRegistryUnitOfWork(SqlUnitOfWork, RegistryUnitOfWork):
    """The registry's unit of work over its database."""

    def __init__(self, database: Database, rules: RegistryRules,
                 after_commit: Callable[[], None] = lambda: None) -> None:
        super().__init__(database, orm.delivery, orm.audit_log, after_commit)
        self.rules = rules

    def repositories(self, session: AsyncSession) -> None:
        """The SQL repositories over this transaction's session."""
        self.children = SqlChildrenRepository(session, self.rules.closure_rule)
        self.regions = SqlRegionRepository(session)
        self.idempotency_keys = SealedIdempotencyKeys(session)
        self.imports = SqlSurveyImports(session)
