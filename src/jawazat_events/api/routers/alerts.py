"""`/v1/alerts`: an establishment's alerts with their delivery status and attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jawazat_events.api.deps import CurrentEstablishment, Store
from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.schemas import AlertList, AlertOut, IdNumber, QueryTime
from jawazat_events.domain.delivery import AlertStatus
from jawazat_events.domain.moments import utc_iso
from jawazat_events.projections.queries import list_alerts

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=responses(*AUTHENTICATED))


@router.get("", response_model=AlertList, summary="The establishment's alerts, oldest first")
def read_alerts(
    establishment: CurrentEstablishment,
    container: Store,
    id_number: Annotated[IdNumber | None, Query(description="only alerts about this ID number")] = None,
    status: Annotated[AlertStatus | None, Query(description="only alerts in this status")] = None,
    since: Annotated[
        QueryTime | None, Query(description="only alerts created at or after this time (with offset)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="at most this many")] = 1000,
) -> AlertList:
    """Only the caller's own alerts. For more than `limit`, ask again with `since` set to the last
    `created_at` (alerts of that instant come again: skip the `alert_id`s already seen)."""
    rows = list_alerts(
        container.read_models.db,
        establishment=establishment,
        id_number=id_number,
        status=status,
        since=utc_iso(since) if since else None,
        limit=limit,
    )
    return AlertList(items=[AlertOut.model_validate(row) for row in rows])
