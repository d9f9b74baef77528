"""Application service for portal users: adding and removing them, one-time sign-in codes, sessions.

Rules live on the `PortalUser` aggregate; this service loads, changes and saves it (with its roster in the
same `save()`), hashes what must never be stored in clear (codes with scrypt, since six digits are few;
session tokens with SHA-256, since they are 256 random bits), and hands the code to a `CodeSender` (the
delivery channels, or the outbox folder). Unknown addresses get a challenge of the same shape as known
ones and the same work (one scrypt), so neither the answer nor its timing says who has an account.

Individuals are not added: an address or mobile that no operator-added user signs in with, but that a
person's record holds now, signs in as that person (`PersonDirectory.signing_in`); the user keyed by that
contact is made (or re-linked) at the request for a code, with role `individual` and the person's ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from jawazat_events.domain.errors import InvalidValue, UnknownEstablishment
from jawazat_events.domain.establishment import check_language
from jawazat_events.domain.identifiers import (
    establishment_id,
    parse_email,
    parse_mobile,
    parse_unified_number,
)
from jawazat_events.domain.portal_user import (
    CodeRefused,
    PortalRole,
    PortalRoster,
    PortalUser,
    PortalUserExists,
    TooManyCodes,
    UnknownPortalUser,
    check_role,
    portal_roster_id,
    portal_user_id,
    roster_key,
)
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.person_directory import PersonDirectory

SESSION_PREFIX = "jzs"
CODE_DIGITS = 6
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class PendingCode:
    """A code to send now: the only moment it exists in clear."""

    channel: str  # "email" or "sms"
    recipient: str
    code: str
    language: str


class CodeSender(Protocol):
    """Sends a sign-in code through a delivery channel; True when a channel accepted it."""

    async def send_code(self, pending: PendingCode) -> bool: ...


@dataclass(frozen=True)
class CodeRequest:
    """What a sign-in request gives back: the browser's challenge, and a code to send (None when none)."""

    challenge: str
    pending: PendingCode | None


@dataclass(frozen=True)
class Principal:
    """A signed-in portal user, as pages see them."""

    user_id: str
    login: str
    name: str
    role: PortalRole
    establishment: str | None
    email: str | None
    mobile: str | None
    language: str
    id_number: str | None = None  # an individual's: the person they are


@dataclass(frozen=True)
class Session:
    """A session just started: its token (for the cookie, never stored) and who it belongs to."""

    token: str
    principal: Principal
    expires_at: datetime


def login_of(text: str) -> str:
    """The login a user signs in with: a normalised e-mail address, or (no `@`) a mobile in E.164."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidValue("email must not be empty")
    if "@" in cleaned:
        return parse_email(cleaned).lower()  # one login whatever the letters' case
    try:
        return parse_mobile(cleaned)
    except InvalidValue:
        raise InvalidValue(f"email '{cleaned}' is not a valid e-mail address or mobile number") from None


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalise_code(text: str) -> str:
    """A typed code as ASCII digits: spaces dropped, Arabic-Indic digits read as the digits they are."""
    cleaned = "".join((text or "")[:64].split()).translate(_DIGITS)
    return cleaned if cleaned.isascii() else cleaned.encode("ascii", "replace").decode("ascii")


def hash_code(code: str, salt: bytes) -> str:
    """scrypt of a code: six digits are too few for a plain hash to hide them."""
    return hashlib.scrypt(code.encode("ascii"), salt=salt, **_SCRYPT).hex()


def hash_session(token: str) -> str:
    """Session tokens are 256 random bits: a plain SHA-256 is the right hash to store."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_id_of_token(token: str, prefix: str = SESSION_PREFIX) -> UUID | None:
    """The user id inside `jzs_<user id hex>_<secret>` (or a challenge `<user id hex>.<id>`), or None."""
    if prefix:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != prefix or not parts[2]:
            return None
        key = parts[1]
    else:
        key, _, rest = token.partition(".")
        if not rest:
            return None
    try:
        return UUID(hex=key) if len(key) == 32 else None
    except ValueError:
        return None


def _principal(user: PortalUser) -> Principal:
    return Principal(
        user_id=user.id.hex,
        login=user.login,
        name=user.name,
        role=PortalRole(user.role),
        establishment=user.establishment,
        email=user.email,
        mobile=user.mobile,
        language=user.language,
        id_number=user.id_number,
    )


