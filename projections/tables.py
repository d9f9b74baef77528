"""Every read-model table's name, once: the read models, delivery, the queries and the rebuild use these.

The store's own tables are named beside their recorder (`store.EVENT_IDS_TABLE`, `audit.chain.CHAIN_TABLE`,
`audit.chain.CHECKPOINTS_TABLE`); the library names its events table (`jawazat_events` on PostgreSQL,
`stored_events` on SQLite). docs/architecture.md ("Tables") lists them all.
"""

from __future__ import annotations

SUBSCRIPTIONS = "subscription_versions"
ESTABLISHMENTS = "establishment_versions"
PEOPLE = "people"
PERSON_LINKS = "person_links"
ALERTS = "alerts"
REQUESTS = "eservice_requests"
HEARTBEATS = "worker_heartbeats"
REBUILD_MARKERS = "jawazat_rebuilds"
PARKED = "parked_events"
# The library's tracking table: named by us on PostgreSQL, the library's fixed name on SQLite.
TRACKING_TABLE = "jawazat_tracking"
SQLITE_TRACKING_TABLE = "tracking"
