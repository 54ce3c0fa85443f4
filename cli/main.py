"""`roadmap`: migrate, load the demo, list occurrences, fire transitions, read histories."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError, OperationalError

import workflows
from cli.serve import supervise
from engine.accounts.access import Actor, load_actor
from engine.accounts.invitations import INVITATION, RESET, send_logged_link
from engine.accounts.users import (
    TOKEN_DAYS,
    issue_api_token,
    list_tokens,
    revoke_token,
)
from engine.app import App
from engine.db import make_engine, unit_of_work
from engine.deadlines.calendar import WorkCalendar
from engine.deadlines.calendar import set_override as set_calendar_override
from engine.deadlines.parser import Period
from engine.demo import DEMO_PASSWORD, demo_present, load_demo
from engine.directory.people import add_person, apply_people, plan_people, read_people, take_out
from engine.directory.schools import apply_directory, plan_directory, read_directory
from engine.errors import DomainError, NotFoundError, ValidationError
from engine.escalation.board import acknowledge as acknowledge_escalation
from engine.escalation.board import extend_deadline, municipality_of, open_escalations
from engine.importing.apply import ImportReport, find_municipality, import_roadmap
from engine.importing.arrival import Arrival, PastDue, Warning
from engine.importing.canonical import dump_yaml, export_dict, export_xlsx
from engine.importing.corrections import Corrections, read_corrected
from engine.importing.structure import DraftWarning, RoadmapDraft
from engine.lifecycle.definition import SubjectKind
from engine.migrate import current_revision, head_revision, upgrade
from engine.models import Role, User
from engine.readmodels import directory, subjects
from engine.readmodels.worklist import task_list
from engine.settings import Settings
from engine.usecases.importing import local_today, look_before_writing
from engine.usecases.report import Upload, act_with_evidence
from worker import jobs
from worker.embedded import EmbeddedScheduler

#: Exit codes, so scripts can tell failures apart.
EXIT_ERROR, EXIT_USAGE, EXIT_FORBIDDEN, EXIT_NOT_FOUND, EXIT_CONFLICT = 1, 2, 3, 4, 5

OPERATOR = Actor(id=0, login="operator", role=Role.ADMIN, organization_id=None)


class Context:
    """Settings and a lazily built database engine for one invocation."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self._engine: Engine | None = None
        self._app: App | None = None
        self._migrated = False

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            url = self.settings.database_url
            if url.startswith("sqlite:///") and not url.endswith(":memory:"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self._engine = make_engine(url)
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        if self._engine is not None:
            self._engine.dispose()

    def migrated_engine(self) -> Engine:
        """The engine, after checking (once) that the schema has been migrated."""
        if self._migrated:
            return self.engine
        current, head = current_revision(self.engine), head_revision()
        if current is None:
            raise DomainError("the database has no schema yet; run `roadmap db upgrade` first")
        if current != head:
            raise DomainError(
                f"the database is at revision {current}, this version needs "
                f"{head}; run `roadmap db upgrade`"
            )
        self._migrated = True
        return self.engine

    def app(self) -> App:
        """The application, on the migrated database."""
        if self._app is None:
            self._app = App.build(self.settings, workflows.CATALOG, db=self.migrated_engine())
        return self._app


pass_context = click.make_pass_decorator(Context)


@click.group()
@click.pass_context
def cli(click_ctx: click.Context) -> None:
    """Roadmap Engine: school-support roadmaps run as workflows."""
    click_ctx.obj = Context()
    click_ctx.call_on_close(click_ctx.obj.close)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Apply every pending migration."""
    upgrade(ctx.engine)
    click.echo(f"database is at revision {current_revision(ctx.engine)}")


@cli.command()
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Date the demo is built around.")
@pass_context
def demo(ctx: Context, today: object) -> None:
    """Load the demo region, schools, people and roadmap; print the logins."""
    engine = ctx.migrated_engine()
    day = today.date() if today else date.today()  # type: ignore[attr-defined]
    with unit_of_work(engine) as session:
        if demo_present(session):
            click.echo("demo data is already loaded")
            logins = None
        else:
            logins = load_demo(session, ctx.app().registry, day)
    if logins:
        click.echo("demo data loaded")
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for login, role, who in _demo_logins(logins):
        click.echo(f"  {login:<12} {role:<22} {who}")


def _demo_logins(logins: list | None) -> list[tuple[str, str, str]]:
    if logins:
        return [(d.login, d.role, d.who) for d in logins]
    return [
        *((f"school{i}", "school", f"школа №{i}") for i in range(1, 6)),
        ("curator1", "curator", "школы 1–3"),
        ("curator2", "curator", "школы 4–5"),
        ("coordinator", "municipal_coordinator", "Ершичский район"),
        ("regional", "regional_coordinator", "Смоленская область"),
        ("admin", "admin", "вся система"),
    ]


@cli.group()
def occurrences() -> None:
    """Occurrences of activities."""


@occurrences.command("list")
@click.option("--school", help="School id or part of its name.")
@click.option("--state", help="Only occurrences in this state.")
@click.option("--as", "login", help="List what this user sees (default: everything).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_context
def occurrences_list(
    ctx: Context, school: str | None, state: str | None, login: str | None, limit: int, page: int
) -> None:
    """List occurrences by due date."""
    app = ctx.app()
    with app.work(readonly=True) as session:
        actor = load_actor(session, login) if login else OPERATOR
        school_id = directory.find_school(session, school) if school else None
        result, _overdue = task_list(
            app,
            session,
            actor,
            date.today(),
            school_id=school_id,
            state=state,
            page=page,
            per_page=limit,
        )
        rows = result.rows
    labels = app.registry.for_subject(SubjectKind.OCCURRENCE).definition
    for row in rows:
        due = row.due_on.isoformat() if row.due_on else "без даты"
        click.echo(
            f"{row.id:>7}  {due:<10}  {labels.state_label(row.state):<14}  "
            f"{row.school[:28]:<28}  {row.number:<5} {row.title[:60]}"
        )
    if not rows:
        click.echo("no occurrences match", err=True)


@cli.command()
@click.argument("occurrence_id", type=int)
@click.argument("trigger")
@click.option("--as", "login", required=True, help="Login of the user who fires the trigger.")
@click.option("--comment", help="Why (required to return for rework or to cancel).")
@click.option("--report", "report_text", help="Written report (counts as evidence).")
@click.option(
    "--evidence",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Evidence file to attach first (PDF, DOCX, XLSX, JPG, PNG); repeatable.",
)
@pass_context
def transition(
    ctx: Context,
    occurrence_id: int,
    trigger: str,
    login: str,
    comment: str | None,
    report_text: str | None,
    files: tuple[Path, ...],
) -> None:
    """Fire TRIGGER on an occurrence as a user."""
    app = ctx.app()
    uploads = [Upload(path.name, path.read_bytes()) for path in files]
    with app.work() as session:
        result = act_with_evidence(
            app,
            session,
            load_actor(session, login),
            SubjectKind.OCCURRENCE,
            occurrence_id,
            trigger,
            uploads,
            comment=comment,
            report_text=report_text,
        )
    assert result is not None  # a trigger was given
    click.echo(
        f"occurrence {result.subject_id}: {result.from_state} → {result.to_state} "
        f"({result.trigger} by {login})"
    )


@cli.command()
@click.argument("occurrence_id", type=int)
@click.option("--as", "login", help="Read as this user (default: everything).")
@pass_context
def history(ctx: Context, occurrence_id: int, login: str | None) -> None:
    """Show every transition of an occurrence, oldest first."""
    engine = ctx.migrated_engine()
    with unit_of_work(engine, readonly=True) as session:
        actor = load_actor(session, login) if login else OPERATOR
        entries = subjects.history(session, actor, SubjectKind.OCCURRENCE, occurrence_id)
    if not entries:
        click.echo(f"occurrence {occurrence_id} has no transitions yet")
    for entry in entries:
        line = (
            f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor_login:<12} {entry.trigger:<8} "
            f"{entry.from_state} → {entry.to_state}"
        )
        click.echo(line + (f"  «{entry.comment}»" if entry.comment else ""))


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    try:
        start, end = (date.fromisoformat(part) for part in text.split(".."))
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD..YYYY-MM-DD", param_hint="--period") from None
    if end < start:
        raise click.BadParameter("the period ends before it starts", param_hint="--period")
    return Period(start, end)


@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--period", "period_text", help="YYYY-MM-DD..YYYY-MM-DD; overrides the document.")
@click.option("--municipality", help="Owner municipality (part of its name).")
@click.option(
    "--roadmap", "roadmap_id", type=int, help="Update this roadmap (default: same title)."
)
@click.option("--dry-run", is_flag=True, help="Read and report; write nothing.")
@click.option(
    "--past-due",
    "past_due_text",
    default="history",
    show_default=True,
    help="Work already past due on arrival: history (never escalated), keep (overdue), "
    "or a date YYYY-MM-DD it moves to.",
)
@click.option(
    "--corrections",
    "corrections_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help='JSON of corrections: {"columns": {"0": {"title": 1, "deadline_text": 2}}, '
    '"texts": {"4": {"deadline_text": "до 1 октября 2023"}}, "dropped": [7]}; tables and '
    "activities by their place (from 0) in the dry run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
def import_(
    ctx: Context,
    path: Path,
    period_text: str | None,
    municipality: str | None,
    roadmap_id: int | None,
    dry_run: bool,
    past_due_text: str,
    corrections_path: Path | None,
    as_json: bool,
) -> None:
    """Import a roadmap from DOCX, XLSX, CSV, Markdown/TSV text, YAML or JSON."""
    draft = read_corrected(path, _corrections(corrections_path), _period(period_text))
    app = _dry_run_app(ctx) if dry_run else ctx.app()
    arrival = _arrival(past_due_text, local_today(app))
    with unit_of_work(app.db, readonly=dry_run) as session:
        owner = _owner(session, municipality, dry_run)
        report, warnings = look_before_writing(app, session, draft, owner, arrival)
        if not dry_run:
            assert owner is not None
            report = import_roadmap(
                session, app.registry, draft, owner, roadmap_id=roadmap_id, arrival=arrival
            )
    notes = [DraftWarning(None, None, w.message).to_dict() | w.to_dict() for w in warnings]
    if dry_run:
        if as_json:
            body = draft.to_dict()
            body["warnings"] = notes + body["warnings"]
            body["summary"] = report.summary().to_dict()
            click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        else:
            _print_summary(draft, None, report, warnings)
        return
    if as_json:
        click.echo(
            json.dumps(
                {
                    "roadmap_id": report.roadmap_id,
                    "created": report.created,
                    "activities": report.activities,
                    "added": report.added,
                    "changed": report.changed,
                    "missing": report.missing,
                    "occurrences_added": report.occurrences_added,
                    "occurrences_removed": report.occurrences_removed,
                    "occurrences_kept": report.occurrences_kept,
                    "unresolved": report.unresolved,
                    "summary": report.summary().to_dict(),
                    "past_due": str(arrival.past_due),
                    "warnings": notes + [w.to_dict() for w in draft.warnings],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        _print_summary(draft, report, report, warnings)


def _corrections(path: Path | None) -> Corrections | None:
    """`--corrections`: the JSON file of corrections, or a clear error naming what is wrong."""
    if path is None:
        return None
    try:
        return Corrections.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, AttributeError) as error:
        raise click.BadParameter(
            f"{path}: not corrections JSON ({error})", param_hint="--corrections"
        ) from None


def _arrival(text: str, today: date) -> Arrival:
    """`--past-due`: history, keep, or the date past-due work moves to."""
    if text in (PastDue.HISTORY, PastDue.KEEP):
        return Arrival(today, PastDue(text))
    try:
        moved_to = date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "use history, keep or a date YYYY-MM-DD", param_hint="--past-due"
        ) from None
    if moved_to < today:
        raise click.BadParameter(f"{text} has passed already", param_hint="--past-due")
    return Arrival(today, PastDue.MOVE, moved_to)


def _dry_run_app(ctx: Context) -> App:
    """The application for a dry run; before `roadmap db upgrade`, on an empty database in
    memory, so a document can be tried on a fresh install."""
    if current_revision(ctx.engine) is None:
        from sqlmodel import SQLModel

        scratch = make_engine("sqlite://")
        SQLModel.metadata.create_all(scratch)
        return App.build(ctx.settings, workflows.CATALOG, db=scratch)
    return ctx.app()


def _owner(session: Any, name: str | None, dry_run: bool) -> Any:
    """The municipality to import into; for a dry run, None when there is none yet."""
    try:
        return find_municipality(session, name)
    except NotFoundError:
        if dry_run and not name:
            return None
        raise


def _print_summary(
    draft: RoadmapDraft,
    report: ImportReport | None,
    preview: ImportReport,
    warnings: list[Warning],
) -> None:
    click.echo(draft.title)
    order = draft.order_number or "—"
    when = draft.order_date.isoformat() if draft.order_date else "—"
    click.echo(f"приказ № {order} от {when}; период {draft.period.start} – {draft.period.end}")
    click.echo(f"activities: {len(draft.activities)}")
    kinds = Counter(str(a.schedule.kind) for a in draft.activities if a.schedule)
    for kind in ("date", "range", "recurring", "continuous", "on_demand", "none"):
        click.echo(f"  {kind:<11} {kinds.get(kind, 0)}")
    from_results = sum(1 for i in draft.indicators if i.activity is not None)
    click.echo(f"indicators: {len(draft.indicators)} ({from_results} from planned results)")
    summary = preview.summary()
    would = "" if report is not None else " would be"
    click.echo(
        f"occurrences{would} created: {summary.occurrences} for {summary.assignees} assignees, "
        f"{summary.past_due_on_arrival} of them past due on arrival"
    )
    for warning in warnings:
        click.echo(f"WARNING: {warning.message}", err=True)
    if report is not None:
        verb = "created" if report.created else "updated"
        click.echo(
            f"roadmap {report.roadmap_id} {verb}: {len(report.added)} activities added, "
            f"{len(report.changed)} changed, {len(report.missing)} no longer in the "
            f"document (kept)"
        )
        click.echo(
            f"occurrences: {report.occurrences_added} added, "
            f"{report.occurrences_removed} removed (never started), "
            f"{report.occurrences_kept} kept with their history"
        )
        for label in report.changed:
            click.echo(f"  changed: {label}")
        for label in report.missing:
            click.echo(f"  not in the document: {label}")
        for label, parties in report.unresolved.items():
            click.echo(f"  assigned to the coordinator: {label} ({'; '.join(parties)})")
    click.echo(f"warnings: {len(draft.warnings)}")
    for warning in draft.warnings:
        where = f"row {warning.row}" if warning.row else "document"
        what = f", activity {warning.activity}" if warning.activity else ""
        click.echo(f"  {where}{what}: {warning.message}")


@cli.group("directory")
def directory_group() -> None:
    """The region's municipalities and schools."""


@directory_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and compare; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
def directory_import(ctx: Context, path: Path, dry_run: bool, as_json: bool) -> None:
    """Load the ministry's directory (XLSX or CSV): create, update in place, never delete."""
    rows = read_directory(path)
    with unit_of_work(ctx.migrated_engine(), readonly=dry_run) as session:
        plan = plan_directory(session, rows, path.name)
        if not dry_run:
            apply_directory(session, plan, OPERATOR.login)
    if as_json:
        click.echo(json.dumps(plan.to_dict() | {"dry_run": dry_run}, ensure_ascii=False, indent=2))
        return
    verb = "would be" if dry_run else "were"
    click.echo(f"{path.name}: {len(rows)} schools")
    for label, items in (
        ("regions created", plan.regions_created),
        ("municipalities created", plan.municipalities_created),
        ("schools created", [r.name for r in plan.created]),
        ("schools changed", [f"{r.name} ({', '.join(sorted(d))})" for _, r, d in plan.changed]),
    ):
        click.echo(f"  {label} ({verb}): {len(items)}")
        for item in items[:20]:
            click.echo(f"    {item}")
        if len(items) > 20:
            click.echo(f"    … {len(items) - 20} more")
    click.echo(f"  unchanged: {plan.unchanged}")
    if plan.missing:
        click.echo(f"  not in the file, kept (archive by hand if they left): {len(plan.missing)}")
        for school_id, name in plan.missing[:20]:
            click.echo(f"    #{school_id} {name}")


@cli.group("users")
def users_group() -> None:
    """People: import, add, list, invite, reset, deactivate."""


@users_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and compare; write and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
def users_import(ctx: Context, path: Path, dry_run: bool, as_json: bool) -> None:
    """Load people from XLSX or CSV (ФИО, Роль, E-mail, scope, a curator's «Школы»)."""
    with unit_of_work(ctx.migrated_engine(), readonly=dry_run) as session:
        plan = plan_people(session, read_people(session, path), path.name)
        if not dry_run:
            apply_people(session, plan, OPERATOR.login, ctx.settings.public_url)
    if as_json:
        click.echo(json.dumps(plan.to_dict() | {"dry_run": dry_run}, ensure_ascii=False, indent=2))
        return
    verb = "would be" if dry_run else "were"
    click.echo(f"{path.name}: {len(plan.rows)} people")
    click.echo(f"  created and invited ({verb}): {len(plan.created)}")
    for row in plan.created[:20]:
        click.echo(f"    {row.email} — {row.full_name}")
    click.echo(f"  changed ({verb}): {len(plan.changed)}")
    for _, row, diff in plan.changed[:20]:
        click.echo(f"    {row.email} ({', '.join(sorted(diff))})")
    click.echo(f"  unchanged: {plan.unchanged}")


@users_group.command("add")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="ФИО.")
@click.option("--role", required=True, help="школа, куратор, муниципальный координатор, …")
@click.option("--scope", default="", help="The school (ИНН or name) or the municipality.")
@click.option("--schools", default="", help="A curator's schools: ИНН or names, `;` between.")
@pass_context
def users_add(
    ctx: Context, email: str, full_name: str, role: str, scope: str, schools: str
) -> None:
    """Add one person and mail them an invitation."""
    cells = {"email": email, "full_name": full_name, "role": role, "scope": scope}
    if schools:
        cells["schools"] = schools
    with unit_of_work(ctx.migrated_engine()) as session:
        user = add_person(session, cells, OPERATOR.login, ctx.settings.public_url)
        click.echo(f"{user.login}: created; the invitation is in the outbox")


