"""The fault suite's figures: each scenario records what it measured; they are printed as it runs (`-s`)
and again together at the end of the test run (`tests/conftest.py`
adds a summary section, gathering them from every xdist worker)."""

from __future__ import annotations

FIGURES: list[tuple[str, dict[str, object]]] = []


def record(scenario: str, **figures: object) -> None:
    """Keep one scenario's figures and print them at once."""
    FIGURES.append((scenario, figures))
    print(f"\nfault figures: {line(scenario, figures)}")


def line(scenario: str, figures: dict[str, object]) -> str:
    return f"{scenario}: " + "; ".join(f"{name.replace('_', ' ')} {value}" for name, value in figures.items())
