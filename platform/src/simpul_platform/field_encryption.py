"""Encryption at rest for restricted fields (NIK, KK): AES-256-GCM tokens under a rotating keyring, blind indexes.

Stored form: `v2:<key_id>:<base64url(nonce | ciphertext | tag)>`, so keys rotate: a `Keyring` encrypts under its
current key and decrypts under whichever key a token names. Each service binds its keyring to its own engine
(`Database(url, keyring=...)`); `EncryptedString` columns use it unless given their own.

A token is bound to its column and, in a row-bound column, to its row: the associated data names the row's key, so
two children's NIK tokens swapped in the database fail to open instead of giving each child the other's NIK. A
row-bound column takes `RowBound(row, plaintext)` and reads back as `Sealed`, which opens only with its row's key
(`seal`/`unseal`). `v1` tokens (bound to the column only) still open; `simpul keys rotate` rewrites them.
Errors never carry values or keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text, TypeDecorator

log = logging.getLogger(__name__)

VERSION = "v2"  # v2: column and row in the associated data; v1: the column only (read, never written)
LEGACY_VERSION = "v1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's native size; random nonces stay safe to ~2**32 values per key, far beyond our registry
TAG_BYTES = 16
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# Publicly known on purpose: local SQLite files stay readable across restarts, and tokens say "development".
_DEVELOPMENT_SEED = b"simpul-development-field-keys-not-for-production"


class FieldEncryptionError(Exception):
    """Base of every field-encryption error; messages never carry values or keys."""


class KeyConfigurationError(FieldEncryptionError, ValueError):
    """A keyring setting or key is malformed."""


class UnknownKeyError(FieldEncryptionError):
    """A token names a key id the keyring does not hold."""


class InvalidTokenError(FieldEncryptionError):
    """A token is malformed, tampered with, or was written for another column."""


class NotConfiguredError(FieldEncryptionError, RuntimeError):
    """An encrypted column was used before `configure_field_encryption`."""


def decode_key(encoded: str, *, name: str = "key") -> bytes:
    """A 32-byte key from standard or URL-safe base64 (padding optional)."""
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigurationError(f"{name} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(f"{name} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def new_key_entry(key_id: str) -> str:
    """A fresh random `key_id:<base64>` entry to put in front of a keyring setting when rotating."""
    if not _KEY_ID.fullmatch(key_id):
        raise KeyConfigurationError(f"key ids must match {_KEY_ID.pattern}")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


class Keyring:
    """Field keys by id: encrypts under the current (first) key, decrypts under whichever key a token names."""

    __slots__ = ("_ciphers", "current_key_id")

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        # Only AESGCM objects are kept: no attribute (or repr) of a keyring holds key bytes.
        self._ciphers: dict[str, AESGCM] = {}
        for position, (key_id, key) in enumerate(keys, start=1):
            # Config text is never echoed: a missing ':' would put the key itself where the id belongs.
            if not _KEY_ID.fullmatch(key_id):
                raise KeyConfigurationError(f"key {position}: ids must match {_KEY_ID.pattern}")
            if key_id in self._ciphers:
                raise KeyConfigurationError(f"key {position}: repeats an earlier key id")
            if len(key) != KEY_BYTES:
                raise KeyConfigurationError(f"key {position}: must be {KEY_BYTES} bytes")
            self._ciphers[key_id] = AESGCM(key)
        if not self._ciphers:
            raise KeyConfigurationError("a keyring needs at least one key")
        self.current_key_id = next(iter(self._ciphers))

    @classmethod
    def from_setting(cls, setting: str) -> Keyring:
        """Parse `key1:<base64 32 bytes>,key0:<...>`; the first key is current, the others only decrypt."""
        if not setting.strip():
            raise KeyConfigurationError("the keyring setting is empty")
        entries = []
        for position, entry in enumerate(setting.split(","), start=1):
            key_id, _, encoded = entry.strip().partition(":")
            entries.append((key_id, decode_key(encoded, name=f"key {position}")))
        return cls(entries)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id, current first."""
        return tuple(self._ciphers)

    def __repr__(self) -> str:
        return f"Keyring(key_ids={self.key_ids!r})"

    def encrypt(self, plaintext: str, purpose: str, row: str = "") -> str:
        """A fresh token for `plaintext`, bound to `purpose` (its column, e.g. "children.nik") and `row` (its key)."""
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.current_key_id
        associated = _associated_data(VERSION, key_id, purpose, row)
        sealed = self._ciphers[key_id].encrypt(nonce, plaintext.encode(), associated)
        return f"{VERSION}:{key_id}:{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"

    def is_current(self, token: str) -> bool:
        """True when `token` is already of this version under the current key (rotation leaves it alone)."""
        return token.startswith(f"{VERSION}:{self.current_key_id}:")

    def decrypt(self, token: str, purpose: str, row: str = "") -> str:
        """The plaintext of a token written for `purpose` and `row`, under whichever key it names."""
        version, _, rest = token.partition(":")
        key_id, _, body = rest.partition(":")
        # Shape checks first, so a stray plaintext (e.g. a row written before encryption) is refused, not echoed.
        if version not in {VERSION, LEGACY_VERSION} or not _KEY_ID.fullmatch(key_id) or not _BASE64URL.fullmatch(body):
            raise InvalidTokenError(f"{purpose}: stored value is not a {VERSION} field token")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(f"{purpose}: stored value names key id {key_id!r}, which the keyring lacks")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise InvalidTokenError(f"{purpose}: stored value is too short to be a {VERSION} field token")
        try:
            associated = _associated_data(version, key_id, purpose, row)
            opened = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
        except InvalidTag:
            raise InvalidTokenError(
                f"{purpose}: stored value does not authenticate (tampered with, or written for another column or row)"
            ) from None
        return opened.decode()


