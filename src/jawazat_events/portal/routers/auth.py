"""Sign-in by a one-time code, and sign-out: `/portal/login`, `/portal/login/code`, `/portal/logout`.

The answer to an e-mail address is the same page whether or not anyone signs in with it; the code goes
out after the answer (a background task of this server: no worker needed). Attempts are limited per
client address; wrong codes are counted per challenge, i.e. per browser that asked for the code, so
nobody can use up another person's code.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import Response

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.portal_user import CODE_LIFETIME, CodeRefused
from jawazat_events.portal.web import (
    CHALLENGE_COOKIE,
    LANG_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    YEAR,
    MaybeUser,
    Portal,
    PortalState,
    TooManyAttempts,
    client_address,
    page_language,
    redirect,
    render,
    set_cookie,
    url,
)

router = APIRouter()
LOGIN_PATH = PREFIX + "/login"


def _limit(request: Request, portal: PortalState) -> None:
    wait = portal.signin_limiter.hit(f"signin:{client_address(request, portal)}")
    if wait is not None:
        raise TooManyAttempts(wait)


@router.get("/login")
def login_form(request: Request, principal: MaybeUser) -> Response:
    if principal is not None:
        return redirect(request, url("/"))
    return render(request, "login.html", title_key="login.title", email="", errors={})


@router.post("/login")
def request_code(
    request: Request,
    portal: Portal,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    _limit(request, portal)
    service = portal.container.portal_users
    try:
        asked = service.request_code(email, language=page_language(request))
    except InvalidValue:
        return render(
            request,
            "login.html",
            title_key="login.title",
            status=422,
            email=email,
            errors={"email": "login.email_invalid"},
        )
    if asked.pending is not None:
        background.add_task(service.deliver, asked.pending)
    response = render(
        request, "login_code.html", title_key="login.code_title", login=email.strip(), errors={}
    )
    set_cookie(
        response,
        request,
        CHALLENGE_COOKIE,
        asked.challenge,
        max_age=int(CODE_LIFETIME.total_seconds()),
        path=LOGIN_PATH,
    )
    response.background = background
    return response


@router.post("/login/code")
def submit_code(
    request: Request,
    portal: Portal,
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _limit(request, portal)
    challenge = request.cookies.get(CHALLENGE_COOKIE, "")
    if not challenge or len(challenge) > 200:
        return render(
            request,
            "login.html",
            title_key="login.title",
            status=422,
            email="",
            notice="login.challenge_gone",
            errors={},
        )
    try:
        session = portal.container.portal_users.sign_in(challenge, code)
    except CodeRefused:
        return render(
            request,
            "login_code.html",
            title_key="login.code_title",
            status=422,
            login="",
            errors={"code": "login.code_refused"},
        )
    response = redirect(request, url("/"))
    lifetime = int((session.expires_at - portal.container.clock()).total_seconds())
    set_cookie(response, request, SESSION_COOKIE, session.token, max_age=lifetime)
    set_cookie(response, request, LANG_COOKIE, session.principal.language, max_age=YEAR)
    response.delete_cookie(CHALLENGE_COOKIE, path=LOGIN_PATH)
    return response


def _sign_out(request: Request, portal: PortalState) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token and len(token) < 200:
        portal.container.portal_users.sign_out(token)
    request.state.principal = None
    response = render(request, "signed_out.html", title_key="login.signed_out_title")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/logout")
def logout_link(request: Request, portal: Portal) -> Response:
    """Following the sign-out link ends the session as the button does."""
    return _sign_out(request, portal)


@router.post("/logout")
def logout(request: Request, portal: Portal) -> Response:
    return _sign_out(request, portal)
