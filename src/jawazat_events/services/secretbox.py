"""Sealing secrets the engine must read back (webhook signing secrets): AES-256-GCM, bound to their owner.

A webhook secret signs every message, so it cannot be stored as a one-way hash like API keys. It is stored
in the establishment's events only sealed: AES-GCM under the engine's secrets key, with the unified number
as associated data (a sealed secret copied onto another establishment does not open). The key is
`JAWAZAT_SECRETS_KEY` (base64, 16/24/32 bytes; keep it in the deployment's secret store). Without it, a
key is made once and kept in the database's `engine_keys` table (`projections.engine_keys`): the secrets
then stay out of event exports, the auditors' views and back-ups of the events table, but not away from
someone who can read the whole database; production sets the key. The sealed form is
`v1.<base64(nonce | tag | ciphertext)>`.
"""

from __future__ import annotations

import base64
import secrets

from Crypto.Cipher import AES

WEBHOOK_SECRET_PREFIX = "whsec_"
SEALED_PREFIX = "v1."


class UnsealError(ValueError):
    """A sealed secret cannot be opened: a different key, another owner, or damaged text."""


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes in base64, the Standard Webhooks form."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_key() -> bytes:
    """A fresh 256-bit AES key."""
    return secrets.token_bytes(32)


class SecretBox:
    """Seals and opens short secrets with one AES key; `owner` is bound as associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError(f"the secrets key must be 16, 24 or 32 bytes, not {len(key)}")
        self._key = key

    @classmethod
    def from_base64(cls, text: str) -> SecretBox:
        return cls(base64.b64decode(text.strip(), validate=True))

    def seal(self, secret: str, *, owner: str) -> str:
        nonce = secrets.token_bytes(12)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        cipher.update(owner.encode("utf-8"))
        ciphertext, tag = cipher.encrypt_and_digest(secret.encode("utf-8"))
        return SEALED_PREFIX + base64.b64encode(nonce + tag + ciphertext).decode("ascii")

    def open(self, sealed: str, *, owner: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise UnsealError("not a sealed secret of this engine")
        try:
            raw = base64.b64decode(sealed.removeprefix(SEALED_PREFIX), validate=True)
            cipher = AES.new(self._key, AES.MODE_GCM, nonce=raw[:12])
            cipher.update(owner.encode("utf-8"))
            return cipher.decrypt_and_verify(raw[28:], raw[12:28]).decode("utf-8")
        except (ValueError, KeyError) as error:
            raise UnsealError(
                "the webhook secret cannot be opened with this engine's secrets key "
                "(JAWAZAT_SECRETS_KEY changed?): rotate the secret"
            ) from error
