"""What the request services read from the read models: listings and officers' queues (a Protocol)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Page:
    """One page of a listing and the cursor of the next (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class RequestListing(Protocol):
    """Listings of one kind of request, oldest first (a queue of pending ones is `status="pending"`).

    `requester` narrows to one requester's (`individual:2…`, `establishment:7…`); None lists everyone's.
    Implementations bring their read model up to date first, so a caller sees its own requests.
    """

    def page(
        self, kind: str, *, requester: str | None, status: str | None, limit: int, cursor: str | None
    ) -> Page: ...
