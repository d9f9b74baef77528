"""Unit tests of the cipher key setting (`JAWAZAT_CIPHER_KEY`) and the environment it gives the library."""

from __future__ import annotations

import base64

import pytest

from jawazat_events.bootstrap import load_settings
from jawazat_events.store import CIPHER_TOPIC, ConfigurationError, DatabaseUrl

KEY_32 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize("size", [16, 24, 32])
def test_aes_key_sizes_are_accepted(size: int) -> None:
    key = base64.b64encode(bytes(size)).decode()
    settings = load_settings(cipher_key=key)
    assert settings.cipher_key is not None and settings.cipher_key.get_secret_value() == key


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not base64!", "base64"),
        (base64.b64encode(bytes(20)).decode(), "16, 24 or 32-byte"),
        (base64.b64encode(bytes(64)).decode(), "16, 24 or 32-byte"),
    ],
)
def test_bad_keys_are_refused_without_showing_them(value: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match="JAWAZAT_CIPHER_KEY") as refused:
        load_settings(cipher_key=value)
    assert reason in str(refused.value)
    assert value not in str(refused.value)


def test_an_empty_key_means_no_encryption(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAWAZAT_CIPHER_KEY", "")
    assert load_settings().cipher_key is None


def test_the_key_is_read_from_the_environment_and_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAWAZAT_CIPHER_KEY", KEY_32)
    settings = load_settings()
    assert settings.cipher_key is not None and settings.cipher_key.get_secret_value() == KEY_32
    assert KEY_32 not in repr(settings)


@pytest.mark.parametrize("url", ["sqlite:///x.db", "postgresql://u@h:5432/db"])
def test_the_library_gets_its_cipher_only_with_a_key(url: str) -> None:
    database = DatabaseUrl.parse(url)
    assert "CIPHER_KEY" not in database.eventsourcing_env()
    env = database.eventsourcing_env(cipher_key=KEY_32)
    assert (env["CIPHER_TOPIC"], env["CIPHER_KEY"]) == (CIPHER_TOPIC, KEY_32)
