"""A batch that fails is halved to find its poison events: about 2*log2(n) transactions for one poison event in n,
not n. The poison event is dead-lettered alone after its attempts, every other event is applied once and in order,
and an outage anywhere re-raises, the redelivered batch skipping the halves already committed.

Before: one poison event in a batch of 2,000 cost 2,003 transactions (the batch, then one per event).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import pytest

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform import consumer as consumer_module
from simpul_platform.consumer import EventConsumer, Record
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import InMemoryUnitOfWork

BATCH = 2000  # reporting's REPORTING_CONSUMER_BATCH_SIZE
MAX_ATTEMPTS = 3


class Ledger(InMemoryUnitOfWork):
    """One fake unit of work behind every transaction of the consumer: counts them and keeps, in commit order, the
    records applied; `handled` is every record a handler was given, committed or not."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions = 0
        self.applied_records: list[str] = []
        self.pending: list[str] = []
        self.handled: list[str] = []

    def begin_repositories(self) -> None:
        self.transactions += 1
        self.pending = []

    def commit_repositories(self) -> None:
        self.applied_records.extend(self.pending)

    def rollback_repositories(self) -> None:
        self.pending = []


class Letters:
    """The dead-letter topic: which records went there, after how many attempts."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []

    async def send(self, record: Record, error: BaseException, attempts: int) -> None:
        self.sent.append((record.offset, attempts))


class Failures:
    """What the handler fails on: poison records always, outage records while the database is down, flaky records
    the first time only."""

    def __init__(self, poison: Sequence[int] = (), outage: Sequence[int] = (), flaky: Sequence[int] = ()) -> None:
        self.poison, self.outage, self.flaky = _ids(poison), _ids(outage), _ids(flaky)

    def check(self, record_id: str) -> None:
        if record_id in self.outage:
            raise ConnectionRefusedError("the database refused the connection")
        if record_id in self.poison:
            raise ValueError("village_code: not a village")
        if record_id in self.flaky:
            self.flaky.discard(record_id)
            raise ValueError("a deadlock, once")


def _ids(numbers: Sequence[int]) -> set[str]:
    return {str(n) for n in numbers}


def linked_record(n: int) -> Record:
    """Record `n` of a batch: a RecordLinkedV1 at offset n whose source record id is `str(n)`."""
    event = RecordLinkedV1(source_system="s", source_record_id=str(n), person_id="p", reason=LinkReason.NEW_PERSON,
                           linked_at=dt.datetime.now(dt.UTC))
    value = event.to_bytes()
    return Record(topic=RecordLinkedV1.topic, partition=0, offset=n, timestamp=0, timestamp_type=0, key=b"p",
                  value=value, checksum=None, serialized_key_size=1, serialized_value_size=len(value),
                  headers=event.envelope().to_headers())


def _consumer(ledger: Ledger, letters: Letters, failures: Failures) -> EventConsumer:
    async def link(uow: Ledger, run: Sequence[Delivery]) -> None:
        for delivery in run:
            record_id = delivery.event.source_record_id  # type: ignore[attr-defined]
            uow.handled.append(record_id)
            failures.check(record_id)
            uow.pending.append(record_id)

    return EventConsumer(name="c", topic=RecordLinkedV1.topic, handlers={RecordLinkedV1: link},  # type: ignore[dict-item]
                         unit_of_work=lambda: ledger, inbox="c:identity.link.v1",
                         dead_letters=letters, max_attempts=MAX_ATTEMPTS)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_module, "RETRY_PAUSE_SECONDS", 0.0)
    monkeypatch.setattr(consumer_module, "UNAVAILABLE_PAUSE_SECONDS", 0.0)


async def _run(size: int, failures: Failures) -> tuple[Ledger, Letters]:
    ledger, letters = Ledger(), Letters()
    await _consumer(ledger, letters, failures).process([linked_record(n) for n in range(size)])
    return ledger, letters


def _all_but(size: int, *left_out: int) -> list[str]:
    return [str(n) for n in range(size) if n not in left_out]


async def test_one_poison_event_in_two_thousand_costs_a_few_dozen_transactions_not_two_thousand(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="simpul_platform.consumer"):
        ledger, letters = await _run(BATCH, Failures(poison=[1234]))
    assert ledger.transactions <= 30  # the batch, two halves a level (11 levels), the poison's 3 attempts
    assert letters.sent == [(1234, MAX_ATTEMPTS)]
    assert ledger.applied_records == _all_but(BATCH, 1234)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == MAX_ATTEMPTS
    assert all("attempt" in w and "ValueError" in w and "village" not in w for w in warnings)


@pytest.mark.parametrize("poison", [0, BATCH - 1])
async def test_a_poison_event_first_or_last_is_dead_lettered_alone(poison: int) -> None:
    ledger, letters = await _run(BATCH, Failures(poison=[poison]))
    assert ledger.transactions <= 30
    assert letters.sent == [(poison, MAX_ATTEMPTS)]
    assert ledger.applied_records == _all_but(BATCH, poison)


@pytest.mark.parametrize("poison", [(17, 1500), (999, 1000)])
async def test_two_poison_events_are_each_dead_lettered_alone_and_the_rest_applied_once_in_order(
        poison: tuple[int, int]) -> None:
    ledger, letters = await _run(BATCH, Failures(poison=poison))
    assert ledger.transactions <= 50
    assert letters.sent == [(poison[0], MAX_ATTEMPTS), (poison[1], MAX_ATTEMPTS)]
    assert ledger.applied_records == _all_but(BATCH, *poison)


async def test_a_batch_of_one_poison_event_is_tried_as_before_and_dead_lettered() -> None:
    ledger, letters = await _run(1, Failures(poison=[0]))
    assert (ledger.transactions, letters.sent, ledger.applied_records) == (1 + MAX_ATTEMPTS, [(0, MAX_ATTEMPTS)], [])


async def test_an_event_that_fails_once_is_applied_in_a_smaller_piece_not_dead_lettered() -> None:
    ledger, letters = await _run(100, Failures(flaky=[40]))
    assert letters.sent == []
    assert ledger.applied_records == _all_but(100)


async def test_an_outage_in_the_second_half_re_raises_and_the_redelivery_skips_the_committed_halves() -> None:
    ledger, letters, failures = Ledger(), Letters(), Failures(poison=[300], outage=[1500])
    consumer, records = _consumer(ledger, letters, failures), [linked_record(n) for n in range(BATCH)]
    with pytest.raises(ConnectionRefusedError):
        await consumer.process(records)
    committed = list(ledger.applied_records)
    assert committed == _all_but(1000, 300)  # the first half, without its poison event; nothing of the second
    failures.outage.clear()  # the database is back: FastStream redelivers the batch
    ledger.handled = []
    await consumer.process(records)
    assert ledger.applied_records == _all_but(BATCH, 300)  # each once, in order
    assert not set(ledger.handled) & set(committed)  # the inbox kept the committed halves from the handler
    assert letters.sent == [(300, MAX_ATTEMPTS), (300, MAX_ATTEMPTS)]  # not in the inbox: dead-lettered again
