"""What the e-services' pages share: their refusals as catalogue keys beside the field they concern, the
form's values read as the services take them, and each form's `Idempotency-Key`.

Every rule is the services' own (`NotEligible` names the field and the rule; conflicts, "not found" and
the passport renewal rules have their own errors); the portal only says it in the page's language, so the
rule's key is `rule.<rule>` in the catalogue. A form carries a random `request_key` made when the page was
drawn: sending the same form twice (a double click, a reload) gets the first answer instead of a second
request, through the services' idempotency (`services.idempotency`).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any

from starlette.datastructures import UploadFile

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.errors import (
    DomainError,
    InvalidValue,
    PassportExpiresBeforeIssue,
    PassportNotYetIssued,
    PassportNumberRepeated,
)
from jawazat_events.domain.requests import Decision, NotEligible, RequestConflict, RequestNotFound
from jawazat_events.domain.ticket import MAX_ATTACHMENT_BYTES
from jawazat_events.portal.forms import Errors, field_errors
from jawazat_events.portal.messages import MESSAGES
from jawazat_events.portal.web import PageNotFound
from jawazat_events.services.idempotency import IdempotencyClaim, IdempotencyMismatch
from jawazat_events.services.permits import PermitService
from jawazat_events.services.tickets import Upload

REQUEST_KEY = "request_key"
_REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHUNK = 1024 * 1024
_PASSPORT_RULES: dict[type[DomainError], tuple[str, str]] = {
    PassportNotYetIssued: ("issue_date", "rule.passport_not_issued"),
    PassportExpiresBeforeIssue: ("expiry_date", "rule.passport_expires_before_issue"),
    PassportNumberRepeated: ("passport_number", "rule.passport_number_repeated"),
}


def new_request_key() -> str:
    """A fresh key for a form about to be drawn."""
    return secrets.token_urlsafe(18)


def form_claim(actor: Actor, request_key: str, route: str, body: Any) -> IdempotencyClaim | None:
    """The idempotency claim of a posted form (None when it came without a well-formed key)."""
    if not _REQUEST_KEY.fullmatch(request_key or ""):
        return None
    return IdempotencyClaim.of(
        scope=actor.key, key=f"portal:{request_key}", route=f"portal {route}", body=body
    )


def rule_key(rule: str) -> str:
    """The catalogue key of a service's rule (the generic sentence for a rule the catalogue lacks)."""
    key = f"rule.{rule}"
    return key if key in MESSAGES else "field.generic"


def refusal(
    error: DomainError,
    *,
    conflict: tuple[str, str] = ("form", "conflict.generic"),
    not_found: tuple[str, str] | None = None,
) -> tuple[int, Errors]:
    """The status and the field errors of a refused form: 422 for a rule (beside its field), 409 for a
    conflict (beside `conflict`'s field), and for "not found" (someone the user may not act for, or
    unknown: one answer) `not_found`'s field error when the form names a person, else the "not found"
    page."""
    if isinstance(error, NotEligible):
        return 422, {error.field.split(".", 1)[0]: rule_key(error.rule)}
    if isinstance(error, RequestConflict):
        return 409, {conflict[0]: conflict[1]}
    if isinstance(error, RequestNotFound):
        if not_found is None:
            raise PageNotFound from None
        return 422, {not_found[0]: not_found[1]}
    if isinstance(error, IdempotencyMismatch):
        return 422, {REQUEST_KEY: "es.form_reused"}
    for kind, (field, key) in _PASSPORT_RULES.items():
        if isinstance(error, kind):
            return 422, {field: key}
    if isinstance(error, InvalidValue):
        field = str(error).split(" ", 1)[0]
        if field == "passport_number":
            return 422, {field: "field.passport_number.invalid"}
        if field in ("issue_date", "expiry_date", "valid_from", "valid_until"):
            return 422, {field: "field.date.implausible"}
        if field == "tracking_number":
            return 422, {field: "field.tracking_number.invalid"}
    return 422, field_errors(error)


def parse_day(text: str, field: str, errors: Errors) -> date | None:
    """A `YYYY-MM-DD` day as typed or picked (Arabic-Indic digits read as digits); a field error when it
    is missing or not a day."""
    cleaned = (text or "").strip().translate(_DIGITS)
    if not cleaned:
        errors[field] = "field.date.required"
        return None
    try:
        if not _DAY.fullmatch(cleaned):
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        errors[field] = "field.date.invalid"
        return None


def parse_decision(value: str, errors: Errors) -> Decision | None:
    """An officer's choice: approve or reject (a field error otherwise)."""
    try:
        return Decision(value)
    except ValueError:
        errors["decision"] = "rule.decision"
        return None


def decide_permit(
    service: PermitService[Any], actor: Actor, permit_id: str, *, decision: str, reason: str
) -> tuple[dict[str, Any] | None, int, Errors]:
    """An officer's decision through the permit's service: its answer, or the status and field errors."""
    errors: Errors = {}
    chosen = parse_decision(decision, errors)
    if chosen is None:
        return None, 422, errors
    try:
        return service.decide(actor, permit_id, decision=chosen, reason=reason or None), 200, {}
    except DomainError as error:
        code, errors = refusal(error, conflict=("decision", "conflict.decided"))
        return None, code, errors


def chosen_files(files: Sequence[UploadFile | str] | None) -> list[UploadFile]:
    """The files a form really carries (a file input left empty sends a nameless, empty part)."""
    return [f for f in files or () if isinstance(f, UploadFile) and (f.filename or f.size)]


def read_uploads(files: Sequence[UploadFile]) -> list[Upload]:
    """Attachments as the ticket service takes them: name and content (one byte past the limit at most, so
    that the service can say a file is too large)."""
    uploads: list[Upload] = []
    for index, upload in enumerate(files):
        content = upload.file.read(MAX_ATTACHMENT_BYTES + 1)
        uploads.append(Upload(upload.filename or f"attachment-{index + 1}", content))
    return uploads


def document_records(files: Sequence[UploadFile]) -> list[dict[str, str]]:
    """A Makkah application's documents as the service takes them: each file's name and SHA-256 (the
    portal hashes the files; as over the API, only names and hashes are recorded)."""
    records: list[dict[str, str]] = []
    for index, upload in enumerate(files):
        digest = hashlib.sha256()
        while chunk := upload.file.read(_CHUNK):
            digest.update(chunk)
        name = posixpath.basename((upload.filename or "").replace("\\", "/")).strip()
        records.append({"name": name or f"document-{index + 1}", "sha256": digest.hexdigest()})
    return records
