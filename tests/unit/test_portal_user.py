"""Rules of the PortalUser aggregate: codes per challenge, expiry, tries, the per-user limit, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.portal_user import (
    CODE_LIFETIME,
    CODE_TRIES,
    CODES_PER_WINDOW,
    CodeRefused,
    PortalUser,
    TooManyCodes,
    UnknownPortalUser,
)

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _user() -> PortalUser:
    return PortalUser.add(
        login="hr@x.sa",
        role="establishment",
        establishment="7001234567",
        email="hr@x.sa",
        mobile=None,
        name="HR",
    )


@pytest.mark.parametrize(
    ("role", "establishment", "email", "mobile", "problem"),
    [
        ("establishment", None, "a@b.sa", None, "unified number"),
        ("auditor", "7001234567", "a@b.sa", None, "no establishment"),
        ("establishment", "7001234567", None, None, "email is required"),
        ("nobody", None, "a@b.sa", None, "role 'nobody'"),
        ("individual", None, "a@b.sa", None, "role 'individual'"),
        ("officer", "7001234567", "a@b.sa", None, "no establishment"),
    ],
)
def test_adding_a_user_checks_who_they_are(
    role: str, establishment: str | None, email: str | None, mobile: str | None, problem: str
) -> None:
    with pytest.raises(InvalidValue, match=problem):
        PortalUser.add(
            login="x", role=role, establishment=establishment, email=email, mobile=mobile, name=None
        )


def test_a_challenge_expires_and_wears_out() -> None:
    user = _user()
    user.issue_code(challenge="c1", code_hash="h", salt="00", channel="email", now=NOW)
    assert user.challenge("c1", NOW + CODE_LIFETIME - timedelta(seconds=1))
    with pytest.raises(CodeRefused):
        user.challenge("c1", NOW + CODE_LIFETIME)
    for _ in range(CODE_TRIES):
        user.code_failed(challenge="c1")
    with pytest.raises(CodeRefused):
        user.challenge("c1", NOW)


def test_codes_per_user_are_limited_in_a_window() -> None:
    user = _user()
    for n in range(CODES_PER_WINDOW):
        user.issue_code(challenge=f"c{n}", code_hash="h", salt="00", channel="email", now=NOW)
    with pytest.raises(TooManyCodes):
        user.issue_code(
            challenge="late", code_hash="h", salt="00", channel="email", now=NOW + timedelta(minutes=1)
        )
    user.issue_code(
        challenge="later", code_hash="h", salt="00", channel="email", now=NOW + timedelta(minutes=16)
    )


def test_a_session_starts_once_per_code_and_ends_on_sign_out_or_removal() -> None:
    user = _user()
    user.issue_code(challenge="c1", code_hash="h", salt="00", channel="email", now=NOW)
    user.sign_in(challenge="c1", session_hash="s1", expires_at=NOW + timedelta(hours=8), now=NOW)
    assert user.session_valid("s1", NOW) and not user.session_valid("s1", NOW + timedelta(hours=8))
    with pytest.raises(CodeRefused):
        user.sign_in(challenge="c1", session_hash="s2", expires_at=NOW + timedelta(hours=8), now=NOW)
    user.sign_out(session_hash="s1")
    assert not user.session_valid("s1", NOW)
    user.issue_code(challenge="c2", code_hash="h", salt="00", channel="email", now=NOW)
    user.sign_in(challenge="c2", session_hash="s3", expires_at=NOW + timedelta(hours=8), now=NOW)
    user.remove()
    assert not user.session_valid("s3", NOW)
    with pytest.raises(UnknownPortalUser):
        user.issue_code(challenge="c3", code_hash="h", salt="00", channel="email", now=NOW)