class PortalUserService:
    """Portal users of establishments and auditors, and their sign-in."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        sender: CodeSender,
        clock: Callable[[], datetime],
        session_lifetime: timedelta,
        people: PersonDirectory | None = None,
    ) -> None:
        self.app = app
        self.sender = sender
        self.clock = clock
        self.session_lifetime = session_lifetime
        self.people = people  # None: individuals cannot sign in

    # --- users -------------------------------------------------------------------------------------

    def add_user(
        self,
        *,
        unified_number: str | None,
        email: str | None,
        mobile: str | None = None,
        name: str | None = None,
        role: str = PortalRole.ESTABLISHMENT.value,
        language: str | None = None,
    ) -> Principal:
        """Add a portal user (`role` auditor or officer: the directorate's, of no establishment); they
        sign in with the e-mail, else the mobile."""
        checked = check_role(role)
        unified = None
        establishment: Any = None
        if checked is PortalRole.ESTABLISHMENT:
            if not unified_number:
                raise InvalidValue("unified_number is required for an establishment's portal user")
            unified = parse_unified_number(unified_number, field="unified_number")
            establishment = self._find(establishment_id(unified))
            if establishment is None:
                raise UnknownEstablishment(f"no establishment is registered as {unified}")
        elif unified_number:
            raise InvalidValue(
                f"an {checked.value} belongs to no establishment: leave out the unified number"
            )
        own_email = parse_email(email) if email else None
        own_mobile = parse_mobile(mobile) if mobile else None
        if own_email is None and own_mobile is None:
            raise InvalidValue("email is required (or a mobile, for a user who signs in by SMS)")
        login = own_email.lower() if own_email else cast(str, own_mobile)
        chosen = check_language(language or (establishment.language if establishment is not None else "ar"))
        user = cast("PortalUser | None", self._find(portal_user_id(login)))
        if user is None:
            user = PortalUser.add(
                login=login,
                role=checked.value,
                establishment=unified,
                email=own_email,
                mobile=own_mobile,
                name=name,
                language=chosen,
            )
        elif user.removed or user.role == PortalRole.INDIVIDUAL:
            # An individual signing in with this contact becomes this portal user (their sessions end).
            user.readd(
                role=checked.value, establishment=unified, email=own_email, mobile=own_mobile, name=name
            )
        else:
            raise PortalUserExists(f"a portal user already signs in as {login}")
        roster = self._roster(roster_key(checked, unified))
        roster.join(login)
        self.app.save(user, roster)
        return _principal(user)

    def remove_user(self, login_text: str, *, unified_number: str | None = None) -> str:
        """Remove a portal user (of `unified_number` only, when given); their sessions end."""
        login = login_of(login_text)
        user = self._user(login)
        if (unified_number is not None and user.establishment != unified_number) or (
            user.role == PortalRole.INDIVIDUAL  # not added, not removed: their record's contacts decide
        ):
            raise UnknownPortalUser(f"no portal user signs in as {login}")
        user.remove()
        roster = self._roster(roster_key(user.role, user.establishment))
        roster.leave(login)
        self.app.save(user, roster)
        return login

    def list_users(self, unified_number: str | None, *, role: str | None = None) -> list[Principal]:
        """The portal users of one establishment (`None`: the auditors; `role="officer"`: the officers),
        in the order they were added."""
        key = roster_key(role, None) if role == PortalRole.OFFICER else unified_number
        roster = self._find(portal_roster_id(key))
        if roster is None:
            return []
        found = [self._find(portal_user_id(login)) for login in cast(PortalRoster, roster).logins]
        return [_principal(u) for u in found if isinstance(u, PortalUser) and not u.removed]

    def choose_language(self, principal: Principal, language: str) -> None:
        """Remember the portal's language for this user."""
        user = self._user(principal.login)
        user.choose_language(check_language(language))
        self.app.save(user)

    # --- sign-in -----------------------------------------------------------------------------------

    def request_code(self, login_text: str, *, language: str) -> CodeRequest:
        """Start a sign-in: a challenge for this browser, and (for a known user within the limits) a code.

        `InvalidValue` when the text is neither an e-mail address nor a mobile number; otherwise the answer
        has the same shape whether or not anyone signs in with it."""
        login = login_of(login_text)
        key = portal_user_id(login)
        challenge = f"{key.hex}.{secrets.token_urlsafe(16)}"
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_bytes(16)
        code_hash = hash_code(code, salt)  # computed for unknown logins too: the same work, the same time
        found = self._find(key)
        user = found if isinstance(found, PortalUser) else None
        if user is None or user.removed or user.role == PortalRole.INDIVIDUAL:
            user = self._individual(login, user, language=language)
            if user is None:
                return CodeRequest(challenge=challenge, pending=None)
        channel, recipient = ("email", user.email) if user.email else ("sms", user.mobile)
        try:
            user.issue_code(
                challenge=challenge.split(".", 1)[1],
                code_hash=code_hash,
                salt=salt.hex(),
                channel=channel,
                now=self.clock(),
            )
        except TooManyCodes:
            return CodeRequest(challenge=challenge, pending=None)
        self.app.save(user)
        return CodeRequest(
            challenge=challenge,
            pending=PendingCode(
                channel=channel, recipient=cast(str, recipient), code=code, language=language
            ),
        )

    async def deliver(self, pending: PendingCode) -> bool:
        """Send a code through the channels (run after the answer is sent: the page never waits on it)."""
        return await self.sender.send_code(pending)

    def sign_in(self, challenge: str, code: str) -> Session:
        """Check a code against this browser's challenge; a session starts, or `CodeRefused` (one answer)."""
        key = user_id_of_token(challenge, prefix="")
        challenge_id = challenge.partition(".")[2]
        cleaned = normalise_code(code)
        user = self._find(key) if key is not None else None
        now = self.clock()
        if not isinstance(user, PortalUser):
            hash_code(cleaned, b"\0" * 16)  # the same work as a real check
            raise CodeRefused("the code is wrong, has expired or was tried too often: ask for a new one")
        try:
            live = user.challenge(challenge_id, now)
        except CodeRefused:
            hash_code(cleaned, b"\0" * 16)
            raise
        given = hash_code(cleaned, bytes.fromhex(live["salt"]))
        if not (cleaned.isdigit() and len(cleaned) == CODE_DIGITS) or not hmac.compare_digest(
            given, live["code_hash"]
        ):
            user.code_failed(challenge=challenge_id)
            self.app.save(user)
            raise CodeRefused("the code is wrong, has expired or was tried too often: ask for a new one")
        token = f"{SESSION_PREFIX}_{user.id.hex}_{secrets.token_urlsafe(32)}"
        expires_at = now + self.session_lifetime
        user.sign_in(challenge=challenge_id, session_hash=hash_session(token), expires_at=expires_at, now=now)
        self.app.save(user)
        return Session(token=token, principal=_principal(user), expires_at=expires_at)

    def session(self, token: str) -> Principal | None:
        """Who this session token belongs to, or None (unknown, expired, signed out, user removed)."""
        key = user_id_of_token(token)
        user = self._find(key) if key is not None else None
        if not isinstance(user, PortalUser) or not user.session_valid(hash_session(token), self.clock()):
            return None
        return _principal(user)

    def sign_out(self, token: str) -> None:
        """End the session server-side: its cookie stops working at once."""
        key = user_id_of_token(token)
        user = self._find(key) if key is not None else None
        if isinstance(user, PortalUser):
            user.sign_out(session_hash=hash_session(token))
            self.app.save(user)

    # --- helpers -----------------------------------------------------------------------------------

    def _individual(self, login: str, user: PortalUser | None, *, language: str) -> PortalUser | None:
        """The user standing for the person whose record holds `login` now (made or re-linked, unsaved),
        or None when no record holds it."""
        person = self.people.signing_in(login) if self.people is not None else None
        if person is None:
            return None
        name = person.name_en if language == "en" else person.name_ar
        if user is None:
            return PortalUser.for_person(
                login=login, id_number=person.id_number, name=name, language=language
            )
        user.link_person(id_number=person.id_number, name=name)
        return user

    def _find(self, key: UUID) -> Any | None:
        try:
            return self.app.repository.get(key)
        except AggregateNotFoundError:
            return None

    def _user(self, login: str) -> PortalUser:
        user = self._find(portal_user_id(login))
        if not isinstance(user, PortalUser) or user.removed:
            raise UnknownPortalUser(f"no portal user signs in as {login}")
        return user

    def _roster(self, unified_number: str | None) -> PortalRoster:
        found = self._find(portal_roster_id(unified_number))
        return cast(PortalRoster, found) if found is not None else PortalRoster(unified_number=unified_number)
