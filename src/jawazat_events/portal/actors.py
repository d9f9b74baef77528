"""Who acts on the e-services' pages: the signed-in portal user as the e-services' `Actor`.

An establishment's user acts as the establishment; an individual as the person (their ID number, resolved
from the contact they signed in with: docs/portal.md, "Individuals"); an officer as `officer:portal:<login>`
(an officer's token over the API is `officer:<token id>`, the CLI's `officer:cli:<name>`). Auditors never
act on requests. Pages for the wrong role answer "not found", as every other page does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.portal_user import PortalRole
from jawazat_events.portal.web import PageNotFound, User
from jawazat_events.services.portal_users import Principal


def actor_of(principal: Principal) -> Actor | None:
    """The e-services' actor of a portal user (None for auditors, and for an individual without a person)."""
    if principal.role is PortalRole.ESTABLISHMENT and principal.establishment:
        return Actor.establishment(principal.establishment, principal.name)
    if principal.role is PortalRole.INDIVIDUAL and principal.id_number:
        return Actor.individual(principal.id_number, principal.name)
    if principal.role is PortalRole.OFFICER:
        return Actor.officer(f"portal:{principal.login}", principal.name or principal.login)
    return None


def _requiring(*roles: PortalRole) -> Callable[[Principal], Actor]:
    def require(principal: User) -> Actor:
        actor = actor_of(principal)
        if actor is None or principal.role not in roles:
            raise PageNotFound
        return actor

    require.__name__ = "require_" + "_or_".join(r.value for r in roles)
    return require


IndividualActor = Annotated[Actor, Depends(_requiring(PortalRole.INDIVIDUAL))]
OfficerActor = Annotated[Actor, Depends(_requiring(PortalRole.OFFICER))]
ApplicantActor = Annotated[Actor, Depends(_requiring(PortalRole.INDIVIDUAL, PortalRole.ESTABLISHMENT))]
IndividualOrOfficer = Annotated[Actor, Depends(_requiring(PortalRole.INDIVIDUAL, PortalRole.OFFICER))]
AnyActor = Annotated[
    Actor, Depends(_requiring(PortalRole.INDIVIDUAL, PortalRole.ESTABLISHMENT, PortalRole.OFFICER))
]
