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
# The PostgreSQL NOTIFY channel on which a transaction that adds alerts announces them (a trigger on the
# alerts table, `projections/alert_status.py`); delivery loops LISTEN on it (`projections/listener.py`).
ALERTS_CHANNEL = "jawazat_alerts"
# Delivery latency as delivery workers observed it: a histogram's buckets (`projections/delivery_latency.py`).
DELIVERY_LATENCY = "delivery_latency"
REQUESTS = "eservice_requests"
# Channel settings (webhooks, quiet hours, digests) by position, beside the subscription index's versions.
CHANNEL_SETTINGS = "channel_settings_versions"
# Passport-expiry e-mails an establishment folds into its daily digest, until a digest lists them.
DIGEST_ITEMS = "digest_items"
# The engine's own keys (the webhook secrets' sealing key when none is configured); never rebuilt.
ENGINE_KEYS = "engine_keys"
HEARTBEATS = "worker_heartbeats"
REBUILD_MARKERS = "jawazat_rebuilds"
PARKED = "parked_events"
# The library's tracking table: named by us on PostgreSQL, the library's fixed name on SQLite.
TRACKING_TABLE = "jawazat_tracking"
SQLITE_TRACKING_TABLE = "tracking"
