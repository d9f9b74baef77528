"""The tamper-evident hash chain over the stored event sequence: its links, checkpoints and verification.

Every stored event gets one link, written by the store's recorder in the same transaction as the event:

    link = sha256(previous link || notification id || originator id || originator version
                  || topic || sha256(stored state))

(fixed-width big-endian integers, the topic length-prefixed, the first previous link 32 zero bytes). The
chain row also keeps the previous link's notification id and the event's identity, so that `verify` can
name a deleted event. Every `CHECKPOINT_EVERY` positions the recorder also keeps the link reached as a
checkpoint. See docs/audit.md for what the chain does and does not protect against.

This module's top half is pure (the recorder imports it); the bottom half walks a store to verify it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

if TYPE_CHECKING:
    from jawazat_events.store import EventStoreRecorder

CHAIN_TABLE = "jawazat_chain"
CHECKPOINTS_TABLE = "jawazat_chain_checkpoints"
CHECKPOINT_EVERY = 10_000
GENESIS = bytes(32)

# (notification_id, previous_id, originator_id, originator_version, link)
ChainRow = tuple[int, int | None, UUID, int, bytes]


def link_of(
    previous: bytes,
    notification_id: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """The link of one stored event, given the link before it."""
    framed = _framed_topics.get(topic)
    if framed is None:
        topic_bytes = topic.encode("utf-8")
        framed = len(topic_bytes).to_bytes(4, "big") + topic_bytes
        if len(_framed_topics) < 1024:  # a store has a few dozen topics
            _framed_topics[topic] = framed
    return hashlib.sha256(
        b"".join(
            (
                previous,
                _int64(notification_id),
                originator_id.int.to_bytes(16, "big"),
                _int64(originator_version),
                framed,
                hashlib.sha256(state).digest(),
            )
        )
    ).digest()


# Fixed-width big-endian signed integers; each topic length-prefixed, kept once encoded.
_int64 = struct.Struct(">q").pack
_framed_topics: dict[str, bytes] = {}


def extend(
    previous_id: int | None,
    previous_link: bytes,
    stored: Sequence[tuple[int, UUID, int, str, bytes]],
) -> list[ChainRow]:
    """Chain rows for newly stored events `(notification_id, originator_id, version, topic, state)`."""
    rows: list[ChainRow] = []
    for notification_id, originator_id, version, topic, state in sorted(stored, key=lambda s: s[0]):
        previous_link = link_of(previous_link, notification_id, originator_id, version, topic, state)
        rows.append((notification_id, previous_id, originator_id, version, previous_link))
        previous_id = notification_id
    return rows


def checkpoint_due(previous_id: int | None, last_id: int) -> bool:
    """Whether the positions from just after `previous_id` to `last_id` cross a checkpoint boundary."""
    return (previous_id or 0) // CHECKPOINT_EVERY != last_id // CHECKPOINT_EVERY


def as_uuid(value: Any) -> UUID:
    """Originator ids come back as UUID (PostgreSQL) or hex text (SQLite)."""
    return value if isinstance(value, UUID) else UUID(str(value))


def _uuid_or_nil(value: Any) -> UUID:
    # A tampered SQLite row may hold anything; the nil UUID then differs from what the chain recorded.
    try:
        return as_uuid(value)
    except (ValueError, TypeError):
        return UUID(int=0)


def _bytes(value: Any) -> bytes:
    # SQLite keeps whatever was written: an edited BLOB can come back as TEXT (or NULL).
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (ValueError, TypeError):
        return -1


# --------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Finding:
    """The first place where the stored sequence and its chain disagree."""

    kind: str  # altered | deleted | inserted | reordered | anchor
    position: int
    originator_id: UUID | None
    originator_version: int | None
    detail: str

    def sentence(self) -> str:
        who = (
            f" (originator {self.originator_id} version {self.originator_version})"
            if self.originator_id is not None
            else ""
        )
        return f"{self.kind} event at position {self.position}{who}: {self.detail}"


@dataclass
class VerifyReport:
    """What a walk of the chain found: the head reached, or the first finding."""

    events: int = 0
    head_position: int | None = None
    head_link: bytes = GENESIS
    checkpoints: int = 0
    anchors: int = 0
    finding: Finding | None = None
    started_at_position: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.finding is None


@dataclass(frozen=True)
class _Event:
    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class _Link:
    position: int
    previous_id: int | None
    originator_id: UUID
    originator_version: int
    link: bytes


def parse_anchor(text: str) -> tuple[int, bytes]:
    """`POSITION:HEXLINK`, as `audit verify` prints it, into (position, link)."""
    position, _, link = text.partition(":")
    try:
        value = bytes.fromhex(link.strip())
        number = int(position)
    except ValueError:
        raise ValueError(f"anchor '{text}' must be POSITION:HEXLINK, as `audit verify` prints it") from None
    if len(value) != 32 or number < 1:
        raise ValueError(f"anchor '{text}' must be POSITION:HEXLINK with a 64-digit link")
    return number, value


class ChainReader:
    """Streams the events table and the chain table side by side, in one consistent snapshot."""

    def __init__(self, recorder: EventStoreRecorder, *, page_size: int = 5000) -> None:
        self.recorder = recorder
        self.page_size = page_size
        datastore = recorder.datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        if isinstance(datastore, PostgresDatastore):
            schema = datastore.schema or "public"
            self.events = f'"{schema}"."{recorder.events_table_name}"'
            self.chain = f'"{schema}"."{CHAIN_TABLE}"'
            self.checkpoints = f'"{schema}"."{CHECKPOINTS_TABLE}"'
            self.position = "notification_id"
        else:
            self.events = recorder.events_table_name
            self.chain = CHAIN_TABLE
            self.checkpoints = CHECKPOINTS_TABLE
            self.position = "rowid"

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A read-only transaction: one snapshot for every query made through it."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield cursor

    def _query(self, cursor: Any, name: str, statement: str, params: Sequence[Any]) -> Iterator[Any]:
        if self.postgres:
            with cursor.connection.cursor(name=name) as named:
                named.itersize = self.page_size
                named.execute(statement.replace("?", "%s"), params)
                yield from named
        else:
            reader = cursor.sqlite_cursor.connection.cursor()
            reader.execute(statement, params)
            while rows := reader.fetchmany(self.page_size):
                yield from rows

    def _scalar(self, cursor: Any, statement: str) -> int:
        cursor.execute(statement)
        row = cursor.fetchone()
        return int((row["value"] if row is not None else None) or 0)

    def head(self, cursor: Any) -> int:
        """The last position of the events table."""
        return self._scalar(cursor, f"SELECT MAX({self.position}) AS value FROM {self.events}")

    def chain_head(self, cursor: Any) -> int:
        """The last position the chain has a link for."""
        return self._scalar(cursor, f"SELECT MAX(notification_id) AS value FROM {self.chain}")

    def events_upto(self, cursor: Any, head: int) -> Iterator[_Event]:
        for row in self._query(
            cursor,
            "jawazat_verify_events",
            f"SELECT {self.position} AS notification_id, originator_id, originator_version, topic, state "
            f"FROM {self.events} WHERE {self.position} <= ? ORDER BY {self.position}",
            (head,),
        ):
            yield _Event(
                int(row["notification_id"]),
                _uuid_or_nil(row["originator_id"]),
                _int(row["originator_version"]),
                str(row["topic"] or ""),
                _bytes(row["state"]),
            )

    def links_upto(self, cursor: Any, head: int) -> Iterator[_Link]:
        for row in self._query(
            cursor,
            "jawazat_verify_links",
            f"SELECT notification_id, previous_id, originator_id, originator_version, link FROM {self.chain} "
            "WHERE notification_id <= ? ORDER BY notification_id",
            (head,),
        ):
            previous = row["previous_id"]
            yield _Link(
                int(row["notification_id"]),
                _int(previous) if previous is not None else None,
                _uuid_or_nil(row["originator_id"]),
                _int(row["originator_version"]),
                _bytes(row["link"]),
            )

    def checkpoint_links(self, cursor: Any) -> dict[int, bytes]:
        """Every stored checkpoint: position -> link."""
        cursor.execute(f"SELECT notification_id, link FROM {self.checkpoints}")
        return {int(row["notification_id"]): _bytes(row["link"]) for row in cursor.fetchall()}


def _pairs(events: Iterator[_Event], links: Iterator[_Link]) -> Iterator[tuple[_Event | None, _Link | None]]:
    """Merge two position-ordered streams into pairs at each position present in either."""
    event = next(events, None)
    link = next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.position < link.position):
            yield event, None
            event = next(events, None)
        elif event is None or link.position < event.position:
            yield None, link
            link = next(links, None)
        else:
            yield event, link
            event = next(events, None)
            link = next(links, None)


def check_pair(
    event: _Event | None, link: _Link | None, previous_id: int | None, previous: bytes
) -> tuple[Finding | None, bytes]:
    """Check one position against the chain so far; return a finding or the link it reaches."""
    if event is None:
        assert link is not None
        return Finding(
            "deleted",
            link.position,
            link.originator_id,
            link.originator_version,
            "the chain recorded this event here, and the events table no longer holds it",
        ), previous
    if link is None:
        return Finding(
            "inserted",
            event.position,
            event.originator_id,
            event.originator_version,
            "the events table holds an event the chain never recorded (written around the store)",
        ), previous
    if (event.originator_id, event.originator_version) != (link.originator_id, link.originator_version):
        return Finding(
            "reordered",
            event.position,
            event.originator_id,
            event.originator_version,
            f"the chain recorded originator {link.originator_id} version {link.originator_version} "
            "at this position: events were moved, swapped or replaced",
        ), previous
    if link.previous_id != previous_id:
        missing = link.previous_id if link.previous_id is not None else 0
        return Finding(
            "deleted",
            missing,
            None,
            None,
            f"the event recorded just before position {event.position} is gone together with its link "
            f"(the chain continues from position {missing}, the last intact one is {previous_id or 0})",
        ), previous
    expected = link_of(
        previous, event.position, event.originator_id, event.originator_version, event.topic, event.state
    )
    if expected != link.link:
        return Finding(
            "altered",
            event.position,
            event.originator_id,
            event.originator_version,
            "its stored topic or state (or its link) differs from what was recorded",
        ), previous
    return None, expected


def verify(
    recorder: EventStoreRecorder,
    *,
    anchors: Sequence[tuple[int, bytes]] = (),
    page_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Walk the whole chain (streaming) and report the first altered, deleted, inserted or moved event."""
    reader = ChainReader(recorder, page_size=page_size)
    report = VerifyReport()
    with reader.snapshot() as cursor:
        head = max(reader.head(cursor), reader.chain_head(cursor))
        checkpoints = reader.checkpoint_links(cursor)
        expected_links = {**checkpoints, **dict(anchors)}
        previous_id: int | None = None
        previous = GENESIS
        for event, link in _pairs(reader.events_upto(cursor, head), reader.links_upto(cursor, head)):
            finding, reached = check_pair(event, link, previous_id, previous)
            if finding is not None:
                report.finding = finding
                return report
            assert event is not None
            previous_id, previous = event.position, reached
            report.events += 1
            wanted = expected_links.get(event.position)
            if wanted is not None and wanted != reached:
                source = "an anchor" if event.position in dict(anchors) else "the stored checkpoint"
                report.finding = Finding(
                    "altered",
                    event.position,
                    event.originator_id,
                    event.originator_version,
                    f"the chain up to here no longer matches {source} for this position: "
                    "the chain was rewritten",
                )
                return report
            if progress is not None and report.events % page_size == 0:
                progress(event.position, head)
        report.head_position = previous_id
        report.head_link = previous
        report.checkpoints = sum(1 for p in checkpoints if p <= (previous_id or 0))
        report.anchors = len(anchors)
        for position, _ in anchors:
            if previous_id is None or position > previous_id:
                report.finding = Finding(
                    "deleted",
                    position,
                    None,
                    None,
                    "an anchor names this position, but the chain ends before it: events were removed",
                )
                return report
        lost = [p for p in checkpoints if previous_id is None or p > previous_id]
        if lost:
            report.finding = Finding(
                "deleted",
                min(lost),
                None,
                None,
                "a checkpoint names this position, but the chain ends before it: events were removed",
            )
        if progress is not None:
            progress(head, head)
    return report
