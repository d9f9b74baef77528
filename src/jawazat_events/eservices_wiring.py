"""Composition of the e-services (part of the composition root): their services over the store, the
clock, the read models and the settings it is handed; `Container.eservices` builds it once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from jawazat_events.attachments import FolderAttachmentStore
from jawazat_events.projections import runner
from jawazat_events.projections.read_models import ReadModels
from jawazat_events.projections.requests import RequestsQueries
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.hajj_seasons import HajjSeasons
from jawazat_events.services.makkah_permits import MakkahPermitService
from jawazat_events.services.passports import PassportService
from jawazat_events.services.tickets import TicketService
from jawazat_events.services.travel_permits import TravelPermitService
from jawazat_events.settings import Settings


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


def build_eservices(
    *,
    app: JawazatApplication,
    models: ReadModels,
    settings: Settings,
    clock: Callable[[], datetime],
    today: Callable[[], date],
) -> EServices:
    """Build every e-service over these parts (`clock` and `today` are called at each use: a test may
    change the container's clock)."""
    lock = threading.Lock()

    def catch_up() -> None:
        # Read-your-writes for listings: the requests view at the store's head, one catch-up at a time.
        with lock:
            runner.catch_up(app, models.requests, batch_size=settings.projection_batch_size)

    queries = RequestsQueries(models.db, catch_up=catch_up)
    seasons = HajjSeasons(settings.season_overrides)
    attachments = FolderAttachmentStore(settings.attachments_dir)
    return EServices(
        passports=PassportService(app=app, clock=clock, today=today),
        travel_permits=TravelPermitService(
            app=app,
            clock=clock,
            today=today,
            listing=queries,
            max_days=settings.travel_permit_max_days,
        ),
        makkah_permits=MakkahPermitService(
            app=app, clock=clock, today=today, listing=queries, seasons=seasons
        ),
        tickets=TicketService(app=app, clock=clock, listing=queries, attachments=attachments),
        queries=queries,
        seasons=seasons,
        attachments=attachments,
    )
