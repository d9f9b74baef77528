"""The portal over HTTP (TestClient): sign-in codes, sessions, CSRF, rate limits, isolation, no 500s."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jawazat_events.bootstrap import Container
from jawazat_events.domain.portal_user import CODE_TRIES
from tests.support import CITIZEN, RESIDENT
from tests.support.portal import (
    AUDITOR,
    OTHER_PERSON,
    USER_A,
    USER_B,
    Clock,
    ask_code,
    client,
    csrf,
    latest_code,
    sign_in,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _submit(http, page: str, code: str):  # type: ignore[no-untyped-def]
    return http.post(
        "/portal/login/code", data={"code": code, "csrf_token": csrf(page)}, follow_redirects=False
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_sign_in_add_change_unsubscribe_on_each_backend(seeded_any: Container, outbox: Path) -> None:
    with client(seeded_any) as http:
        assert (
            http.get("/portal/subscriptions", follow_redirects=False).headers["location"] == "/portal/login"
        )
        sign_in(http, USER_A, outbox)
        page = http.get("/portal/subscriptions")
        added = http.post(
            "/portal/subscriptions",
            data={
                "id_number": RESIDENT,
                "notification_types": ["entry_exit", "visa"],
                "csrf_token": csrf(page.text),
            },
            follow_redirects=False,
        )
        assert added.status_code == 303
        assert RESIDENT in http.get("/portal/subscriptions").text  # visible on the next page load
        detail = http.get(f"/portal/subscriptions/{RESIDENT}")
        changed = http.post(
            f"/portal/subscriptions/{RESIDENT}",
            data={
                "notification_types": ["passport_expiry"],
                "mobile": "0501234567",
                "csrf_token": csrf(detail.text),
            },
            follow_redirects=False,
        )
        assert changed.status_code == 303
        assert seeded_any.establishments.get("7001234567", RESIDENT).notification_types == ["passport_expiry"]
        confirm = http.get(f"/portal/subscriptions/{RESIDENT}/unsubscribe")
        gone = http.post(
            f"/portal/subscriptions/{RESIDENT}/unsubscribe",
            data={"csrf_token": csrf(confirm.text)},
            follow_redirects=False,
        )
        assert gone.status_code == 303
        assert http.get(f"/portal/subscriptions/{RESIDENT}").status_code == 404


def test_a_post_without_its_csrf_token_is_refused(seeded: Container, outbox: Path) -> None:
    with client(seeded) as http:
        sign_in(http, USER_A, outbox)
        page = http.get("/portal/subscriptions").text
        for data in ({}, {"csrf_token": "0" * 64}, {"csrf_token": ""}):
            refused = http.post("/portal/subscriptions", data={"id_number": RESIDENT, **data})
            assert refused.status_code == 403, data
            assert 'lang="ar"' in refused.text
        assert http.post("/portal/keys/rotate").status_code == 403
        ok = http.post(
            "/portal/subscriptions",
            data={"id_number": RESIDENT, "notification_types": "visa", "csrf_token": csrf(page)},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        # A token is bound to its browser: another client's token does not work here.
    with client(seeded) as other:
        stolen = csrf(other.get("/portal/login").text)
    with client(seeded) as http:
        http.get("/portal/login")
        assert http.post("/portal/login", data={"email": USER_A, "csrf_token": stolen}).status_code == 403


def test_unknown_addresses_get_the_same_page(seeded: Container, outbox: Path) -> None:
    def page_for(email: str) -> tuple[int, str]:
        with client(seeded) as http:
            form = http.get("/portal/login")
            answer = http.post("/portal/login", data={"email": email, "csrf_token": csrf(form.text)})
            text = re.sub(r'value="[0-9a-f]{64}"', "", answer.text).replace(email, "EMAIL")
            assert "jawazat_challenge" in answer.headers["set-cookie"]
            return answer.status_code, text

    assert page_for(USER_A) == page_for("nobody@nowhere.example")
    assert len(list(outbox.glob("sign-in-*"))) == 1  # the known user only


def test_a_code_lasts_ten_minutes_and_five_tries(seeded: Container, outbox: Path, clock: Clock) -> None:
    with client(seeded) as http:
        page = ask_code(http, USER_A)
        code = latest_code(outbox)
        clock.now += timedelta(minutes=10, seconds=1)
        assert _submit(http, page, code).status_code == 422  # expired
        clock.now += timedelta(minutes=1)
        page = ask_code(http, USER_A)
        code = latest_code(outbox)
        for _ in range(CODE_TRIES):
            refused = _submit(http, page, _wrong(code))
            assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
        assert _submit(http, page, code).status_code == 422  # used up: a new code is needed
        page = ask_code(http, USER_A)
        assert _submit(http, page, latest_code(outbox)).status_code == 303


def test_someone_elses_wrong_tries_never_lock_the_user_out(seeded: Container, outbox: Path) -> None:
    with client(seeded, address="10.0.0.1") as user, client(seeded, address="10.9.9.9") as attacker:
        page = ask_code(user, USER_A)
        code = latest_code(outbox)
        attack_page = ask_code(attacker, USER_A)
        for _ in range(CODE_TRIES + 2):
            assert _submit(attacker, attack_page, _wrong(code)).status_code in (422,)
        assert _submit(user, page, code).status_code == 303


def test_sign_in_attempts_are_limited_per_address_only(sqlite_database_url: str, outbox: Path) -> None:
    from jawazat_events.bootstrap import bootstrap
    from tests.support.portal import seed

    wired = bootstrap(database_url=sqlite_database_url, outbox_dir=outbox, portal_signin_per_minute=3)
    try:
        seed(wired)
        with client(wired, address="10.0.0.66") as noisy:
            form = csrf(noisy.get("/portal/login").text)
            answers = [
                noisy.post("/portal/login", data={"email": f"x{n}@example.sa", "csrf_token": form})
                for n in range(4)
            ]
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            assert int(answers[-1].headers["retry-after"]) >= 1
        with client(wired, address="10.0.0.67") as calm:
            sign_in(calm, USER_A, outbox)
    finally:
        wired.close()


def test_too_many_codes_for_one_user_are_not_sent(seeded: Container, outbox: Path) -> None:
    with client(seeded) as http:
        for _ in range(7):
            ask_code(http, USER_B)
    assert len(list(outbox.glob("sign-in-*"))) == 5


@pytest.mark.parametrize(("https", "secure"), [(False, False), (True, True)])
def test_session_cookie_flags(seeded: Container, outbox: Path, https: bool, secure: bool) -> None:
    with client(seeded, https=https) as http:
        page = ask_code(http, USER_A)
        done = _submit(http, page, latest_code(outbox))
        cookies = [v for k, v in done.headers.multi_items() if k == "set-cookie"]
        session = next(c for c in cookies if c.startswith("jawazat_session="))
        flags = [part.strip().lower() for part in session.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/portal" in flags
        assert ("secure" in flags) is secure
        token = session.split(";", 1)[0].split("=", 1)[1]
        stored = [e for e in seeded.app.events.get(seeded.portal_users._user(USER_A).id)]
        assert all(token not in repr(vars(e)) for e in stored)  # only its hash is stored


def test_sign_out_revokes_the_session_on_the_server(seeded: Container, outbox: Path) -> None:
    with client(seeded) as http:
        sign_in(http, USER_A, outbox)
        token = http.cookies.get("jawazat_session")
        assert http.get("/portal/").status_code == 200
        page = http.get("/portal/").text
        assert http.post("/portal/logout", data={"csrf_token": csrf(page)}).status_code == 200
    with client(seeded) as replay:
        replay.cookies.set("jawazat_session", token or "", path="/portal")
        assert replay.get("/portal/", follow_redirects=False).headers["location"] == "/portal/login"


def test_another_establishments_data_is_not_found_like_an_unknown_id(seeded: Container, outbox: Path) -> None:
    seeded.establishments.subscribe("7007654321", OTHER_PERSON, notification_types=["visa"])
    seeded.catch_up_index()
    with client(seeded) as http:
        sign_in(http, USER_A, outbox)
        theirs = http.get(f"/portal/subscriptions/{OTHER_PERSON}")
        unknown = http.get("/portal/subscriptions/2999999999")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.text.replace(OTHER_PERSON, "ID") == unknown.text.replace("2999999999", "ID")
        searched = http.get("/portal/subscriptions", params={"q": OTHER_PERSON, "lang": "en"}).text
        assert (
            f"/portal/subscriptions/{OTHER_PERSON}" not in searched and "No subscriptions match." in searched
        )
        assert http.get(f"/portal/audit/people/{OTHER_PERSON}").status_code == 404  # auditors only
        page = http.get("/portal/users").text
        removing = http.post("/portal/users/remove", data={"login": USER_B, "csrf_token": csrf(page)})
        assert removing.status_code == 404
        assert [u.login for u in seeded.portal_users.list_users("7007654321")] == [USER_B]


def test_bulk_upload_reports_every_line(seeded: Container, outbox: Path) -> None:
    csv_text = (
        "id_number,notification_types,mobile,email\n"
        f"{RESIDENT},entry_exit;visa,,\n"
        f"{RESIDENT},visa,,\n"
        f"{OTHER_PERSON},visa,,\n"
        "12345,visa,,\n"
        f"{CITIZEN},nonsense,,\n"
        f"{CITIZEN},passport_expiry,0512,\n"
    )
    with client(seeded) as http:
        sign_in(http, USER_A, outbox)
        page = http.get("/portal/subscriptions").text
        answer = http.post(
            "/portal/subscriptions/upload",
            data={"csrf_token": csrf(page)},
            files={"file": ("people.csv", csv_text.encode(), "text/csv")},
        )
        assert answer.status_code == 200
        outcomes = re.findall(r'class="outcome-([a-z_]+)"', answer.text)
        assert outcomes == [
            "accepted",
            "already_subscribed",
            "not_sponsored",
            "invalid",
            "invalid",
            "invalid",
        ]
        assert "data:text/csv;charset=utf-8;base64," in answer.text
        bad = http.post(
            "/portal/subscriptions/upload",
            data={"csrf_token": csrf(page)},
            files={"file": ("x.csv", b"\xff\xfe\x00junk", "text/csv")},
        )
        assert bad.status_code == 422 and 'id="file-error"' in bad.text


def test_language_switch_is_remembered_per_user(seeded: Container, outbox: Path) -> None:
    with client(seeded) as http:
        assert '<html lang="ar" dir="rtl">' in http.get("/portal/login").text
        sign_in(http, USER_A, outbox)
        assert '<html lang="en" dir="ltr">' in http.get("/portal/", params={"lang": "en"}).text
    assert seeded.portal_users._user(USER_A).language == "en"
    with client(seeded) as fresh:  # another browser: the user's choice follows them at sign-in
        sign_in(fresh, USER_A, outbox)
        assert '<html lang="en" dir="ltr">' in fresh.get("/portal/").text


def test_auditor_pages(seeded: Container, outbox: Path) -> None:
    with client(seeded) as http:
        sign_in(http, AUDITOR, outbox)
        assert http.get("/portal/subscriptions").status_code == 404
        timeline = http.get(f"/portal/audit/people/{RESIDENT}", params={"at": "2030-01-01T00:00"})
        assert timeline.status_code == 200 and RESIDENT in timeline.text
        assert http.get("/portal/audit/people/2999999999").status_code == 404
        assert http.get("/portal/audit/people/bad", params={"at": "yesterday"}).status_code == 404
        bad_at = http.get(f"/portal/audit/people/{RESIDENT}", params={"at": "yesterday"})
        assert bad_at.status_code == 422 and 'id="at-error"' in bad_at.text
        listing = http.get("/portal/audit/establishments", params={"unified": "7001234567"})
        assert listing.status_code == 200
        integrity = http.get("/portal/audit/integrity", params={"verify_now": "1"})
        assert integrity.status_code == 200 and re.search(r"\d+:[0-9a-f]{64}", integrity.text)


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1899-12-31"])
def test_auditor_times_outside_the_query_window_are_a_field_error(
    seeded: Container, outbox: Path, at: str
) -> None:
    with client(seeded) as http:
        sign_in(http, AUDITOR, outbox)
        for path, params in [
            (f"/portal/audit/people/{RESIDENT}", {"at": at}),
            ("/portal/audit/establishments", {"unified": "7001234567", "at": at}),
        ]:
            page = http.get(path, params=params)
            assert page.status_code == 422 and 'id="at-error"' in page.text, (path, page.status_code)


GET_PATHS = [
    "/portal/",
    "/portal/subscriptions",
    "/portal/subscriptions/{x}",
    "/portal/subscriptions/{x}/unsubscribe",
    "/portal/alerts",
    "/portal/alerts.csv",
    "/portal/contacts",
    "/portal/keys",
    "/portal/users",
    "/portal/{x}",
]
QUERY_KEYS = [
    "q",
    "after",
    "before",
    "last",
    "status",
    "id_number",
    "type",
    "since",
    "until",
    "lang",
    "done",
    "added",
]


_SESSIONS: dict[int, str] = {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(GET_PATHS),
    value=st.text(max_size=30),
    query=st.dictionaries(st.sampled_from(QUERY_KEYS), st.text(max_size=30), max_size=4),
)
def test_no_page_answers_500_to_any_input(
    seeded: Container, outbox: Path, path: str, value: str, query: dict[str, str]
) -> None:
    from urllib.parse import quote

    with client(seeded) as http:
        if id(seeded) not in _SESSIONS:  # one sign-in for all examples (codes per user are limited)
            sign_in(http, USER_A, outbox)
            _SESSIONS[id(seeded)] = http.cookies.get("jawazat_session") or ""
        http.cookies.set("jawazat_session", _SESSIONS[id(seeded)], path="/portal")

        answer = http.get(path.replace("{x}", quote(value, safe="")), params=query)
        assert answer.status_code < 500, (path, value, query, answer.text[:500])
        page = http.get("/portal/subscriptions").text
        posted = http.post(
            "/portal/subscriptions",
            data={
                "id_number": value,
                "notification_types": [value],
                "mobile": value,
                "email": value,
                "csrf_token": csrf(page),
            },
            follow_redirects=False,
        )
        assert posted.status_code < 500, posted.text[:500]
        contacts = http.post(
            "/portal/contacts",
            data={"mobile": value, "email": value, "language": value, "csrf_token": csrf(page)},
            follow_redirects=False,
        )
        assert contacts.status_code < 500
