"""What the e-services' routes share: who is acting (individual, establishment, officer), the
`Idempotency-Key` header, and how the e-services' refusals become HTTP answers.

Eligibility refusals answer 422 naming the field AND the rule (`{"field", "message", "rule"}`); requests
the caller may not see or act on answer 404 (the same as unknown ones); a state that does not allow the
step answers 409; an `Idempotency-Key` reused for another request answers 422 naming the header.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from jawazat_events.api.deps import CurrentCaller, State
from jawazat_events.api.errors import problems_body
from jawazat_events.api.state import Caller, CallerRole
from jawazat_events.bootstrap import Container
from jawazat_events.domain.actors import Actor
from jawazat_events.domain.requests import NotEligible, RequestConflict, RequestNotFound
from jawazat_events.eservices_wiring import EServices
from jawazat_events.services.idempotency import IdempotencyClaim, IdempotencyMismatch

TICKETS_PATH = "/v1/tickets"


def actor_of(caller: Caller) -> Actor | None:
    """The e-services' actor of an authenticated caller (None for sources and auditors)."""
    if caller.role is CallerRole.ESTABLISHMENT:
        return Actor.establishment(caller.principal)
    if caller.role is CallerRole.INDIVIDUAL and caller.id_number:
        return Actor.individual(caller.id_number, caller.name)
    if caller.role is CallerRole.OFFICER:
        return Actor.officer(caller.principal, caller.name)
    return None


def _requiring(*roles: CallerRole) -> Any:
    wanted = " or ".join(f"{r.value}s" for r in roles)

    def require(caller: CurrentCaller) -> Actor:
        actor = actor_of(caller)
        if actor is None or caller.role not in roles:
            detail = f"this route is for {wanted}; the caller's role is {caller.role.value}"
            raise HTTPException(status_code=403, detail=detail)
        return actor

    require.__name__ = "require_" + "_or_".join(r.value for r in roles)
    return require


AnyUser = Annotated[
    Actor, Depends(_requiring(CallerRole.INDIVIDUAL, CallerRole.ESTABLISHMENT, CallerRole.OFFICER))
]
Applicant = Annotated[Actor, Depends(_requiring(CallerRole.INDIVIDUAL, CallerRole.ESTABLISHMENT))]
IndividualOrOfficer = Annotated[Actor, Depends(_requiring(CallerRole.INDIVIDUAL, CallerRole.OFFICER))]
Individual = Annotated[Actor, Depends(_requiring(CallerRole.INDIVIDUAL))]
Officer = Annotated[Actor, Depends(_requiring(CallerRole.OFFICER))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="send the same key again to get the first answer instead of acting twice",
    ),
]


def get_eservices(state: State) -> EServices:
    return state.container.eservices


Services = Annotated[EServices, Depends(get_eservices)]


def claim(actor: Actor, key: str | None, route: str, body: Any) -> IdempotencyClaim | None:
    """The idempotency claim of a request (None without a key)."""
    return IdempotencyClaim.of(scope=actor.key, key=key, route=route, body=body)


async def not_eligible(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotEligible)
    body = problems_body([(exc.field, str(exc))])
    body["detail"][0]["rule"] = exc.rule
    return JSONResponse(body, status_code=422)


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def key_reused(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(problems_body([("Idempotency-Key", str(exc))]), status_code=422)


def install(app: FastAPI, container: Container) -> None:
    """The e-services' routers and error answers (most specific exception classes win)."""
    from jawazat_events.api.routers import makkah_permits, people, tickets, travel_permits

    for module in (people, travel_permits, makkah_permits, tickets):
        app.include_router(module.router)
    app.add_exception_handler(NotEligible, not_eligible)
    app.add_exception_handler(RequestNotFound, not_found)
    app.add_exception_handler(RequestConflict, conflict)
    app.add_exception_handler(IdempotencyMismatch, key_reused)


def body_limits(container: Container) -> dict[str, int]:
    """Routes whose bodies may exceed the API's usual limit: ticket uploads."""
    return {TICKETS_PATH: container.settings.api_max_upload_bytes}
