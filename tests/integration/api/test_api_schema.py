"""Schemathesis over the OpenAPI schema: generated requests never get a 5xx, answers match the schema.

Bounded to stay fast in CI: a handful of examples per operation (hypothesis `max_examples`), on one SQLite
store seeded with an establishment, people it sponsors, and a token of each role. Every request carries the
credential of the role the route is for, so generated input reaches the handlers, not only the 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from jawazat_events.api import create_app
from jawazat_events.bootstrap import bootstrap
from tests.support import CITIZEN, RESIDENT, SPONSOR_A, crossing, registration
from tests.support.stores import FIXED_NOW

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, dict[str, str]]]]:
    """The app over a seeded store, and the headers of each role."""
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    container = bootstrap(
        database_url=f"sqlite:///{folder / 'store.db'}",
        outbox_dir=folder / "outbox",
        attachments_dir=folder / "attachments",
    )
    container.clock = lambda: FIXED_NOW
    key = container.establishments.register(unified_number=SPONSOR_A, name="Seeded", mobile="0501234567")
    from jawazat_events.services.ingest import parse_items

    items = [
        registration("reg-1", id_number=RESIDENT),
        registration("reg-2", id_number=CITIZEN),
        crossing("x-1", "2026-06-30T10:00:00+03:00"),
    ]
    list(container.ingestor.ingest(parse_items(items)))
    container.establishments.subscribe(SPONSOR_A, RESIDENT, notification_types=["entry_exit"])
    individual = container.tokens.issue(role="individual", name="i", id_number=CITIZEN)
    headers = {
        "establishment": {"Authorization": f"Bearer {key}"},
        "source": {"Authorization": f"Bearer {container.tokens.issue(role='source', name='s').token}"},
        "auditor": {"Authorization": f"Bearer {container.tokens.issue(role='auditor', name='a').token}"},
        "individual": {"Authorization": f"Bearer {individual.token}"},
        "officer": {"Authorization": f"Bearer {container.tokens.issue(role='officer', name='o').token}"},
    }
    container.settings = container.settings.model_copy(update={"api_rate_limit_per_minute": 1_000_000})
    app = create_app(container)
    app.state.api.warm_up()
    try:
        yield app, headers
    finally:
        container.close()


@pytest.fixture(scope="module")
def api_schema(seeded: tuple[Any, dict[str, dict[str, str]]]) -> Any:
    app, _ = seeded
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def role_of(path: str) -> str:
    if path.startswith("/v1/events"):
        return "source"
    if path.startswith("/v1/audit"):
        return "auditor"
    if path.endswith(("/decision", "/revoke", "/status")):
        return "officer"
    if path.startswith(("/v1/people", "/v1/travel-permits", "/v1/makkah-permits", "/v1/tickets")):
        return "individual"
    return "establishment"


# Every operation (schemathesis' own pytest loader does not run under this pytest: it is driven here).
OPERATIONS = [
    ("POST", "/v1/subscriptions"),
    ("GET", "/v1/subscriptions"),
    ("GET", "/v1/subscriptions/{id_number}"),
    ("PATCH", "/v1/subscriptions/{id_number}"),
    ("DELETE", "/v1/subscriptions/{id_number}"),
    ("PUT", "/v1/contacts"),
    ("POST", "/v1/contacts/webhook-secret"),
    ("GET", "/v1/alerts"),
    ("POST", "/v1/events"),
    ("GET", "/v1/audit/events"),
    ("GET", "/v1/audit/people/{id_number}/timeline"),
    ("GET", "/v1/audit/establishments/{unified}/subscriptions"),
    ("POST", "/v1/callbacks/twilio"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/v1/people/{id_number}/passport"),
    ("POST", "/v1/travel-permits"),
    ("GET", "/v1/travel-permits"),
    ("GET", "/v1/travel-permits/{permit_id}"),
    ("POST", "/v1/travel-permits/{permit_id}/decision"),
    ("POST", "/v1/travel-permits/{permit_id}/cancel"),
    ("POST", "/v1/makkah-permits"),
    ("GET", "/v1/makkah-permits"),
    ("GET", "/v1/makkah-permits/{permit_id}"),
    ("POST", "/v1/makkah-permits/{permit_id}/decision"),
    ("POST", "/v1/makkah-permits/{permit_id}/revoke"),
    ("POST", "/v1/tickets"),
    ("GET", "/v1/tickets"),
    ("GET", "/v1/tickets/{tracking_number}"),
    ("GET", "/v1/tickets/{tracking_number}/attachments/{sha256}"),
    ("POST", "/v1/tickets/{tracking_number}/status"),
    ("POST", "/v1/tickets/{tracking_number}/messages"),
]


def test_every_operation_is_exercised(api_schema: Any) -> None:
    documented = {
        (operation.ok().method.upper(), operation.ok().path) for operation in api_schema.get_all_operations()
    }

    assert documented == set(OPERATIONS)


# Negative data for every operation that takes input (the two without parameters have none to break).
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or path not in ("/healthz", "/metrics")
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_input_gets_a_server_error_and_answers_match_the_schema(
    api_schema: Any,
    seeded: tuple[Any, dict[str, dict[str, str]]],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    _, headers = seeded
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def exercise(case: Any) -> None:
        case.call_and_validate(headers=dict(headers[role_of(path)]), checks=CHECKS)

    exercise()
