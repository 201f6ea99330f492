"""How long sent outbox rows stay: briefly on restricted topics (names, NIK travel there), longer elsewhere.

A row's deadline (`purge_after`) is fixed when it is marked sent, from the data class of its topic as the
contract event models declare it; the relay deletes rows past their deadline in bounded batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Delete, Table, delete, select

from simpul_contracts import DataClass, event_types


def kept_longer(topic: str) -> bool:
    """Whether some contract event on `topic` says its data is not restricted.

    A topic no event model names is treated as restricted: a row whose data class is unknown goes soon.
    """
    return any(model.topic == topic and model.data_class is not DataClass.RESTRICTED
               for model in event_types().values())


@dataclass
class Retention:
    """The two retention periods, and each topic's class (looked up once per topic)."""

    kept: timedelta
    restricted: timedelta
    _longer: dict[str, bool] = field(default_factory=dict)

    def period(self, topic: str) -> timedelta:
        """How long a sent row of `topic` is kept."""
        if topic not in self._longer:
            self._longer[topic] = kept_longer(topic)
        return self.kept if self._longer[topic] else self.restricted

    def deadlines(self, rows: Iterable[tuple[int, str]], sent_at: datetime) -> dict[datetime, list[int]]:
        """The `seq`s of (seq, topic) rows sent at `sent_at`, by their purge deadline (one per retention period)."""
        by_deadline: dict[datetime, list[int]] = defaultdict(list)
        deadline_of: dict[str, list[int]] = {}  # a batch holds a few topics: one period look-up and sum each
        for seq, topic in rows:
            seqs = deadline_of.get(topic)
            if seqs is None:
                seqs = deadline_of[topic] = by_deadline[sent_at + self.period(topic)]
            seqs.append(seq)
        return by_deadline


def purge_due(table: Table, now: datetime, limit: int) -> Delete:
    """Delete at most `limit` sent rows whose retention ended by `now`, oldest deadline first."""
    due = select(table.c.seq).where(table.c.purge_after <= now).order_by(table.c.purge_after).limit(limit)
    return delete(table).where(table.c.seq.in_(due.scalar_subquery()))
