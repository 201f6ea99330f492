"""Field encryption: tokens, key rotation, refusals that never echo a value, blind indexes, the column type."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Integer, MetaData, String, Table, cast, create_engine, insert, literal, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError

from simpul_platform.field_encryption import (
    EncryptedString,
    FieldEncryptionError,
    InvalidTokenError,
    KeyConfigurationError,
    Keyring,
    NotConfiguredError,
    UnknownKeyError,
    bind_keyring,
    blind_index,
    bound_keyring,
    decode_key,
    development_blind_index_key,
    development_keyring,
    new_key_entry,
    row_key,
    seal,
    unseal,
)

NIK = "3509114203140001"  # fake: a plausible shape (Jember region code, birth date 02-03-2014), no real person
KK = "3509110101140009"
NIK_COLUMN = "children.nik"
KEY0 = bytes(range(32))
KEY1 = bytes(range(32, 64))
SETTING_KEY0 = "key0:" + base64.b64encode(KEY0).decode()
SETTING_KEY1 = "key1:" + base64.b64encode(KEY1).decode()


def _flip(token: str, index: int) -> str:
    """The token with one base64url character of its body changed."""
    prefix, body = token.rsplit(":", 1)
    index %= len(body)
    replacement = "A" if body[index] != "A" else "B"
    return f"{prefix}:{body[:index]}{replacement}{body[index + 1 :]}"


def _assert_hides_nik(error: pytest.ExceptionInfo[BaseException]) -> None:
    assert NIK not in str(error.value)
    assert NIK not in repr(error.value)
    assert error.value.__cause__ is None  # nothing chained that might carry the value


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.from_setting(SETTING_KEY0)


@pytest.fixture
def process_keyring(engine: Engine, keyring: Keyring) -> Iterator[Keyring]:
    """The keyring bound to the engine, as a service's Database binds it."""
    bind_keyring(engine, keyring)
    yield keyring
    bind_keyring(engine, None)


# --- tokens --------------------------------------------------------------------------------------------------


def test_round_trip(keyring: Keyring) -> None:
    token = keyring.encrypt(NIK, NIK_COLUMN)
    assert keyring.decrypt(token, NIK_COLUMN) == NIK


def test_token_is_versioned_self_describing_and_hides_the_value(keyring: Keyring) -> None:
    token = keyring.encrypt(NIK, NIK_COLUMN)
    assert re.fullmatch(r"v2:key0:[A-Za-z0-9_-]+", token)
    assert NIK not in token
    assert NIK not in base64.urlsafe_b64decode(token.split(":")[2] + "==").decode("latin-1")


def test_unicode_and_empty_values_round_trip(keyring: Keyring) -> None:
    for value in ("", "Siti Ṡarah Aminah", "ibu: Nyoman 🌾"):
        assert keyring.decrypt(keyring.encrypt(value, "children.mother_name"), "children.mother_name") == value


