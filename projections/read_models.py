"""The read models the worker runs, over one read-model database, in processing order."""

from __future__ import annotations

from dataclasses import dataclass

from jawazat_events.projections import parking
from jawazat_events.projections.base import ReadModel, ReadModelDatabase
from jawazat_events.projections.fanout import AlertFanout
from jawazat_events.projections.people import PeopleView
from jawazat_events.projections.subscription_index import SubscriptionIndex


@dataclass
class ReadModels:
    """The subscription index, the people view and the alert fan-out, sharing one read-model database."""

    db: ReadModelDatabase
    index: SubscriptionIndex
    people: PeopleView
    fanout: AlertFanout

    @classmethod
    def create(cls, db: ReadModelDatabase, *, fanout_partitions: int) -> ReadModels:
        """The read models over `db`, their tables (and the parked events' table) made if missing."""
        models = cls(
            db=db,
            index=SubscriptionIndex(db),
            people=PeopleView(db),
            fanout=AlertFanout(db, partitions=fanout_partitions),
        )
        for model in models.all():
            model.create_tables()
        db.create(parking.schema())
        return models

    def all(self) -> list[ReadModel]:
        """Every read model, in the order a worker processes them (what one reads comes first)."""
        return [self.index, self.people, self.fanout]

    def named(self, name: str) -> ReadModel:
        """The read model called `name`."""
        for model in self.all():
            if model.name == name:
                return model
        raise KeyError(f"no read model is called '{name}'")
