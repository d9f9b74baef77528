"""`jawazat demo`: the main job on the embedded default, offline, in a fresh SQLite store.

It registers people, establishments and subscriptions, ingests a generated year of events (with a few bad
lines and a re-sent stretch), runs the worker (projections, fan-out, delivery to the outbox folder unless
channels are configured), and prints what happened; then one of each e-service workflow (renewed passport,
travel permit, Makkah permit, support ticket) with its notifications (`cli.demo_eservices`).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.cli.root import app, handles_errors, out
from jawazat_events.domain.notification_types import NotificationType
from jawazat_events.generate import FeedGenerator
from jawazat_events.projections.queries import list_alerts
from jawazat_events.projections.tables import PEOPLE
from jawazat_events.services.ingest import IngestReport
from jawazat_events.worker import Worker

# Lines a careless source system might send, to show that each is named and nothing is half-written.
BAD_LINES = (
    '{"event_id": "bad-1", "type": "border_crossing", "id_number": "2000000001", '
    '"occurred_at": "2026-01-05T09:00:00+03:00", "direction": "entry", "port": "RUH"}',
    '{"event_id": "bad-2", "type": "border_crossing", "id_number": "3999999999", '
    '"occurred_at": "2026-01-05T09:00:00+03:00", "direction": "entry", "port": "RUH"}',
    '{"event_id": "bad-3", "type": "visa_issued", "id_number": "3000000001"',
    '{"event_id": "bad-4", "type": "passport_expired", "id_number": "3000000001", '
    '"occurred_at": "2026-01-05T09:00:00+03:00"}',
)
ESTABLISHMENT_NAMES = (
    "Al Noor Contracting",
    "Riyadh Medical Group",
    "Red Sea Hospitality",
    "Najd Logistics",
    "Hijaz Construction",
    "Eastern Catering",
    "Qassim Farms",
    "Tabuk Services",
)
DEMO_AUDITOR = "auditor@jawazat.example"
TYPE_CHOICES: tuple[tuple[str, ...], ...] = (
    tuple(t.value for t in NotificationType),
    ("entry_exit",),
    ("entry_exit", "visa"),
    ("passport_expiry", "passport_renewal"),
    ("visa",),
)


@app.command()
@handles_errors
def demo(
    people: Annotated[int, typer.Option(min=3, help="people in the generated feed")] = 200,
    events: Annotated[int, typer.Option(min=3, help="events in the generated feed")] = 1500,
    seed: Annotated[int, typer.Option(help="seed of the generated feed")] = 7,
    workdir: Annotated[
        Path | None,
        typer.Option(help="folder for the demo's store and outbox (default: a new temporary folder)"),
    ] = None,
) -> None:
    """Run the whole product on a fresh SQLite store and show what each establishment was told."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="jawazat-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "demo.db"
    for leftover in folder.glob("demo.db*"):
        leftover.unlink()
    outbox = folder / "outbox"
    wired = bootstrap(
        database_url=f"sqlite:///{store}", outbox_dir=outbox, attachments_dir=folder / "attachments"
    )
    try:
        out.print(f"[bold]jawazat demo[/bold]: fresh SQLite store at {store}; outbox at {outbox}")
        generator = FeedGenerator(people=people, events=events, seed=seed)
        feed = list(generator.lines())
        registrations, life = feed[:people], feed[people:]
        report = IngestReport()
        _ingest(wired, registrations, report)
        subscribed = _establishments_subscribe(wired, generator.sponsors)
        # The year of events, a few bad lines, and the first fifty lines again (a source system retrying).
        _ingest(wired, [*life, *BAD_LINES, *feed[:50]], report, first_line=people + 1)
        summary = Worker(wired).run_once()
        # The scheduler's passport-expiry job on the feed's last day: warnings flow like any event.
        expiry = wired.expiry.run(today=generator.end.date())
        more = Worker(wired).run_once()
        summary.alerts_created += more.alerts_created
        for outcome, count in more.deliveries.items():
            summary.deliveries[outcome] = summary.deliveries.get(outcome, 0) + count
        _print_ingest(report, people=people)
        out.print(f"scheduler job {expiry.summary()}", markup=False)
        out.print(
            f"establishments: {len(generator.sponsors)}; subscriptions made: {subscribed}; "
            f"alerts created: {summary.alerts_created}; deliveries: "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.deliveries.items()))
        )
        _print_alerts(wired)
        _print_messages(outbox)
        from jawazat_events.cli.demo_eservices import run_eservices_demo

        run_eservices_demo(wired, sponsor=generator.sponsors[0], outbox=outbox)
        _print_portal(store, outbox, generator.sponsors[0])
    finally:
        wired.close()


