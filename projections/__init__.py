"""Read models and fan-out: projections of the application sequence, each with its own tracking position."""