def test_each_encryption_uses_a_fresh_nonce(keyring: Keyring) -> None:
    tokens = {keyring.encrypt(NIK, NIK_COLUMN) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {base64.urlsafe_b64decode(t.split(":")[2] + "==")[:12] for t in tokens}
    assert len(nonces) == 50
    assert {keyring.decrypt(t, NIK_COLUMN) for t in tokens} == {NIK}


def test_rotation_keeps_old_values_readable_and_writes_under_the_new_key() -> None:
    old = Keyring.from_setting(SETTING_KEY0)
    written_before = old.encrypt(NIK, NIK_COLUMN)

    rotated = Keyring.from_setting(f"{SETTING_KEY1},{SETTING_KEY0}")
    assert rotated.current_key_id == "key1"
    assert rotated.key_ids == ("key1", "key0")
    assert rotated.decrypt(written_before, NIK_COLUMN) == NIK
    written_after = rotated.encrypt(NIK, NIK_COLUMN)
    assert written_after.startswith("v2:key1:")
    assert rotated.decrypt(written_after, NIK_COLUMN) == NIK

    # Re-encrypting moves a value onto the current key; once every row is moved key0 can be dropped.
    reencrypted = rotated.encrypt(rotated.decrypt(written_before, NIK_COLUMN), NIK_COLUMN)
    assert Keyring.from_setting(SETTING_KEY1).decrypt(reencrypted, NIK_COLUMN) == NIK

    with pytest.raises(UnknownKeyError) as error:  # a not-yet-updated instance cannot read the new key's values
        old.decrypt(written_after, NIK_COLUMN)
    assert "key1" in str(error.value)
    _assert_hides_nik(error)


@pytest.mark.parametrize("index", [0, 5, 16, 20, 30, -2])  # nonce, ciphertext and tag (the last char is padding bits)
def test_tampered_token_is_refused_without_the_value(keyring: Keyring, index: int) -> None:
    token = keyring.encrypt(NIK, NIK_COLUMN)
    with pytest.raises(InvalidTokenError) as error:
        keyring.decrypt(_flip(token, index), NIK_COLUMN)
    assert "children.nik" in str(error.value)
    _assert_hides_nik(error)


def test_token_moved_to_another_column_is_refused(keyring: Keyring) -> None:
    token = keyring.encrypt(NIK, NIK_COLUMN)
    with pytest.raises(InvalidTokenError) as error:
        keyring.decrypt(token, "children.kk")
    assert "another column" in str(error.value)
    _assert_hides_nik(error)


def test_token_relabelled_to_another_key_is_refused() -> None:
    keyring = Keyring.from_setting(f"{SETTING_KEY1},{SETTING_KEY0}")
    token = keyring.encrypt(NIK, NIK_COLUMN)
    with pytest.raises(InvalidTokenError) as error:
        keyring.decrypt(token.replace("v2:key1:", "v2:key0:"), NIK_COLUMN)
    _assert_hides_nik(error)


def test_unknown_key_is_refused_without_the_value(keyring: Keyring) -> None:
    token = Keyring([("key9", KEY1)]).encrypt(NIK, NIK_COLUMN)
    with pytest.raises(UnknownKeyError) as error:
        keyring.decrypt(token, NIK_COLUMN)
    assert "key9" in str(error.value)
    _assert_hides_nik(error)


@pytest.mark.parametrize(
    "stored",
    [
        NIK,  # a row written before encryption: refused, never echoed
        f"v1:key0:{NIK}",  # looks like base64 but is far too short
        f"v2:key0:{NIK}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        f"v1:key0:{NIK}+/",
        f"v1:{NIK} key:AAAA",
        "",
    ],
)
def test_malformed_token_is_refused_without_the_value(keyring: Keyring, stored: str) -> None:
    with pytest.raises(InvalidTokenError) as error:
        keyring.decrypt(stored, NIK_COLUMN)
    _assert_hides_nik(error)


def test_every_error_is_a_field_encryption_error() -> None:
    for error in (KeyConfigurationError, UnknownKeyError, InvalidTokenError, NotConfiguredError):
        assert issubclass(error, FieldEncryptionError)


# --- keys from configuration ---------------------------------------------------------------------------------


def test_setting_accepts_standard_and_urlsafe_base64_with_or_without_padding() -> None:
    key = bytes([0xFB, 0xFF] * 16)  # encodes with '+' and '/' (standard) or '-' and '_' (URL-safe)
    for encoded in (base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode().rstrip("=")):
        assert decode_key(encoded) == key
    keyring = Keyring.from_setting(f" a:{base64.urlsafe_b64encode(key).decode()} , {SETTING_KEY0} ")
    assert keyring.key_ids == ("a", "key0")


def test_new_key_entry_makes_a_usable_random_key() -> None:
    first, second = new_key_entry("key2"), new_key_entry("key2")
    assert first != second
    assert Keyring.from_setting(f"{first},{SETTING_KEY0}").current_key_id == "key2"


@pytest.mark.parametrize(
    "setting",
    [
        "",
        "key0:not base64!",
        "key0:" + base64.b64encode(bytes(16)).decode(),  # AES-128: too short
        f"{SETTING_KEY0},{SETTING_KEY0}",  # a repeated id
        base64.urlsafe_b64encode(KEY1).decode().rstrip("="),  # the ':' forgotten: the key sits where the id goes
        f"{SETTING_KEY0},",
        "bad id:" + base64.b64encode(KEY1).decode(),
    ],
)
def test_bad_settings_are_refused_without_echoing_key_material(setting: str) -> None:
    with pytest.raises(KeyConfigurationError) as error:
        Keyring.from_setting(setting)
    message = str(error.value)
    for secret in (base64.b64encode(KEY0).decode(), base64.b64encode(KEY1).decode(), base64.urlsafe_b64encode(KEY1)):
        assert str(secret)[:20] not in message


def test_keyring_repr_shows_ids_not_keys(keyring: Keyring) -> None:
    assert repr(keyring) == "Keyring(key_ids=('key0',))"
    assert base64.b64encode(KEY0).decode() not in repr(keyring)


def test_development_keyring_is_stable_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="simpul_platform.field_encryption"):
        token = development_keyring().encrypt(NIK, NIK_COLUMN)
        assert development_keyring().decrypt(token, NIK_COLUMN) == NIK  # survives a restart of a local run
        index = development_blind_index_key()
    assert token.startswith("v2:development:")
    assert "development keyring" in caplog.text
    assert "development key" in caplog.text
    assert NIK not in caplog.text
    assert index == development_blind_index_key()


