"""Property: applying a batch set-wise gives the read models that applying its events one by one gives.

Histories are the fan-out property's (`test_fanout_property`: two people, three establishments, crossings,
renewals, visas, transfers and subscription changes with late business times), so one batch holds many
events of the same person and of the same subscription. The read models are rebuilt from the store twice:
with the whole history in ONE batch (set-wise: folded per key, one statement per table), and one event per
batch with the people view's former per-event statements; every table must be equal, row for row.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from jawazat_events.bootstrap import Container
from jawazat_events.projections.base import ReadModel
from jawazat_events.projections.runner import Follower
from tests.integration.test_fanout_property import Walk, history, store
from tests.support.audit import table_rows
from tests.support.per_event import PerEventPeople
from tests.support.reference import ReferenceModel


def replayed(container: Container, *, batch_size: int, per_event: bool) -> dict[str, list[str]]:
    """Every row of the subscription index, people view, fan-out and person links, rebuilt from the store."""
    models = container.read_models
    people: ReadModel = PerEventPeople(models.db) if per_event else models.people
    chosen = [models.index, people, models.request_notifications, models.fanout, models.person_links]
    for model in chosen:
        models.db.drop(model.tables, model.tracking_names())
        model.create_tables()
    Follower(container.app, *chosen, batch_size=batch_size).drain()
    return {table: table_rows(container, table) for model in chosen for table in model.tables}


def check(backend: str, case: tuple[list[int], list[tuple[str | None, str | None]], list[Any]]) -> None:
    sponsors, contacts, operations = case
    with store(backend) as container:
        walk = Walk(container, ReferenceModel())
        walk.setup(sponsors, contacts)
        for step, op in enumerate(operations):
            walk.apply(step, op)
        whole = replayed(container, batch_size=10_000, per_event=False)
        one_by_one = replayed(container, batch_size=1, per_event=True)
        assert whole["people"], "the people view is empty"
        assert whole == one_by_one


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=history)
def test_set_wise_equals_event_by_event_sqlite(case: Any) -> None:
    check("sqlite", case)


@pytest.mark.postgres
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=history)
def test_set_wise_equals_event_by_event_postgres(case: Any) -> None:
    check("postgres", case)
