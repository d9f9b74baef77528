"""Bulk subscriptions from an uploaded CSV: read the lines, subscribe each through the service, report.

Columns `id_number,notification_types,mobile,email` (a first line with these names is skipped); types are
separated by `;`; mobile and e-mail are optional. Each line is one subscription saved on its own: a bad line
is reported with its number and reason and never stops the others. The results read back as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jawazat_events.domain.errors import DomainError
from jawazat_events.portal.forms import field_errors, outcome_of

COLUMNS = ("id_number", "notification_types", "mobile", "email")


class SubscriptionWriter(Protocol):
    """What the upload needs of the establishments service."""

    def subscribe(
        self,
        unified_number: str,
        id_number: str,
        *,
        notification_types: Any,
        mobile: str | None = None,
        email: str | None = None,
    ) -> Any: ...


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading =, +, -, @ is quoted away)."""
    text = str(value)
    if text[:1] == "+" and text[1:].isdigit():
        return text  # a mobile in E.164 is no formula
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV text (CRLF lines) of a header and rows, every cell formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


class UnreadableFile(ValueError):
    """The upload is not a CSV text file this page can read (the catalogue key says why)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class LineResult:
    """One line's fate: its number, the ID number as given, the outcome, and the reason (catalogue key)."""

    line: int
    id_number: str
    outcome: str  # accepted | already_subscribed | not_sponsored | invalid
    reason_key: str | None


def read_rows(raw: bytes, *, max_lines: int) -> list[tuple[int, list[str]]]:
    """The data lines of a CSV upload with their line numbers (header and blank lines left out)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("field.file.not_csv") from None
    if "\x00" in text:
        raise UnreadableFile("field.file.not_csv")
    rows: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for row in reader:
            number = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if not rows and [c.lower() for c in cells[: len(COLUMNS)]] == list(COLUMNS[: len(cells)]):
                continue  # the header line
            rows.append((number, cells))
            if len(rows) > max_lines:
                raise UnreadableFile("field.file.too_many")
    except csv.Error:
        raise UnreadableFile("field.file.not_csv") from None
    if not rows:
        raise UnreadableFile("field.file.empty")
    return rows


def subscribe_rows(
    service: SubscriptionWriter, unified_number: str, rows: list[tuple[int, list[str]]]
) -> list[LineResult]:
    """Subscribe each line through the service (the same rules as the API and the CLI)."""
    results: list[LineResult] = []
    for number, cells in rows:
        given = cells[0] if cells else ""
        if len(cells) < 2 or len(cells) > len(COLUMNS):
            results.append(LineResult(number, given, "invalid", "field.line.columns"))
            continue
        mobile = cells[2] if len(cells) > 2 and cells[2] else None
        email = cells[3] if len(cells) > 3 and cells[3] else None
        types = [part.strip() for part in cells[1].split(";") if part.strip()]
        try:
            service.subscribe(unified_number, given, notification_types=types, mobile=mobile, email=email)
        except DomainError as error:
            reason = next(iter(field_errors(error).values()))
            results.append(LineResult(number, given, outcome_of(error), reason))
            continue
        results.append(LineResult(number, given, "accepted", None))
    return results


def results_csv(results: list[LineResult], words: Callable[[str], str]) -> str:
    """The results as CSV: line, id_number, outcome, reason (in the page's language)."""
    return write_csv(
        ["line", "id_number", "outcome", "reason"],
        [
            [item.line, item.id_number, item.outcome, words(item.reason_key) if item.reason_key else ""]
            for item in results
        ],
    )
