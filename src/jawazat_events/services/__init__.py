"""Application services: load, change and save aggregates; adapters reach them only through `ports`.

Nothing here imports an adapter (store, projections, subscribers) or an entry point; the import contracts
in pyproject.toml check it (docs/architecture.md, "Layers").
"""
