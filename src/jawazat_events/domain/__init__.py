"""The domain model: aggregates, their events, value objects and rules. No I/O lives here."""
