"""How a consumer groups a batch for its handlers: order kept, batch handlers get runs of their own type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.consumer import _runs, in_batches
from simpul_platform.delivery import Delivery


def _linked(n: int) -> Delivery:
    event = RecordLinkedV1(source_system="s", source_record_id=str(n), person_id="p", reason=LinkReason.NEW_PERSON,
                           linked_at=dt.datetime.now(dt.UTC))
    return Delivery(record=None, envelope=event.envelope(), event=event)  # type: ignore[arg-type]


def _recorded(n: int) -> Delivery:
    event = ChildIdentityRecordedV1(child_id=str(n), source_system="s", source_record_id=str(n), full_name="A",
                                    sex="female", village_code="35.09.11.2007", recorded_at=dt.datetime.now(dt.UTC))
    return Delivery(record=None, envelope=event.envelope(), event=event)  # type: ignore[arg-type]


async def _apply_many(_session: Any, _run: Sequence[Delivery]) -> None: ...


async def _apply_one(_session: Any, _event: Any, _envelope: Any) -> None: ...


def test_batch_handlers_get_consecutive_runs_and_order_is_kept() -> None:
    batch = [_linked(1), _linked(2), _recorded(3), _linked(4), _recorded(5), _recorded(6)]
    handlers: dict[Any, Any] = {RecordLinkedV1: in_batches(_apply_many), ChildIdentityRecordedV1: _apply_one}
    runs = [[d.event.source_record_id for d in run] for run in _runs(batch, handlers)]  # type: ignore[attr-defined]
    assert runs == [["1", "2"], ["3"], ["4"], ["5"], ["6"]]


def test_per_event_handlers_get_one_event_at_a_time() -> None:
    batch = [_linked(1), _linked(2)]
    assert [len(run) for run in _runs(batch, {RecordLinkedV1: _apply_one})] == [1, 1]
