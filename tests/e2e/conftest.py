"""End-to-end fixtures: the loopback SMTP server and Twilio endpoint that real processes deliver to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import FakeTwilio, LoopbackSmtp, running_smtp, running_twilio


@pytest.fixture
def servers() -> Iterator[tuple[LoopbackSmtp, FakeTwilio]]:
    """A loopback SMTP server and Twilio endpoint for the test."""
    with running_smtp() as smtp, running_twilio() as twilio:
        yield smtp, twilio
