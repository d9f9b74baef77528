"""Helpers of the e-services tests: people with the new details, tokens of individuals and officers, files."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from jawazat_events.bootstrap import Container
from jawazat_events.generate import luhn_complete
from jawazat_events.services.ingest import parse_items
from tests.support import registration

GUARDIAN = luhn_complete("100000001")  # a citizen head of family
CHILD = luhn_complete("200000011")  # the guardian's dependant
OTHER_GUARDIAN = luhn_complete("100000002")
STRANGER = luhn_complete("100000003")  # an individual who is nobody's guardian
WORKER = luhn_complete("200000022")  # a worker sponsored by SPONSOR
SPONSOR = "7001234567"
MAKKAH_SPONSOR = "7005550001"
OTHER_SPONSOR = "7007654321"
GUARDIAN_MOBILE = "+966501112233"
GUARDIAN_EMAIL = "guardian@family.example"

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def person(
    id_number: str,
    *,
    sponsor: str = SPONSOR,
    event_id: str | None = None,
    occurred_at: str = "2025-01-10T08:00:00+03:00",
    **details: Any,
) -> dict[str, Any]:
    """A `person_registered` item with any of the new details."""
    item = registration(
        event_id or f"reg-{id_number}",
        id_number=id_number,
        sponsor=sponsor,
        occurred_at=occurred_at,
        passport_number=f"P{id_number[-7:]}",
    )
    return item | details


def details_changed(event_id: str, id_number: str, occurred_at: str, **details: Any) -> dict[str, Any]:
    """A `person_details_changed` item."""
    return {
        "event_id": event_id,
        "type": "person_details_changed",
        "id_number": id_number,
        "occurred_at": occurred_at,
        **details,
    }


def ingest_items(container: Container, items: list[dict[str, Any]]) -> list[str]:
    """Store feed items; every status (`accepted`, `rejected: reason`)."""
    return [
        r.status + (f": {r.reason}" if r.reason else "")
        for r, _ in container.ingestor.ingest(parse_items(items))
    ]


@dataclass
class Family:
    """A guardian and a dependant of 15 (on 2026-07-01), single, with the guardian's contacts on record."""

    container: Container
    tokens: dict[str, str] = field(default_factory=dict)

    def register(self, *, child_birth: str = "2011-03-15", **child: Any) -> None:
        child.setdefault("marital_status", "single")
        statuses = ingest_items(
            self.container,
            [
                person(
                    GUARDIAN,
                    birth_date="1980-04-02",
                    marital_status="married",
                    category="citizen",
                    mobile=GUARDIAN_MOBILE,
                    email=GUARDIAN_EMAIL,
                ),
                person(CHILD, guardian=GUARDIAN, birth_date=child_birth, category="dependant", **child),
            ],
        )
        assert statuses == ["accepted", "accepted"], statuses

    def token(self, id_number: str) -> dict[str, str]:
        """Authorization header of an individual's token."""
        if id_number not in self.tokens:
            issued = self.container.tokens.issue(
                role="individual", name=f"person {id_number}", id_number=id_number
            )
            self.tokens[id_number] = issued.token
        return {"Authorization": f"Bearer {self.tokens[id_number]}"}

    def officer(self) -> dict[str, str]:
        if "officer" not in self.tokens:
            self.tokens["officer"] = self.container.tokens.issue(role="officer", name="Officer Noura").token
        return {"Authorization": f"Bearer {self.tokens['officer']}"}
