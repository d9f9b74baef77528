"""Extreme query parameters (times at the ends of the calendar, huge numbers, forged cursors) answer 422
naming the parameter, never 500, on every route that takes them, on each backend."""

from __future__ import annotations

import base64

import pytest

from tests.support.api import RESIDENT, SPONSOR_A, ApiWorld, problems

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EXTREME_TIMES = [
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:00:00-01:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999+00:00",
    "1899-12-31T23:59:59+00:00",
    "9500-01-01T00:00:00+00:00",
]
# 2000000006 in Arabic-Indic digits: \d matches them, but an ID number is ASCII digits only (else one person
# would have two ID numbers).
ARABIC_INDIC_RESIDENT = "".join(chr(0x0660 + int(d)) for d in RESIDENT)
TIMELINE = f"/v1/audit/people/{RESIDENT}/timeline"
SUBSCRIPTIONS_AT = f"/v1/audit/establishments/{SPONSOR_A}/subscriptions"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# (route, role, parameter, value)
CASES: list[tuple[str, str, str, str]] = [
    *(("/v1/alerts", "establishment", "since", t) for t in EXTREME_TIMES),
    *((TIMELINE, "auditor", "at", t) for t in EXTREME_TIMES),
    *((SUBSCRIPTIONS_AT, "auditor", "at", t) for t in EXTREME_TIMES),
    ("/v1/alerts", "establishment", "limit", "0"),
    ("/v1/alerts", "establishment", "limit", "-1"),
    ("/v1/alerts", "establishment", "limit", "1" + "0" * 40),
    ("/v1/alerts", "establishment", "limit", "1e3"),
    ("/v1/alerts", "establishment", "limit", "NaN"),
    ("/v1/alerts", "establishment", "id_number", "2" * 10_000),
    ("/v1/alerts", "establishment", "id_number", ARABIC_INDIC_RESIDENT),
    ("/v1/alerts", "establishment", "id_number", "2" + ARABIC_INDIC_RESIDENT[1:]),
    ("/v1/audit/events", "auditor", "after", "-1"),
    ("/v1/audit/events", "auditor", "after", str(2**63)),
    ("/v1/audit/events", "auditor", "after", "9" * 5000),
    ("/v1/audit/events", "auditor", "limit", "0"),
    ("/v1/audit/events", "auditor", "limit", "1" + "0" * 40),
    ("/v1/subscriptions", "establishment", "limit", "1" + "0" * 40),
    ("/v1/subscriptions", "establishment", "cursor", "garbage"),
    ("/v1/subscriptions", "establishment", "cursor", "===="),
    ("/v1/subscriptions", "establishment", "cursor", "x" * 10_000),
    ("/v1/subscriptions", "establishment", "cursor", _cursor("s1:" + "9" * 150)),
    ("/v1/subscriptions", "establishment", "cursor", _cursor("s1:\x00\n2000000006")),
    ("/v1/subscriptions", "establishment", "cursor", _cursor("s2:2000000006")),
]


@pytest.mark.parametrize(("route", "role", "parameter", "value"), CASES)
def test_extreme_parameters_get_422_naming_the_parameter(
    shared: ApiWorld, route: str, role: str, parameter: str, value: str
) -> None:
    response = shared.client.get(route, params={parameter: value}, headers=shared.headers[role])

    assert response.status_code == 422, f"{route}?{parameter}={value[:40]}: {response.status_code}"
    assert list(problems(response)) == [parameter]


@pytest.mark.parametrize(
    ("route", "parameter"), [("/v1/alerts", "since"), (TIMELINE, "at"), (SUBSCRIPTIONS_AT, "at")]
)
def test_the_ends_of_the_window_are_answered(shared: ApiWorld, route: str, parameter: str) -> None:
    role = "establishment" if route == "/v1/alerts" else "auditor"
    for moment in ("1900-01-01T03:00:00+03:00", "8999-12-31T23:59:59+00:00", "2999-01-01T00:00:00-14:00"):
        response = shared.client.get(route, params={parameter: moment}, headers=shared.headers[role])
        assert response.status_code in (200, 404), (moment, response.text)
