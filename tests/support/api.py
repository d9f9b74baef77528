"""Helpers of the HTTP API tests: a TestClient over a fresh store, callers and people."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jawazat_events.api import create_app
from jawazat_events.bootstrap import Container
from jawazat_events.services.ingest import parse_items
from tests.support import CITIZEN, RESIDENT, SPONSOR_A, SPONSOR_B, VISITOR, crossing, registration, work_once
from tests.support.stores import fresh_container

__all__ = [
    "BACKENDS",
    "CITIZEN",
    "RESIDENT",
    "SPONSOR_A",
    "SPONSOR_B",
    "UNKNOWN_PERSON",
    "VISITOR",
    "ApiWorld",
    "api_world",
    "bearer",
    "crossing",
    "dumps",
    "problems",
    "registration",
    "seeded_world",
]

# A valid ID number nobody registers: the API must answer for it exactly as for another's person.
UNKNOWN_PERSON = "2123456788"

Headers = dict[str, str]


def bearer(credential: str) -> Headers:
    return {"Authorization": f"Bearer {credential}"}


@dataclass
class ApiWorld:
    """The API over one container, with helpers to set up establishments, tokens and people."""

    container: Container
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    headers: dict[str, Headers] = field(default_factory=dict)

    def establishment(
        self,
        unified: str = SPONSOR_A,
        *,
        mobile: str | None = "0501234567",
        email: str | None = None,
        language: str = "ar",
    ) -> Headers:
        """Register an establishment (as the CLI does); its key's Authorization header."""
        key = self.container.establishments.register(
            unified_number=unified,
            name=f"Establishment {unified}",
            mobile=mobile,
            email=email,
            language=language,
        )
        self.keys[unified] = key
        return bearer(key)

    def token(self, role: str, name: str = "test") -> Headers:
        return bearer(self.container.tokens.issue(role=role, name=name).token)

    def ingest(self, items: Sequence[dict[str, Any]]) -> list[str]:
        """Store feed items directly (as `jawazat ingest` does); the status of each."""
        return [r.status for r, _ in self.container.ingestor.ingest(parse_items(items))]

    def person(self, id_number: str, sponsor: str = SPONSOR_A) -> None:
        statuses = self.ingest([registration(f"reg-{id_number}", id_number=id_number, sponsor=sponsor)])
        assert statuses == ["accepted"], statuses

    def work(self) -> None:
        """Run projections, fan-out and delivery once (delivery goes to the outbox folder)."""
        work_once(self.container)

    def subscribe(self, headers: Headers, id_number: str, types: Sequence[str] = ("entry_exit",)) -> Any:
        response = self.client.post(
            "/v1/subscriptions",
            json={"id_number": id_number, "notification_types": list(types)},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return response.json()


@contextmanager
def api_world(container: Container, **settings: Any) -> Iterator[ApiWorld]:
    """A TestClient over `create_app(container)`, with settings changed first when given."""
    if settings:
        container.settings = container.settings.model_copy(update=settings)
    with TestClient(create_app(container)) as client:
        yield ApiWorld(container=container, client=client)


@contextmanager
def seeded_world(backend: str, folder: Path) -> Iterator[ApiWorld]:
    """A fresh store of `backend` for a whole module of read-only or refused requests: an establishment
    subscribed to a person it sponsors, and a token of each role (`world.headers`)."""
    with fresh_container(backend, folder) as container, api_world(container) as world:
        world.headers["establishment"] = world.establishment(SPONSOR_A)
        world.headers["source"] = world.token("source")
        world.headers["auditor"] = world.token("auditor")
        world.person(RESIDENT)
        world.subscribe(world.headers["establishment"], RESIDENT)
        yield world


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def problems(response: Any) -> dict[str, str]:
    """A 422 body as {field: message}."""
    assert response.status_code == 422, response.text
    return {p["field"]: p["message"] for p in response.json()["detail"]}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
