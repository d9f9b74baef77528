"""One PostgreSQL connection that LISTENs on NOTIFY channels and wakes whoever waits on each, surviving
restarts of the server.

The worker listens on two channels: the store's (the eventsourcing recorder NOTIFYs it in every
transaction that records events: the projections have work) and `ALERTS_CHANNEL` (a trigger on the alerts
table NOTIFYs it when alerts are added: delivery has work). A notification only says "look now": the loops
always read the database for what there is to do, so a lost or repeated notification costs nothing but a
wait of the loop's fallback poll, or one empty look.

When the connection is lost (the server restarted, the session killed) the listener connects again with
back-off (0.1 s doubling to 5 s); once it LISTENs again it wakes every loop, since notifications sent while
it was away are gone. `listening` says whether notifications can arrive now: the loops wait their short
poll instead while it is False. A silent connection is checked every few seconds (`SELECT 1`), so a
half-open one is found out even when the server never said goodbye.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 5.0
# How long the connection may stay silent before it is checked, and how often `stop` is looked at.
CHECK_AFTER_SECONDS = 5.0
SLICE_SECONDS = 0.5


class Listener:
    """LISTENs on `wakers`' channels and calls a channel's waker for each notification on it."""

    def __init__(
        self, conninfo: str, wakers: Mapping[str, Callable[[], None]], *, stop: threading.Event
    ) -> None:
        self.conninfo = conninfo
        self.wakers = dict(wakers)
        self.stop = stop
        self.connections = 0  # how many times it has connected and LISTENed (1 + reconnects)
        self.notifications = 0
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """True while the connection is up and LISTENing (notifications can arrive)."""
        return self._listening.is_set()

    def wait_listening(self, timeout: float) -> bool:
        """Wait until the listener LISTENs (tests, start-up); False when it did not within `timeout`."""
        return self._listening.wait(timeout)

    def start(self) -> None:
        """Listen in a daemon thread until `stop` is set."""
        self._thread = threading.Thread(target=self.run, name="jawazat-listen", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Connect, LISTEN, wake on each notification; reconnect with back-off when the connection is lost."""
        backoff = FIRST_BACKOFF_SECONDS
        failures = 0
        while not self.stop.is_set():
            try:
                with psycopg.connect(
                    self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
                ) as conn:
                    for channel in self.wakers:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.connections += 1
                    self._listening.set()
                    if failures:
                        log.warning("LISTEN connection back after %d failed attempt(s)", failures)
                    failures, backoff = 0, FIRST_BACKOFF_SECONDS
                    self._wake_all()  # what was notified while we were away is lost: everyone looks
                    self._listen(conn)
            except psycopg.Error as error:
                failures += 1
                if failures == 1:
                    log.warning(
                        "LISTEN connection lost or refused (%s); polling meanwhile, reconnecting",
                        type(error).__name__,
                    )
            finally:
                self._listening.clear()
            if not self.stop.is_set():
                self._wake_all()  # the loops switch to their short poll while nobody listens
                self.stop.wait(backoff)
                backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        quiet_since = time.monotonic()
        while not self.stop.is_set():
            heard = False
            for notify in conn.notifies(timeout=SLICE_SECONDS):
                heard = True
                self.notifications += 1
                waker = self.wakers.get(notify.channel)
                if waker is not None:
                    waker()
            if heard:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > CHECK_AFTER_SECONDS:
                conn.execute("SELECT 1")  # raises if the connection is gone
                quiet_since = time.monotonic()

    def _wake_all(self) -> None:
        for waker in self.wakers.values():
            waker()
