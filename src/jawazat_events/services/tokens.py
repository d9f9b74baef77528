"""Application service for auditors' and source systems' bearer tokens: issue, revoke, authenticate.

A token reads `jzt_<token id>_<secret>`: the token id names the Credential aggregate (uuid5), so checking a
token is one aggregate load, no index. Only a SHA-256 of the whole token is stored (the secret is 256
random bits, so a slow hash would add nothing) and it is compared in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import cast

from eventsourcing.application import AggregateNotFoundError

from jawazat_events.domain.credential import (
    Credential,
    Role,
    UnknownToken,
    check_holder,
    check_name,
    check_role,
    credential_id,
)
from jawazat_events.domain.identifiers import parse_id_number
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.establishments import hash_secret

TOKEN_PREFIX = "jzt"
_TOKEN_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the only moment the token itself is known."""

    token_id: str
    role: Role
    name: str
    token: str
    id_number: str | None = None


@dataclass(frozen=True)
class TokenHolder:
    """Who presented a valid token."""

    token_id: str
    role: Role
    name: str
    id_number: str | None = None  # the person an individual's token belongs to


def token_id_of(token: str) -> str | None:
    """The token id inside `jzt_<token id>_<secret>`, or None when the text is not shaped like a token."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not _TOKEN_ID.fullmatch(parts[1]) or not parts[2]:
        return None
    return parts[1]


class TokenService:
    """Tokens for source systems (`POST /v1/events`) and auditors (read-only audit views)."""

    def __init__(self, app: JawazatApplication) -> None:
        self.app = app

    def issue(self, *, role: str, name: str, id_number: str | None = None) -> IssuedToken:
        """Issue a token for `role` (an individual's names their ID number); returns it once (only its
        hash is stored)."""
        checked_role = check_role(role)
        checked_name = check_name(name)
        holder = check_holder(checked_role, parse_id_number(id_number) if id_number else None)
        token_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        credential = Credential.issue(
            token_id=token_id,
            role=checked_role.value,
            name=checked_name,
            secret_hash=hash_secret(token),
            id_number=holder,
        )
        self.app.save(credential)
        return IssuedToken(
            token_id=token_id, role=checked_role, name=checked_name, token=token, id_number=holder
        )

    def revoke(self, token_id: str) -> str:
        """Revoke a token by its id (a whole token is accepted too); it stops working at once.

        Returns the id of the token revoked."""
        key = token_id_of(token_id) or token_id.strip()
        credential = self._find(key)
        if credential is None:
            raise UnknownToken(f"no token was issued with id '{key}'")
        credential.revoke()
        self.app.save(credential)
        return key

    def authenticate(self, token: str) -> TokenHolder | None:
        """Who holds this token, or None when it is unknown, wrong or revoked (compared in constant time)."""
        key = token_id_of(token)
        if key is None:
            return None
        credential = self._find(key)
        if credential is None or credential.revoked:
            return None
        if not hmac.compare_digest(credential.secret_hash, hash_secret(token)):
            return None
        return TokenHolder(
            token_id=credential.token_id,
            role=Role(credential.role),
            name=credential.name,
            id_number=credential.id_number,
        )

    def _find(self, token_id: str) -> Credential | None:
        if not _TOKEN_ID.fullmatch(token_id):
            return None
        try:
            return cast(Credential, self.app.repository.get(credential_id(token_id)))
        except AggregateNotFoundError:
            return None
