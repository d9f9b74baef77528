"""Composition of the e-services (part of the composition root): their services over the container's
store, clock, read models and settings; `Container.eservices` builds it once."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError

from jawazat_events.attachments import FolderAttachmentStore
from jawazat_events.projections.requests import RequestsQueries
from jawazat_events.projections.runner import Follower
from jawazat_events.services.hajj_seasons import HajjSeasons
from jawazat_events.services.makkah_permits import MakkahPermitService
from jawazat_events.services.passports import PassportService
from jawazat_events.services.tickets import TicketService
from jawazat_events.services.travel_permits import TravelPermitService

if TYPE_CHECKING:
    from jawazat_events.bootstrap import Container

CATCH_UP_ATTEMPTS = 5


@dataclass
class EServices:
    """The directorate's other e-services, wired."""

    passports: PassportService
    travel_permits: TravelPermitService
    makkah_permits: MakkahPermitService
    tickets: TicketService
    queries: RequestsQueries
    seasons: HajjSeasons
    attachments: FolderAttachmentStore


def build_eservices(container: Container) -> EServices:
    """Build every e-service over the container's parts."""
    app = container.app
    models = container.read_models
    settings = container.settings
    lock = threading.Lock()

    def catch_up() -> None:
        # Read-your-writes for listings: bring the requests view to the store's head. A worker (or another
        # API process) may be advancing it too; its tracking record then refuses our batch, and the next
        # attempt starts from where it got to.
        with lock:
            for attempt in range(CATCH_UP_ATTEMPTS):
                try:
                    Follower(app, models.requests, batch_size=settings.projection_batch_size).drain()
                    return
                except IntegrityError:
                    if attempt == CATCH_UP_ATTEMPTS - 1:
                        raise

    queries = RequestsQueries(models.db, catch_up=catch_up)
    seasons = HajjSeasons(settings.season_overrides)
    attachments = FolderAttachmentStore(settings.attachments_dir)
    return EServices(
        passports=PassportService(app=app, clock=lambda: container.clock(), today=container.today),
        travel_permits=TravelPermitService(
            app=app,
            clock=lambda: container.clock(),
            today=container.today,
            listing=queries,
            max_days=settings.travel_permit_max_days,
        ),
        makkah_permits=MakkahPermitService(
            app=app, clock=lambda: container.clock(), today=container.today, listing=queries, seasons=seasons
        ),
        tickets=TicketService(
            app=app, clock=lambda: container.clock(), listing=queries, attachments=attachments
        ),
        queries=queries,
        seasons=seasons,
        attachments=attachments,
    )