def _associated_data(version: str, key_id: str, purpose: str, row: str) -> bytes:
    # Authenticated but not encrypted: a token copied to another column or row (or relabelled) fails to decrypt.
    if version == LEGACY_VERSION:
        return f"simpul-field\x1f{version}\x1f{key_id}\x1f{purpose}".encode()
    return f"simpul-field\x1f{version}\x1f{key_id}\x1f{purpose}\x1f{row}".encode()


def row_key(*parts: str) -> str:
    """The key a row-bound token names: the row's primary key values, in the table's order."""
    return "\x1f".join(parts)


@dataclass(frozen=True, slots=True)
class RowBound:
    """A plaintext for a row-bound column, with its row's key (`row_key` of the primary key)."""

    row: str
    plaintext: str

    def __repr__(self) -> str:
        return "RowBound(<hidden>)"


class Sealed:
    """A token read from a row-bound column: `open` it with the key of the row it was read from."""

    __slots__ = ("_keyring", "_purpose", "_token")

    def __init__(self, token: str, purpose: str, keyring: Keyring) -> None:
        self._token, self._purpose, self._keyring = token, purpose, keyring

    def open(self, row: str) -> str:
        """The plaintext; InvalidTokenError when the token was written for another row or column."""
        return self._keyring.decrypt(self._token, self._purpose, row)

    def __repr__(self) -> str:
        return f"Sealed({self._purpose})"

    def __eq__(self, other: object) -> bool:
        """The same stored token of the same column (a snapshot of rows compares them without opening them)."""
        return isinstance(other, Sealed) and (self._token, self._purpose) == (other._token, other._purpose)

    def __hash__(self) -> int:
        return hash((self._token, self._purpose))


def seal(row: str, plaintext: str | None) -> RowBound | None:
    """What a row-bound column stores for `plaintext` in the row keyed `row` (None stays NULL)."""
    return None if plaintext is None else RowBound(row, plaintext)


def unseal(row: str, value: Sealed | None) -> str | None:
    """The plaintext a row-bound column holds for the row keyed `row` (NULL is None)."""
    return None if value is None else value.open(row)


SEALED_BY = "simpul_sealed_by"
"""The `Column.info` entry of a column whose repository stores field tokens in it itself (`SealedBy`)."""


@dataclass(frozen=True, slots=True)
class SealedBy:
    """Marks a plain column (text, or bytes holding a token's UTF-8) that its repository fills with field tokens of
    `purpose` (bound to the row's primary key when `row_bound`), so `simpul keys rotate` rewrites it like an
    `EncryptedString` column: `Column(..., info=sealed_by("idempotency_keys.body"))`."""

    purpose: str
    row_bound: bool = True


def sealed_by(purpose: str, *, row_bound: bool = True) -> dict[str, SealedBy]:
    """The `Column.info` of a column its repository seals itself (`SealedBy`)."""
    return {SEALED_BY: SealedBy(purpose, row_bound)}


