"""`jawazat users add|list|remove` as operators run them; `establishments add --email` adds the first user."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support import SPONSOR_A, run_jawazat


def test_users_commands(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JAWAZAT_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "JAWAZAT_OUTBOX_DIR": str(tmp_path),
    }
    assert (
        run_jawazat(
            "establishments", "add", SPONSOR_A, "--name", "Noor", "--email", "HR@noor.sa", env=env
        ).returncode
        == 0
    )
    added = run_jawazat("users", "add", SPONSOR_A, "--email", "ops@noor.sa", "--name", "Ops", env=env)
    assert added.returncode == 0 and "ops@noor.sa" in added.stdout
    auditor = run_jawazat("users", "add", "--role", "auditor", "--email", "audit@jawazat.sa", env=env)
    assert auditor.returncode == 0, auditor.stderr
    again = run_jawazat("users", "add", SPONSOR_A, "--email", "ops@noor.sa", env=env)
    assert again.returncode == 1 and "already" in again.stderr
    unknown = run_jawazat("users", "add", "7000000009", "--email", "x@y.sa", env=env)
    assert unknown.returncode == 1 and "7000000009" in unknown.stderr
    listed = run_jawazat("users", "list", "--json", env=env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["login"], r["role"], r["establishment"]) for r in rows] == [
        ("audit@jawazat.sa", "auditor", None),
        ("hr@noor.sa", "establishment", SPONSOR_A),
        ("ops@noor.sa", "establishment", SPONSOR_A),
    ]
    assert run_jawazat("users", "remove", "ops@noor.sa", env=env).returncode == 0
    only = run_jawazat("users", "list", SPONSOR_A, "--json", env=env).stdout
    assert "ops@noor.sa" not in only and "hr@noor.sa" in only
    assert run_jawazat("users", "remove", "ops@noor.sa", env=env).returncode == 1
