"""Privacy at rest on the real store (each backend): with `JAWAZAT_CIPHER_KEY` the stored states are AES-GCM
ciphertext, the product reads them back, `verify` needs no key, and a missing or wrong key is refused."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import MapperDeserialisationError

from jawazat_events.audit import chain
from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.store import ConfigurationError
from tests.support import RESIDENT, notifications
from tests.support.audit import TEST_KEY, audit_container, build_world

# What the scenario's states say in clear: an ID number, an Arabic name, an e-mail address, a field name.
SECRETS = (RESIDENT.encode(), "محمد علي".encode(), b"hr@amal.example", b"passport_number")


@pytest.fixture
def encrypted(database_url: str, tmp_path: Path) -> Iterator[Container]:
    wired = audit_container(database_url, tmp_path, encrypted=True)
    try:
        build_world(wired)
        yield wired
    finally:
        wired.close()


def other(container: Container, folder: Path, **key: object) -> Container:
    return bootstrap(database_url=container.settings.database_url, outbox_dir=folder / "other", **key)


def test_states_are_ciphertext(encrypted: Container) -> None:
    states = [n.state for n in notifications(encrypted.app)]
    assert len(states) > 20
    assert not [s for s in states if any(secret in s for secret in SECRETS)]
    assert all(len(s) > 28 for s in states)  # nonce (12) and tag (16) before the ciphertext


def test_a_clear_store_shows_what_encryption_hides(database_url: str, tmp_path: Path) -> None:
    wired = audit_container(database_url, tmp_path, encrypted=False)
    try:
        build_world(wired)
        states = b"".join(n.state for n in notifications(wired.app))
    finally:
        wired.close()
    assert all(secret in states for secret in SECRETS)


def test_verify_needs_no_key(encrypted: Container, tmp_path: Path) -> None:
    with_key = chain.verify(encrypted.app.store)
    keyless = other(encrypted, tmp_path)
    keyless.check_keys = False  # as `jawazat audit verify` opens the store: raw bytes only, no writes
    try:
        without_key = chain.verify(keyless.app.store)
    finally:
        keyless.close()
    assert with_key.intact and without_key.intact
    assert without_key.head_link == with_key.head_link


@pytest.mark.parametrize("key", [None, base64.b64encode(bytes(32)).decode()], ids=["no key", "wrong key"])
def test_opening_without_the_right_key_is_refused(
    encrypted: Container, tmp_path: Path, key: str | None
) -> None:
    wired = other(encrypted, tmp_path, **({"cipher_key": key} if key else {}))
    try:
        # The store's record of its keys refuses the process as it opens the store, before any read.
        with pytest.raises(ConfigurationError, match="JAWAZAT_CIPHER_KEY"):
            wired.audit.person_timeline(RESIDENT, None)
    finally:
        wired.close()


def test_a_wrongly_keyed_reader_that_skips_the_check_still_cannot_decode(
    encrypted: Container, tmp_path: Path
) -> None:
    wired = other(encrypted, tmp_path, cipher_key=base64.b64encode(bytes(32)).decode())
    wired.check_keys = False
    try:
        with pytest.raises(MapperDeserialisationError):
            wired.audit.person_timeline(RESIDENT, None)
    finally:
        wired.close()


def test_the_key_reads_its_store(encrypted: Container, tmp_path: Path) -> None:
    again = other(encrypted, tmp_path, cipher_key=TEST_KEY)
    try:
        assert again.audit.person_timeline(RESIDENT, None) == encrypted.audit.person_timeline(RESIDENT, None)
    finally:
        again.close()
