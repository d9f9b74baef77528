"""The store's encryption record: whether it is encrypted and the fingerprints of its keys, never a key.

A small table (`jawazat_store_meta`) says, from the store's first opening on, whether event states are
encrypted and which keys wrote them (HMAC-SHA256 of a fixed label under each key). Every process checks
it when it opens the store, before it writes anything: an encrypted store opened without its key, a clear
store opened with a key, or a key the store does not know, stop the process with one sentence.

Key rotation: a process with a new `JAWAZAT_CIPHER_KEY` and the previous keys in `JAWAZAT_CIPHER_OLD_KEYS`
records the new key's fingerprint and writes under it; `KeyRingCipher` reads states written under any of
them. A store made before this record existed is adopted: its first stored event says whether it is
encrypted, and under which of the given keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from Crypto.Cipher import AES
from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment

from jawazat_events.store import META_TABLE, ConfigurationError

ENCRYPTION = "encryption"
ENCRYPTED = "aes-gcm"
CLEAR = "none"
KEY_ROW_PREFIX = "key:"
# What each fingerprint authenticates: a fixed label, so the fingerprint reveals nothing of the key.
FINGERPRINT_LABEL = b"jawazat-events: cipher key fingerprint v1"
# The environment variable of the library's environment that carries the old keys to the cipher.
OLD_KEYS_ENV = "CIPHER_OLD_KEYS"
_NONCE, _TAG = 12, 16


def fingerprint(key: str) -> str:
    """HMAC-SHA256 of a fixed label under the (base64) key, in hex: names a key without revealing it."""
    return hmac.new(base64.b64decode(key), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def short(fingerprints: Sequence[str]) -> str:
    """Fingerprints as operators read them: the first 16 hex digits of each."""
    return ", ".join(f[:16] for f in fingerprints)


class KeyRingCipher(AESCipher):
    """The library's AES-GCM cipher that writes under `CIPHER_KEY` and reads states written under it or
    under any key in `CIPHER_OLD_KEYS` (comma-separated), newest first."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        old = environment.get(OLD_KEYS_ENV) or ""
        self.keys = [self.key, *(base64.b64decode(k) for k in old.split(",") if k.strip())]

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Return the plaintext, trying each key; the library's error when none fits."""
        if len(self.keys) == 1 or len(ciphertext) < _NONCE + _TAG:
            return super().decrypt(ciphertext)
        nonce, tag = ciphertext[:_NONCE], ciphertext[_NONCE : _NONCE + _TAG]
        encrypted = ciphertext[_NONCE + _TAG :]
        for key in self.keys:
            try:
                return AES.new(key, AES.MODE_GCM, nonce).decrypt_and_verify(encrypted, tag)
            except ValueError:
                continue
        raise ValueError("Cipher text is damaged: MAC check failed")


@dataclass(frozen=True)
class StoreRecord:
    """What the meta table says: encrypted or not, and the fingerprints of the keys that wrote it."""

    encrypted: bool
    fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class KeysGiven:
    """The keys a process was given: the current one (writes) and old ones (read only)."""

    current: str | None
    old: tuple[str, ...] = ()

    def fingerprints(self) -> dict[str, str]:
        """Fingerprint → key, the current key first."""
        keys = [self.current, *self.old] if self.current else []
        return {fingerprint(k): k for k in keys}


def required_additions(record: StoreRecord, given: KeysGiven, *, where: str) -> list[str]:
    """The fingerprints to add to the record before this process may write (a rotation adds the new
    key's), or `ConfigurationError` saying in one sentence why the process may not use the store."""
    if not record.encrypted:
        if given.current is None:
            return []
        raise ConfigurationError(
            f"the event store at {where} holds events in clear, but JAWAZAT_CIPHER_KEY is set: unset it "
            "(a clear store cannot be encrypted in place); nothing was written"
        )
    if given.current is None:
        raise ConfigurationError(
            f"the event store at {where} is encrypted (key fingerprint"
            f"{'s' if len(record.fingerprints) > 1 else ''} {short(record.fingerprints)}): set "
            "JAWAZAT_CIPHER_KEY to its key; nothing was written"
        )
    known = given.fingerprints()
    current = next(iter(known))
    unread = [f for f in record.fingerprints if f not in known]
    if unread and current not in record.fingerprints and not given.old:
        raise ConfigurationError(
            f"JAWAZAT_CIPHER_KEY (fingerprint {current[:16]}) is not the key the event store at {where} was "
            f"written with ({short(record.fingerprints)}); to rotate keys, keep the old key in "
            "JAWAZAT_CIPHER_OLD_KEYS; nothing was written"
        )
    if unread:
        raise ConfigurationError(
            f"the event store at {where} holds events under key(s) {short(unread)} that are neither "
            "JAWAZAT_CIPHER_KEY nor in JAWAZAT_CIPHER_OLD_KEYS; nothing was written"
        )
    return [] if current in record.fingerprints else [current]


