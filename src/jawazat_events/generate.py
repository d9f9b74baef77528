"""A realistic, deterministic synthetic event feed: registrations first, then a year of life events.

Used by the demo, the tests and the benchmarks. The same arguments and seed give the same bytes.
State kept per person is a few small values, so a million people fit easily; events stream out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jawazat_events.domain.identifiers import luhn_ok

DEFAULT_END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

NATIONALITIES = (
    "IND",
    "PAK",
    "BGD",
    "EGY",
    "PHL",
    "NPL",
    "IDN",
    "LKA",
    "SDN",
    "YEM",
    "ETH",
    "KEN",
    "JOR",
    "SYR",
    "TUR",
    "GBR",
    "USA",
)
PORTS = (
    "RUH",
    "JED",
    "DMM",
    "MED",
    "KFIA",
    "KAIA",
    "KKIA",
    "Batha",
    "Al-Haditha",
    "KFC",
    "Al-Wadiah",
    "Jizan",
    "Tabuk",
)
FIRST_NAMES = (
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("علي", "Ali"),
    ("راجيش", "Rajesh"),
    ("خان", "Khan"),
    ("فاطمة", "Fatima"),
    ("ماريا", "Maria"),
    ("حسن", "Hassan"),
    ("سنيل", "Sunil"),
    ("عمر", "Omar"),
    ("ياسين", "Yaseen"),
    ("جوزيف", "Joseph"),
    ("رحيم", "Rahim"),
    ("آمنة", "Amina"),
    ("كمال", "Kamal"),
    ("ليلى", "Layla"),
)
LAST_NAMES = (
    ("الحسن", "Alhassan"),
    ("كومار", "Kumar"),
    ("حسين", "Hussain"),
    ("سانتوس", "Santos"),
    ("رحمن", "Rahman"),
    ("إبراهيم", "Ibrahim"),
    ("شريف", "Sharif"),
    ("داس", "Das"),
    ("يوسف", "Yousef"),
    ("ميرزا", "Mirza"),
    ("أديبايو", "Adebayo"),
    ("نور", "Noor"),
)
VISA_TYPES = (
    "exit_reentry",
    "exit_reentry",
    "exit_reentry",
    "final_exit",
    "work",
    "visit",
    "seasonal_work",
    "hajj",
    "umrah",
)


def luhn_complete(nine_digits: str) -> str:
    """Append the check digit that makes the contract's Luhn check pass."""
    for check in "0123456789":
        if luhn_ok(nine_digits + check):
            return nine_digits + check
    raise AssertionError("a Luhn check digit always exists")


