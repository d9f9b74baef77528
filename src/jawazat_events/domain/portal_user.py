"""The PortalUser aggregate: a person who signs in to the web portal, their one-time codes and sessions.

A portal user belongs to one establishment (role `establishment`) or is an auditor (role `auditor`). They
sign in with a 6-digit code sent to them; each code is bound to the browser that asked for it (a
*challenge*), lasts `CODE_LIFETIME`, and allows `CODE_TRIES` wrong tries. Codes and session tokens reach
the aggregate already hashed: the events never carry them in clear (and every `…_hash` field is left out
of audit output). Sign-ins, sign-outs and removals are events on the store, so auditors see them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.identifiers import NAMESPACE
from jawazat_events.domain.text import parse_name

CODE_LIFETIME = timedelta(minutes=10)
CODE_TRIES = 5
# At most this many codes are sent to one user within CODE_WINDOW (no mail or SMS bombing).
CODES_PER_WINDOW = 5
CODE_WINDOW = timedelta(minutes=15)


class PortalRole(StrEnum):
    """Who a portal user is: staff of an establishment, or one of the directorate's auditors."""

    ESTABLISHMENT = "establishment"
    AUDITOR = "auditor"


class UnknownPortalUser(DomainError):
    """No portal user signs in with this e-mail or mobile."""


class PortalUserExists(DomainError):
    """A portal user already signs in with this e-mail or mobile."""


class TooManyCodes(DomainError):
    """The user was sent `CODES_PER_WINDOW` codes within `CODE_WINDOW`: no more for now."""


class CodeRefused(DomainError):
    """The code is wrong, expired, used up or unknown (one answer for all: nothing to learn from it)."""


def check_role(role: str) -> PortalRole:
    """A portal user's role is `establishment` or `auditor`."""
    try:
        return PortalRole(role)
    except ValueError:
        raise InvalidValue(f"role '{role}' must be 'establishment' or 'auditor'") from None


def check_user_name(name: str | None) -> str:
    """A portal user's display name: optional (blank: none), else the one rule for names
    (`domain.text.parse_name`), with runs of spaces made one."""
    if name is None or not name.strip():
        return ""
    return " ".join(parse_name(name, field="name").split())


def portal_user_id(login: str) -> UUID:
    """The deterministic aggregate id of the portal user who signs in with `login` (e-mail, or mobile)."""
    return uuid5(NAMESPACE, f"portal-user:{login}")


def portal_roster_id(unified_number: str | None) -> UUID:
    """The roster of one establishment's portal users (`None`: the auditors' roster)."""
    return uuid5(NAMESPACE, f"portal-roster:{unified_number or 'auditors'}")


