"""Dependencies of the routes: the container, and the ONE place a caller is authenticated and authorised.

`current_caller` reads `Authorization: Bearer …`, resolves an establishment's API key (`jzk_…`) or a
token (`jzt_…`), and counts the request against the caller's rate limit; the role dependencies on top
answer 403 to the wrong role. Routes only declare which alias they need and never check again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jawazat_events.api.state import ApiState, Caller, CallerRole
from jawazat_events.bootstrap import Container
from jawazat_events.establishments import API_KEY_PREFIX
from jawazat_events.tokens import TOKEN_PREFIX

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


def current_caller(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The authenticated caller (401 otherwise), counted against its rate limit (429 when spent)."""
    client = f"ip:{request.client.host if request.client else 'unknown'}"
    # Failed attempts are limited per client address, before the store is asked again.
    if (wait := state.limiter.blocked(client)) is not None:
        raise _too_many(state, wait)
    caller = _resolve(state, credentials.credentials.strip()) if credentials else None
    if caller is None:
        state.limiter.hit(client)
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
