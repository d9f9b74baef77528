"""Domain exceptions: every rule the domain enforces fails with one of these, carrying a clear sentence."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused a command; the message says which and why."""


class InvalidValue(DomainError, ValueError):
    """A value object refused its input (ID number, unified number, phone, e-mail, date…)."""


class NotRegistered(DomainError):
    """An event names an ID number that the store has no registration for."""


class AlreadyRegistered(DomainError):
    """A second registration for an ID number or unified number."""


class PassportRuleViolation(DomainError):
    """A passport renewal broke one of the directorate's renewal rules."""


class PassportNotYetIssued(PassportRuleViolation):
    """The renewed passport's issue date lies after today."""


class PassportExpiresBeforeIssue(PassportRuleViolation):
    """The renewed passport expires on or before the day it was issued."""


class PassportNumberRepeated(PassportRuleViolation):
    """The renewal repeats the current passport's number."""


class SponsorUnchanged(DomainError):
    """A sponsorship transfer names the establishment that already sponsors the person."""


class NotSponsored(DomainError):
    """The establishment does not sponsor this person (or the person is unknown: same answer)."""


class AlreadySubscribed(DomainError):
    """The establishment already has an active subscription for this ID number."""


class NotSubscribed(DomainError):
    """The establishment has no active subscription for this ID number."""


class NoContact(DomainError):
    """Neither the subscription nor the establishment's defaults give a mobile or e-mail."""


class UnknownEstablishment(DomainError):
    """No establishment is registered under this unified number."""
