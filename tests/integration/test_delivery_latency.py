"""The delivery-latency histogram kept in the store (`projections/delivery_latency.py`), on each backend:
observations land in their buckets, add up across transactions, and read back cumulative."""

from __future__ import annotations

import math

from jawazat_events.bootstrap import Container
from jawazat_events.projections.delivery_latency import BUCKETS, histograms, observe


def test_observations_add_up_in_their_buckets_and_read_back_cumulative(container: Container) -> None:
    db = container.read_models.db
    with db.transaction() as sql:
        observe(sql, [("email", 0.04), ("email", 0.3), ("sms", 7200.0), ("email", -1.0)])
    with db.transaction() as sql:
        observe(sql, [("email", 0.3), ("email", 0.5)])

    with db.reading() as sql:
        found = histograms(sql)

    email = dict(found["email"].buckets)
    assert [le for le, _ in found["email"].buckets] == list(BUCKETS)
    assert (email[0.05], email[0.25], email[0.5], email[math.inf]) == (2, 2, 5, 5)  # -1 counts as 0
    assert found["email"].count == 5
    assert math.isclose(found["email"].total_seconds, 0.04 + 0.3 + 0.3 + 0.5)
    sms = dict(found["sms"].buckets)
    assert (sms[3600.0], sms[math.inf]) == (0, 1)
