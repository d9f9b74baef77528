"""Auditors' storage-side tools: the tamper-evident hash chain over the stored events, and rebuilds.

They work on tables directly, so they sit with the adapters; the auditors' views (timelines, subscriptions
at a time, export) are services (`jawazat_events.services.audit`). `store.py` imports only `audit.chain`.
"""
