"""The read models the worker runs, over one read-model database, in processing order."""

from __future__ import annotations

from dataclasses import dataclass

from jawazat_events.projections import parking
from jawazat_events.projections.base import ReadModel, ReadModelDatabase
from jawazat_events.projections.fanout import AlertFanout
from jawazat_events.projections.people import PeopleView
from jawazat_events.projections.person_links import PersonLinksView
from jawazat_events.projections.request_notifications import RequestNotifications
from jawazat_events.projections.requests import RequestsView
from jawazat_events.projections.subscription_index import SubscriptionIndex


@dataclass
class ReadModels:
    """The subscription index, the people view, the e-services' requests view and request notifications,
    the alert fan-out, and the person links (the portal's look-ups of people by contact and guardian),
    sharing one read-model database."""

    db: ReadModelDatabase
    index: SubscriptionIndex
    people: PeopleView
    requests: RequestsView
    request_notifications: RequestNotifications
    fanout: AlertFanout
    person_links: PersonLinksView

    @classmethod
    def create(cls, db: ReadModelDatabase, *, fanout_partitions: int, indexes: bool = True) -> ReadModels:
        """The read models over `db`, their tables (and the parked events' table) made if missing, with
        their secondary indexes unless `indexes` is off (a parallel rebuild's share: `audit.rebuild`)."""
        models = cls(
            db=db,
            index=SubscriptionIndex(db),
            people=PeopleView(db),
            requests=RequestsView(db),
            request_notifications=RequestNotifications(db),
            fanout=AlertFanout(db, partitions=fanout_partitions),
            person_links=PersonLinksView(db),
        )
        for model in models.all():
            model.create_tables(indexes=indexes)
        db.create(parking.schema())
        return models

    def all(self) -> list[ReadModel]:
        """Every read model, in the order a worker processes them (what one reads comes first; request
        notifications before the fan-out, so that a rebuild's replayed delivery events, which the fan-out
        applies, find the alert rows they update); the person links read nothing of the others."""
        return [
            self.index,
            self.people,
            self.requests,
            self.request_notifications,
            self.fanout,
            self.person_links,
        ]

    def named(self, name: str) -> ReadModel:
        """The read model called `name`."""
        for model in self.all():
            if model.name == name:
                return model
        raise KeyError(f"no read model is called '{name}'")
