"""Referral's sealed columns are bound to their row: two children's detail tokens, or two webhook endpoints' secret
tokens, swapped in the database fail to open instead of handing one child's details (one provider's secrets) to the
other; tokens written before row binding (v1, column only) still open, and `simpul keys rotate` rebinds them to their
row; stored Idempotency-Key answers are sealed to their key. On PostgreSQL and SQLite, through the migrations."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Callable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from referral.adapters import orm
from referral.bootstrap import MIGRATIONS
from referral.domain.child_details import ChildDetails, GuardianContact
from referral.domain.webhooks import Endpoint, SigningSecret, WebhookEventType
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.field_encryption import InvalidTokenError, development_keyring
from simpul_platform.idempotency import Answer, IdempotencyKey, StoredKey
from simpul_platform.key_rotation import rotate_field_keys
from simpul_platform.migrations import upgrade
from tests.support.database import scalar

AT = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
NewUow = Callable[[], ReferralUnitOfWork]


@pytest.fixture
async def store(any_store: Callable[[str], str]) -> AsyncIterator[tuple[NewUow, Database, str]]:
    url = any_store("referral_rows")
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    yield (lambda: SqlReferralUnitOfWork(database, orm.delivery, orm.audit_log)), database, url
    await database.dispose()


def _details(child_id: str, name: str) -> ChildDetails:
    return ChildDetails(child_id=child_id, full_name=name, sex="female", birth_date=dt.date(2014, 3, 2),
                        birth_date_precision="day", village_code="35.09.11.2007",
                        guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),),
                        consent_given_on=dt.date(2026, 5, 30), as_of=AT)


def _endpoint(endpoint_id: str, secret: str) -> Endpoint:
    return Endpoint(endpoint_id, "prv_1", "https://receiver.example/hook", frozenset({WebhookEventType.ISSUED}),
                    (SigningSecret(secret),), AT)


async def _swap(url: str, table: str, column: str, key: str, one: str, other: str) -> None:
    select = text(f"SELECT {column} FROM {table} WHERE {key} = :id")
    first, second = [await scalar(url, select.bindparams(id=row)) for row in (one, other)]
    await _write(url, f"UPDATE {table} SET {column} = :token WHERE {key} = :id",
                 {"token": second, "id": one}, {"token": first, "id": other})


async def _write(url: str, statement: str, *parameters: dict[str, str]) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for values in parameters:
            await connection.execute(text(statement), values)
    await engine.dispose()


async def test_swapped_child_detail_tokens_fail_to_open(store: tuple[NewUow, Database, str]) -> None:
    new_uow, _, url = store
    async with new_uow() as uow:
        await uow.child_details.keep(_details("c1", "Siti Aminah"), review_at=AT)
        await uow.child_details.keep(_details("c2", "Dewi Lestari"), review_at=AT)
        await uow.commit()
    await _swap(url, "child_details", "details", "child_id", "c1", "c2")
    async with new_uow() as uow:
        with pytest.raises(InvalidTokenError):
            await uow.child_details.details_of("c1")
    async with new_uow() as uow:
        with pytest.raises(InvalidTokenError):
            await uow.child_details.held(["c2"])


async def test_swapped_webhook_secret_tokens_fail_to_open(store: tuple[NewUow, Database, str]) -> None:
    new_uow, _, url = store
    async with new_uow() as uow:
        await uow.webhook_endpoints.add(_endpoint("whe_1", "whsec_" + "A" * 43 + "="))
        await uow.webhook_endpoints.add(_endpoint("whe_2", "whsec_" + "B" * 43 + "="))
        await uow.commit()
    await _swap(url, "webhook_endpoints", "secrets", "endpoint_id", "whe_1", "whe_2")
    async with new_uow() as uow:
        with pytest.raises(InvalidTokenError):
            await uow.webhook_endpoints.get("whe_1")


def _v1_token(plaintext: str, purpose: str) -> str:
    """A token as written before row binding: v1, under the development key, bound to its column only."""
    key = hashlib.sha256(b"simpul-development-field-keys-not-for-production/field").digest()
    nonce = bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), f"simpul-field\x1fv1\x1fdevelopment\x1f{purpose}".encode())
    return f"v1:development:{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"


async def test_tokens_from_before_row_binding_open_and_rotation_binds_them_to_their_row(
        store: tuple[NewUow, Database, str]) -> None:
    new_uow, database, url = store
    async with new_uow() as uow:
        await uow.child_details.keep(_details("c1", "Siti Aminah"), review_at=AT)
        await uow.webhook_endpoints.add(_endpoint("whe_1", "whsec_" + "A" * 43 + "="))
        await uow.commit()
    details_json = ('{"full_name": "Siti Aminah", "sex": "female", "birth_date": "2014-03-02", '
                    '"birth_date_precision": "day", "village_code": "35.09.11.2007", '
                    '"guardians": [["Pak Karto", "grandfather", "+62 812 0000 1111"]], '
                    '"consent_given_on": "2026-05-30"}')
    secrets_json = '[{"value": "whsec_' + "A" * 43 + '=", "expires_at": null}]'
    await _write(url, "UPDATE child_details SET details = :t", {"t": _v1_token(details_json, "child_details.details")})
    await _write(url, "UPDATE webhook_endpoints SET secrets = :t",
                 {"t": _v1_token(secrets_json, "webhook_endpoints.secrets")})
    async with new_uow() as uow:
        assert await uow.child_details.details_of("c1") == _details("c1", "Siti Aminah")
        assert (await uow.webhook_endpoints.get("whe_1")) == _endpoint("whe_1", "whsec_" + "A" * 43 + "=")

    reports = {r.table: r for r in await rotate_field_keys(database, orm.metadata)}
    assert reports["child_details"].tokens_rewritten == reports["webhook_endpoints"].tokens_rewritten == 1
    for table, column in (("child_details", "details"), ("webhook_endpoints", "secrets")):
        assert str(await scalar(url, text(f"SELECT {column} FROM {table}"))).startswith("v2:development:")
    async with new_uow() as uow:
        assert await uow.child_details.details_of("c1") == _details("c1", "Siti Aminah")
        assert (await uow.webhook_endpoints.get("whe_1")) == _endpoint("whe_1", "whsec_" + "A" * 43 + "=")


async def test_stored_idempotency_answers_are_sealed_to_their_key(store: tuple[NewUow, Database, str]) -> None:
    new_uow, _, url = store
    key, other = IdempotencyKey("prv_1", "k-1", "f-1"), IdempotencyKey("prv_1", "k-2", "f-2")
    answer = Answer(201, b'{"child": {"full_name": "Siti Aminah"}}')
    async with new_uow() as uow:
        await uow.idempotency_keys.add(key, answer, AT, AT + dt.timedelta(days=1))
        await uow.idempotency_keys.add(other, Answer(201, b'{"child": {"full_name": "Dewi"}}'), AT,
                                       AT + dt.timedelta(days=1))
        await uow.commit()
    stored = bytes(await scalar(url, text("SELECT body FROM idempotency_keys WHERE key = 'k-1'")))
    assert b"Siti" not in stored
    assert stored.startswith(b"v2:")
    async with new_uow() as uow:
        assert (await uow.idempotency_keys.claim(key, AT)) == StoredKey("f-1", answer, AT + dt.timedelta(days=1))
    engine = create_async_engine(url)  # the token copied onto another key of the same client does not open there
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE idempotency_keys SET body = :body WHERE key = 'k-2'"), {"body": stored})
    await engine.dispose()
    async with new_uow() as uow:
        with pytest.raises(InvalidTokenError):
            await uow.idempotency_keys.claim(other, AT)
