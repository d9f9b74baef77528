"""The API's Prometheus metrics: this process's counters and histograms, and store figures read at scrape.

Counters and histograms live in one registry of this module (no I/O: creating them only allocates).
Store-wide figures (alerts by channel and status, projection lag, parked events, and the delivery-latency
histogram the delivery workers keep in the store, `projections/delivery_latency.py`) are read from the
database when `/metrics` is scraped, so they are true whichever process, on whichever host, did the work.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from jawazat_events.bootstrap import Container
from jawazat_events.projections.delivery_latency import histograms
from jawazat_events.projections.lag import projection_lags
from jawazat_events.projections.tables import ALERTS

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_INGESTED = Counter(
    "jawazat_events_ingested",
    "Events posted to POST /v1/events by this process, by event type and outcome.",
    ["type", "status"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "jawazat_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "jawazat_http_request_duration_seconds",
    "Time to answer HTTP requests, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
    registry=REGISTRY,
)


def record_ingest(outcomes: Iterable[tuple[str, str | None]]) -> None:
    """Count posted events by (status, event type); unparseable items count as type `invalid`."""
    counts: dict[tuple[str, str], int] = {}
    for status, event_type in outcomes:
        key = (event_type or "invalid", status)
        counts[key] = counts.get(key, 0) + 1
    for (event_type, status), count in counts.items():
        EVENTS_INGESTED.labels(type=event_type, status=status).inc(count)


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    HTTP_DURATION.labels(route=route).observe(seconds)


class StoreCollector(Collector):
    """Figures read from the store at scrape time: alerts by channel and status, projection lag, parked."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: never touch the store while registering

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("jawazat_store_up", "1 when the store answered this scrape's queries.")
        try:
            figures = self._read()
        except Exception as error:  # the scrape must still answer, saying the store did not
            log.warning("metrics: store did not answer: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _read(self) -> list[Metric]:

        container = self.container
        models = container.read_models
        head = container.app.recorder.max_notification_id() or 0
        alerts = GaugeMetricFamily(
            "jawazat_alerts", "Alerts in the store by channel and status.", labels=["channel", "status"]
        )
        latency = HistogramMetricFamily(
            "jawazat_delivery_latency_seconds",
            "Time from an alert's event being recorded to the channel (SMTP server, Twilio, webhook "
            "receiver) accepting its message, by channel, as every delivery worker observed it.",
            labels=["channel"],
        )
        with models.db.reading() as sql:
            rows: list[dict[str, Any]] = sql.execute(
                f"SELECT channel, status, COUNT(*) AS n FROM {ALERTS} GROUP BY channel, status"
            ).fetchall()
            for channel, histogram in histograms(sql).items():
                latency.add_metric(
                    [channel],
                    [("+Inf" if math.isinf(le) else str(le), float(n)) for le, n in histogram.buckets],
                    histogram.total_seconds,
                )
        for row in rows:
            alerts.add_metric([str(row["channel"]), str(row["status"])], float(row["n"]))
        lag = GaugeMetricFamily(
            "jawazat_projection_lag_events",
            "Positions between the store's head and each projection (the slowest partition for fan-out).",
            labels=["projection"],
        )
        parked = GaugeMetricFamily(
            "jawazat_parked_events",
            "Events a projection could not apply and set aside (`jawazat projections parked`).",
            labels=["projection"],
        )
        for projection in projection_lags(models.all(), head):
            lag.add_metric([projection.projection], float(projection.lag))
            parked.add_metric([projection.projection], float(projection.parked))
        head_metric = GaugeMetricFamily("jawazat_store_head_position", "The store's last position.")
        head_metric.add_metric([], float(head))
        return [alerts, lag, parked, head_metric, latency]


def render_process() -> bytes:
    """This process's metrics in the Prometheus text exposition."""
    return generate_latest(REGISTRY)


def render_store(container: Container) -> bytes:
    """The store's figures in the Prometheus text exposition (read from the store now)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(StoreCollector(container))
    return generate_latest(scrape)
