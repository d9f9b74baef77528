"""Who acts on the e-services: an individual (a person, by ID number), an establishment, or an officer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    """The three kinds of user of the directorate's e-services."""

    INDIVIDUAL = "individual"
    ESTABLISHMENT = "establishment"
    OFFICER = "officer"


@dataclass(frozen=True)
class Actor:
    """An authenticated user: its kind and who it is (ID number, unified number, or officer's token id)."""

    kind: ActorKind
    principal: str
    name: str = ""

    @classmethod
    def individual(cls, id_number: str, name: str = "") -> Actor:
        return cls(ActorKind.INDIVIDUAL, id_number, name)

    @classmethod
    def establishment(cls, unified_number: str, name: str = "") -> Actor:
        return cls(ActorKind.ESTABLISHMENT, unified_number, name)

    @classmethod
    def officer(cls, officer_id: str, name: str = "") -> Actor:
        return cls(ActorKind.OFFICER, officer_id, name)

    @property
    def key(self) -> str:
        """A stable label of the actor (`individual:2…`), used to scope idempotency keys."""
        return f"{self.kind.value}:{self.principal}"

    @property
    def is_officer(self) -> bool:
        return self.kind is ActorKind.OFFICER