# --- blind index ---------------------------------------------------------------------------------------------


def test_blind_index_is_stable_and_depends_on_value_and_key() -> None:
    index = blind_index(NIK, KEY0)
    assert re.fullmatch(r"[0-9a-f]{64}", index)
    assert blind_index(NIK, KEY0) == index
    assert blind_index(NIK, KEY1) != index
    assert blind_index(KK, KEY0) != index
    assert NIK not in index


def test_blind_index_refuses_a_short_key() -> None:
    with pytest.raises(KeyConfigurationError):
        blind_index(NIK, b"short")


# --- the column type -----------------------------------------------------------------------------------------

metadata = MetaData()
children = Table(
    "children",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nik", EncryptedString("children.nik")),
    Column("nik_index", String(64), index=True),
    Column("kk", EncryptedString("children.kk")),
)


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://", hide_parameters=True)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_column_encrypts_on_bind_and_decrypts_on_result(engine: Engine, process_keyring: Keyring) -> None:
    with engine.begin() as connection:
        connection.execute(insert(children).values(id=1, nik=NIK, nik_index=blind_index(NIK, KEY1), kk=KK))
        connection.execute(insert(children).values(id=2, nik=None))
        stored = connection.execute(text("select nik, kk from children where id = 1")).one()
        assert NIK not in stored.nik
        assert KK not in stored.kk
        assert process_keyring.decrypt(stored.nik, "children.nik") == NIK
        found = connection.execute(select(children).where(children.c.nik_index == blind_index(NIK, KEY1))).one()
        assert (found.id, found.nik, found.kk) == (1, NIK, KK)
        assert connection.execute(select(children.c.id).where(children.c.nik.is_(None))).scalar_one() == 2


def test_explicit_keyring_needs_no_process_configuration(engine: Engine, keyring: Keyring) -> None:
    column = EncryptedString("children.nik", keyring=keyring)
    with engine.connect() as connection:
        token = connection.execute(select(cast(literal(NIK, column), String))).scalar_one()
        assert keyring.decrypt(token, "children.nik") == NIK
        assert connection.execute(select(literal(NIK, column))).scalar_one() == NIK


def test_unconfigured_column_refuses_without_the_value(engine: Engine) -> None:
    with engine.connect() as connection, pytest.raises(StatementError) as error:
        connection.execute(insert(children).values(id=1, nik=NIK))
    assert isinstance(error.value.orig, NotConfiguredError)
    assert NIK not in str(error.value)
    with pytest.raises(NotConfiguredError):
        bound_keyring(engine.dialect)


def test_statement_cache_keeps_each_purpose_and_follows_the_process_keyring(
    engine: Engine, process_keyring: Keyring
) -> None:
    # The same SQL text for two purposes: a cache key that ignored `purpose` would reuse the first processors.
    def stored(purpose: str) -> str:
        with engine.connect() as connection:
            return connection.execute(select(cast(literal(NIK, EncryptedString(purpose)), String))).scalar_one()

    assert process_keyring.decrypt(stored("children.nik"), "children.nik") == NIK
    assert process_keyring.decrypt(stored("children.kk"), "children.kk") == NIK
    assert EncryptedString("a")._static_cache_key != EncryptedString("b")._static_cache_key

    rotated = Keyring.from_setting(f"{SETTING_KEY1},{SETTING_KEY0}")
    bind_keyring(engine, rotated)  # a cached statement picks up the keyring bound now
    assert stored("children.nik").startswith("v2:key1:")


def test_column_refuses_comparisons_that_could_never_match() -> None:
    for compare in (
        lambda: children.c.nik == NIK,
        lambda: children.c.nik != NIK,
        lambda: children.c.nik.in_([NIK]),
        lambda: children.c.nik.like("3509%"),
        lambda: children.c.nik > NIK,
    ):
        with pytest.raises(TypeError, match="blind index") as error:
            compare()
        assert NIK not in str(error.value)
    assert str(children.c.nik == None) == "children.nik IS NULL"  # noqa: E711 - the SQL NULL test stays allowed
    assert str(children.c.nik.is_not(None)) == "children.nik IS NOT NULL"
    assert "ORDER BY children.nik DESC" in str(select(children.c.id).order_by(children.c.nik.desc()))


