"""Fixtures of the delivery tests: `make_world(**settings)` over loopback SMTP and Twilio servers."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import bootstrap
from jawazat_events.worker import Worker
from tests.support import registration
from tests.support.delivery import (
    CALLBACK_URL,
    EN_EMAIL,
    EN_MOBILE,
    PERSON_AR,
    PERSON_EN,
    SPONSOR_AR,
    SPONSOR_EN,
    World,
)
from tests.support.servers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    running_smtp,
    running_twilio,
)


@pytest.fixture
def make_world(database_url: str, tmp_path: Path) -> Iterator[Callable[..., World]]:
    """`make_world(**settings)`: the product with SMTP and Twilio on loopback, both establishments set up."""
    made: list[World] = []
    with running_smtp() as smtp, running_twilio() as twilio:

        def make(**settings: Any) -> World:
            defaults: dict[str, Any] = {
                "database_url": database_url,
                "smtp_url": smtp.url,
                "twilio_account_sid": TWILIO_ACCOUNT_SID,
                "twilio_auth_token": TWILIO_AUTH_TOKEN,
                "twilio_from": TWILIO_FROM,
                "twilio_api_base": twilio.url,
                "twilio_status_callback_url": CALLBACK_URL,
                "retry_base_seconds": 0.01,
                "outbox_dir": tmp_path / "outbox",
            }
            container = bootstrap(**(defaults | settings))
            container.rng = random.Random(20260701)  # retry jitter, repeatable
            world = World(container, smtp, twilio, Worker(container))
            made.append(world)
            establishments = container.establishments
            establishments.register(
                unified_number=SPONSOR_EN,
                name="Al Amal Contracting",
                email=EN_EMAIL,
                mobile=EN_MOBILE,
                language="en",
            )
            establishments.register(
                unified_number=SPONSOR_AR, name="مؤسسة النور للمقاولات", mobile="0500000000", language="ar"
            )
            world.post(
                registration("reg-en", id_number=PERSON_EN, sponsor=SPONSOR_EN),
                registration("reg-ar", id_number=PERSON_AR, sponsor=SPONSOR_AR, passport_number="P7654321")
                | {"name_ar": "راجيش كومار", "name_en": "Rajesh Kumar"},
            )
            return world

        try:
            yield make
        finally:
            for world in made:
                world.worker.close()
                world.container.close()
