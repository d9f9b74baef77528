"""Helpers of the browser tests: a running `jawazat serve` with its mailbox, and the codes it sends."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from email.message import EmailMessage

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
