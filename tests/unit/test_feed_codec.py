"""The compiled codec against the reference model: on generated lines, the same event or the same reason;
and the bulk path's encoder against the library's JSON transcoder: the same bytes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jawazat_events.services import feed, feed_codec
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.event_rows import EventRows
from tests.unit.test_feed import INVALID, VALID, variant

# Values a field may be given: good ones of every kind the feed has, near misses, and plain wrong types.
TEXTS = st.sampled_from(
    [
        "2000000006",
        "1000000008",
        "3000000001",
        "2000000001",
        " 2000000006 ",
        "٢٠٠٠٠٠٠٠٠٦",
        "7001234567",
        "7007654321",
        "8001234567",
        "IND",
        "ind",
        "XXX",
        "RUH",
        " RUH ",
        "Batha\n",
        "P\u202e123",
        "",
        "   ",
        "\u00a0x",
        "x\x1c",
        "محمد علي",
        "Mohammed  Ali",
        "exit",
        "entry",
        "transit",
        "work",
        "used",
        "issued",
        "married",
        "0501234567",
        "+966501234567",
        "12",
        "a@example.com",
        "not-an-email",
        "expiry:1",
        "src-2",
        "x" * 201,
        "2026-01-05",
        "2026-02-30",
        "2026-01-05T09:30:00+03:00",
        "2026-01-05T09:30:00Z",
        "2026-01-05T09:30:00z",
        "2026-01-05t09:30:00+03:00",
        "2026-01-05 09:30:00+03:00",
        "2026-01-05T09:30+03:00",
        "2026-01-05T09:30:00.5+03:00",
        "2026-01-05T09:30:00.1234567+03:00",
        "2026-01-05T09:30:00+0300",
        "2026-01-05T09:30:00+24:00",
        "2026-01-05T09:30:00-00:00",
        "2026-01-05T24:00:00+03:00",
        "2026-01-05T23:59:60+03:00",
        "0000-01-05T09:30:00+03:00",
        "9999-12-31T23:59:59-14:00",
        "1899-12-31",
        "2060-01-01",
    ]
)
VALUES = st.one_of(
    TEXTS,
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=10**10),
    st.lists(st.sampled_from(["a", 1]), max_size=2),
)
FIELDS = sorted({name for item in VALID.values() for name in item} | {"gate", "days_left", "details"})


@st.composite
def lines(draw: st.DrawFn) -> str:
    """A valid example of some type with a few fields changed, dropped or added."""
    item = dict(VALID[draw(st.sampled_from(sorted(VALID)))])
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        name = draw(st.sampled_from(FIELDS))
        if draw(st.booleans()) and name in item:
            del item[name]
        else:
            item[name] = draw(VALUES)
    return json.dumps(item, ensure_ascii=draw(st.booleans()))


def reference(raw: str) -> Any:
    try:
        return feed_codec.from_model(feed.parse_event(raw))
    except feed.FeedLineError as error:
        return str(error)


def lean(raw: str) -> Any:
    try:
        return feed_codec.decode(raw)
    except feed.FeedLineError as error:
        return str(error)


def assert_same(raw: str) -> None:
    expected, got = reference(raw), lean(raw)
    assert got == expected, raw
    if not isinstance(expected, str):
        # The same instants with the same offsets: the stored text of a time is its isoformat.
        assert got.occurred_at.isoformat() == expected.occurred_at.isoformat()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines())
@example(json.dumps(VALID["border_crossing"]))
def test_the_codec_agrees_with_the_reference_model(raw: str) -> None:
    assert_same(raw)


@pytest.mark.parametrize("raw", ['{"type": "border_crossing"', "[]", "{}", "null", '{"type": 1}', "\ufeff{}"])
def test_lines_that_are_not_events_get_the_reference_reason(raw: str) -> None:
    assert_same(raw)


@pytest.mark.parametrize(("event_type", "changes"), [(t, c) for _, t, c, _ in INVALID])
def test_every_bad_line_of_the_feed_table_gets_the_reference_reason(
    event_type: str, changes: dict[str, object]
) -> None:
    assert_same(json.dumps(variant(event_type, **changes), ensure_ascii=False))


def test_details_given_and_cleared_are_read_as_the_reference_reads_them() -> None:
    raw = json.dumps(variant("person_details_changed", mobile=None, email="A@Example.com", guardian=None))
    expected, got = feed.parse_event(raw), feed_codec.decode(raw)
    assert isinstance(expected, feed.PersonDetailsChanged)
    assert isinstance(got, feed_codec.PersonDetailsChangedLine)
    assert (got.given, got.cleared) == (expected.given, expected.cleared)
    assert (got.given, got.cleared) == (
        {"marital_status": "married", "email": "A@example.com"},
        ("guardian", "mobile"),
    )
    raw = json.dumps(variant("person_details_changed", mobile=None, marital_status=None))
    assert lean(raw) == reference(raw)  # marital_status cannot be cleared: the reference's sentence


def test_a_posted_item_is_decoded_like_its_line() -> None:
    for item in VALID.values():
        assert feed_codec.decode_item(dict(item)) == feed_codec.decode(json.dumps(item))
    with pytest.raises(feed.FeedLineError, match="must hold only JSON values"):
        feed_codec.decode_item({**VALID["border_crossing"], "port": float("nan")})


# ------------------------------------------------------------------------------- the encoder


def _transcoder() -> JSONTranscoder:
    app = JawazatApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    transcoder = app.mapper.transcoder
    assert isinstance(transcoder, JSONTranscoder)
    return transcoder


TRANSCODER = _transcoder()
ROWS = EventRows(Mapper(transcoder=TRANSCODER))
LEAVES = st.one_of(
    st.text(),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.dates(),
    st.datetimes(
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(-timedelta(hours=5))])
    ),
    st.uuids(),
)
STATES = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(st.text(max_size=4), inner, max_size=3),
        ),
        max_leaves=6,
    ),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(STATES)
@example({"s": 'a\x01\x7f\u2028\ud7ff\U0001f600"\\/', "d": date(2026, 1, 5), "t": ("a", "b")})
@example({"n": None, "when": datetime(2026, 1, 5, 9, 30, tzinfo=UTC), "id": UUID(int=7)})
def test_the_fast_encoder_writes_the_library_transcoders_bytes(state: dict[str, Any]) -> None:
    assert ROWS.encode(state) == TRANSCODER.encode(state)
