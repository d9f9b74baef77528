"""Idempotent commands: the first answer to a key is saved with the command's changes, in one transaction.

A command builds its changes (aggregates with pending events) and its answer; `RequestWriter.commit` saves
them together with the key's `IdempotentRequest`. The same key and the same request again gets the saved
answer without running anything; the same key with another request is refused (422). When the store
refuses a save because another writer got there first (the same key, or the same record changed), the
writer looks for the key's answer, and otherwise builds the command again from the store's new state,
where the command's own rules then decide (e.g. a duplicate permit is a conflict).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.idempotency import IdempotentRequest, check_idempotency_key, idempotency_id
from jawazat_events.domain.requests import RequestConflict
from jawazat_events.services.application import EventKey, JawazatApplication

MAX_ATTEMPTS = 5
Answer = dict[str, Any]


class IdempotencyMismatch(InvalidValue):
    """The key was used before with a different request."""


def fingerprint(route: str, body: Any) -> str:
    """SHA-256 of the route and the request's content in canonical JSON (key order and spacing ignored)."""
    canonical = json.dumps(
        [route, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IdempotencyClaim:
    """A request's key (scoped to its caller) and what the request was."""

    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, *, scope: str, key: str | None, route: str, body: Any) -> IdempotencyClaim | None:
        """The claim of a request, or None when it came without a key."""
        if key is None:
            return None
        return cls(scope=scope, key=check_idempotency_key(key), fingerprint=fingerprint(route, body))


@dataclass(frozen=True)
class Changes:
    """What a command decided: the aggregates to save, source event ids to key, and the answer."""

    aggregates: Sequence[Aggregate]
    answer: Answer
    event_keys: Sequence[EventKey] = ()


class RequestWriter:
    """Saves commands' changes atomically with their idempotency record; retries lost races."""

    def __init__(self, app: JawazatApplication) -> None:
        self.app = app

    def find(self, key: Any) -> Aggregate | None:
        """An aggregate's current state, or None when it was never saved."""
        try:
            return cast(Aggregate, self.app.repository.get(key))
        except AggregateNotFoundError:
            return None

    def earlier_answer(self, claim: IdempotencyClaim | None) -> Answer | None:
        """The answer a first request with this key got, or None; 422 when the key was used otherwise."""
        if claim is None:
            return None
        record = self.find(idempotency_id(claim.scope, claim.key))
        if not isinstance(record, IdempotentRequest):
            return None
        if record.fingerprint != claim.fingerprint:
            raise IdempotencyMismatch(
                "Idempotency-Key was already used for a different request: send a new key for a new request"
            )
        return dict(record.answer)

    def commit(self, build: Callable[[], Changes], *, claim: IdempotencyClaim | None = None) -> Answer:
        """Run `build` (from the store's current state) and save its changes with the claim's answer."""
        earlier = self.earlier_answer(claim)
        if earlier is not None:
            return earlier
        for _ in range(MAX_ATTEMPTS):
            changes = build()
            aggregates = list(changes.aggregates)
            if claim is not None:
                aggregates.append(
                    IdempotentRequest(
                        scope=claim.scope, key=claim.key, fingerprint=claim.fingerprint, answer=changes.answer
                    )
                )
            try:
                with self.app.batch_lock:
                    if changes.event_keys:
                        self.app.save_keyed(aggregates, changes.event_keys)
                    else:
                        self.app.save(*aggregates)
                return changes.answer
            except IntegrityError:
                self.app.cache.discard(a.id for a in aggregates)
                earlier = self.earlier_answer(claim)
                if earlier is not None:
                    return earlier
        raise RequestConflict("the record kept changing under concurrent requests; retry")
