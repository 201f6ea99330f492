"""A dead letter of a restricted topic keeps no plaintext on its DLQ (30 days' retention): its value is sealed under
the consumer service's field keyring, bound to the source record; `simpul dlq replay` opens it with that service's
keyring and puts the original record back; a pseudonymous topic's dead letter stays as it was. Real Kafka."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker

from simpul.services import SERVICES
from simpul_platform.dead_letter_tools import SealedLetterError, read_dead_letters, replay
from simpul_platform.dead_letters import DeadLetters
from simpul_platform.field_encryption import Keyring
from simpul_platform.topic_reader import read_topic
from tests.support.topics import publish

KEY = bytes(range(32))
SETTING = f"k1:{base64.b64encode(KEY).decode()}"
NAME, PHONE = "Siti Aminah", "+62 812 0000 1111"
POISON = (b'{"child_id": "chd_1", "full_name": "' + NAME.encode() + b'", "guardians": [["Pak Karto", "'
          + PHONE.encode() + b'"]], "birth_date": "not a date"}')
HEADERS = [("ce_type", b"registry.child.referral-details.v1"), ("ce_id", b"evt-1")]


async def _dead_letter(bootstrap: str, topic: str, keyring: Keyring) -> None:
    """Dead-letter the topic's first record as referral's consumer does."""
    [record] = await read_topic(bootstrap, topic)
    broker = KafkaBroker(bootstrap)
    await broker.start()
    try:
        await DeadLetters(broker, "referral", keyring).send(record, ValueError("birth_date: invalid date"), 3)
    finally:
        await broker.stop()


async def test_a_restricted_dead_letter_is_sealed_and_replays_as_it_was(
        kafka_bootstrap: str, namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = namespace + "registry.child-referral.v1"
    await publish(kafka_bootstrap, topic, POISON, HEADERS, b"chd_1")
    await _dead_letter(kafka_bootstrap, topic, Keyring([("k1", KEY)]))

    [letter] = await read_dead_letters(kafka_bootstrap, topic)
    stored = letter.value + repr(letter.headers).encode()
    assert [value for value in (NAME, PHONE, "Karto") if value.encode() in stored] == []
    assert letter.sealed
    assert letter.value.startswith(b"v2:k1:")
    assert "(value sealed)" in letter.describe()
    with pytest.raises(SealedLetterError, match="REFERRAL_FIELD_KEYRING"):  # another key does not open it
        letter.original_value(lambda service: Keyring([("k1", bytes(32))]))

    monkeypatch.setenv("REFERRAL_FIELD_KEYRING", SETTING)  # the replay tool opens it with referral's own keyring
    assert await replay(kafka_bootstrap, [letter]) == 1
    original, replayed = await read_topic(kafka_bootstrap, topic)
    assert replayed.value == original.value == POISON
    assert replayed.key == b"chd_1"
    assert set(original.headers) <= set(replayed.headers)  # (plus what the DLQ publish added)


async def test_a_pseudonymous_dead_letter_is_kept_as_it_was(kafka_bootstrap: str, namespace: str) -> None:
    topic = namespace + "identity.link.v1"
    await publish(kafka_bootstrap, topic, b'{"person_id": 7}', [("ce_id", b"evt-2")], b"k")
    await _dead_letter(kafka_bootstrap, topic, Keyring([("k1", KEY)]))
    [letter] = await read_dead_letters(kafka_bootstrap, topic)
    assert (letter.sealed, letter.value) == (False, b'{"person_id": 7}')


@pytest.mark.parametrize(("service", "topic"), [("identity", "registry.child-identity.v1"),
                                                ("referral", "registry.child-referral.v1")])
def test_a_service_dead_letters_its_restricted_topic_with_its_own_keyring(
        service: str, topic: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{service.upper()}_FIELD_KEYRING", SETTING)
    spec = SERVICES[service]
    runtime = spec.build(spec.settings_with(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}")).state.runtime
    [consumer] = [c for c in runtime.consumers if c.topic == topic]
    assert consumer.dead_letters.keyring.key_ids == ("k1",)
