"""The e-services' portal pages over HTTP (TestClient): individuals signing in by the contacts on their
record, officers, who may see and act for whom (the same "not found" for someone else's and unknown),
CSRF on every new form, every refusal beside its field, idempotent forms, and no 500 for any input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.actors import Actor
from jawazat_events.domain.portal_user import PortalRole
from jawazat_events.generate import luhn_complete
from tests.support import SPONSOR_A, run_jawazat
from tests.support.eservices import (
    CHILD,
    GUARDIAN,
    GUARDIAN_EMAIL,
    GUARDIAN_MOBILE,
    OTHER_GUARDIAN,
    PDF,
    STRANGER,
    Family,
    details_changed,
    ingest_items,
    person,
    png,
)
from tests.support.portal import AUDITOR, USER_A, USER_B, Clock, ask_code, client, csrf, latest_code, seed

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OFFICER = "officer@jawazat.example"
OTHER_EMAIL = "other.guardian@family.example"
OTHER_CHILD = luhn_complete("200000033")
MOBILE_ONLY = "+966502223344"
UNKNOWN_ID = luhn_complete("200000099")
UNKNOWN_PERMIT = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def world(sqlite_database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Container]:
    """Establishments A and B, an auditor, an officer, the family (guardian with e-mail and mobile, a
    dependant of 15), another family, and a person with only a mobile on record."""
    wired = bootstrap(
        database_url=sqlite_database_url,
        outbox_dir=tmp_path / "outbox",
        attachments_dir=tmp_path / "attachments",
        portal_signin_per_minute=1000,
    )
    wired.clock = clock
    seed(wired)
    Family(wired).register()
    assert (
        ingest_items(
            wired,
            [
                person(OTHER_GUARDIAN, birth_date="1979-01-01", marital_status="married", email=OTHER_EMAIL),
                person(
                    OTHER_CHILD, guardian=OTHER_GUARDIAN, birth_date="2012-02-02", marital_status="single"
                ),
                person(STRANGER, birth_date="1985-05-05", marital_status="single", mobile="0502223344"),
            ],
        )
        == ["accepted"] * 3
    )
    wired.portal_users.add_user(unified_number=None, role="officer", email=OFFICER, name="Officer Noura")
    try:
        yield wired
    finally:
        wired.close()


def _outbox(world: Container) -> Path:
    return Path(world.settings.outbox_dir)


def signed_in(world: Container, login: str) -> TestClient:
    """A client signed in as `login` (to be closed by the caller's `with`)."""
    http = client(world).__enter__()
    page = ask_code(http, login)
    done = http.post(
        "/portal/login/code",
        data={"code": latest_code(_outbox(world)), "csrf_token": csrf(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/portal/", done.text
    return http


@pytest.fixture
def as_user(world: Container) -> Iterator[Any]:
    opened: list[TestClient] = []

    def sign(login: str) -> TestClient:
        http = signed_in(world, login)
        opened.append(http)
        return http

    yield sign
    for http in opened:
        http.__exit__(None, None, None)


def _post(http: TestClient, page_path: str, path: str, data: dict[str, Any], **kw: Any) -> Any:
    token = csrf(http.get(page_path).text)
    return http.post(path, data={**data, "csrf_token": token}, follow_redirects=False, **kw)


def _request_permit(http: TestClient, id_number: str = CHILD, **dates: str) -> Any:
    data = {"id_number": id_number, "valid_from": "2026-07-10", "valid_until": "2026-07-20", **dates}
    return _post(http, "/portal/travel-permits", "/portal/travel-permits", data)


def _permit_id(answer: Any) -> str:
    assert answer.status_code == 303, answer.text[:2000]
    return str(answer.headers["location"]).split("?")[0].rsplit("/", 1)[1]


def _same(a: str, b: str, *values: str) -> bool:
    """Two pages are the same but for the values given (and each form's fresh keys)."""

    def clean(text: str) -> str:
        text = re.sub(r'value="[0-9a-f]{64}"|name="request_key" value="[^"]*"', "", text)
        for value in values:
            text = text.replace(value, "X")
        return text

    return clean(a) == clean(b)


# --- sign-in ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "channel"),
    [
        (GUARDIAN_EMAIL.upper(), "email"),  # the e-mail on the record, in any case
        (GUARDIAN_MOBILE, "sms"),  # a person with both may use the mobile: the code comes by SMS
        ("0501112233", "sms"),  # the same mobile as people type it
    ],
)
def test_an_individual_signs_in_with_a_contact_on_their_record(
    world: Container, typed: str, channel: str
) -> None:
    with client(world) as http:
        page = ask_code(http, typed)
        sent = sorted(_outbox(world).glob("sign-in-*"))
        assert [p.name.split(".", 1)[1] for p in sent] == [
            f"{channel}.{'eml' if channel == 'email' else 'txt'}"
        ]
        done = http.post(
            "/portal/login/code",
            data={"code": latest_code(_outbox(world)), "csrf_token": csrf(page)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        home = http.get("/portal/", params={"lang": "en"}).text
        assert "My services" in home and CHILD in home and "Your dependant" in home
    user = world.portal_users.session(http.cookies.get("jawazat_session") or "")
    assert user is not None and user.role is PortalRole.INDIVIDUAL and user.id_number == GUARDIAN


def test_a_person_with_only_a_mobile_signs_in_by_sms(world: Container, as_user: Any) -> None:
    http = as_user("0502223344")
    assert [p.suffix for p in _outbox(world).glob("sign-in-*")] == [".txt"]
    home = http.get("/portal/").text
    assert STRANGER in home
    assert http.get("/portal/subscriptions").status_code == 404  # an establishment's page


def test_contacts_on_no_record_or_off_the_record_get_the_same_page_and_no_code(world: Container) -> None:
    # The other guardian's e-mail is cleared from the record (an explicit null): it signs in as nobody now.
    assert ingest_items(
        world, [details_changed("chg-1", OTHER_GUARDIAN, "2026-06-01T10:00:00+03:00", email=None)]
    ) == ["accepted"]

    def page_for(login: str) -> tuple[int, str]:
        with client(world) as http:
            answer = ask_code(http, login)
            return 200, re.sub(r'value="[0-9a-f]{64}"', "", answer).replace(login, "LOGIN")

    assert page_for(GUARDIAN_EMAIL) == page_for("nobody@nowhere.example") == page_for(OTHER_EMAIL)
    assert len(list(_outbox(world).glob("sign-in-*"))) == 1  # the guardian's only


def test_a_contact_on_two_records_signs_in_as_the_head_of_family_or_as_nobody(world: Container) -> None:
    shared = "shared@family.example"
    assert ingest_items(
        world,
        [
            details_changed("c-1", GUARDIAN, "2026-06-01T10:00:00+03:00", email=shared),
            details_changed("c-2", CHILD, "2026-06-01T10:00:00+03:00", email=shared),
        ],
    ) == ["accepted", "accepted"]
    assert world.person_directory.signing_in(shared).id_number == GUARDIAN  # type: ignore[union-attr]
    assert ingest_items(
        world, [details_changed("c-3", OTHER_GUARDIAN, "2026-06-01T10:00:00+03:00", email=shared)]
    ) == ["accepted"]
    assert world.person_directory.signing_in(shared) is None  # two heads of family: nobody


def test_officers_are_added_like_auditors_and_sign_in_alike(tmp_path: Path) -> None:
    env = {"JAWAZAT_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "JAWAZAT_OUTBOX_DIR": str(tmp_path)}
    import os

    env = {**os.environ, **env}
    added = run_jawazat("users", "add", "--role", "officer", "--email", OFFICER, "--name", "Noura", env=env)
    assert added.returncode == 0 and "officer" in added.stdout, added.stderr
    wrong = run_jawazat("users", "add", SPONSOR_A, "--role", "officer", "--email", "x@y.sa", env=env)
    assert wrong.returncode == 1 and "no establishment" in wrong.stderr
    individual = run_jawazat("users", "add", "--role", "individual", "--email", "p@y.sa", env=env)
    assert individual.returncode == 1 and "role 'individual'" in individual.stderr
    listed = run_jawazat("users", "list", "--role", "officer", "--json", env=env).stdout
    assert '"role": "officer"' in listed and OFFICER in listed
    assert run_jawazat("users", "remove", OFFICER, env=env).returncode == 0


# --- who may see and act ----------------------------------------------------------------------------


def test_a_guardian_requests_an_officer_decides_and_the_guardian_reads_it(
    world: Container, as_user: Any
) -> None:
    guardian = as_user(GUARDIAN_EMAIL)
    form = guardian.get("/portal/travel-permits").text
    assert f'<option value="{CHILD}"' in form  # the dependants on record are offered
    permit = _permit_id(_request_permit(guardian))
    page = guardian.get(f"/portal/travel-permits/{permit}", params={"lang": "en"}).text
    assert "Waiting for an officer's decision" in page and "Muharram 1448" in page  # Hijri beside
    officer = as_user(OFFICER)
    queue = officer.get("/portal/").text
    assert f"/portal/travel-permits/{permit}" in queue
    path = f"/portal/travel-permits/{permit}"
    refused = _post(officer, path, f"{path}/decision", {"decision": "reject", "reason": " "})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert _post(officer, path, f"{path}/decision", {"decision": "approve"}).status_code == 303
    again = _post(officer, path, f"{path}/decision", {"decision": "reject", "reason": "late"})
    assert again.status_code == 409 and 'href="#decision"' in again.text
    assert "Approved" in guardian.get(path, params={"lang": "en"}).text
    assert _post(guardian, f"{path}/cancel", f"{path}/cancel", {}).status_code == 303
    assert world.eservices.travel_permits.get(Actor.individual(GUARDIAN), permit)["status"] == "cancelled"


def test_nobody_sees_or_acts_for_a_person_they_are_not_or_not_guardian_of(
    world: Container, as_user: Any
) -> None:
    guardian, other = as_user(GUARDIAN_EMAIL), as_user(OTHER_EMAIL)
    permit = _permit_id(_request_permit(guardian))
    theirs, unknown = _request_permit(other, CHILD), _request_permit(other, UNKNOWN_ID)
    assert theirs.status_code == unknown.status_code == 422
    assert 'id="id_number-error"' in theirs.text and _same(theirs.text, unknown.text, CHILD, UNKNOWN_ID)
    for path in (f"/portal/travel-permits/{permit}", f"/portal/travel-permits/{permit}/cancel"):
        seen, missing = other.get(path), other.get(path.replace(permit, UNKNOWN_PERMIT))
        assert seen.status_code == missing.status_code == 404
        assert _same(seen.text, missing.text, permit, UNKNOWN_PERMIT)
    token = csrf(other.get("/portal/travel-permits").text)
    assert (
        other.post(f"/portal/travel-permits/{permit}/cancel", data={"csrf_token": token}).status_code == 404
    )
    decided = other.post(
        f"/portal/travel-permits/{permit}/decision", data={"csrf_token": token, "decision": "approve"}
    )
    assert decided.status_code == 404  # officers only
    for data, page in (
        (
            {"passport_number": "N7", "issue_date": "2026-06-01", "expiry_date": "2031-05-31"},
            "/portal/passport",
        ),
        ({"season": "1448"}, "/portal/makkah-permits"),
    ):
        mine, nobody = (
            _post(other, page, page, {**data, "id_number": who}, files=[("documents", ("d.pdf", PDF))])
            if "season" in data
            else _post(other, page, page, {**data, "id_number": who})
            for who in (CHILD, UNKNOWN_ID)
        )
        assert mine.status_code == nobody.status_code == 422, (page, mine.text[:500])
        assert "field.id_number.not_actable" not in mine.text and 'id="id_number-error"' in mine.text
        assert _same(mine.text, nobody.text, CHILD, UNKNOWN_ID)
    assert world.eservices.travel_permits.get(Actor.individual(GUARDIAN), permit)["status"] == "pending"


def test_an_establishment_applies_only_for_people_it_sponsors(world: Container, as_user: Any) -> None:
    sponsor, other = as_user(USER_A), as_user(USER_B)
    data = {"id_number": CHILD, "season": "1448"}
    files = [("documents", ("contract.pdf", PDF, "application/pdf"))]
    page = "/portal/makkah-permits"
    # The sponsor may act for the person; the rule of the establishments' channel then refuses.
    english = _post(sponsor, f"{page}?lang=en", f"{page}?lang=en", data, files=files)
    assert english.status_code == 422 and "not based in Makkah" in english.text
    theirs = _post(other, f"{page}?lang=en", f"{page}?lang=en", data, files=files)
    assert theirs.status_code == 422 and "no one you may act for" in theirs.text
    for path in ("/portal/travel-permits", "/portal/passport"):
        assert sponsor.get(path).status_code == 404  # individuals' and officers' pages


def test_tickets_are_seen_by_their_owner_and_officers_only(world: Container, as_user: Any) -> None:
    guardian = as_user(GUARDIAN_EMAIL)
    created = _post(
        guardian,
        "/portal/tickets",
        "/portal/tickets",
        {"problem_type": "payment_issue", "procedure": "exit_reentry_visa", "description": "Paid,\nno visa."},
        files=[("attachments", ("receipt.pdf", PDF, "application/pdf")), ("attachments", ("s.png", png()))],
    )
    assert created.status_code == 303, created.text[:2000]
    path = str(created.headers["location"]).split("?")[0]
    number = path.rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", number)
    shown = guardian.get(created.headers["location"] + "&lang=en").text
    assert "We have received your ticket" in shown and number in shown
    ticket = world.eservices.tickets.get(Actor.individual(GUARDIAN), number)
    sha = ticket["attachments"][0]["sha256"]
    download = guardian.get(f"{path}/attachments/{sha}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    missing_ticket = path.replace(number, "7K3M9-QX2CB")
    for who in (as_user(OTHER_EMAIL), as_user(USER_A), as_user(AUDITOR)):
        for suffix in ("", f"/attachments/{sha}"):
            seen, unknown = who.get(path + suffix), who.get(missing_ticket + suffix)
            assert seen.status_code == unknown.status_code == 404
    officer = as_user(OFFICER)
    assert officer.get(f"{path}/attachments/{sha}").content == PDF
    asked = _post(officer, path, f"{path}/status", {"status": "needs_information", "message": ""})
    assert asked.status_code == 422 and 'id="officer_message-error"' in asked.text
    assert f'href="{path}"' in officer.get("/portal/").text  # new: in the queue
    asked = _post(officer, path, f"{path}/status", {"status": "needs_information", "message": "Reference?"})
    assert asked.status_code == 303
    assert f'href="{path}"' not in officer.get("/portal/").text  # waiting for the requester
    asking = guardian.get(path).text  # in English: the guardian switched on the ticket's page
    assert "Reference?" in asking and "needs information from you" in asking
    replied = _post(guardian, path, f"{path}/messages", {"message": "SADAD-123456"})
    assert replied.status_code == 303
    assert (
        "The requester has replied" in officer.get("/portal/", params={"lang": "en"}).text
    )  # back in the queue
    stranger = as_user(OTHER_EMAIL)
    assert _post(stranger, "/portal/tickets", f"{path}/messages", {"message": "hi"}).status_code == 404
    closed = _post(officer, path, f"{path}/status", {"status": "closed", "message": "Done."})
    assert closed.status_code == 303
    late = _post(guardian, path, f"{path}/messages", {"message": "one more"})
    assert late.status_code == 409 and 'href="#message"' in late.text
    messages = [m["message"] for m in world.eservices.tickets.get(Actor.officer("x"), number)["messages"]]
    assert messages == ["Reference?", "SADAD-123456", "Done."]


def test_role_pages_answer_not_found_for_other_roles(world: Container, as_user: Any) -> None:
    pages = {
        AUDITOR: ["/portal/travel-permits", "/portal/passport", "/portal/makkah-permits", "/portal/tickets"],
        USER_A: ["/portal/travel-permits", "/portal/passport"],
        OFFICER: ["/portal/passport", "/portal/subscriptions", "/portal/audit/people"],
        GUARDIAN_EMAIL: ["/portal/subscriptions", "/portal/alerts", "/portal/audit/people", "/portal/users"],
    }
    for login, paths in pages.items():
        http = as_user(login)
        for path in paths:
            assert http.get(path).status_code == 404, (login, path)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/portal/travel-permits",
            {"id_number": CHILD, "valid_from": "2026-07-10", "valid_until": "2026-07-11"},
        ),
        ("/portal/passport", {"id_number": CHILD, "passport_number": "N1", "issue_date": "2026-06-01"}),
        ("/portal/makkah-permits", {"id_number": GUARDIAN, "season": "1448"}),
        ("/portal/tickets", {"problem_type": "other", "procedure": "other", "description": "x"}),
    ],
)
def test_every_new_form_needs_its_csrf_token(
    world: Container, as_user: Any, path: str, data: dict[str, str]
) -> None:
    http = as_user(GUARDIAN_EMAIL)
    for extra in ({}, {"csrf_token": "0" * 64}):
        refused = http.post(path, data={**data, **extra})
        assert refused.status_code == 403 and 'lang="ar"' in refused.text
    assert (
        world.eservices.travel_permits.list(
            Actor.individual(GUARDIAN), status=None, limit=5, cursor=None
        ).items
        == []
    )


# --- refusals beside their fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "field", "words"),
    [
        ({"valid_from": "2026-06-30"}, "valid_from", "must start today or later"),
        ({"valid_from": "2027-08-01", "valid_until": "2027-08-02"}, "valid_from", "within a year"),
        ({"valid_until": "2026-07-09"}, "valid_until", "before the start date"),
        ({"valid_until": "2027-07-20"}, "valid_until", "longer than allowed"),
        ({"valid_from": "not a day"}, "valid_from", "Enter a valid date"),
        ({"valid_until": ""}, "valid_until", "Enter the date"),
        ({"valid_from": "٢٠٢٦-٠٧-١٠", "valid_until": "2026-07-01"}, "valid_until", "before the start"),  # noqa: RUF001
    ],
)
def test_travel_permit_rules_are_shown_beside_their_field(
    world: Container, as_user: Any, dates: dict[str, str], field: str, words: str
) -> None:
    http = as_user(GUARDIAN_EMAIL)
    http.get("/portal/", params={"lang": "en"})
    answer = _request_permit(http, **dates)
    assert answer.status_code == 422
    found = re.search(rf'id="{field}-error">([^<]*)<', answer.text)
    assert found and words in found.group(1), answer.text[:3000]


def test_eligibility_and_overlap_are_said_in_the_pages_language(world: Container, as_user: Any) -> None:
    http = as_user(GUARDIAN_EMAIL)
    assert _permit_id(_request_permit(http))
    overlap = _request_permit(http, valid_from="2026-07-15", valid_until="2026-07-25")
    assert overlap.status_code == 409 and 'id="valid_from-error"' in overlap.text and "يتداخل" in overlap.text
    assert ingest_items(
        world, [details_changed("m-1", CHILD, "2026-06-01T10:00:00+03:00", marital_status="married")]
    ) == ["accepted"]
    married = _request_permit(http, valid_from="2026-08-10", valid_until="2026-08-20")
    assert married.status_code == 422 and "غير متزوج" in married.text


def test_passport_rules_beside_their_fields(world: Container, as_user: Any) -> None:
    http = as_user(GUARDIAN_EMAIL)
    current = world.person_directory.person(CHILD).passport_number  # type: ignore[union-attr]
    cases = [
        ({"passport_number": current}, "passport_number"),
        ({"issue_date": "2026-07-02"}, "issue_date"),
        ({"expiry_date": "2026-05-31"}, "expiry_date"),
        ({"issue_date": "1899-01-01"}, "issue_date"),
        ({"passport_number": ""}, "passport_number"),
    ]
    for change, field in cases:
        data = {
            "id_number": CHILD,
            "passport_number": "N7654321",
            "issue_date": "2026-06-01",
            "expiry_date": "2036-05-31",
            **change,
        }
        answer = _post(http, "/portal/passport", "/portal/passport", data)
        assert answer.status_code == 422 and f'id="{field}-error"' in answer.text, (
            change,
            answer.text[:1500],
        )
    saved = _post(
        http,
        "/portal/passport",
        "/portal/passport",
        {
            "id_number": CHILD,
            "passport_number": "N7654321",
            "issue_date": "2026-06-01",
            "expiry_date": "2036-05-31",
        },
    )
    assert saved.status_code == 303
    assert "N7654321" in http.get(saved.headers["location"]).text
    assert world.person_directory.person(CHILD).passport_number == "N7654321"  # type: ignore[union-attr]


def test_ticket_form_refusals_beside_their_fields(world: Container, as_user: Any) -> None:
    http = as_user(GUARDIAN_EMAIL)
    good = {"problem_type": "other", "procedure": "other", "description": "It failed."}
    cases = [
        ({"problem_type": "nonsense"}, [], "problem_type"),
        ({"procedure": ""}, [], "procedure"),
        ({"description": "  "}, [], "description"),
        ({}, [("attachments", ("virus.pdf", b"MZ\x90\x00 not a pdf"))], "attachments"),
        ({}, [("attachments", (f"f{i}.pdf", PDF)) for i in range(6)], "attachments"),
    ]
    for change, files, field in cases:
        answer = _post(http, "/portal/tickets", "/portal/tickets", {**good, **change}, files=files or None)
        assert answer.status_code == 422 and f'id="{field}-error"' in answer.text, (
            change,
            answer.text[:1500],
        )
    assert not [p for p in Path(world.settings.attachments_dir).rglob("*") if p.is_file()]
    assert (
        world.eservices.tickets.list(Actor.individual(GUARDIAN), status=None, limit=5, cursor=None).items
        == []
    )


def test_a_form_sent_twice_makes_one_request(world: Container, as_user: Any) -> None:
    http = as_user(GUARDIAN_EMAIL)
    page = http.get("/portal/travel-permits").text
    key = re.search(r'name="request_key" value="([^"]+)"', page)
    assert key
    data = {
        "id_number": CHILD,
        "valid_from": "2026-07-10",
        "valid_until": "2026-07-20",
        "request_key": key.group(1),
        "csrf_token": csrf(page),
    }
    first = http.post("/portal/travel-permits", data=data, follow_redirects=False)
    second = http.post("/portal/travel-permits", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    changed = http.post("/portal/travel-permits", data={**data, "valid_until": "2026-07-21"})
    assert changed.status_code == 422 and "request_key" in changed.text


# --- no 500 for any input -----------------------------------------------------------------------------

GET_PATHS = [
    "/portal/",
    "/portal/travel-permits",
    "/portal/travel-permits/{x}",
    "/portal/travel-permits/{x}/cancel",
    "/portal/makkah-permits",
    "/portal/makkah-permits/{x}",
    "/portal/tickets",
    "/portal/tickets/{x}",
    "/portal/tickets/{x}/attachments/{x}",
    "/portal/passport",
]
POSTS = [
    ("/portal/travel-permits", ("id_number", "valid_from", "valid_until", "request_key")),
    ("/portal/travel-permits/{x}/cancel", ()),
    ("/portal/travel-permits/{x}/decision", ("decision", "reason")),
    ("/portal/makkah-permits", ("id_number", "season", "request_key")),
    ("/portal/makkah-permits/{x}/decision", ("decision", "reason")),
    ("/portal/makkah-permits/{x}/revoke", ("reason",)),
    ("/portal/tickets", ("problem_type", "procedure", "description")),
    ("/portal/tickets/{x}/messages", ("message",)),
    ("/portal/tickets/{x}/status", ("status", "message")),
    ("/portal/passport", ("id_number", "passport_number", "issue_date", "expiry_date")),
]
_SESSIONS: dict[tuple[int, str], str] = {}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    login=st.sampled_from([GUARDIAN_EMAIL, OFFICER, USER_A]),
    path=st.sampled_from(GET_PATHS),
    post=st.sampled_from(POSTS),
    value=st.text(max_size=40),
    query=st.dictionaries(
        st.sampled_from(["status", "cursor", "kind", "done", "lang"]), st.text(max_size=30)
    ),
)
def test_no_new_page_answers_500_to_any_input(
    world: Container,
    login: str,
    path: str,
    post: tuple[str, tuple[str, ...]],
    value: str,
    query: dict[str, str],
) -> None:
    from urllib.parse import quote

    with client(world) as http:
        key = (id(world), login)
        if key not in _SESSIONS:  # one sign-in per user for all examples (codes per user are limited)
            http_page = ask_code(http, login)
            http.post(
                "/portal/login/code",
                data={"code": latest_code(_outbox(world)), "csrf_token": csrf(http_page)},
                follow_redirects=False,
            )
            _SESSIONS[key] = http.cookies.get("jawazat_session") or ""
        http.cookies.set("jawazat_session", _SESSIONS[key], path="/portal")
        shown = http.get(path.replace("{x}", quote(value, safe="")), params=query)
        assert shown.status_code < 500, (path, value, query, shown.text[:500])
        target, fields = post
        token = csrf(http.get("/portal/").text)
        posted = http.post(
            target.replace("{x}", quote(value, safe="") or "x"),
            data={**{f: value for f in fields}, "csrf_token": token},
            files=[("attachments", ("a.pdf", value.encode()))] if target.endswith("/tickets") else None,
        )
        assert posted.status_code < 500, (target, value, posted.text[:500])


def test_ticket_forms_take_files_larger_than_the_apis_usual_body_limit(
    world: Container, as_user: Any
) -> None:
    http = as_user(GUARDIAN_EMAIL)
    big = PDF + b"0" * 3_000_000  # over the 1 MB body limit of other requests, within a ticket's
    too_big = PDF + b"0" * (5 * 1024 * 1024)
    form = {"problem_type": "other", "procedure": "other", "description": "Scanned receipt."}
    refused = _post(
        http, "/portal/tickets", "/portal/tickets", form, files=[("attachments", ("r.pdf", too_big))]
    )
    assert refused.status_code == 422 and 'id="attachments-error"' in refused.text
    accepted = _post(
        http, "/portal/tickets", "/portal/tickets", form, files=[("attachments", ("r.pdf", big))]
    )
    assert accepted.status_code == 303, accepted.text[:500]
    number = str(accepted.headers["location"]).split("?")[0].rsplit("/", 1)[1]
    assert world.eservices.tickets.get(Actor.individual(GUARDIAN), number)["attachments"][0]["size"] == len(
        big
    )
