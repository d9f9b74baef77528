"""Application services: load, change and save aggregates; plain values out; Protocols for what they read."""