def _ingest(wired: Container, lines: list[str], report: IngestReport, *, first_line: int = 1) -> None:
    for result, event_type in wired.ingestor.ingest_lines(lines, first_line=first_line):
        report.add(result, event_type)


def _establishments_subscribe(wired: Container, sponsors: list[str]) -> int:
    service = wired.establishments
    for index, unified in enumerate(sponsors):
        service.register(
            unified_number=unified,
            name=ESTABLISHMENT_NAMES[index % len(ESTABLISHMENT_NAMES)],
            email=f"alerts{index}@establishment.example",
            mobile=f"05{(50000000 + index * 7919) % 100000000:08d}" if index % 2 == 0 else None,
            language="ar" if index % 3 else "en",
        )
        # The e-mail an establishment registers with is its first portal user.
        wired.portal_users.add_user(unified_number=unified, email=f"alerts{index}@establishment.example")
    wired.portal_users.add_user(unified_number=None, role="auditor", email=DEMO_AUDITOR, name="Audit office")
    Worker(wired, deliver=False).run_once()  # the people view knows who sponsors whom
    with wired.read_models.db.reading() as sql:
        people = sql.execute(f"SELECT id_number, sponsor FROM {PEOPLE} ORDER BY id_number").fetchall()
    made = 0
    for index, person in enumerate(people):
        if index % 5 == 4:
            continue  # not every person is followed
        service.subscribe(
            person["sponsor"],
            person["id_number"],
            notification_types=list(TYPE_CHOICES[index % len(TYPE_CHOICES)]),
        )
        made += 1
    return made


def _print_ingest(report: IngestReport, *, people: int) -> None:
    table = Table(title="Events stored, by type")
    table.add_column("type")
    table.add_column("events", justify="right")
    for event_type, count in sorted(report.accepted_by_type.items()):
        table.add_row(event_type, str(count))
    table.add_row("[bold]all[/bold]", f"[bold]{report.accepted}[/bold]")
    out.print(table)
    out.print(
        f"people registered: {report.accepted_by_type.get('person_registered', 0)} of {people}; "
        f"lines read: {report.total}; accepted {report.accepted}, duplicate {report.duplicate}, "
        f"rejected {report.rejected}"
    )
    if report.rejections:
        rejected = Table(title="Rejected lines")
        rejected.add_column("line", justify="right")
        rejected.add_column("reason")
        for item in report.rejections:
            rejected.add_row(str(item.line), item.reason or "")
        out.print(rejected)


def _print_alerts(wired: Container) -> None:
    alerts = list_alerts(wired.read_models.db)
    counts: Counter[tuple[str, str]] = Counter((a["establishment"], a["notification_type"]) for a in alerts)
    statuses: Counter[str] = Counter(a["status"] for a in alerts)
    types = [t.value for t in NotificationType]
    table = Table(title="Alerts per establishment and notification type")
    table.add_column("establishment")
    for name in types:
        table.add_column(name, justify="right")
    for unified in sorted({a["establishment"] for a in alerts}):
        table.add_row(unified, *(str(counts.get((unified, t), 0)) for t in types))
    out.print(table)
    out.print("alert statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))


def _print_portal(store: Path, outbox: Path, first_sponsor: str) -> None:
    """How to open the web portal on the store the demo leaves behind."""
    out.print("[bold]web portal[/bold] on this store (Ctrl-C stops it):")
    out.print(
        f"  JAWAZAT_DATABASE_URL=sqlite:///{store} JAWAZAT_OUTBOX_DIR={outbox} "
        f"JAWAZAT_ATTACHMENTS_DIR={store.parent / 'attachments'} .venv/bin/jawazat serve",
        markup=False,
    )
    out.print(
        f"  then open http://127.0.0.1:8000/portal/ and sign in as alerts0@establishment.example "
        f"(establishment {first_sponsor}) or {DEMO_AUDITOR} (auditor); with no SMTP server configured the "
        f"6-digit code is written to the newest {outbox}/sign-in-*.email.eml",
        markup=False,
    )
    from jawazat_events.cli.demo_eservices import print_portal_sign_ins

    print_portal_sign_ins()


def _print_messages(outbox: Path) -> None:
    shown: dict[str, Any] = {}
    for path in sorted(outbox.glob("*.sms.txt")):
        text = path.read_text(encoding="utf-8")
        language = "ar" if "Language: ar" in text else "en"
        if language not in shown:
            shown[language] = text
        if len(shown) == 2:
            break
    for language, text in shown.items():
        out.print(f"[bold]SMS ({language})[/bold] from the outbox:", markup=True)
        out.print(text.strip(), markup=False)
    emails = sorted(outbox.glob("*.email.eml"))
    if emails:
        out.print(f"[bold]e-mails[/bold]: {len(emails)} written to {outbox} (Arabic and English in each)")
