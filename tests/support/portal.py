"""Helpers of the portal tests: a seeded store, a signed-in HTTP client, codes read from the outbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from jawazat_events.bootstrap import Container
from jawazat_events.server import create_server
from tests.support import CITIZEN, RESIDENT, SPONSOR_A, SPONSOR_B, ingest, line, registration
from tests.support.stores import FIXED_NOW

USER_A = "hr@noor.example"
USER_B = "hr@other.example"
AUDITOR = "auditor@jawazat.example"
OTHER_PERSON = "2000000014"  # sponsored by B
_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_CODE = re.compile(r"\b(\d{6})\b")


def seed(container: Container) -> None:
    """Two establishments with a portal user each, an auditor, and three people (two of A's, one of B's)."""
    ingest(
        container,
        [
            line(registration("reg-1", id_number=RESIDENT, sponsor=SPONSOR_A)),
            line(registration("reg-2", id_number=CITIZEN, sponsor=SPONSOR_A, passport_number="P2")),
            line(registration("reg-3", id_number=OTHER_PERSON, sponsor=SPONSOR_B, passport_number="P3")),
        ],
    )
    container.establishments.register(unified_number=SPONSOR_A, name="Al Noor", email=USER_A)
    container.establishments.register(unified_number=SPONSOR_B, name="Other", email=USER_B)
    users = container.portal_users
    users.add_user(unified_number=SPONSOR_A, email=USER_A, name="Noor HR")
    users.add_user(unified_number=SPONSOR_B, email=USER_B, name="Other HR")
    users.add_user(unified_number=None, role="auditor", email=AUDITOR, name="Audit office")


def csrf(page: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = _TOKEN.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def latest_code(outbox: Path) -> str:
    """The code in the newest sign-in message of the outbox folder."""
    files = sorted(outbox.glob("sign-in-*"), key=lambda p: p.stat().st_mtime_ns)
    assert files, f"no sign-in message in {outbox}"
    body = files[-1].read_text(encoding="utf-8").split("\n\n", 1)[-1]
    found = _CODE.search(body)
    assert found, body
    return found.group(1)


def ask_code(http: TestClient, email: str) -> str:
    """Ask for a code; returns the code page."""
    form = http.get("/portal/login")
    answer = http.post("/portal/login", data={"email": email, "csrf_token": csrf(form.text)})
    assert answer.status_code == 200, answer.text
    return answer.text


def sign_in(http: TestClient, email: str, outbox: Path) -> None:
    """Sign in with the code sent to the outbox; the client then holds the session cookie."""
    page = ask_code(http, email)
    done = http.post(
        "/portal/login/code",
        data={"code": latest_code(outbox), "csrf_token": csrf(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/portal/", done.text


@contextmanager
def client(container: Container, *, address: str = "10.0.0.1", https: bool = False) -> Iterator[TestClient]:
    """An HTTP client of the whole server (API and portal) from one client address."""
    app = create_server(container)
    base = "https://testserver" if https else "http://testserver"
    with TestClient(app, base_url=base, client=(address, 50000)) as http:
        yield http


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now