@users_group.command("list")
@click.option("--role", help="Only this role (school, curator, municipal_coordinator, …).")
@click.option("--search", help="Part of the name, login or e-mail.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_context
def users_list(ctx: Context, role: str | None, search: str | None, limit: int, page: int) -> None:
    """People, by name, a page at a time."""
    with unit_of_work(ctx.migrated_engine(), readonly=True) as session:
        total, rows = directory.people_page(session, role, search, limit, (page - 1) * limit)
    for row in rows:
        state = "" if row.is_active else "  (deactivated)"
        click.echo(f"{row.login:<30} {row.role:<22} {row.full_name} <{row.email or '—'}>"
                   f" {row.organization or ''}{state}")  # fmt: skip
    click.echo(f"{total} people; page {page}")


@users_group.command("deactivate")
@click.argument("login")
@click.option(
    "--handover-to",
    "successor_login",
    help="The curator (or the municipal coordinator) who takes the schools.",
)
@pass_context
def users_deactivate(ctx: Context, login: str, successor_login: str | None) -> None:
    """Take a person out at once: no sign-in, no session, no token; history stays."""
    with unit_of_work(ctx.migrated_engine()) as session:
        user = _user(session, login)
        successor = _user(session, successor_login) if successor_login else None
        try:
            moved = take_out(session, OPERATOR.login, user, successor)
        except ValidationError as error:
            if error.reason != "successor_required":
                raise
            raise DomainError(
                f"{login} curates schools; name who takes them: --handover-to"
            ) from None
        if successor_login:
            click.echo(f"{len(moved)} schools handed to {successor_login}")
    click.echo(f"{login}: deactivated")


@users_group.command("invite")
@click.argument("login")
@pass_context
def users_invite(ctx: Context, login: str) -> None:
    """Mail a new invitation (the older links stop working)."""
    _send(ctx, login, INVITATION)


@users_group.command("reset-password")
@click.argument("login")
@pass_context
def users_reset_password(ctx: Context, login: str) -> None:
    """Mail a link to set a new password (the current one keeps working until then)."""
    _send(ctx, login, RESET)


def _send(ctx: Context, login: str, purpose: str) -> None:
    with unit_of_work(ctx.migrated_engine()) as session:
        user = _user(session, login)
        if not user.is_active:
            raise DomainError(f"{login} is deactivated")
        if not user.email:
            raise DomainError(f"{login} has no e-mail to send the link to")
        send_logged_link(session, OPERATOR.login, user, purpose, ctx.settings.public_url)
    click.echo(f"{login}: the link is in the outbox, to {user.email}")


def _user(session: Any, login: str) -> User:
    user = session.execute(select(User).where(User.login == login)).scalar()
    if user is None:
        raise NotFoundError(f"no user {login!r}")
    return user  # type: ignore[no-any-return]


@cli.command()
@click.argument("roadmap_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "xlsx"]),
    default="yaml",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output; xlsx needs a file).",
)
@pass_context
def export(ctx: Context, roadmap_id: int, fmt: str, output: Path | None) -> None:
    """Export a roadmap in the canonical format, or as a spreadsheet; both import back."""
    engine = ctx.migrated_engine()
    with unit_of_work(engine, readonly=True) as session:
        data = export_dict(session, roadmap_id)
    if fmt == "xlsx":
        if output is None:
            raise click.UsageError("--format xlsx needs --output FILE")
        output.write_bytes(export_xlsx(data))
        click.echo(f"written {output}")
        return
    text = dump_yaml(data) if fmt == "yaml" else json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"written {output}")


