"""The IdempotentRequest aggregate: the first answer to a request sent with an `Idempotency-Key`.

One aggregate per (caller, key), with a deterministic id, saved in the SAME transaction as the changes the
request made: a retry with the same key finds it and gets the first answer back; two concurrent first
attempts collide on its version, so only one of them changes anything.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.identifiers import NAMESPACE

MAX_KEY_LENGTH = 255


def check_idempotency_key(raw: str) -> str:
    """1-255 visible ASCII characters (what clients put in the header: UUIDs, ULIDs, hashes)."""
    if not raw or len(raw) > MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in raw):
        raise InvalidValue(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} visible ASCII characters (e.g. a UUID)"
        )
    return raw


def idempotency_id(scope: str, key: str) -> UUID:
    """The deterministic aggregate id of one caller's key."""
    return uuid5(NAMESPACE, f"idempotency:{scope}:{key}")


class IdempotentRequest(Aggregate):
    """What a request sent with this key did: its fingerprint (route and body) and its answer."""

    @staticmethod
    def create_id(scope: str, key: str, **_: Any) -> UUID:
        return idempotency_id(scope, key)

    class Answered(Aggregate.Created):
        scope: str
        key: str
        fingerprint: str
        answer: dict[str, Any]

    @event(Answered)
    def __init__(self, *, scope: str, key: str, fingerprint: str, answer: dict[str, Any]) -> None:
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
        self.answer = answer
