"""Auditors' tools: timelines, point-in-time subscriptions, export, the tamper-evident chain, rebuilds.

Nothing here is imported by the package itself: `store.py` imports only `audit.chain`'s hashing, and the
CLI and API import the modules they use.
"""