@cli.command()
@click.option("--now", "now_text", help="ISO instant to sweep as of (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_context
def sweep(ctx: Context, now_text: str | None, as_json: bool) -> None:
    """Run one deadline sweep: reminders, overdue marking, escalations."""
    try:
        now = jobs.parse_now(now_text)
    except ValueError:
        raise click.BadParameter("use an ISO date-time", param_hint="--now") from None
    counts = jobs.run_sweep(ctx.app(), now)
    if as_json:
        click.echo(json.dumps(counts))
        return
    levels = counts["escalations"]
    click.echo(
        f"reminders {counts['reminders']}, overdue {counts['overdue']}, "
        f"escalations 1:{levels['1']} 2:{levels['2']} 3:{levels['3']}, "
        f"review {counts['review_escalations']}"
    )


@cli.command()
@click.option("--municipality", help="Only this municipality (part of its name).")
@click.option("--level", type=click.IntRange(1, 3), help="Only this escalation level.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_context
def escalations(
    ctx: Context, municipality: str | None, level: int | None, limit: int, page: int
) -> None:
    """List open escalations: unacknowledged, on work still not done."""
    with unit_of_work(ctx.migrated_engine(), readonly=True) as session:
        municipality_id = municipality_of(session, municipality) if municipality else None
        rows = open_escalations(
            session,
            ctx.app().policies,
            municipality_id=municipality_id,
            level=level,
            limit=limit,
            offset=(page - 1) * limit,
        )
    for row in rows:
        due = row.due_on.isoformat() if row.due_on else "—"
        click.echo(
            f"{row.id:>7}  {row.kind:<7} L{row.level}  {due:<10}  occurrence "
            f"{row.occurrence_id:<7} {row.school[:28]:<28} {row.activity_number:<5} "
            f"{row.activity_title[:50]}"
        )
    if not rows:
        click.echo("no open escalations", err=True)


@cli.command()
@click.argument("escalation_id", type=int)
@click.option("--as", "login", required=True, help="The coordinator's login.")
@click.option("--comment", required=True, help="What is being done about it.")
@pass_context
def acknowledge(ctx: Context, escalation_id: int, login: str, comment: str) -> None:
    """Acknowledge an escalation: logged, and the next level will not follow."""
    with unit_of_work(ctx.migrated_engine()) as session:
        acknowledge_escalation(session, load_actor(session, login), escalation_id, comment)
    click.echo(f"escalation {escalation_id} acknowledged by {login}")


@cli.command()
@click.argument("occurrence_id", type=int)
@click.argument("new_due_on", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--as", "login", required=True, help="The coordinator's login.")
@click.option("--reason", required=True, help="Why the deadline moves.")
@pass_context
def extend(ctx: Context, occurrence_id: int, new_due_on: datetime, login: str, reason: str) -> None:
    """Move an occurrence's due date, with a reason; escalation starts over."""
    with unit_of_work(ctx.migrated_engine()) as session:
        extend_deadline(
            session, load_actor(session, login), occurrence_id, new_due_on.date(), reason
        )
    click.echo(f"occurrence {occurrence_id} is now due {new_due_on:%Y-%m-%d}")


@cli.group()
def activity() -> None:
    """Correct a roadmap after its import: each change is logged, and its work follows."""


_ACTIVITY_TEXTS = (
    ("--number", "number"),
    ("--title", "title"),
    ("--deadline", "deadline_text"),
    ("--responsible", "responsible_text"),
    ("--result", "planned_result"),
    ("--report-form", "report_form"),
)


def _activity_options(command: Any) -> Any:
    for flag, name in reversed(_ACTIVITY_TEXTS):
        command = click.option(flag, name, help=f"New {name.replace('_', ' ')}.")(command)
    return command


def _edit_summary(result: Any) -> str:
    return (
        f"occurrences added {result.added}, removed {result.removed}, "
        f"kept with their history {result.kept}"
    )


@activity.command("list")
@click.argument("roadmap_id", type=int)
@click.option("--as", "login", required=True, help="Read as this user.")
@pass_context
def activity_list(ctx: Context, roadmap_id: int, login: str) -> None:
    """The activities of a roadmap: id, number, deadline, responsible, title."""
    from engine.readmodels.roadmaps import roadmap_activities
    from engine.usecases.roadmap_edits import check_can_see

    with unit_of_work(ctx.migrated_engine(), readonly=True) as session:
        check_can_see(session, load_actor(session, login), roadmap_id)
        for row in roadmap_activities(session, roadmap_id):
            click.echo(
                f"{row.id}\t{row.number}\t{row.deadline_text}\t{row.responsible_text or ''}"
                f"\t{row.title[:80]}"
            )


@activity.command("edit")
@click.argument("activity_id", type=int)
@click.option("--as", "login", required=True, help="The coordinator's login.")
@click.option("--section", "section_id", type=int, help="Move it to this section (its id).")
@_activity_options
@pass_context
def activity_edit(
    ctx: Context, activity_id: int, login: str, section_id: int | None, **texts: str | None
) -> None:
    """Change an activity's texts or section; a new deadline reschedules its planned work."""
    from engine.usecases.roadmap_edits import edit_activity, move_activity

    changes = {name: text for name, text in texts.items() if text is not None}
    app = ctx.app()
    with unit_of_work(app.db) as session:
        actor = load_actor(session, login)
        result = edit_activity(app, session, actor, activity_id, changes)
        if section_id is not None:
            move_activity(session, actor, activity_id, section_id)
    click.echo(f"activity {activity_id} saved; {_edit_summary(result)}")


@activity.command("add")
@click.argument("roadmap_id", type=int)
@click.option("--as", "login", required=True, help="The coordinator's login.")
@click.option("--section", "section_id", type=int, help="The section (its id).")
@_activity_options
@pass_context
def activity_add(
    ctx: Context, roadmap_id: int, login: str, section_id: int | None, **texts: str | None
) -> None:
    """Add an activity to a roadmap, with its work."""
    from engine.usecases.roadmap_edits import add_activity

    app = ctx.app()
    values = {name: text for name, text in texts.items() if text is not None}
    with unit_of_work(app.db) as session:
        result = add_activity(
            app, session, load_actor(session, login), roadmap_id, values, section_id
        )
    click.echo(f"activity {result.activity_id} added; {_edit_summary(result)}")


@activity.command("remove")
@click.argument("activity_id", type=int)
@click.option("--as", "login", required=True, help="The coordinator's login.")
@pass_context
def activity_remove(ctx: Context, activity_id: int, login: str) -> None:
    """Remove an activity nobody has worked on, with its planned work."""
    from engine.usecases.roadmap_edits import remove_activity

    app = ctx.app()
    with unit_of_work(app.db) as session:
        result = remove_activity(app, session, load_actor(session, login), activity_id)
    click.echo(f"activity {activity_id} removed; {_edit_summary(result)}")


@cli.group()
def token() -> None:
    """Bearer tokens for the JSON API."""


@token.command("create")
@click.option("--as", "login", required=True, help="The user the token acts as.")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.option(
    "--days", default=TOKEN_DAYS, show_default=True, type=click.IntRange(1, 366), help="Lifetime."
)
@pass_context
def token_create(ctx: Context, login: str, name: str, days: int) -> None:
    """Issue a token; it is printed once and only its hash is kept."""
    with unit_of_work(ctx.migrated_engine()) as session:
        secret = issue_api_token(session, load_actor(session, login).id, name, days=days)
    click.echo(secret)


@token.command("list")
@click.option("--as", "login", help="Only this user's tokens.")
@pass_context
def token_list(ctx: Context, login: str | None) -> None:
    """Every token: id, user, name, created, expires, last used, revoked. Never the secret."""
    with unit_of_work(ctx.migrated_engine(), readonly=True) as session:
        user_id = load_actor(session, login).id if login else None
        tokens = list_tokens(session, user_id)
    for t in tokens:
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        status = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
        click.echo(
            f"{t.id:>5}  {t.login:<16} {t.name[:24]:<24} {t.created_at:%Y-%m-%d}  "
            f"expires {t.expires_at:%Y-%m-%d}  {used:<16}  {status}"
        )
    if not tokens:
        click.echo("no tokens", err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_context
def token_revoke(ctx: Context, token_id: int) -> None:
    """Revoke one token; the API refuses it from now on."""
    with unit_of_work(ctx.migrated_engine()) as session:
        revoke_token(session, token_id)
    click.echo(f"token {token_id} revoked")


@cli.command("send-mail")
@pass_context
def send_mail(ctx: Context) -> None:
    """Send the e-mails waiting in the outbox now (SMTP_* settings)."""
    sent = jobs.run_send(ctx.app())
    click.echo(f"sent {sent}")


@cli.group()
def policy() -> None:
    """Escalation policies (working days)."""


@policy.command("show")
@click.option("--municipality", help="Show this municipality's policy in force.")
@pass_context
def policy_show(ctx: Context, municipality: str | None) -> None:
    """Print the policies as JSON."""
    with unit_of_work(ctx.migrated_engine(), readonly=True) as session:
        if municipality:
            municipality_id = municipality_of(session, municipality)
            data = [
                ctx.app().policies.for_municipality(session, name, municipality_id).to_dict()
                for name in ctx.app().policies.defaults
            ]
        else:
            data = [p.to_dict() for p in ctx.app().policies.defaults.values()]
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@policy.command("set")
@click.option("--municipality", required=True, help="The municipality (part of its name).")
@click.option("--workflow", help="The workflow (default: the activity lifecycle's).")
@click.option("--reminder-days", type=int)
@click.option("--municipal-after-days", type=int)
@click.option("--regional-after-days", type=int)
@click.option("--review-days", type=int)
@pass_context
def policy_set(ctx: Context, municipality: str, workflow: str | None, **days: int | None) -> None:
    """Give a municipality its own working-day offsets."""
    workflow = workflow or ctx.app().policies.for_subject(SubjectKind.OCCURRENCE).workflow
    changes = {name: value for name, value in days.items() if value is not None}
    if not changes:
        raise click.UsageError("give at least one of the --…-days options")
    with unit_of_work(ctx.migrated_engine()) as session:
        result = ctx.app().policies.set_override(
            session, municipality_of(session, municipality), workflow, **changes
        )
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False))


@cli.group()
def calendar() -> None:
    """The production calendar and its local changes."""


@calendar.command("set")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
@click.option(
    "--day-off/--working-day",
    "day_off",
    required=True,
    help="A local day off, or a working day on a weekend.",
)
@click.option("--note", help="Why (the order that moved it).")
@pass_context
def calendar_set(ctx: Context, day: datetime, day_off: bool, note: str | None) -> None:
    """Override the production calendar for one day."""
    with unit_of_work(ctx.migrated_engine()) as session:
        set_calendar_override(session, day.date(), is_working=not day_off, note=note)
    click.echo(f"{day:%Y-%m-%d} is now a {'day off' if day_off else 'working day'}")


@calendar.command("show")
@click.argument("start", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366))
@pass_context
def calendar_show(ctx: Context, start: datetime, days: int) -> None:
    """Print which days are working days."""
    with unit_of_work(ctx.migrated_engine(), readonly=True) as session:
        work = WorkCalendar.load(session)
    for offset in range(days):
        day = start.date() + timedelta(days=offset)
        click.echo(
            f"{day:%Y-%m-%d} {day:%a}  {'рабочий' if work.is_working_day(day) else 'выходной'}"
        )


@cli.command()
@click.option("--once", is_flag=True, help="Run one deadline tick and exit.")
@click.option("--no-web", is_flag=True, help="Enforce deadlines only; do not serve the UI.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@pass_context
def serve(ctx: Context, once: bool, no_web: bool, host: str, port: int) -> None:
    """Serve the web UI (gunicorn) and enforce deadlines: Celery worker and beat when Redis
    answers, the same jobs in-process when it does not."""
    app = ctx.app()
    if once:
        click.echo(json.dumps(EmbeddedScheduler(app).tick()))
        return
    supervise(app, no_web=no_web, host=host, port=port)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors become one line on stderr and a non-zero exit, never a traceback."""
    try:
        cli.main(args=argv, prog_name="roadmap", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        return EXIT_ERROR
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE
    except DomainError as error:
        click.echo(f"error: {error}", err=True)
        return error.exit_code
    except (OperationalError, DBAPIError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        click.echo(f"error: database: {reason}", err=True)
        return EXIT_ERROR
    except OSError as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
