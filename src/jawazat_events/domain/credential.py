"""The Credential aggregate: a bearer token (auditor, source system, individual, officer), stored hashed."""

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
    INDIVIDUAL = "individual"  # a person, named by ID number, acting for themselves and their dependants
    OFFICER = "officer"  # directorate staff who decide requests


class UnknownToken(DomainError):
    """No token was ever issued under this token id."""


class AlreadyRevoked(DomainError):
    """The token was revoked before; it cannot be revoked again."""


def check_role(role: str) -> Role:
    """A token's role is one of `Role`."""
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(f"'{r.value}'" for r in Role)
        raise InvalidValue(f"role '{role}' must be one of {known}") from None


def check_holder(role: Role, id_number: str | None) -> str | None:
    """An individual's token names the person's ID number; no other role's token names one."""
    if role is Role.INDIVIDUAL and not id_number:
        raise InvalidValue("id_number is required for a token of role 'individual'")
    if role is not Role.INDIVIDUAL and id_number:
        raise InvalidValue(f"id_number is only for tokens of role 'individual', not '{role.value}'")
    return id_number


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
        id_number: str | None

    @event(Issued)
    def __init__(
        self, *, token_id: str, role: str, name: str, secret_hash: str, id_number: str | None = None
    ) -> None:
        self.token_id = token_id
        self.role = role
        self.name = name
        self.secret_hash = secret_hash
        self.id_number = id_number
        self.revoked = False

    @classmethod
    def issue(
        cls, *, token_id: str, role: str, name: str, secret_hash: str, id_number: str | None = None
    ) -> Credential:
        """Issue a token; it is given here already hashed (the token itself is never stored)."""
        checked = check_role(role)
        return cls(
            token_id=token_id,
            role=checked.value,
            name=check_name(name),
            secret_hash=secret_hash,
            id_number=check_holder(checked, id_number),
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
