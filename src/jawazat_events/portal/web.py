"""What every portal page shares: the state, the language, the signed-in user, CSRF, and rendering.

- Language: `?lang=ar|en` switches (and is remembered in a cookie and, when signed in, on the user);
  otherwise the cookie, then the user's own choice, then Arabic.
- Session: the `jawazat_session` cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS) holds a token the
  store knows only as a hash; `PortalUserService.session` says whose it is.
- CSRF: every form carries `csrf_token`, a hash of the browser's `jawazat_csrf` cookie and its session;
  a POST without the right one is refused with 403 before the route runs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, cast
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jawazat_events.api.deps import request_address
from jawazat_events.api.ratelimit import RateLimiter
from jawazat_events.api.state import ApiState
from jawazat_events.bootstrap import Container
from jawazat_events.domain.portal_user import PortalRole
from jawazat_events.portal import formatting
from jawazat_events.portal.messages import DEFAULT_LANGUAGE, Language, language_of, translate
from jawazat_events.portal.navigation import menu
from jawazat_events.services.portal_users import Principal

PREFIX = "/portal"
SESSION_COOKIE = "jawazat_session"
CSRF_COOKIE = "jawazat_csrf"
LANG_COOKIE = "jawazat_lang"
CHALLENGE_COOKIE = "jawazat_challenge"
CSRF_FIELD = "csrf_token"
YEAR = 365 * 24 * 3600


@dataclass
class PortalState:
    """The container, the API's shared machinery, and this process's sign-in rate limiter."""

    container: Container
    api: ApiState
    signin_limiter: RateLimiter
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def build(cls, container: Container, api: ApiState) -> PortalState:
        return cls(
            container=container,
            api=api,
            signin_limiter=RateLimiter(container.settings.portal_signin_per_minute),
        )


# --------------------------------------------------------------------------------------- exceptions


class SignInRequired(Exception):
    """The page needs a signed-in user: go to the sign-in page."""


class PageNotFound(Exception):
    """Unknown, someone else's, or not for this role: the same "not found" for all."""


class CsrfRefused(Exception):
    """A form arrived without its CSRF token, or with a wrong one."""


class TooManyAttempts(Exception):
    """Sign-in attempts from this address went past the limit."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


# ------------------------------------------------------------------------------------------ requests


def get_portal(request: Request) -> PortalState:
    state: PortalState = request.app.state.portal
    return state


Portal = Annotated[PortalState, Depends(get_portal)]


def client_address(request: Request, portal: PortalState) -> str:
    """The client's address as the API sees it (behind a trusted proxy, the one it forwarded)."""
    return request_address(request, portal.api)


def chosen_language(request: Request) -> Language | None:
    """The language asked for in the query or remembered in the cookie (None: neither)."""
    return language_of(request.query_params.get("lang")) or language_of(request.cookies.get(LANG_COOKIE))


def current_principal(request: Request, portal: Portal) -> Principal | None:
    """The signed-in user, or None; a `?lang=` choice is remembered on the user."""
    cached = getattr(request.state, "principal", False)
    if cached is not False:
        return cast("Principal | None", cached)
    token = request.cookies.get(SESSION_COOKIE, "")
    principal = portal.container.portal_users.session(token) if token and len(token) < 200 else None
    asked = language_of(request.query_params.get("lang"))
    if principal is not None and asked is not None and asked != principal.language:
        portal.container.portal_users.choose_language(principal, asked)
        principal = Principal(**{**principal.__dict__, "language": asked})
    request.state.principal = principal
    return principal


MaybeUser = Annotated[Principal | None, Depends(current_principal)]


def signed_in(principal: MaybeUser) -> Principal:
    if principal is None:
        raise SignInRequired
    return principal


