"""`simpul keys rotate`: every stale token (another key, or the column-only v1 form) is rewritten under the current
key in batches, values unchanged, row binding kept; a rerun finds nothing; a token the service rewrote meanwhile is
left alone. On PostgreSQL and on the SQLite default."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text, insert, select, text, type_coerce

from simpul_platform.database import Database
from simpul_platform.field_encryption import (
    EncryptedString,
    InvalidTokenError,
    Keyring,
    row_key,
    seal,
    sealed_by,
    unseal,
)
from simpul_platform.key_rotation import rotate_field_keys

KEY0, KEY1 = bytes(range(32)), bytes(range(32, 64))
OLD = Keyring([("k0", KEY0)])
NEW = Keyring([("k1", KEY1), ("k0", KEY0)])
ROWS = 23

metadata = MetaData()
people = Table(
    "people", metadata,
    Column("system", String(20), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("nik", EncryptedString("people.nik", row_bound=True)),
    Column("note", EncryptedString("people.note")),
)


def _legacy_token(plaintext: str) -> str:
    """A v1 token (bound to its column only), as written before row binding."""
    nonce = bytes(12)
    sealed = AESGCM(KEY0).encrypt(nonce, plaintext.encode(), b"simpul-field\x1fv1\x1fk0\x1fpeople.nik")
    return f"v1:k0:{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"


async def test_rotation_rewrites_every_stale_token_once_and_keeps_values(any_store: Callable[[str], str]) -> None:
    url = any_store("rotation")
    old = Database(url, keyring=OLD)
    async with old.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(people), [
            {"system": "s", "number": n, "nik": seal(row_key("s", str(n)), f"35091142031400{n:02d}"),
             "note": None if n % 5 == 0 else f"note {n}"} for n in range(ROWS)])
        await connection.execute(
            text("UPDATE people SET nik = :legacy WHERE number = 0"), {"legacy": _legacy_token("3509114203140000")})
    await old.dispose()

    new = Database(url, keyring=NEW)
    seen: list[str] = []
    [report] = await rotate_field_keys(new, metadata, batch_size=5, progress=seen.append)
    assert report.tokens_rewritten == ROWS + (ROWS - 5)  # every NIK, every note present (5 are NULL)
    assert len(seen) >= ROWS // 5 + 1  # progress per batch
    async with new.engine.connect() as connection:
        raw = (await connection.execute(select(type_coerce(people.c.nik, Text), type_coerce(people.c.note, Text))))
        assert all(nik.startswith("v2:k1:") and (note is None or note.startswith("v2:k1:")) for nik, note in raw)
        rows = (await connection.execute(select(people).order_by(people.c.number))).all()
    assert [unseal(row_key("s", str(r.number)), r.nik) for r in rows] == [f"35091142031400{n:02d}"
                                                                          for n in range(ROWS)]
    assert [r.note for r in rows] == [None if n % 5 == 0 else f"note {n}" for n in range(ROWS)]
    with pytest.raises(InvalidTokenError):  # still bound to its row after rotation
        unseal(row_key("s", "2"), rows[1].nik)

    [again] = await rotate_field_keys(new, metadata, batch_size=5)
    assert (again.rows_seen, again.tokens_rewritten) == (0, 0)
    await new.dispose()


answers_metadata = MetaData()
answers = Table(
    "answers", answers_metadata,
    Column("subject", String(20), primary_key=True),
    Column("key", String(20), primary_key=True),
    Column("body", LargeBinary, nullable=False, info=sealed_by("answers.body")),
)


async def test_rotation_rewrites_tokens_a_repository_stores_as_bytes(any_store: Callable[[str], str]) -> None:
    url = any_store("rotation_bytes")
    old = Database(url, keyring=OLD)
    async with old.engine.begin() as connection:
        await connection.run_sync(answers_metadata.create_all)
        await connection.execute(insert(answers), [
            {"subject": "client", "key": f"k-{n}",
             "body": OLD.encrypt(f'{{"n": {n}}}', "answers.body", row_key("client", f"k-{n}")).encode()}
            for n in range(7)])
    await old.dispose()

    new = Database(url, keyring=NEW)
    [report] = await rotate_field_keys(new, answers_metadata, batch_size=3)
    assert report.tokens_rewritten == 7
    only_new = Keyring([("k1", KEY1)])
    async with new.engine.connect() as connection:
        rows = (await connection.execute(select(answers).order_by(answers.c.key))).all()
    assert [only_new.decrypt(bytes(r.body).decode(), "answers.body", row_key(r.subject, r.key)) for r in rows] == [
        f'{{"n": {n}}}' for n in range(7)]
    [again] = await rotate_field_keys(new, answers_metadata)
    assert (again.rows_seen, again.tokens_rewritten) == (0, 0)
    await new.dispose()
