"""Browser fixtures: one chromium (Debian's, through Playwright) for the browser module, a real
`jawazat serve` on PostgreSQL with an aiosmtpd server on loopback, both per module. Never skipped: without
chromium or PostgreSQL these tests fail."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import Served
from tests.support.serve import serving
from tests.support.servers import running_smtp
from tests.support.stores import PG_ADMIN_URL
from tests.support.stores import admin as _admin

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One chromium for the module (the browser tests are one module). Playwright's sync API keeps an
    event loop running in this thread while it is open: closing it with the module lets later tests use
    `asyncio.run` again."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    name = f"jawazat_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    folder = tmp_path_factory.mktemp("portal")
    try:
        with running_smtp() as smtp:
            env = {
                **os.environ,
                "JAWAZAT_DATABASE_URL": f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
                "JAWAZAT_OUTBOX_DIR": str(folder / "outbox"),
                "JAWAZAT_SMTP_URL": smtp.url,
                # The contacts scenario's webhook receiver listens on loopback (an operator's allow-list).
                "JAWAZAT_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            }
            with serving(env, folder / "serve.log") as running:
                yield Served(url=running.url, env=env, smtp=smtp, process=running.process)
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def screenshots() -> Path | None:
    """Where page screenshots go: `JAWAZAT_PORTAL_SCREENSHOTS` (e.g. docs/portal), else nowhere."""
    folder = os.environ.get("JAWAZAT_PORTAL_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path