class StoreKeys:
    """Reads and writes the meta table through the store's own datastore (SQLite or PostgreSQL)."""

    def __init__(self, recorder: Any, *, postgres: bool) -> None:
        self.recorder = recorder
        self.postgres = postgres
        schema = getattr(recorder.datastore, "schema", None) or "public"
        self.table = f'"{schema}".{META_TABLE}' if postgres else META_TABLE

    def _execute(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        if self.postgres:
            cursor.execute(statement.replace("?", "%s"), params, prepare=False)
        else:
            cursor.execute(statement, params)
        return cursor

    def read(self) -> StoreRecord | None:
        """The record, or None for a store that has none yet."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            rows = self._execute(cursor, f"SELECT name, value FROM {self.table}").fetchall()
        values = {row["name"]: row["value"] for row in rows}
        if ENCRYPTION not in values:
            return None
        keys = sorted(
            (value, name.removeprefix(KEY_ROW_PREFIX))
            for name, value in values.items()
            if name.startswith(KEY_ROW_PREFIX)
        )
        return StoreRecord(encrypted=values[ENCRYPTION] == ENCRYPTED, fingerprints=tuple(f for _, f in keys))

    def write(self, rows: dict[str, str]) -> None:
        """Insert rows that are absent (a concurrent first writer's rows win: read again after)."""
        with self.recorder.datastore.transaction(commit=True) as cursor:
            for name, value in rows.items():
                self._execute(
                    cursor,
                    f"INSERT INTO {self.table} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (name, value),
                )

    def first_state(self) -> bytes | None:
        """The stored state of the store's first event, or None when it holds none."""
        first = self.recorder.select_notifications(start=None, limit=1)
        return bytes(first[0].state) if first else None


def _key_row(fp: str) -> tuple[str, str]:
    return f"{KEY_ROW_PREFIX}{fp}", datetime.now(UTC).isoformat(timespec="seconds")


def _adopted(state: bytes | None, given: KeysGiven, *, where: str) -> dict[str, str]:
    """The record a store without one gets: from its first event, or (empty store) from this process's
    keys. Nothing is recorded when the first event is encrypted under none of the keys given."""
    if state is None:
        if given.current is None:
            return {ENCRYPTION: CLEAR}
        return dict([(ENCRYPTION, ENCRYPTED), _key_row(fingerprint(given.current))])
    try:
        json.loads(state)
        return {ENCRYPTION: CLEAR}
    except ValueError:
        pass
    for fp, key in given.fingerprints().items():
        try:
            KeyRingCipher(Environment(env={"CIPHER_KEY": key})).decrypt(state)
        except ValueError:
            continue
        return dict([(ENCRYPTION, ENCRYPTED), _key_row(fp)])
    if given.current is None:
        raise ConfigurationError(
            f"the event store at {where} is encrypted: set JAWAZAT_CIPHER_KEY to its key; nothing was written"
        )
    raise ConfigurationError(
        f"JAWAZAT_CIPHER_KEY is not the key the event store at {where} was written with (nor is any key in "
        "JAWAZAT_CIPHER_OLD_KEYS); nothing was written"
    )


def check_store_keys(keys: StoreKeys, given: KeysGiven, *, where: str) -> StoreRecord:
    """Make sure this process may write to the store with the keys it was given (recording the store's
    encryption on its first opening, and a rotated key's fingerprint); `ConfigurationError` otherwise."""
    record = keys.read()
    if record is None:
        adopted = _adopted(keys.first_state(), given, where=where)
        # The encryption row first: when two processes start on a new store, the first one's answer
        # stands, and only a process that agrees with it adds the fingerprint it found.
        keys.write({ENCRYPTION: adopted.pop(ENCRYPTION)})
        record = keys.read()
        assert record is not None
        if record.encrypted and adopted:
            keys.write(adopted)
            record = keys.read()
            assert record is not None
    additions = required_additions(record, given, where=where)
    if additions:
        keys.write(dict(_key_row(fp) for fp in additions))
        record = keys.read()
        assert record is not None
    return record
