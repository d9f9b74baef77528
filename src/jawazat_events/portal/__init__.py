"""The web portal for establishments, auditors, officers and individuals, served by `jawazat serve` under
`/portal/`.

Server-rendered jinja2 pages, progressively enhanced with htmx, Arabic first (docs/portal.md).
"""

from __future__ import annotations

from jawazat_events.portal.app import create_portal

__all__ = ["create_portal"]
