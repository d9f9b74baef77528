"""Which failures park an event and which are retried (`projections/failures.py`), and how `Retry-After`
is read and honoured (`subscribers/sms.py`, `services/retry.py`): tables of real exception instances."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg_pool
import pytest
from eventsourcing import persistence

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.projections.failures import ClaimLost, Failure, PositionMoved, classify, describe
from jawazat_events.services.channels import DeliveryResult
from jawazat_events.services.retry import ExponentialBackoff
from jawazat_events.subscribers.sms import parse_retry_after


def wrapped(driver_error: Exception, library_class: type[Exception]) -> Exception:
    """A driver error as the eventsourcing library raises it (`raise Library(str(e)) from e`)."""
    try:
        try:
            raise driver_error
        except Exception as error:
            raise library_class(str(error)) from error
    except Exception as outer:
        return outer


def pg(sqlstate: str) -> Exception:
    return psycopg.errors.lookup(sqlstate)(f"SQLSTATE {sqlstate}")


TRANSIENT = [
    ("connection failure", wrapped(pg("08006"), persistence.OperationalError)),
    ("admin shutdown (restart)", wrapped(pg("57P01"), persistence.OperationalError)),
    ("cannot connect now (starting)", wrapped(pg("57P03"), persistence.OperationalError)),
    ("serialization failure", wrapped(pg("40001"), persistence.OperationalError)),
    ("deadlock", wrapped(pg("40P01"), persistence.OperationalError)),
    ("lock timeout", wrapped(pg("55P03"), persistence.OperationalError)),
    ("statement timeout", wrapped(pg("57014"), persistence.OperationalError)),
    ("disk full", wrapped(pg("53100"), persistence.OperationalError)),
    ("undefined table (schema, not the event)", wrapped(pg("42P01"), persistence.ProgrammingError)),
    ("pool timeout", wrapped(psycopg_pool.PoolTimeout("no connection"), persistence.OperationalError)),
    (
        "connection closed",
        wrapped(psycopg.InterfaceError("the connection is closed"), persistence.InterfaceError),
    ),
    ("sqlite busy", wrapped(sqlite3.OperationalError("database is locked"), persistence.OperationalError)),
    ("library operational error", persistence.OperationalError("server closed the connection")),
    ("tracking refused", persistence.IntegrityError("Failed to record tracking for Jawazat/people 12")),
    ("position moved", PositionMoved("another process moved Jawazat/people")),
    ("claim lost", ClaimLost("fanout: this worker no longer holds lock 0x4a5a0001/2")),
    ("OS error", ConnectionResetError("reset by peer")),
    ("memory", MemoryError()),
]

POISON = [
    ("datetime overflow in a handler", OverflowError("date value out of range")),
    ("bad value in a handler", ValueError("cannot render")),
    ("missing field in a handler", AttributeError("'Registered' object has no attribute 'id_number'")),
    ("key error", KeyError("sponsor")),
    ("numeric out of range", wrapped(pg("22003"), persistence.DataError)),
    ("invalid parameter (trigger)", wrapped(pg("22023"), persistence.DataError)),
    ("not-null violation", wrapped(pg("23502"), persistence.IntegrityError)),
    ("check violation", wrapped(pg("23514"), persistence.IntegrityError)),
    ("sqlite constraint", wrapped(sqlite3.IntegrityError("constraint failed"), persistence.IntegrityError)),
    ("library data error alone", persistence.DataError("bad data")),
]


@pytest.mark.parametrize(("case", "error"), TRANSIENT, ids=[case for case, _ in TRANSIENT])
def test_the_database_failing_is_transient(case: str, error: Exception) -> None:
    assert classify(error) is Failure.TRANSIENT, case


@pytest.mark.parametrize(("case", "error"), POISON, ids=[case for case, _ in POISON])
def test_an_event_that_cannot_be_applied_is_poison(case: str, error: Exception) -> None:
    assert classify(error) is Failure.POISON, case


def test_a_parked_error_is_one_bounded_line() -> None:
    assert describe(ValueError("bad\x00 value\n  on two\tlines")) == ("ValueError", "bad value on two lines")
    assert describe(KeyError()) == ("KeyError", "KeyError")
    assert len(describe(ValueError("x" * 5000))[1]) == 2000


NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("Wed, 01 Jul 2026 09:00:30 GMT", 30.0),
        ("Wed, 01 Jul 2026 08:59:00 GMT", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
    ],
)
def test_retry_after_is_read_as_seconds_from_now(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [(None, 30.0), (10.0, 30.0), (120.0, 120.0), (86_400.0, 3_600.0)],
)
def test_the_retry_policy_never_retries_sooner_than_asked(retry_after: float | None, delay: float) -> None:
    policy = ExponentialBackoff(base_seconds=30, max_attempts=8, rng=random.Random(1))
    policy.rng.uniform = lambda a, b: 1.0  # type: ignore[method-assign]  # no jitter: exact delays
    result = DeliveryResult.retry("Twilio HTTP 429", retry_after=retry_after)
    outcome, detail, next_at = policy.decide(
        failures=1, age=timedelta(0), now=NOW, reason=result.detail, retry_after=result.retry_after
    )
    assert outcome == AttemptOutcome.RETRY and next_at == NOW + timedelta(seconds=delay)
    assert ("Retry-After" in detail) == (retry_after is not None and retry_after > 30)
