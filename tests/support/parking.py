"""Poison for the parking tests: a genuinely poisonous stored event, and a database "bug" to fix later.

`poisonous_crossing` writes a crossing dated 9999-12-31T23:59:59-14:00 through the aggregate (as the feed
let it in on the old code): neither the people view nor the fan-out can turn it into UTC. `refuse_alerts`
installs a trigger that refuses the alert rows of one event (a data exception on PostgreSQL, an abort on
SQLite), as a bug in the read side would; `fix_alerts` drops it, which is "the fix" retry-parked follows.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from eventsourcing.domain import Aggregate

from jawazat_events.bootstrap import Container
from jawazat_events.domain.identifiers import person_id
from jawazat_events.domain.person import Person
from jawazat_events.projections.tables import ALERTS

POISON_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
TRIGGER = "jawazat_test_refuse_alerts"


def poisonous_crossing(container: Container, id_number: str, event_id: str) -> None:
    """Store a crossing at `POISON_TIME` for this (registered) person."""
    app = container.app
    key = person_id(id_number)
    person = app.load_many([key])[key]
    assert isinstance(person, Person)
    # The recording method itself: whatever the feed's time rule says, the store can hold such an event.
    person._crossed(
        id_number=id_number,
        event_id=event_id,
        occurred_at=POISON_TIME,
        sponsor=person.sponsor_at(POISON_TIME),
        direction="entry",
        port="RUH",
    )
    touched: list[Aggregate] = [person]
    app.save_keyed(touched, [(event_id, person.id, person.version)])


def refuse_alerts(container: Container, event_id: str) -> None:
    """Make the alerts table refuse the rows of `event_id` (the read models' tables must exist)."""
    db = container.read_models.db
    with db.transaction() as sql:
        if db.postgres:
            sql.cursor.execute(  # no parameters: the function's body has its own % placeholders
                f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.event_id = '{event_id}' THEN "
                "RAISE EXCEPTION 'alert rows of % refused', NEW.event_id USING ERRCODE = '22023'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            sql.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {ALERTS} "
                f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
            )
        else:
            sql.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {ALERTS} WHEN NEW.event_id = '{event_id}' "
                f"BEGIN SELECT RAISE(ABORT, 'alert rows of {event_id} refused'); END"
            )


def fix_alerts(container: Container) -> None:
    """Drop the refusing trigger: the "fix" after which parked events apply."""
    db = container.read_models.db
    with db.transaction() as sql:
        if db.postgres:
            sql.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {ALERTS}")
        else:
            sql.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