def establishment_numbers(people: int, seed: int) -> list[str]:
    """The sponsors a feed of this size uses: about one per 25 people, at least three."""
    rng = random.Random(f"establishments:{seed}")
    count = max(3, people // 25)
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add("7" + "".join(rng.choice("0123456789") for _ in range(9)))
    return sorted(numbers)


@dataclass
class _Person:
    id_number: str
    sponsor: int
    passport_serial: int
    passport_issue: date
    inside: bool = True
    visas: list[str] = field(default_factory=list)
    visa_serial: int = 0


class FeedGenerator:
    """Generates `events` events over `people` people, ending at `end` (business time)."""

    def __init__(self, *, people: int, events: int, seed: int = 1, end: datetime = DEFAULT_END) -> None:
        if people < 1:
            raise ValueError("--people must be at least 1")
        if events < people:
            raise ValueError(
                f"--events ({events}) must be at least --people ({people}): "
                "every person's registration is an event"
            )
        self.people = people
        self.events = events
        self.seed = seed
        self.end = end
        self.rng = random.Random(seed)
        self.sponsors = establishment_numbers(people, seed)
        self._state: list[_Person] = []
        self._serial = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self._registrations()
        yield from self._life_events(self.events - self.people)

    def lines(self) -> Iterator[str]:
        """The feed as JSON lines (without newline characters)."""
        for item in self:
            yield json.dumps(item, ensure_ascii=False, separators=(",", ":"))

    def _event_id(self) -> str:
        self._serial += 1
        return f"gen-{self.seed}-{self._serial:09d}"

    def _id_number(self, taken: set[str]) -> str:
        while True:
            kind = self.rng.random()
            if kind < 0.8:
                value = luhn_complete("2" + "".join(self.rng.choice("0123456789") for _ in range(8)))
            else:
                value = self.rng.choice("34") + "".join(self.rng.choice("0123456789") for _ in range(9))
            if value not in taken:
                taken.add(value)
                return value

    def _registrations(self) -> Iterator[dict[str, Any]]:
        taken: set[str] = set()
        rng = self.rng
        for _ in range(self.people):
            id_number = self._id_number(taken)
            when = self.end - timedelta(days=rng.randint(400, 900), seconds=rng.randint(0, 86_399))
            # Passports were issued up to ten years ago; some expire within the coming months.
            issue = (self.end - timedelta(days=rng.randint(30, 3_600))).date()
            expiry = issue + timedelta(days=rng.choice((1_826, 3_652)))
            if expiry <= when.date():
                expiry = when.date() + timedelta(days=rng.randint(30, 900))
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            person = _Person(
                id_number=id_number,
                sponsor=rng.randrange(len(self.sponsors)),
                passport_serial=1,
                passport_issue=issue,
            )
            self._state.append(person)
            yield {
                "event_id": self._event_id(),
                "type": "person_registered",
                "id_number": id_number,
                "occurred_at": when.isoformat(),
                "sponsor": self.sponsors[person.sponsor],
                "name_ar": f"{first[0]} {last[0]}",
                "name_en": f"{first[1]} {last[1]}",
                "nationality": rng.choice(NATIONALITIES),
                "passport_number": self._passport_number(person),
                "passport_issue_date": issue.isoformat(),
                "passport_expiry_date": expiry.isoformat(),
            }

    def _passport_number(self, person: _Person) -> str:
        return f"P{person.id_number[-6:]}{person.passport_serial:02d}"

    def _life_events(self, count: int) -> Iterator[dict[str, Any]]:
        if count <= 0:
            return
        rng = self.rng
        start = self.end - timedelta(days=365)
        step = timedelta(days=365) / count
        late: list[dict[str, Any]] = []
        for index in range(count):
            when = start + step * index + timedelta(seconds=rng.randint(0, 59))
            person = self._state[rng.randrange(len(self._state))]
            item = self._one_event(person, when)
            # About one event in fifty arrives late, after a few newer ones.
            if rng.random() < 0.02:
                late.append(item)
                continue
            if item["type"] == "sponsorship_transferred":
                # A transfer never overtakes the same person's held-back transfer: arriving first, a
                # transfer back to the earlier sponsor would look like one to the current sponsor.
                held = [
                    e
                    for e in late
                    if e["type"] == "sponsorship_transferred" and e["id_number"] == item["id_number"]
                ]
                for earlier in held:
                    late.remove(earlier)
                    yield earlier
            yield item
            if late and rng.random() < 0.2:
                yield late.pop(0)
        yield from late

    def _one_event(self, person: _Person, when: datetime) -> dict[str, Any]:
        rng = self.rng
        base = {
            "event_id": self._event_id(),
            "id_number": person.id_number,
            "occurred_at": when.isoformat(),
        }
        roll = rng.random()
        if roll < 0.60:
            person.inside = not person.inside
            return {
                **base,
                "type": "border_crossing",
                "direction": "entry" if person.inside else "exit",
                "port": rng.choice(PORTS),
            }
        if roll < 0.75 or (roll < 0.85 and not person.visas):
            person.visa_serial += 1
            number = f"V{person.id_number[-7:]}{person.visa_serial:03d}"
            person.visas.append(number)
            valid_from = when.date()
            return {
                **base,
                "type": "visa_issued",
                "visa_number": number,
                "visa_type": rng.choice(VISA_TYPES),
                "valid_from": valid_from.isoformat(),
                "valid_until": (valid_from + timedelta(days=rng.choice((60, 90, 180, 365)))).isoformat(),
            }
        if roll < 0.85:
            number = rng.choice(person.visas)
            status = rng.choice(("used", "cancelled", "expired", "extended"))
            item = {**base, "type": "visa_status_changed", "visa_number": number, "status": status}
            if status == "extended":
                item["valid_until"] = (when.date() + timedelta(days=90)).isoformat()
            return item
        if roll < 0.95:
            issue = max(when.date(), person.passport_issue + timedelta(days=1))
            person.passport_serial += 1
            person.passport_issue = issue
            return {
                **base,
                "type": "passport_renewed",
                "passport_number": self._passport_number(person),
                "issue_date": issue.isoformat(),
                "expiry_date": (issue + timedelta(days=rng.choice((1_826, 3_652)))).isoformat(),
            }
        choices = [i for i in range(len(self.sponsors)) if i != person.sponsor]
        person.sponsor = rng.choice(choices)
        return {
            **base,
            "type": "sponsorship_transferred",
            "to_sponsor": self.sponsors[person.sponsor],
        }
