"""The Credential aggregate: a bearer token of an auditor or a source system, stored hashed, revocable."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.identifiers import NAMESPACE
from jawazat_events.domain.text import parse_name


class Role(StrEnum):
    """What a token lets its holder do (establishments use their own API key instead)."""

    AUDITOR = "auditor"
    SOURCE = "source"


class UnknownToken(DomainError):
    """No token was ever issued under this token id."""


class AlreadyRevoked(DomainError):
    """The token was revoked before; it cannot be revoked again."""


def check_role(role: str) -> Role:
    """A token's role is `auditor` or `source`."""
    try:
        return Role(role)
    except ValueError:
        raise InvalidValue(f"role '{role}' must be 'auditor' or 'source'") from None


def check_name(name: str) -> str:
    """Whom the token was issued to: a short, non-empty label for operators and auditors."""
    return parse_name(name, field="name")


def credential_id(token_id: str) -> UUID:
    """The deterministic aggregate id of the credential with this token id."""
    return uuid5(NAMESPACE, f"credential:{token_id}")


class Credential(Aggregate):
    """One issued token: its public id, role, holder's name and the hash of the whole token."""

    @staticmethod
    def create_id(token_id: str, **_: Any) -> UUID:
        return credential_id(token_id)

    class Issued(Aggregate.Created):
        token_id: str
        role: str
        name: str
        secret_hash: str

    @event(Issued)
    def __init__(self, *, token_id: str, role: str, name: str, secret_hash: str) -> None:
        self.token_id = token_id
        self.role = role
        self.name = name
        self.secret_hash = secret_hash
        self.revoked = False

    @classmethod
    def issue(cls, *, token_id: str, role: str, name: str, secret_hash: str) -> Credential:
        """Issue a token; it is given here already hashed (the token itself is never stored)."""
        return cls(
            token_id=token_id, role=check_role(role).value, name=check_name(name), secret_hash=secret_hash
        )

    class Event(Aggregate.Event):
        """Every credential event names its token id."""

        token_id: str

    class Revoked(Event):
        pass

    def revoke(self) -> None:
        """The token stops working from now on."""
        self._require_not_revoked()
        self._revoked(token_id=self.token_id)

    @event(Revoked)
    def _revoked(self, *, token_id: str) -> None:
        self.revoked = True

    def _require_not_revoked(self) -> None:
        if self.revoked:
            raise AlreadyRevoked(f"token {self.token_id} is already revoked")
