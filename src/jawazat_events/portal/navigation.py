"""The portal's menu: one entry per page, by role. A new page adds itself with `add_page(...)`."""

from __future__ import annotations

from dataclasses import dataclass

from jawazat_events.domain.portal_user import PortalRole


@dataclass(frozen=True)
class NavItem:
    """One menu entry: its path under /portal, its catalogue key, and who sees it."""

    path: str
    label_key: str
    role: PortalRole


NAVIGATION: list[NavItem] = [
    NavItem("/", "nav.dashboard", PortalRole.ESTABLISHMENT),
    NavItem("/subscriptions", "nav.subscriptions", PortalRole.ESTABLISHMENT),
    NavItem("/alerts", "nav.alerts", PortalRole.ESTABLISHMENT),
    NavItem("/contacts", "nav.contacts", PortalRole.ESTABLISHMENT),
    NavItem("/keys", "nav.keys", PortalRole.ESTABLISHMENT),
    NavItem("/users", "nav.users", PortalRole.ESTABLISHMENT),
    NavItem("/", "nav.audit", PortalRole.AUDITOR),
    NavItem("/audit/people", "nav.audit_people", PortalRole.AUDITOR),
    NavItem("/audit/establishments", "nav.audit_establishments", PortalRole.AUDITOR),
    NavItem("/audit/integrity", "nav.audit_integrity", PortalRole.AUDITOR),
]


def add_page(item: NavItem) -> None:
    """Put a page in the menu of its role (after the existing ones)."""
    if any(existing.path == item.path and existing.role == item.role for existing in NAVIGATION):
        raise ValueError(f"a menu entry for {item.path} ({item.role.value}) exists already")
    NAVIGATION.append(item)


def menu(role: PortalRole) -> list[NavItem]:
    """The menu a user of `role` sees."""
    return [item for item in NAVIGATION if item.role == role]