def test_column_refuses_non_text_values(engine: Engine, process_keyring: Keyring) -> None:
    with engine.connect() as connection, pytest.raises(StatementError) as error:
        connection.execute(insert(children).values(id=1, nik=int(NIK)))
    assert isinstance(error.value.orig, TypeError)
    assert NIK not in str(error.value)


def test_column_needs_a_purpose() -> None:
    with pytest.raises(ValueError, match="purpose"):
        EncryptedString("")


def test_two_engines_in_one_process_keep_their_own_keys(keyring: Keyring) -> None:
    # Two services in one process: each engine encrypts under its own keyring, and neither can read the other's.
    other = Keyring.from_setting(SETTING_KEY1)
    engines = [create_engine("sqlite://", hide_parameters=True) for _ in range(2)]
    for engine, ring in zip(engines, (keyring, other), strict=True):
        bind_keyring(engine, ring)
    column = EncryptedString("children.nik")
    tokens = []
    for engine in engines:
        with engine.connect() as connection:
            tokens.append(connection.execute(select(cast(literal(NIK, column), String))).scalar_one())
    assert keyring.decrypt(tokens[0], "children.nik") == NIK
    assert other.decrypt(tokens[1], "children.nik") == NIK
    with pytest.raises(UnknownKeyError):
        keyring.decrypt(tokens[1], "children.nik")


def test_row_bound_tokens_swapped_between_rows_fail_to_open(keyring: Keyring) -> None:
    """Before: the associated data named the column only, so two children's NIK tokens could be swapped unnoticed."""
    first = keyring.encrypt(NIK, NIK_COLUMN, row_key("child_1"))
    second = keyring.encrypt("3509110101090007", NIK_COLUMN, row_key("child_2"))
    assert keyring.decrypt(first, NIK_COLUMN, row_key("child_1")) == NIK
    for token, other_row in ((first, "child_2"), (second, "child_1")):
        with pytest.raises(InvalidTokenError) as error:
            keyring.decrypt(token, NIK_COLUMN, row_key(other_row))
        _assert_hides_nik(error)


def test_a_row_bound_column_stores_sealed_values_that_open_only_for_their_row(keyring: Keyring) -> None:
    column = EncryptedString(NIK_COLUMN, keyring, row_bound=True)
    dialect = sqlite.dialect()
    stored = column.process_bind_param(seal(row_key("child_1"), NIK), dialect)
    assert stored is not None
    read = column.process_result_value(stored, dialect)
    assert unseal(row_key("child_1"), read) == NIK
    assert NIK not in repr(read)
    with pytest.raises(InvalidTokenError):
        unseal(row_key("child_2"), read)
    with pytest.raises(TypeError):
        column.process_bind_param(NIK, dialect)  # a row-bound column refuses a bare value


def test_a_legacy_column_bound_token_still_opens_and_is_not_current(keyring: Keyring) -> None:
    nonce = bytes(12)
    sealed = AESGCM(KEY0).encrypt(nonce, NIK.encode(), f"simpul-field\x1fv1\x1fkey0\x1f{NIK_COLUMN}".encode())
    legacy = f"v1:key0:{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"
    assert keyring.decrypt(legacy, NIK_COLUMN) == NIK
    assert not keyring.is_current(legacy)
    with pytest.raises(InvalidTokenError):  # a v2 token relabelled v1 (a downgrade) does not open
        keyring.decrypt(keyring.encrypt(NIK, NIK_COLUMN, "child_1").replace("v2:", "v1:", 1), NIK_COLUMN)


def test_sealed_values_compare_by_their_stored_token(keyring: Keyring) -> None:
    column = EncryptedString(NIK_COLUMN, keyring, row_bound=True)
    dialect = sqlite.dialect()
    stored = column.process_bind_param(seal(row_key("child_1"), NIK), dialect)
    assert column.process_result_value(stored, dialect) == column.process_result_value(stored, dialect)
    again = column.process_bind_param(seal(row_key("child_1"), NIK), dialect)  # a fresh nonce: another token
    assert column.process_result_value(stored, dialect) != column.process_result_value(again, dialect)
