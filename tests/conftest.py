"""Shared fixtures: fresh stores on each backend (SQLite file, real PostgreSQL), a fixed clock.

PostgreSQL tests never skip: if the server cannot be reached they fail, naming the URL tried.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from tests.support.figures import FIGURES, line
from tests.support.stores import pg_database, wired_container


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with pg_database() as url:
        yield url


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same scenario on each backend: one SQLite file, one PostgreSQL database."""
    name = "sqlite_database_url" if request.param == "sqlite" else "pg_database_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """The wired product on a fresh store, with a fixed clock (2026-07-01 12:00 in Riyadh)."""
    with wired_container(database_url, tmp_path) as wired:
        yield wired


# ------------------------------------------------------------------------------- parallel runs (xdist)
# The suite runs on two pytest-xdist workers (`-n 2 --dist loadfile` in pyproject.toml's addopts): each
# test module stays on one worker, its tests in the order they were written (the browser modules carry a
# signed-in page from test to test; several modules share a served app or a loaded store). The fault
# suite (tests/faults/) is one unit, its scenarios one after another and never beside each other (they kill
# processes, restart clusters and time throughput), and it goes first: its soak is the longest unit, so it
# runs while the other worker works through the rest. With `-n 0` the suite runs in one process, fault
# suite first.
FAULTS = Path(__file__).parent / "faults"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: FAULTS not in item.path.parents)  # stable: the rest keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FaultSuiteAsOneUnit(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/faults/"):
                return "tests/faults/"
            return str(super()._split_scope(nodeid))

    # Units in collection order (the fault suite first), not reordered by how many tests each holds.
    config.option.loadscopereorder = False
    return FaultSuiteAsOneUnit(config, log)


# The fault suite's figures are recorded where its tests ran: a worker hands its own to the controller,
# which prints them all in one section at the end of the run (as a run without workers does).
_WORKER_FIGURES: list[str] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["jawazat_figures"] = [line(scenario, figures) for scenario, figures in FIGURES]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    _WORKER_FIGURES.extend(getattr(node, "workeroutput", {}).get("jawazat_figures", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = [line(scenario, figures) for scenario, figures in FIGURES] + _WORKER_FIGURES
    if lines:
        terminalreporter.section("jawazat fault suite figures")
        for text in lines:
            terminalreporter.write_line(text)
