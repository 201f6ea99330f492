"""How a consumer groups a batch for its handlers: consecutive events of one type together, order kept."""

from __future__ import annotations

import datetime as dt

from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.consumer import _runs
from simpul_platform.delivery import Delivery


def _linked(n: int) -> Delivery:
    event = RecordLinkedV1(source_system="s", source_record_id=str(n), person_id="p", reason=LinkReason.NEW_PERSON,
                           linked_at=dt.datetime.now(dt.UTC))
    return Delivery(record=None, envelope=event.envelope(), event=event)  # type: ignore[arg-type]


def _recorded(n: int) -> Delivery:
    event = ChildIdentityRecordedV1(child_id=str(n), source_system="s", source_record_id=str(n), full_name="A",
                                    sex="female", village_code="35.09.11.2007", recorded_at=dt.datetime.now(dt.UTC))
    return Delivery(record=None, envelope=event.envelope(), event=event)  # type: ignore[arg-type]


def test_consecutive_events_of_one_type_form_a_run_and_order_is_kept() -> None:
    batch = [_linked(1), _linked(2), _recorded(3), _linked(4), _recorded(5), _recorded(6)]
    runs = [[d.event.source_record_id for d in run] for run in _runs(batch)]  # type: ignore[attr-defined]
    assert runs == [["1", "2"], ["3"], ["4"], ["5", "6"]]


def test_types_that_go_to_one_handler_form_one_run_and_order_is_kept() -> None:
    async def both(uow: object, run: object) -> None: ...

    async def other(uow: object, run: object) -> None: ...

    batch = [_linked(1), _recorded(2), _linked(3), _recorded(4)]
    one = [[d.event.source_record_id for d in run]  # type: ignore[attr-defined]
           for run in _runs(batch, {RecordLinkedV1: both, ChildIdentityRecordedV1: both})]
    apart = [len(run) for run in _runs(batch, {RecordLinkedV1: both, ChildIdentityRecordedV1: other})]
    assert (one, apart) == ([["1", "2", "3", "4"]], [1, 1, 1, 1])


def test_no_deliveries_no_runs() -> None:
    assert list(_runs([])) == []
