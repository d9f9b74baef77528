"""Helpers of the browser tests: a running `jawazat serve` with its mailbox, and the codes it sends."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.support import jawazat_command
from tests.support.servers import LoopbackSmtp

_CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Served:
    """A running `jawazat serve` with its database, outbox and mailbox."""

    url: str
    env: dict[str, str]
    smtp: LoopbackSmtp
    process: subprocess.Popen[str]

    def jawazat(self, *args: str) -> str:
        done = subprocess.run(
            [*jawazat_command(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"jawazat {' '.join(args)}: {done.stderr}"
        return done.stdout

    def code_for(self, recipient: str, *, after: int) -> str:
        """The code in the first sign-in e-mail to `recipient` received after message number `after`."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for message in self.smtp.handler.messages()[after:]:
                if recipient in str(message["To"]) and "sign-in" in str(message["Subject"]):
                    assert isinstance(message, EmailMessage)
                    body = message.get_body(("plain",))
                    found = _CODE.search(body.get_content() if body else "")
                    assert found
                    return found.group(1)
            time.sleep(0.05)
        raise AssertionError(f"no sign-in code reached the SMTP server for {recipient} within 15 s")


def ingest(served: Served, items: list[dict[str, Any]]) -> None:
    """Store feed items in the served store (every one accepted)."""
    from jawazat_events.bootstrap import bootstrap
    from jawazat_events.services.ingest import parse_items

    wired = bootstrap(database_url=served.env["JAWAZAT_DATABASE_URL"])
    try:
        results = [r for r, _ in wired.ingestor.ingest(parse_items(items))]
        assert all(r.status == "accepted" for r in results), results
    finally:
        wired.close()


def sign_in(served: Served, browser: Any, login: str) -> Any:
    """A new browser page signed in as `login` with the code the server e-mailed (Arabic, the default)."""
    context = browser.new_context(locale="ar-SA", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{served.url}/portal/")
    assert page.url.endswith("/portal/login")
    assert page.locator("html").get_attribute("dir") == "rtl"
    before = len(served.smtp.handler.messages())
    page.fill("input[name=email]", login)
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", served.code_for(login, after=before))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/$"))
    return page


def axe_problems(
    served: Served, page: Any, pages: list[tuple[str, str]], screenshots: Path | None
) -> list[str]:
    """Visit each (name, path) in Arabic and English: serious or critical axe-core violations, as text;
    a screenshot of each in `screenshots` (`<name>-<lang>.png`) when a folder is given."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems: list[str] = []
    for language in ("ar", "en"):
        for name, path in pages:
            joiner = "&" if "?" in path else "?"
            answer = page.goto(f"{served.url}{path}{joiner}lang={language}")
            assert answer is not None and answer.status == 200, (path, answer and answer.status)
            assert page.locator("html").get_attribute("lang") == language
            for violation in axe.run(page).response["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    problems.append(f"{language} {path}: {violation['id']} ({violation['impact']})")
            if screenshots is not None:
                page.screenshot(path=str(screenshots / f"{name}-{language}.png"), full_page=True)
    return problems