def blind_index(value: str, key: bytes) -> str:
    """Deterministic HMAC-SHA256 (hex) of `value`, stored beside an encrypted column for equality look-ups."""
    # Tokens use a fresh random nonce, so equal NIKs never have equal ciphertexts: no WHERE, unique index or
    # duplicate check can work on them. The HMAC is equal for equal values yet meaningless without its key.
    # Use a key separate from the keyring (it cannot rotate without recomputing every index) and keep it out
    # of the database: a NIK has little entropy, so anyone holding the key could test guesses. Callers
    # normalise first (e.g. strip spaces), since "3509..." and " 3509..." index differently.
    if len(key) < KEY_BYTES:
        raise KeyConfigurationError(f"a blind index key needs at least {KEY_BYTES} bytes")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def development_keyring() -> Keyring:
    """A fixed, publicly known keyring (key id "development") for local runs and tests; it protects nothing."""
    log.warning("field encryption uses the development keyring: restricted fields are NOT protected at rest")
    return Keyring([("development", hashlib.sha256(_DEVELOPMENT_SEED + b"/field").digest())])


def development_blind_index_key() -> bytes:
    """A fixed, publicly known blind index key for local runs and tests."""
    log.warning("blind indexes use the development key: NIK look-ups can be reversed by guessing")
    return hashlib.sha256(_DEVELOPMENT_SEED + b"/blind-index").digest()


def keyring_from(setting: SecretStr | None) -> Keyring:
    """The keyring a `<SERVICE>_FIELD_KEYRING` setting names; the development keyring (with a warning) when unset."""
    return Keyring.from_setting(setting.get_secret_value()) if setting is not None else development_keyring()


def bind_keyring(engine: Engine, keyring: Keyring | None) -> None:
    """Make `keyring` the one of `EncryptedString` columns (not given their own) on this engine; None unbinds.

    The keyring belongs to the engine's dialect, so two services in one process, each with its own engine, keep
    their own keys; nothing is process-global.
    """
    engine.dialect.field_keyring = keyring  # type: ignore[attr-defined]


def bound_keyring(dialect: Dialect) -> Keyring:
    """The keyring bound to the dialect's engine, or NotConfiguredError: never a silent development key."""
    keyring: Keyring | None = getattr(dialect, "field_keyring", None)
    if keyring is None:
        raise NotConfiguredError("field encryption is not configured: bind a keyring to the service's engine")
    return keyring


# Operators that take no value, plus `== None` (IS NULL); anything else on random-nonce ciphertext is meaningless.
_VALUELESS = {operators.is_, operators.is_not, operators.asc_op, operators.desc_op, operators.distinct_op}


class EncryptedString(TypeDecorator[Any]):
    """A text column stored as a field token bound to `purpose`: encrypted on bind, decrypted on result."""

    impl = Text
    # The statement cache keys a type on its __init__ arguments read back from same-named attributes, so
    # `purpose` and `keyring` are kept under those names: different columns never share compiled processors.
    # The engine's keyring is looked up per value, so it is not part of the key and need not exist yet.
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        """Refuses comparisons that would silently match nothing; equality look-ups use the blind index."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
            if op not in _VALUELESS and not (op in (operators.eq, operators.ne) and other == (None,)):
                raise TypeError(
                    "an encrypted column cannot be compared (each value has a random nonce); use its blind index"
                )
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement[Any]:
            raise TypeError("an encrypted column cannot be compared (each value has a random nonce)")

    comparator_factory = Comparator

    def __init__(self, purpose: str, keyring: Keyring | None = None, *, row_bound: bool = False) -> None:
        if not purpose:
            raise ValueError("an encrypted column needs a purpose, e.g. 'children.nik'")
        super().__init__()
        self.purpose = purpose
        self.keyring = keyring
        self.row_bound = row_bound

    def _keyring(self, dialect: Dialect) -> Keyring:
        return self.keyring if self.keyring is not None else bound_keyring(dialect)

    def process_bind_param(self, value: Any | None, dialect: Dialect) -> str | None:
        """The token stored for `value` (NULL stays NULL): a str, or a `RowBound` in a row-bound column."""
        if value is None:
            return None
        if self.row_bound:
            if not isinstance(value, RowBound):
                raise TypeError(f"{self.purpose} is row-bound: store seal(row_key(...), value), not "
                                f"{type(value).__name__}")
            return self._keyring(dialect).encrypt(value.plaintext, self.purpose, value.row)
        if not isinstance(value, str):
            raise TypeError(f"{self.purpose} takes str, not {type(value).__name__}")
        return self._keyring(dialect).encrypt(value, self.purpose)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Any | None:
        """The plaintext of a stored token, or a `Sealed` token in a row-bound column (NULL stays NULL)."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidTokenError(f"{self.purpose}: stored value is not text")
        if self.row_bound:
            return Sealed(value, self.purpose, self._keyring(dialect))
        return self._keyring(dialect).decrypt(value, self.purpose)
