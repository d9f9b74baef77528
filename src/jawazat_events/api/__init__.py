"""The HTTP API (FastAPI): establishments, source systems, auditors, health and metrics.

`create_app(container)` builds the application; `jawazat serve` runs it under uvicorn.
"""

from __future__ import annotations

from jawazat_events.api.app import create_app

__all__ = ["create_app"]