class PortalUser(Aggregate):
    """One portal user: who they are, their pending sign-in challenges and their open sessions."""

    @staticmethod
    def create_id(login: str, **_: Any) -> UUID:
        return portal_user_id(login)

    class Added(Aggregate.Created):
        login: str
        role: str
        establishment: str | None
        email: str | None
        mobile: str | None
        name: str
        language: str

    @event(Added)
    def __init__(
        self,
        *,
        login: str,
        role: str,
        establishment: str | None,
        email: str | None,
        mobile: str | None,
        name: str,
        language: str,
    ) -> None:
        self.login = login
        self.role = role
        self.establishment = establishment
        self.email = email
        self.mobile = mobile
        self.name = name
        self.language = language
        self.removed = False
        # challenge id -> {"code_hash", "salt", "expires_at", "tries"}
        self.challenges: dict[str, dict[str, Any]] = {}
        self.codes_sent: list[datetime] = []
        # session hash -> expiry
        self.sessions: dict[str, datetime] = {}

    @classmethod
    def add(
        cls,
        *,
        login: str,
        role: str,
        establishment: str | None,
        email: str | None,
        mobile: str | None,
        name: str | None,
        language: str = "ar",
    ) -> PortalUser:
        """A new portal user; an establishment's user names its unified number, an auditor none."""
        checked = check_role(role)
        if checked is PortalRole.ESTABLISHMENT and not establishment:
            raise InvalidValue("an establishment's portal user needs the establishment's unified number")
        if checked is PortalRole.AUDITOR and establishment:
            raise InvalidValue("an auditor belongs to no establishment")
        if not email and not mobile:
            raise InvalidValue("email is required (or a mobile, for a user who signs in by SMS)")
        return cls(
            login=login,
            role=checked.value,
            establishment=establishment,
            email=email,
            mobile=mobile,
            name=check_user_name(name),
            language=language,
        )

    class Event(Aggregate.Event):
        """Every portal user event names the user's login."""

        login: str

    # --- removal -----------------------------------------------------------------------------------

    class Removed(Event):
        pass

    def remove(self) -> None:
        """The user may no longer sign in; every open session ends."""
        self._require_present()
        self._removed(login=self.login)

    @event(Removed)
    def _removed(self, *, login: str) -> None:
        self.removed = True
        self.sessions = {}
        self.challenges = {}

    class Readded(Event):
        role: str
        establishment: str | None
        email: str | None
        mobile: str | None
        name: str

    def readd(
        self, *, role: str, establishment: str | None, email: str | None, mobile: str | None, name: str | None
    ) -> None:
        """Add again a user who was removed (same login)."""
        if not self.removed:
            raise PortalUserExists(f"a portal user already signs in as {self.login}")
        self._readded(
            login=self.login,
            role=check_role(role).value,
            establishment=establishment,
            email=email,
            mobile=mobile,
            name=check_user_name(name),
        )

    @event(Readded)
    def _readded(
        self,
        *,
        login: str,
        role: str,
        establishment: str | None,
        email: str | None,
        mobile: str | None,
        name: str,
    ) -> None:
        self.role = role
        self.establishment = establishment
        self.email = email
        self.mobile = mobile
        self.name = name
        self.removed = False

    # --- language ----------------------------------------------------------------------------------

    class LanguageChosen(Event):
        language: str

    def choose_language(self, language: str) -> None:
        """The portal's language for this user from now on (`ar` or `en`)."""
        if language not in ("ar", "en"):
            raise InvalidValue(f"language '{language}' must be 'ar' or 'en'")
        if language != self.language:
            self._language_chosen(login=self.login, language=language)

    @event(LanguageChosen)
    def _language_chosen(self, *, login: str, language: str) -> None:
        self.language = language

    # --- sign-in codes -----------------------------------------------------------------------------

    class CodeIssued(Event):
        challenge: str
        code_hash: str
        salt: str
        channel: str
        expires_at: datetime

    def issue_code(self, *, challenge: str, code_hash: str, salt: str, channel: str, now: datetime) -> None:
        """A new code for one browser's challenge (given hashed); refused past the per-user limit."""
        self._require_present()
        recent = [at for at in self.codes_sent if now - at < CODE_WINDOW]
        if len(recent) >= CODES_PER_WINDOW:
            raise TooManyCodes(
                f"{CODES_PER_WINDOW} codes were sent within {CODE_WINDOW.seconds // 60} minutes; wait"
            )
        self._code_issued(
            login=self.login,
            challenge=challenge,
            code_hash=code_hash,
            salt=salt,
            channel=channel,
            expires_at=now + CODE_LIFETIME,
        )

    @event(CodeIssued)
    def _code_issued(
        self, *, login: str, challenge: str, code_hash: str, salt: str, channel: str, expires_at: datetime
    ) -> None:
        issued_at = expires_at - CODE_LIFETIME
        self.codes_sent = [at for at in self.codes_sent if issued_at - at < CODE_WINDOW] + [issued_at]
        # Challenges that can no longer be used are forgotten, so the state stays small.
        self.challenges = {
            key: value for key, value in self.challenges.items() if value["expires_at"] > issued_at
        }
        self.challenges[challenge] = {
            "code_hash": code_hash,
            "salt": salt,
            "expires_at": expires_at,
            "tries": 0,
        }

    def challenge(self, challenge: str, now: datetime) -> dict[str, Any]:
        """The live challenge a code is checked against; `CodeRefused` when gone, expired or used up."""
        found = self.challenges.get(challenge) if not self.removed else None
        if found is None or found["expires_at"] <= now or found["tries"] >= CODE_TRIES:
            raise CodeRefused("the code is wrong, has expired or was tried too often: ask for a new one")
        return found

    class CodeFailed(Event):
        challenge: str

    def code_failed(self, *, challenge: str) -> None:
        """A wrong code was tried for this challenge (after `CODE_TRIES`, the challenge is used up)."""
        if challenge in self.challenges:
            self._code_failed(login=self.login, challenge=challenge)

    @event(CodeFailed)
    def _code_failed(self, *, login: str, challenge: str) -> None:
        self.challenges[challenge]["tries"] += 1

    # --- sessions ----------------------------------------------------------------------------------

    class SignedIn(Event):
        challenge: str
        session_hash: str
        started_at: datetime
        expires_at: datetime

    def sign_in(self, *, challenge: str, session_hash: str, expires_at: datetime, now: datetime) -> None:
        """The right code for a live challenge: a session starts (its token given hashed)."""
        self.challenge(challenge, now)
        self._signed_in(
            login=self.login,
            challenge=challenge,
            session_hash=session_hash,
            started_at=now,
            expires_at=expires_at,
        )

    @event(SignedIn)
    def _signed_in(
        self, *, login: str, challenge: str, session_hash: str, started_at: datetime, expires_at: datetime
    ) -> None:
        self.challenges.pop(challenge, None)  # a code signs in once
        # Sessions that ended by themselves are forgotten, so the state stays small.
        self.sessions = {key: until for key, until in self.sessions.items() if until > started_at}
        self.sessions[session_hash] = expires_at

    def session_valid(self, session_hash: str, now: datetime) -> bool:
        """Whether this session is open now."""
        until = self.sessions.get(session_hash)
        return not self.removed and until is not None and until > now

    class SignedOut(Event):
        session_hash: str

    def sign_out(self, *, session_hash: str) -> None:
        """The session ends now (server-side: its cookie no longer works anywhere)."""
        if session_hash in self.sessions:
            self._signed_out(login=self.login, session_hash=session_hash)

    @event(SignedOut)
    def _signed_out(self, *, login: str, session_hash: str) -> None:
        self.sessions.pop(session_hash, None)

    def _require_present(self) -> None:
        if self.removed:
            raise UnknownPortalUser(f"no portal user signs in as {self.login}")


class PortalRoster(Aggregate):
    """Who the portal users of one establishment (or the auditors) are: their logins, in order added."""

    @staticmethod
    def create_id(unified_number: str | None, **_: Any) -> UUID:
        return portal_roster_id(unified_number)

    class Opened(Aggregate.Created):
        unified_number: str | None

    @event(Opened)
    def __init__(self, *, unified_number: str | None) -> None:
        self.unified_number = unified_number
        self.logins: list[str] = []

    class Joined(Aggregate.Event):
        login: str

    def join(self, login: str) -> None:
        """A user is added to this roster (once)."""
        if login not in self.logins:
            self._joined(login=login)

    @event(Joined)
    def _joined(self, *, login: str) -> None:
        self.logins.append(login)

    class Left(Aggregate.Event):
        login: str

    def leave(self, login: str) -> None:
        """A user is removed from this roster."""
        if login in self.logins:
            self._left(login=login)

    @event(Left)
    def _left(self, *, login: str) -> None:
        self.logins.remove(login)