def establishment_user(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """A signed-in establishment user; anyone else gets "not found"."""
    if principal.role is not PortalRole.ESTABLISHMENT or not principal.establishment:
        raise PageNotFound
    return principal


def auditor_user(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """A signed-in auditor; anyone else gets "not found"."""
    if principal.role is not PortalRole.AUDITOR:
        raise PageNotFound
    return principal


User = Annotated[Principal, Depends(signed_in)]
EstablishmentUser = Annotated[Principal, Depends(establishment_user)]
AuditorUser = Annotated[Principal, Depends(auditor_user)]


# ---------------------------------------------------------------------------------------------- CSRF


def csrf_secret(request: Request) -> str:
    """This browser's CSRF secret (made on its first visit; the cookie is set with the answer)."""
    secret = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not secret or len(secret) > 100:
        secret = secrets.token_urlsafe(32)
        request.state.new_csrf = secret
    return secret


def csrf_token(request: Request) -> str:
    """The token forms carry: bound to the browser's CSRF cookie and to its session."""
    material = f"{csrf_secret(request)}|{request.cookies.get(SESSION_COOKIE, '')}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


async def csrf_protect(request: Request) -> None:
    """Refuse (403) any unsafe request whose form lacks the right CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not request.cookies.get(CSRF_COOKIE):
        raise CsrfRefused
    try:
        form = await request.form()
    except Exception:  # an unreadable body is no valid form either
        raise CsrfRefused from None
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, csrf_token(request)):
        raise CsrfRefused


# ----------------------------------------------------------------------------------------- rendering


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("jawazat_events.portal", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["ltr"] = formatting.ltr
    env.globals["number"] = formatting.number
    return env


def page_language(request: Request) -> Language:
    principal = getattr(request.state, "principal", None)
    chosen = chosen_language(request)
    if chosen is not None:
        return chosen
    if principal is not None:
        return language_of(principal.language) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def url(path: str, **query: object) -> str:
    """A portal URL (`path` under /portal) with the query values that are set."""
    kept = {k: v for k, v in query.items() if v not in (None, "", False)}
    return PREFIX + path + (("?" + urlencode(kept)) if kept else "")


def cookie_secure(request: Request, portal: PortalState) -> bool:
    configured = portal.container.settings.portal_cookie_secure
    return configured if configured is not None else request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age: int | None, path: str = PREFIX
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, request.app.state.portal),
    )


def finish(request: Request, response: Response) -> Response:
    """Cookies every answer may need: a new CSRF secret, the language asked for."""
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf:
        set_cookie(response, request, CSRF_COOKIE, new_csrf, max_age=YEAR)
    asked = language_of(request.query_params.get("lang"))
    if asked is not None and asked != request.cookies.get(LANG_COOKIE):
        set_cookie(response, request, LANG_COOKIE, asked, max_age=YEAR)
    return response


def render(
    request: Request,
    template: str,
    *,
    title_key: str,
    status: int = 200,
    title_values: dict[str, object] | None = None,
    **context: Any,
) -> Response:
    """A whole page in the page's language, with the frame (menu, language switch, sign-out)."""
    language = page_language(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    zone = request.app.state.portal.container.settings.zone

    def t(key: str, **values: object) -> Any:
        return translate(key, language, **values)

    other: Language = "en" if language == "ar" else "ar"
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    base_path = request.url.path
    html = (
        environment()
        .get_template(template)
        .render(
            t=t,
            lang=language,
            dir="rtl" if language == "ar" else "ltr",
            other_lang=other,
            switch_url=base_path + "?" + urlencode({**query, "lang": other}),
            title=translate(title_key, language, **(title_values or {})),
            principal=principal,
            menu=menu(principal.role) if principal else [],
            current=base_path.removeprefix(PREFIX) or "/",
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(request),
            url=url,
            when=lambda value, with_time=True: formatting.when(value, language, zone, with_time=with_time),
            type_name=lambda value: formatting.notification_type(value, language),
            **context,
        )
    )
    return finish(request, HTMLResponse(html, status_code=status))


def redirect(request: Request, target: str) -> Response:
    """See other (303): the next page after a form, loaded fresh."""
    return finish(request, RedirectResponse(target, status_code=303))
