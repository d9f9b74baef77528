"""Dependencies of the routes: the container, and the ONE place a caller is authenticated and authorised.

`current_caller` reads `Authorization: Bearer …`, resolves an establishment's API key (`jzk_…`) or a
token (`jzt_…`), and counts the request against the caller's rate limit (failed attempts against
`auth_failures`' limits instead); the role dependencies on top
answer 403 to the wrong role. Routes only declare which alias they need and never check again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jawazat_events.api.auth_failures import client_address, key_prefix
from jawazat_events.api.state import ApiState, Caller, CallerRole
from jawazat_events.bootstrap import Container
from jawazat_events.services.establishments import API_KEY_PREFIX
from jawazat_events.services.tokens import TOKEN_PREFIX

MAX_CREDENTIAL_LENGTH = 512

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An establishment's API key (`jzk_…`) or a source system's or auditor's token (`jzt_…`).",
)


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(get_state)]


def get_container(state: State) -> Container:
    return state.container


Store = Annotated[Container, Depends(get_container)]


def request_address(request: Request, state: ApiState) -> str:
    """The client's address: the peer's, or behind a trusted proxy the one it forwarded (docs/api.md)."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        state.trusted_proxies,
    )


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail="missing or invalid credentials: send Authorization: Bearer <key or token>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _too_many(state: ApiState, retry_after: int) -> HTTPException:
    limit = state.container.settings.api_rate_limit_per_minute
    return HTTPException(
        status_code=429,
        detail=f"rate limit of {limit:,} requests a minute reached; retry after {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def _resolve(state: ApiState, credential: str) -> Caller | None:
    if len(credential) > MAX_CREDENTIAL_LENGTH:
        return None
    if credential.startswith(API_KEY_PREFIX + "_"):
        unified = state.container.establishments.authenticate(credential)
        return Caller(CallerRole.ESTABLISHMENT, unified) if unified else None
    if credential.startswith(TOKEN_PREFIX + "_"):
        holder = state.container.tokens.authenticate(credential)
        if holder is None:
            return None
        return Caller(CallerRole(holder.role.value), holder.token_id, holder.id_number, holder.name)
    return None


def _too_many_failures(wait: int) -> HTTPException:
    return HTTPException(
        status_code=429,
        detail=f"too many failed authentications from this address or for this key; retry after {wait} s",
        headers={"Retry-After": str(wait)},
    )


def current_caller(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The authenticated caller (401 otherwise), counted against its rate limit (429 when spent).

    Valid credentials are always checked and let in: failed attempts are counted apart (per client
    address and per presented key prefix) and only turn further *failures* into 429."""
    presented = credentials.credentials.strip() if credentials else None
    caller = _resolve(state, presented) if presented else None
    if caller is None:
        client = request_address(request, state)
        if (wait := state.auth_failures.record(client, key_prefix(presented))) is not None:
            raise _too_many_failures(wait)
        raise _unauthorized()
    request.state.caller_label = caller.label
    if (wait := state.limiter.hit(caller.label)) is not None:
        raise _too_many(state, wait)
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


_PLURAL = {
    CallerRole.ESTABLISHMENT: "establishments",
    CallerRole.SOURCE: "source systems",
    CallerRole.AUDITOR: "auditors",
    CallerRole.INDIVIDUAL: "individuals",
    CallerRole.OFFICER: "officers",
}
_SINGULAR = {
    CallerRole.ESTABLISHMENT: "an establishment",
    CallerRole.SOURCE: "a source system",
    CallerRole.AUDITOR: "an auditor",
    CallerRole.INDIVIDUAL: "an individual",
    CallerRole.OFFICER: "an officer",
}


def _role(role: CallerRole) -> Callable[[Caller], Caller]:
    def require(caller: CurrentCaller) -> Caller:
        if caller.role is not role:
            raise HTTPException(
                status_code=403,
                detail=f"this route is for {_PLURAL[role]}; the caller is {_SINGULAR[caller.role]}",
            )
        return caller

    require.__name__ = f"require_{role.value}"
    return require


def current_establishment(caller: Annotated[Caller, Depends(_role(CallerRole.ESTABLISHMENT))]) -> str:
    """The calling establishment's unified number."""
    return caller.principal


CurrentEstablishment = Annotated[str, Depends(current_establishment)]
SourceSystem = Annotated[Caller, Depends(_role(CallerRole.SOURCE))]
Auditor = Annotated[Caller, Depends(_role(CallerRole.AUDITOR))]
