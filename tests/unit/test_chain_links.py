"""Unit tests of the hash chain's links and of how one position is judged against the chain (no I/O)."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid4

import pytest

from jawazat_events.audit.chain import (
    GENESIS,
    _Event,
    _Link,
    _pairs,
    check_pair,
    checkpoint_due,
    extend,
    link_of,
    parse_anchor,
)

ORIGINATOR = UUID("12345678-1234-5678-1234-567812345678")
TOPIC = "jawazat_events.domain.person:Person.BorderCrossed"


def test_a_link_is_sha256_over_the_documented_fields() -> None:
    state = b'{"direction":"entry"}'
    expected = hashlib.sha256(
        GENESIS
        + (7).to_bytes(8, "big")
        + ORIGINATOR.bytes
        + (3).to_bytes(8, "big")
        + len(TOPIC).to_bytes(4, "big")
        + TOPIC.encode()
        + hashlib.sha256(state).digest()
    ).digest()
    assert link_of(GENESIS, 7, ORIGINATOR, 3, TOPIC, state) == expected


@pytest.mark.parametrize(
    "changed",
    [
        (b"\x01" * 32, 7, ORIGINATOR, 3, TOPIC, b"s"),
        (GENESIS, 8, ORIGINATOR, 3, TOPIC, b"s"),
        (GENESIS, 7, uuid4(), 3, TOPIC, b"s"),
        (GENESIS, 7, ORIGINATOR, 4, TOPIC, b"s"),
        (GENESIS, 7, ORIGINATOR, 3, TOPIC + "X", b"s"),
        (GENESIS, 7, ORIGINATOR, 3, TOPIC, b"t"),
    ],
    ids=["previous", "position", "originator", "version", "topic", "state"],
)
def test_every_input_changes_the_link(changed: tuple[bytes, int, UUID, int, str, bytes]) -> None:
    assert link_of(*changed) != link_of(GENESIS, 7, ORIGINATOR, 3, TOPIC, b"s")


def test_extend_chains_in_position_order() -> None:
    a, b = uuid4(), uuid4()
    rows = extend(4, b"\x02" * 32, [(6, b, 1, TOPIC, b"y"), (5, a, 2, TOPIC, b"x")])
    first = link_of(b"\x02" * 32, 5, a, 2, TOPIC, b"x")
    assert rows == [(5, 4, a, 2, first), (6, 5, b, 1, link_of(first, 6, b, 1, TOPIC, b"y"))]


@pytest.mark.parametrize(
    ("previous", "last", "due"),
    [(None, 5, False), (9_999, 10_000, True), (10_000, 19_999, False), (None, 10_001, True)],
)
def test_checkpoints_fall_on_boundaries(previous: int | None, last: int, due: bool) -> None:
    assert checkpoint_due(previous, last) is due


def _event(position: int, state: bytes = b"s", originator: UUID = ORIGINATOR) -> _Event:
    return _Event(position, originator, 1, TOPIC, state)


def _link(position: int, previous_id: int | None, link: bytes, originator: UUID = ORIGINATOR) -> _Link:
    return _Link(position, previous_id, originator, 1, link)


def test_judging_one_position() -> None:
    good = link_of(GENESIS, 1, ORIGINATOR, 1, TOPIC, b"s")
    assert check_pair(_event(1), _link(1, None, good), None, GENESIS) == (None, good)
    kinds = {
        "altered": check_pair(_event(1, b"t"), _link(1, None, good), None, GENESIS),
        "deleted": check_pair(None, _link(1, None, good), None, GENESIS),
        "inserted": check_pair(_event(1), None, None, GENESIS),
        "reordered": check_pair(_event(1, originator=uuid4()), _link(1, None, good), None, GENESIS),
        "gone with its link": check_pair(_event(3), _link(3, 2, good), 1, good),
    }
    found = {name: result[0] for name, result in kinds.items()}
    assert {name: f.kind if f else None for name, f in found.items()} == {
        "altered": "altered",
        "deleted": "deleted",
        "inserted": "inserted",
        "reordered": "reordered",
        "gone with its link": "deleted",
    }
    gone = found["gone with its link"]
    assert gone is not None and gone.position == 2


def test_merging_two_position_streams() -> None:
    events = [_event(1), _event(2), _event(4)]
    links = [_link(1, None, GENESIS), _link(3, 1, GENESIS), _link(4, 3, GENESIS)]
    pairs = [
        (e.position if e else None, k.position if k else None) for e, k in _pairs(iter(events), iter(links))
    ]
    assert pairs == [(1, 1), (2, None), (None, 3), (4, 4)]


def test_anchors_parse_as_printed() -> None:
    assert parse_anchor(f"42:{'ab' * 32}") == (42, bytes.fromhex("ab" * 32))
    for bad in ("42", "x:ab", f"0:{'ab' * 32}", "42:abcd"):
        with pytest.raises(ValueError, match="POSITION:HEXLINK"):
            parse_anchor(bad)
