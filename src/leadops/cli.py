"""The ``leadops`` command. Each command is a thin call into a service."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from leadops.cells import csv_row
from leadops.errors import LeadopsError
from leadops.ingest.importer import ImportSummary, run_import
from leadops.ingest.mappings import Mapping, MappingError, all_presets, resolve_mapping
from leadops.ingest.readers import FileFormatError, read_columns
from leadops.ingest.recognise import Recognition, Unrecognised, recognise, shown
from leadops.runtime import Runtime

app = typer.Typer(
    help="leadops: every lead has an owner, is touched on time, and is visible.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Import leads, activities, deals and campaign members from CSV, XLSX or JSON Lines."
)
lead_app = typer.Typer(help="Look at one lead.")
rules_app = typer.Typer(
    help="The rules document: validate, apply (a new version, rescoring every lead), show, diff."
)
app.add_typer(import_app, name="import")
app.add_typer(lead_app, name="lead")
org_app = typer.Typer(
    help="The organisation: teams, users, capacities, weights, out-of-office periods."
)
app.add_typer(rules_app, name="rules")
app.add_typer(org_app, name="org")
users_app = typer.Typer(
    help="Accounts that sign in to the web app: e-mail, role, password.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
webhooks_app = typer.Typer(
    help="Webhook sources: the systems that send live events to POST /api/v1/webhooks/NAME, each "
    "with its own secret.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")
opportunity_app = typer.Typer(
    help="Opportunities (商談) of field sales: stage, amount, expected close, owner, won / lost.",
    no_args_is_help=True,
)
app.add_typer(opportunity_app, name="opportunity")
quota_app = typer.Typer(
    help="Monthly quotas of teams and members: touches, connects, appointments, opportunities, "
    "amount won.",
    no_args_is_help=True,
)
app.add_typer(quota_app, name="quota")
task_app = typer.Typer(
    help="Follow-up tasks on leads (「5日10時に再架電」): schedule, list, done, cancel.",
    no_args_is_help=True,
)
app.add_typer(task_app, name="task")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def runtime(*, migrate: bool = True) -> Iterator[Runtime]:
    """A runtime for one command; domain errors become one line on stderr and exit code 2."""
    rt = Runtime.create()
    try:
        if migrate:
            rt.migrate()
        yield rt
    except (LeadopsError, FileFormatError, MappingError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        rt.close()


@app.command()
def init() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    with runtime() as rt:
        console.print(f"Database ready: {rt.engine.url.render_as_string(hide_password=True)}")


@app.command()
def demo(
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if the database has leads.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same data.")] = 7,
    leads: Annotated[int, typer.Option(help="How many leads to create.")] = 5000,
) -> None:
    """Build a realistic Japanese B2B demo dataset (about 6 months of a team's work) and exit."""
    from leadops.demo import build_demo

    with runtime() as rt:
        result = build_demo(rt, seed=seed, leads=leads, force=force)
        console.print(result.summary())
        _print_sign_ins(rt)


def _print_sign_ins(rt: Runtime) -> None:
    """The demo's accounts, one per role, with their password (only for a demo database)."""
    from leadops.demo import DEMO_PASSWORD, demo_sign_ins

    with rt.factory() as session:
        accounts = demo_sign_ins(session)
    if accounts:
        console.print(f"Demo sign-ins (password for each: {DEMO_PASSWORD}):")
        for role, email, name in accounts:
            console.print(f"  {role:<10} {email:<34} {name}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Do not run the worker's sweeps in this process (run `leadops worker` instead).",
        ),
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log",
            help="Log a line for every request (method, path, status). Off by default: a proxy in "
            "front usually keeps these, and at hundreds of requests a second the lines cost time.",
        ),
    ] = False,
) -> None:
    """Serve the web app and the REST API (OpenAPI at /api/docs), with the worker's sweeps (SLA
    deadlines, reminders, decay, notifications) running in the same process unless --no-worker."""
    from contextlib import nullcontext

    import uvicorn

    from leadops.web import collector
    from leadops.web.app import create_app
    from leadops.worker import background

    collector.install()
    with runtime() as rt:
        console.print(f"leadops at http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
        _print_sign_ins(rt)
        interval = rt.settings.worker_interval_seconds
        sweeps = nullcontext() if no_worker else background(rt, interval=interval)
        with sweeps:
            uvicorn.run(
                create_app(rt), host=host, port=port, log_level="info", access_log=access_log
            )


def _mapping_for(
    kind: str, file: Path, mapping: str | None, encoding: str | None, sheet: str | None
) -> tuple[Mapping, Recognition | None]:
    """The mapping named by ``--mapping``, or the preset the file's headers fit."""
    if mapping is not None:
        return resolve_mapping(mapping, kind), None
    columns = read_columns(file, encoding=encoding, sheet=sheet)
    try:
        recognition = recognise(columns, kind, source=file.name)
    except Unrecognised as exc:
        choices = " or ".join(f"--mapping {c}" for c in exc.candidates) or "--mapping FILE.yaml"
        raise MappingError(f"{exc.message}: give {choices}", source=exc.source) from None
    return recognition.mapping, recognition


def _import(
    kind: str,
    file: Path,
    mapping: str | None,
    dry_run: bool,
    encoding: str | None,
    sheet: str | None,
    output: str,
) -> None:
    from leadops.ingest.jobs import run_job

    with runtime() as rt:
        resolved, recognition = _mapping_for(kind, file, mapping, encoding, sheet)
        with _progress(f"{kind} {file.name}", output) as progress:
            if dry_run:
                summary = run_import(
                    kind,
                    file,
                    resolved,
                    rt.factory,
                    rt.settings,
                    rt.clock,
                    recognition=recognition,
                    dry_run=True,
                    encoding=encoding,
                    sheet=sheet,
                    actor="cli",
                    progress=progress,
                )
            else:
                options = {"encoding": encoding, "sheet": sheet}
                job_id = _submit(rt, kind, file, mapping, resolved, options)
                if output == "table":
                    err.print(
                        f"import job {job_id} (if this stops, `leadops import resume {job_id}` "
                        "goes on from its last committed chunk)",
                        highlight=False,
                    )
                summary = run_job(
                    rt.factory,
                    rt.settings,
                    rt.clock,
                    job_id,
                    progress=progress,
                    recognition=recognition,
                )
    _show(summary, output, dry_run)


def _show(summary: ImportSummary, output: str, dry_run: bool) -> None:
    if output == "json":
        console.print_json(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    _print_summary(summary, dry_run)


@contextmanager
def _progress(label: str, output: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal (none for JSON or a pipe); yields the importer's callback."""
    show_bar = output == "table" and sys.stderr.isatty()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show_bar,
    ) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        yield progress


_PRESET_NAMES = ("default", *all_presets())


def _submit(
    rt: Runtime,
    kind: str,
    file: Path,
    mapping: str | None,
    resolved: Mapping,
    options: dict[str, str | None],
) -> int:
    """The file kept as an import job (with the mapping's text when it came from a file)."""
    from leadops.ingest.jobs import MappingChoice, submit

    choice = MappingChoice(resolved.name)
    if mapping is not None and mapping.lower() not in _PRESET_NAMES and Path(mapping).is_file():
        choice = MappingChoice(Path(mapping).name, Path(mapping).read_text(encoding="utf-8-sig"))
    with rt.factory() as session, session.begin():
        job = submit(
            session,
            kind=kind,
            filename=file.name,
            content=file.read_bytes(),
            mapping=choice,
            now=rt.clock.now(),
            actor="cli",
            options=dict(options),
        )
        return job.id


def _print_summary(summary: ImportSummary, dry_run: bool) -> None:
    head = "Dry run (nothing written)" if dry_run else f"Import job {summary.job_id}"
    console.print(
        f"{head}: {summary.total} rows read ({summary.encoding or 'xlsx'}); [green]{summary.taken} "
        "taken[/green], "
        f"{summary.unchanged} unchanged, [red]{summary.rejected} rejected[/red], {summary.flagged} "
        "flagged",
        highlight=False,
    )
    console.print(f"  mapping: {summary.recognised or summary.mapping}", highlight=False)
    for note in summary.notes:
        console.print(f"  {note}", highlight=False)
    if summary.unread:
        console.print(
            f"  not read by the mapping, kept as custom fields: {shown(summary.unread)}",
            highlight=False,
        )
    for rejected in summary.rejects[:20]:
        console.print(f"  row {rejected.row}: {rejected.error}", highlight=False)
    if summary.rejected > 20:
        console.print(f"  … and {summary.rejected - 20} more", highlight=False)
    for number, flag, message in summary.flags[:20]:
        console.print(f"  row {number}: [yellow]{flag}[/yellow]: {message}", highlight=False)
    if summary.flagged > 20:
        console.print(f"  … and {summary.flagged - 20} more flags", highlight=False)
    if summary.rejected and summary.job_id:
        console.print(
            f"All rejected rows: leadops import rejects {summary.job_id} --output rejects.csv"
        )


FileArg = Annotated[
    Path, typer.Argument(help="A .csv/.tsv (UTF-8, UTF-8 BOM or Shift_JIS), .xlsx or .jsonl file.")
]
MappingOpt = Annotated[
    str | None,
    typer.Option(
        "--mapping",
        help="A preset (default, salesforce, hubspot, marketo, sansan, eight, satori, japanese) "
        "or a YAML mapping file; without it the preset the file's headers fit is used.",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report, without writing.")
]
EncodingOpt = Annotated[str | None, typer.Option(help="Force an encoding (default: detected).")]
SheetOpt = Annotated[str | None, typer.Option(help="XLSX sheet name (default: the first).")]
OutputOpt = Annotated[str, typer.Option("--format", help="table or json.")]


IMPORT_KINDS = {
    "leads": "Upsert leads by normalized e-mail (or external id); match their companies to "
    "accounts.",
    "events": "Import activities (email, type, occurred_at, properties, source, external_id); "
    "resends are no-ops.",
    "deals": "Import opportunities; each is upserted by its external id and linked to its lead and "
    "account.",
    "campaign-members": "Import campaign members (campaign, email, status, responded_at).",
}


def _import_command(kind: str) -> Callable[..., None]:
    def command(
        file: FileArg,
        mapping: MappingOpt = None,
        dry_run: DryRunOpt = False,
        encoding: EncodingOpt = None,
        sheet: SheetOpt = None,
        output: OutputOpt = "table",
    ) -> None:
        _import(kind, file, mapping, dry_run, encoding, sheet, output)

    command.__name__ = f"import_{kind.replace('-', '_')}"
    return command


for _kind, _help in IMPORT_KINDS.items():
    import_app.command(_kind, help=_help)(_import_command(_kind))


@import_app.command("jobs")
def import_jobs(limit: Annotated[int, typer.Option(help="How many recent jobs.")] = 20) -> None:
    """List recent import jobs with their counts."""
    from sqlalchemy import select

    from leadops.ingest.jobs import status_of
    from leadops.models import ImportJob

    with runtime() as rt, rt.factory() as session:
        jobs = session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)).all()
        now = rt.clock.now()
        table = Table(
            "id",
            "kind",
            "file",
            "state",
            "rows",
            "taken",
            "unchanged",
            "rejected",
            "flagged",
            "started",
        )
        for job in jobs:
            table.add_row(
                str(job.id),
                job.kind,
                job.filename or "",
                status_of(job, now),
                str(job.rows_total),
                str(job.rows_taken),
                str(job.rows_unchanged),
                str(job.rows_rejected),
                str(job.rows_flagged),
                job.started_at.astimezone(rt.settings.tz).strftime("%Y-%m-%d %H:%M"),
            )
        console.print(table)


@import_app.command("resume")
def import_resume(
    job: Annotated[int, typer.Argument(help="The import job's number (leadops import jobs).")],
    output: OutputOpt = "table",
) -> None:
    """Go on with an import whose process stopped (killed, a crash, a server restart), from the
    row after its last committed chunk; also a failed one, once the cause is fixed. The worker
    does this by itself for interrupted jobs."""
    from leadops.ingest.jobs import run_job

    with runtime() as rt, _progress(f"import job {job}", output) as progress:
        summary = run_job(rt.factory, rt.settings, rt.clock, job, progress=progress)
    _show(summary, output, False)


@import_app.command("rejects")
def import_rejects(
    job_id: Annotated[int, typer.Argument(help="The import job's id (see `leadops import jobs`).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write CSV here (default: stdout).")
    ] = None,
) -> None:
    """Export a job's rejected rows as CSV: row number, field, error, then the raw row."""
    from leadops.ingest.importer import rejects_of

    with runtime() as rt, rt.factory() as session:
        rejects = rejects_of(session, job_id)
        columns: list[str] = []
        for r in rejects:
            columns.extend(k for k in r.raw if k not in columns)
        handle = output.open("w", encoding="utf-8-sig", newline="") if output else sys.stdout
        writer = csv.writer(handle)
        writer.writerow(csv_row(["row", "field", "error", *columns]))
        for r in rejects:
            raw = [_cell(r.raw.get(c)) for c in columns]
            writer.writerow(csv_row([r.row_number, r.field or "", r.error, *raw]))
        if output:
            handle.close()
            err.print(f"{len(rejects)} rejected rows written to {output}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@lead_app.command("show")
def lead_show(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    output: OutputOpt = "table",
    explain: Annotated[
        bool, typer.Option("--explain", help="List the ledger lines that make the score.")
    ] = False,
) -> None:
    """Show a lead: its fields, current state and recent history (and, with --explain, its
    score)."""
    from leadops.leads import find_lead, lead_detail
    from leadops.predict.store import prediction_detail
    from leadops.routing.service import assignments_of
    from leadops.rules.service import active_rules
    from leadops.scoring.queries import explain as explain_score

    with runtime() as rt, rt.factory() as session:
        tz = rt.settings.tz
        detail = lead_detail(session, ref)
        detail["prediction"] = prediction_detail(session, detail["lead"]["id"])
        if explain:
            lead = find_lead(session, ref)
            detail["explain"] = explain_score(
                session, lead.id, active_rules(session, rt.clock.now())
            )
            detail["routing"] = assignments_of(session, lead.id)
    if output == "json":
        console.print_json(json.dumps(detail, ensure_ascii=False, default=str))
        return
    lead = detail["lead"]
    console.print(
        f"[bold]{lead['email'] or lead['crm_id']}[/bold]  {lead['last_name'] or ''} "
        f"{lead['first_name'] or ''}"
        f"  {lead['company'] or ''}",
        highlight=False,
    )
    for key in (
        "status",
        "lifecycle_stage",
        "touch_stage",
        "score",
        "level",
        "temperature",
        "owner",
        "team",
        "source",
        "prefecture",
        "region",
        "created_at",
    ):
        console.print(f"  {key:16} {lead.get(key)}", highlight=False)
    if detail["prediction"] is not None:
        console.print(
            f"  {'prediction':16} {detail['prediction']['probability']:.1%} "
            f"({detail['prediction']['outcome']})",
            highlight=False,
        )
    console.print(f"  activities       {len(detail['activities'])} (latest first)")
    for act in detail["activities"][:10]:
        console.print(
            f"    {act['occurred_at']}  {act['type']}  {act['properties']}", highlight=False
        )
    console.print("  history")
    for event in detail["events"][:20]:
        console.print(
            f"    {event['at'].astimezone(tz):%Y-%m-%d %H:%M}  {event['kind']}: {event['from']} → "
            f"{event['to']}"
            f"  ({event['actor']})",
            highlight=False,
        )
    if explain:
        _print_explain(detail["explain"], tz)
        _print_routing(detail["routing"], tz)


def _print_routing(decisions: list[dict[str, Any]], tz: Any) -> None:
    console.print("routing (latest first)" if decisions else "routing: no decisions recorded")
    for d in decisions:
        at = d["at"].astimezone(tz).strftime("%Y-%m-%d %H:%M")
        target = f"{d['user']} in {d['team']}" if d["user"] else "nobody"
        console.print(f"  {at}  → {target}  ({d['actor']})", highlight=False)
        console.print(
            f"      rule {d['rule'] or '—'}, {d['strategy'] or '—'}: {d['reason'] or ''}",
            highlight=False,
        )
        for c in d["candidates"]:
            console.print(f"      {c['email']}: {c['result']}", highlight=False)


@lead_app.command("reassign")
def lead_reassign(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    to: Annotated[str, typer.Option("--to", help="The new owner's e-mail.")],
    by: Annotated[
        str, typer.Option("--by", help="The manager (or admin) making the change, by e-mail.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why; recorded with the change.")],
) -> None:
    """Move a lead to another person (managers and admins), with a reason that is recorded."""
    from leadops.db import run_in_transaction
    from leadops.leads import find_lead, find_user
    from leadops.lifecycle.door import Actor, Door
    from leadops.lifecycle.handoff import reassign
    from leadops.rules.service import active_rules

    def work(session: Session) -> bool:
        now = rt.clock.now()
        manager = find_user(session, by)
        door = Door(session, active_rules(session, now), now, Actor.user(manager.id))
        lead_id, target = find_lead(session, ref).id, find_user(session, to)
        return reassign(door, lead_id, target, by=manager, reason=reason) is not None

    with runtime() as rt:
        changed = run_in_transaction(rt.factory, work)
    if not changed:
        console.print(f"{ref} already belongs to {to}; nothing changed")
    else:
        console.print(f"{ref} reassigned to {to} ({reason})")


@app.command("route")
def route_command() -> None:
    """Route every open lead that has no owner yet (e.g. after `org apply` or an import made
    before it)."""
    from leadops.lifecycle.handoff import route_unassigned

    with runtime() as rt:
        outcome = route_unassigned(rt.factory, rt.clock.now(), actor_ref="cli")
    console.print(
        f"{outcome.assigned} assigned, {outcome.to_manager} to a manager's queue, "
        f"{outcome.unrouted} not routed",
        highlight=False,
    )
    for problem, count in sorted(outcome.problems.items()):
        console.print(f"  {count} × {problem}", highlight=False)
    if outcome.unrouted:
        raise typer.Exit(1)


def _print_explain(info: dict[str, Any], tz: Any) -> None:
    title = f"score {info['score']} (rules v{info['rules_version']})"
    table = Table("at", "rule", "group", "points", "why", title=title)
    for line in info["lines"]:
        at = line["at"].astimezone(tz).strftime("%Y-%m-%d %H:%M")
        table.add_row(at, line["rule"], line["group"], f"{line['delta']:+d}", line["reason"] or "")
    table.add_row(
        "", "", "total", str(sum(line["delta"] for line in info["lines"])), "", style="bold"
    )
    console.print(table)


RulesFile = Annotated[Path, typer.Argument(help="A rules document (YAML).")]


def _read_rules(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LeadopsError(f"{file}: no such file") from None


@rules_app.command("validate")
def rules_validate(file: RulesFile) -> None:
    """Check a rules document; every error is listed with its path and line."""
    from leadops.rules.service import validate

    with runtime() as rt, rt.factory() as session:
        compiled = validate(session, _read_rules(file))
    console.print(
        f"{file}: valid ({len(compiled.behavior)} behavior and {len(compiled.fit)} fit scoring "
        "rules, "
        f"{len(compiled.levels)} level rules, {len(compiled.routing)} routing rules)"
    )


@rules_app.command("apply")
def rules_apply(
    file: RulesFile,
    author: Annotated[str | None, typer.Option(help="Who made the change.")] = None,
    comment: Annotated[
        str | None, typer.Option(help="What changed and why (required: it stays in the history).")
    ] = None,
) -> None:
    """Store the document as a new version, make it active, and rescore every lead under it. A
    document that says what the active version says is refused ("no change")."""
    from leadops.pipeline import catch_up
    from leadops.rules.service import apply_rules

    with runtime() as rt:
        now = rt.clock.now()
        with rt.factory() as session, session.begin():
            version = apply_rules(
                session, _read_rules(file), author=author, comment=comment, now=now
            )
            number = version.version
        outcome = catch_up(rt.factory, now)
    console.print(
        f"rules v{number} is active; rescored {outcome.leads} leads ({outcome.lines} ledger lines, "
        f"{outcome.events} changes recorded)"
    )


@rules_app.command("preview")
def rules_preview(
    file: RulesFile,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """What applying the document would change on today's leads (scores, temperatures, MQLs,
    levels, validity, statuses, teams, owners, approach requests), computed by applying it in a
    transaction that is rolled back: nothing is written."""
    from leadops.whatif import preview_rules

    if output_format not in ("table", "json"):
        raise typer.BadParameter("expected table or json", param_hint="--format")
    with runtime() as rt:
        preview = preview_rules(rt.factory, _read_rules(file), rt.clock.now())
    if output_format == "json":
        print(json.dumps(preview.as_dict(), ensure_ascii=False, indent=2, default=str))
        return
    _print_preview(preview)


@rules_app.command("backtest")
def rules_backtest(
    file: RulesFile,
    since: Annotated[
        str | None, typer.Option(help="Only leads created since this date (YYYY-MM-DD).")
    ] = None,
    days: Annotated[
        int, typer.Option(min=1, max=365, help="The score this many days after creation.")
    ] = 14,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Replay the history under the document and under the active one: how well each one's score
    N days after a lead's creation predicted an appointment (AUC, conversion by temperature, MQL
    or not) and how many leads each team would have. Nothing is written."""
    from leadops.whatif import backtest_rules

    if output_format not in ("table", "json"):
        raise typer.BadParameter("expected table or json", param_hint="--format")
    with runtime() as rt:
        start = _day_start(since, rt.settings.tz) if since else None
        found = backtest_rules(
            rt.factory, _read_rules(file), rt.clock.now(), days=days, since=start
        )
    if output_format == "json":
        print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2, default=str))
        return
    console.print(
        f"{found.leads} leads {days} days old or more{f' created since {since}' if since else ''}, "
        f"{found.converted} came to an appointment after that (nothing was written):",
        highlight=False,
    )
    table = Table("", f"active (v{found.active.version})", "this document")
    auc = [v.auc for v in (found.active, found.draft)]
    table.add_row("AUC", *("—" if a is None else f"{a:.3f}" for a in auc))
    for index, band in enumerate(found.active.temperatures + found.active.mql):
        other = (found.draft.temperatures + found.draft.mql)[index]
        table.add_row(band.name, *(_band_cell(b) for b in (band, other)))
    console.print(table)
    teams = Table("team", "active", "this document", title="leads per team")
    drafted = dict(found.draft.teams)
    names = [t for t, _ in found.active.teams] + [
        t for t in drafted if t not in dict(found.active.teams)
    ]
    for name in names:
        teams.add_row(
            name or "(none)", str(dict(found.active.teams).get(name, 0)), str(drafted.get(name, 0))
        )
    console.print(teams)


def _day_start(value: str, tz: Any) -> datetime:
    """The start of a day given as YYYY-MM-DD, in the organisation's time zone."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint="--since"
        ) from None
    return datetime.combine(day, time(), tzinfo=tz)


def _band_cell(band: Any) -> str:
    rate = "—" if band.rate is None else f"{band.rate:.0%}"
    return f"{band.leads} leads, {band.converted} converted ({rate})"


def _print_preview(preview: Any) -> None:
    console.print(
        f"Against rules v{preview.active_version}, on {preview.leads} live leads "
        "(nothing was written):",
        highlight=False,
    )
    if not preview.changed:
        console.print("  nothing would change")
        return
    console.print(
        f"  score: {preview.score_changed} leads change ({preview.score_up} up, "
        f"{preview.score_down} down, mean {preview.mean_change:+})",
        highlight=False,
    )
    if preview.bands:
        table = Table("change", "leads", title="score changes")
        for band, leads in preview.bands:
            table.add_row(band, str(leads))
        console.print(table)
    if preview.moves or preview.opened:
        table = Table("what", "from", "to", "leads", "for example", title="changes")
        for move in preview.moves:
            table.add_row(
                move.what,
                str(move.before),
                str(move.after),
                str(move.count),
                ", ".join(e.email or f"lead {e.lead_id}" for e in move.examples),
            )
        for opened in preview.opened:
            table.add_row(
                "approach request",
                "",
                opened.rule,
                str(opened.count),
                ", ".join(e.email or f"lead {e.lead_id}" for e in opened.examples),
            )
        console.print(table)


@rules_app.command("show")
def rules_show(
    version: Annotated[
        int | None, typer.Option("--version", help="A version number (default: the active one).")
    ] = None,
) -> None:
    """Print a rules version's document."""
    from leadops.rules.service import ensure_rules, get_version

    with runtime() as rt, rt.factory() as session, session.begin():
        ensure_rules(session, rt.clock.now())
        found = get_version(session, version)
        print(
            f"# rules v{found.version}{' (active)' if found.active else ''}, by "
            f"{found.author or '?'}, "
            f"{found.created_at.astimezone(rt.settings.tz):%Y-%m-%d %H:%M}"
        )
        print(found.document, end="" if found.document.endswith("\n") else "\n")


@rules_app.command("versions")
def rules_versions() -> None:
    """List the rules versions, newest first."""
    from leadops.rules.service import ensure_rules, list_versions

    with runtime() as rt, rt.factory() as session, session.begin():
        ensure_rules(session, rt.clock.now())
        table = Table("version", "active", "author", "created", "comment")
        for v in list_versions(session):
            table.add_row(
                str(v.version),
                "✓" if v.active else "",
                v.author or "",
                f"{v.created_at.astimezone(rt.settings.tz):%Y-%m-%d %H:%M}",
                v.comment or "",
            )
        console.print(table)


@rules_app.command("diff")
def rules_diff(
    a: Annotated[int, typer.Argument(help="The older version.")],
    b: Annotated[int, typer.Argument(help="The newer version.")],
) -> None:
    """Show what changed between two rules versions (unified diff)."""
    from leadops.rules.service import diff_versions

    with runtime() as rt, rt.factory() as session:
        text = diff_versions(session, a, b)
    print(text or f"rules v{a} and v{b} are the same")


@org_app.command("apply")
def org_apply(
    file: Annotated[Path, typer.Argument(help="An organisation document (YAML).")],
) -> None:
    """Create or update teams (by name) and users (by e-mail) from a YAML document."""
    from leadops.routing.org import apply_org, parse_org

    with runtime() as rt:
        document = parse_org(_read_rules(file))
        with rt.factory() as session, session.begin():
            created = apply_org(session, document, now=rt.clock.now(), tz=rt.settings.tz)
    console.print(
        f"{len(document.teams)} teams and {len(document.users)} users applied "
        f"({created['teams']} teams and {created['users']} users new)"
    )


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail (their sign-in).")],
    role: Annotated[
        str, typer.Option(help="admin, manager, member (IS / sales) or marketing.")
    ] = "member",
    name: Annotated[
        str | None, typer.Option(help="Display name (default: the e-mail's local part).")
    ] = None,
    team: Annotated[
        str | None, typer.Option(help="The team's name, as in `leadops org show`.")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input instead of asking."
        ),
    ] = False,
) -> None:
    """Create an account, or update the one with this e-mail (role, name, team, password)."""
    from leadops.auth import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime() as rt, rt.factory() as session, session.begin():
        user, created = add_user(
            session, email, password=password, role=role, name=name, team=team, now=rt.clock.now()
        )
        summary = f"{'created' if created else 'updated'} {user.email} ({user.role})"
    console.print(summary)


@users_app.command("list")
def users_list(output: OutputOpt = "table") -> None:
    """Every account: e-mail, name, role, team, whether it can sign in."""
    from sqlalchemy import select

    from leadops.models import Team, User

    with runtime() as rt, rt.factory() as session:
        rows = [
            {
                "email": email,
                "name": name,
                "role": role,
                "team": team,
                "active": active,
                "can_sign_in": bool(active and hashed),
            }
            for email, name, role, team, active, hashed in session.execute(
                select(User.email, User.name, User.role, Team.name, User.active, User.password_hash)
                .outerjoin(Team, Team.id == User.team_id)
                .order_by(User.email)
            )
        ]
    if output == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("email", "name", "role", "team", "active", "can_sign_in")
    for row in rows:
        table.add_row(*(str(row[k]) if row[k] is not None else "" for k in row))
    console.print(table)


SecretStdin = Annotated[
    bool,
    typer.Option(
        "--secret-stdin",
        help="Read the secret from standard input (a hubspot source's is your HubSpot app's client "
        "secret) instead of making one.",
    ),
]


def _read_secret(from_stdin: bool) -> str | None:
    return sys.stdin.readline().strip() if from_stdin else None


def _print_issued(rt: Runtime, issued: Any, what: str) -> None:
    """The secret, shown this once, and where the sender sends its deliveries."""
    base = (rt.settings.public_url or "").rstrip("/")
    console.print(f"{what} (kind {issued.kind}).", highlight=False)
    console.print("Secret (shown only now; keep it where the sender signs its deliveries):")
    print(f"  {issued.secret}")
    console.print(f"Deliveries go to: POST {base}{issued.path}", highlight=False)
    if issued.kind == "hubspot":
        console.print("  signed by HubSpot (X-HubSpot-Signature-v3) with the app's client secret")
    else:
        console.print(
            "  headers: X-Leadops-Timestamp: <Unix seconds>, X-Leadops-Signature: "
            'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>"> (docs/webhooks.md)',
            highlight=False,
        )


@webhooks_app.command("add")
def webhooks_add(
    name: Annotated[
        str, typer.Argument(help="The source's name, the end of its URL (e.g. site-form).")
    ],
    kind: Annotated[
        str,
        typer.Option(
            help="generic (an item of POST /api/v1/activities), hubspot (HubSpot's webhooks, "
            "its v3 signature) or form (a form tool's submission)."
        ),
    ] = "generic",
    secret_stdin: SecretStdin = False,
) -> None:
    """Create a webhook source and print its secret, once, with the URL to configure."""
    from leadops.ingest.webhook_sources import add_source

    secret = _read_secret(secret_stdin)
    with runtime() as rt, rt.factory() as session, session.begin():
        issued = add_source(session, name, kind=kind, now=rt.clock.now(), secret=secret)
    _print_issued(rt, issued, f"Webhook source {name!r} created")


@webhooks_app.command("list")
def webhooks_list(output: OutputOpt = "table") -> None:
    """The webhook sources (never their secrets): kind, URL, when last used and refused."""
    from leadops.ingest.webhook_sources import describe_sources

    with runtime() as rt, rt.factory() as session:
        rows = describe_sources(session, rt.clock.now())
        tz = rt.settings.tz
    if output == "json":
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table("name", "kind", "last used", "rotated", "old secret until", "refused (24 h)")
    for row in rows:
        when = [
            f"{row[k].astimezone(tz):%m-%d %H:%M}" if row[k] else "—"
            for k in ("last_used_at", "rotated_at", "previous_secret_until")
        ]
        table.add_row(row["name"], row["kind"], *when, str(row["refused_24h"]))
    console.print(table)
    base = (rt.settings.public_url or "").rstrip("/")
    console.print(f"Each source's URL: POST {base}/api/v1/webhooks/NAME", highlight=False)


@webhooks_app.command("rotate")
def webhooks_rotate(
    name: Annotated[str, typer.Argument(help="The source's name.")],
    grace_hours: Annotated[
        float,
        typer.Option(help="How long the old secret is still accepted (0: not at all)."),
    ] = 24.0,
    secret_stdin: SecretStdin = False,
) -> None:
    """Give a source a new secret (printed once); the old one works for a grace period."""
    from datetime import timedelta

    from leadops.ingest.webhook_sources import rotate_source

    secret = _read_secret(secret_stdin)
    with runtime() as rt, rt.factory() as session, session.begin():
        issued = rotate_source(
            session, name, now=rt.clock.now(), grace=timedelta(hours=grace_hours), secret=secret
        )
    _print_issued(rt, issued, f"Webhook source {name!r} has a new secret")
    until = issued.previous_valid_until
    if until is None:
        console.print("The old secret is no longer accepted.")
    else:
        local = until.astimezone(rt.settings.tz)
        console.print(f"The old secret is accepted until {local:%Y-%m-%d %H:%M}.", highlight=False)


@webhooks_app.command("remove")
def webhooks_remove(name: Annotated[str, typer.Argument(help="The source's name.")]) -> None:
    """Remove a webhook source: its URL answers 401 from now on (its refusals are kept)."""
    from leadops.ingest.webhook_sources import remove_source

    with runtime() as rt, rt.factory() as session, session.begin():
        remove_source(session, name)
    console.print(f"Webhook source {name!r} removed.", highlight=False)


@webhooks_app.command("refusals")
def webhooks_refusals(
    source: Annotated[str | None, typer.Option(help="Only this source's.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    output: OutputOpt = "table",
) -> None:
    """The deliveries refused, newest first: source, reason (bad_signature, stale_timestamp,
    replay …), what was wrong, and the sender's address."""
    from leadops.ingest.webhook_sources import refusals_of

    with runtime() as rt, rt.factory() as session:
        rows = refusals_of(session, source=source, limit=limit)
        tz = rt.settings.tz
    if output == "json":
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table("at", "source", "reason", "detail", "address")
    for row in rows:
        name = row["source"] if row["known_source"] else f"{row['source']} (unknown)"
        at = f"{row['at'].astimezone(tz):%Y-%m-%d %H:%M:%S}"
        table.add_row(at, name, row["reason"], row["detail"], row["address"] or "")
    console.print(table)


@org_app.command("show")
def org_show(output: OutputOpt = "table") -> None:
    """Show the teams with their managers and members."""
    from leadops.routing.org import describe_org

    with runtime() as rt, rt.factory() as session:
        teams = describe_org(session)
        tz = rt.settings.tz
    if output == "json":
        console.print_json(json.dumps(teams, ensure_ascii=False, default=str))
        return
    for team in teams:
        console.print(
            f"[bold]{team['team']}[/bold] ({team['kind']}), manager {team['manager'] or '—'}",
            highlight=False,
        )
        for member in team["members"]:
            away = ", ".join(
                f"{a:%m/%d}–{b:%m/%d}"
                for a, b, _ in (
                    (s.astimezone(tz), e.astimezone(tz), n) for s, e, n in member["out_of_office"]
                )
            )
            state = "" if member["active"] else " inactive"
            console.print(
                f"  {member['name']} <{member['email']}> {member['role']}, weight "
                f"{member['weight']:g}, "
                f"capacity {member['capacity'] or '—'}{state}{'  away ' + away if away else ''}",
                highlight=False,
            )


@app.command("status")
def status_command(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    status: Annotated[
        str, typer.Argument(help="The new status (e.g. lead, recycled, disqualified_sales).")
    ],
    reason: Annotated[
        str | None, typer.Option(help="Why; required for recycled and disqualified_*.")
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Who makes the change (e-mail); recorded as the actor.")
    ] = None,
) -> None:
    """Change a lead's status, as the rules' transition table allows; recorded with the actor and
    reason."""
    from leadops.cadence.service import StatusChange, change_status
    from leadops.db import run_in_transaction
    from leadops.leads import find_lead, find_user
    from leadops.lifecycle.door import Actor
    from leadops.rules.service import active_rules

    def work(session: Session) -> StatusChange:
        now = rt.clock.now()
        lead_id = find_lead(session, ref).id
        actor = Actor.user(find_user(session, by).id) if by else Actor("cli")
        rules = active_rules(session, now)
        return change_status(session, rules, lead_id, status, reason=reason, now=now, actor=actor)

    with runtime() as rt:
        change = run_in_transaction(rt.factory, work)
    message = (
        f"{ref}: {change.before} → {change.after}"
        if change.changed
        else f"{ref} is already {status}"
    )
    console.print(message, highlight=False)


@app.command("qualify")
def qualify_command(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    budget: Annotated[str | None, typer.Option(help="What the buyer can spend.")] = None,
    authority: Annotated[str | None, typer.Option(help="Who decides (決裁者).")] = None,
    need: Annotated[str | None, typer.Option(help="The need or the problem to solve.")] = None,
    timing: Annotated[str | None, typer.Option(help="When they would buy (導入時期).")] = None,
    note: Annotated[str | None, typer.Option(help="Anything else.")] = None,
    by: Annotated[
        str | None, typer.Option(help="The rep (e-mail); default: the lead's owner.")
    ] = None,
) -> None:
    """Qualify a lead (the IS qualification): its answers are kept and it becomes an SQL."""
    from leadops.cadence.qualify import Answers, Qualified, qualify
    from leadops.cadence.service import touch_author
    from leadops.db import run_in_transaction
    from leadops.leads import find_lead
    from leadops.rules.service import active_rules

    answers = Answers(budget, authority, need, timing, note)

    def work(session: Session) -> Qualified:
        now = rt.clock.now()
        lead = find_lead(session, ref)
        user = touch_author(session, lead, by)
        return qualify(session, active_rules(session, now), lead.id, answers, user=user, now=now)

    with runtime() as rt:
        done = run_in_transaction(rt.factory, work)
    if not done.created:
        console.print(f"{ref}: these answers were recorded before; nothing changed")
    else:
        console.print(
            f"{ref}: qualified ({done.stage_before} → {done.stage_after})", highlight=False
        )


@app.command("appointment")
def appointment_command(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    amount: Annotated[
        float | None, typer.Option(help="The opportunity's amount (0 or more).")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="The field-sales owner (e-mail or id) of the opportunity.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The opportunity's name; default: the company.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    by: Annotated[
        str | None, typer.Option(help="The rep who set it (e-mail); default: the lead's owner.")
    ] = None,
) -> None:
    """Book an appointment: the lead's opportunity opens at the pipeline's first stage, with its
    amount and its field-sales owner; booking again changes nothing."""
    from leadops.cadence.service import Booking, book_appointment, touch_author
    from leadops.db import run_in_transaction
    from leadops.leads import find_lead
    from leadops.rules.service import active_rules

    def work(session: Session) -> Booking:
        now = rt.clock.now()
        lead = find_lead(session, ref)
        user = touch_author(session, lead, by)
        if user is None:
            raise LeadopsError("--by: the lead has no owner; name the rep who set the appointment")
        rules = active_rules(session, now)
        return book_appointment(
            session,
            rules,
            lead.id,
            user=user,
            now=now,
            name=name,
            note=note,
            amount=amount,
            owner=owner,
        )

    with runtime() as rt:
        booking = run_in_transaction(rt.factory, work)
    if booking.created:
        console.print(f"{ref}: appointment booked (opportunity {booking.opportunity_id})")
    else:
        console.print(
            f"{ref} has an open opportunity already ({booking.opportunity_id}); nothing changed"
        )


@opportunity_app.command("update")
def opportunity_update_command(
    opportunity_id: Annotated[int, typer.Argument(help="The opportunity's id.", min=1)],
    stage: Annotated[str | None, typer.Option(help="A stage of the rules' pipeline.")] = None,
    amount: Annotated[float | None, typer.Option(help="The amount (0 or more).")] = None,
    close: Annotated[
        str | None, typer.Option("--close", help="The expected close date (YYYY-MM-DD).")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="The field-sales owner (e-mail or id).")] = None,
    won: Annotated[
        bool | None, typer.Option("--won/--lost", help="Close it as won or as lost.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why; required for --lost.")] = None,
    reopen: Annotated[
        bool, typer.Option(help="Move a closed opportunity back to an open stage.")
    ] = False,
    by: Annotated[
        str | None, typer.Option(help="Who makes the change (e-mail); recorded as the actor.")
    ] = None,
) -> None:
    """Update an opportunity: each change is an event of its history; --won makes the lead a
    customer."""
    from datetime import date

    from leadops.cadence.opportunities import OpportunityChange, Updated, update_opportunity
    from leadops.db import run_in_transaction
    from leadops.errors import FieldError, ValidationFailed
    from leadops.leads import find_user
    from leadops.lifecycle.door import Actor
    from leadops.rules.service import active_rules

    outcome = None if won is None else ("won" if won else "lost")

    def work(session: Session) -> Updated:
        try:
            close_on = date.fromisoformat(close) if close else None
        except ValueError:
            message = f"expected a date (YYYY-MM-DD), got {close!r}"
            raise ValidationFailed([FieldError("close", message)]) from None
        change = OpportunityChange(stage, amount, close_on, owner, outcome, reason, reopen)
        now = rt.clock.now()
        actor = Actor.user(find_user(session, by).id) if by else Actor("cli")
        rules = active_rules(session, now)
        return update_opportunity(session, rules, opportunity_id, change, actor=actor, now=now)

    with runtime() as rt:
        done = run_in_transaction(rt.factory, work)
    if not done.changed:
        console.print(f"opportunity {opportunity_id}: nothing changed")
        return
    lifecycle = f"; the lead is {done.lifecycle_stage}" if done.lifecycle_stage else ""
    console.print(
        f"opportunity {opportunity_id}: {', '.join(done.changed)} changed{lifecycle}",
        highlight=False,
    )


@opportunity_app.command("list")
def opportunity_list_command(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    output: OutputOpt = "table",
) -> None:
    """A lead's opportunities with their history (who, when, from → to)."""
    from leadops.cadence.opportunities import opportunities_of
    from leadops.leads import find_lead

    with runtime() as rt, rt.factory() as session:
        found = opportunities_of(session, find_lead(session, ref).id)
        tz = rt.settings.tz
    if output == "json":
        print(json.dumps(found, indent=2, ensure_ascii=False, default=str))
        return
    for opp in found:
        console.print(
            f"{opp['id']} {opp['name'] or ''}: {opp['stage']}, amount {opp['amount'] or '—'}, "
            f"close {opp['expected_close_on'] or '—'}, owner {opp['owner'] or '—'}",
            highlight=False,
        )
        for e in opp["history"]:
            why = f" ({e['reason']})" if e["reason"] else ""
            console.print(
                f"  {e['at'].astimezone(tz):%Y-%m-%d %H:%M} {e['kind']}: "
                f"{e['from'] or '∅'} → {e['to'] or '∅'}{why} by {e['actor']}",
                highlight=False,
            )


@quota_app.command("set")
def quota_set_command(
    month: Annotated[str, typer.Option(help="The month (YYYY-MM).")],
    team: Annotated[str | None, typer.Option(help="The team (name or id).")] = None,
    member: Annotated[str | None, typer.Option(help="The member (e-mail or id).")] = None,
    touches: Annotated[int | None, typer.Option(help="Target: touches logged.", min=0)] = None,
    connects: Annotated[
        int | None,
        typer.Option(help="Target: connects (touches connected or replied).", min=0),
    ] = None,
    appointments: Annotated[
        int | None, typer.Option(help="Target: appointments booked.", min=0)
    ] = None,
    opportunities: Annotated[
        int | None, typer.Option(help="Target: opportunities owned.", min=0)
    ] = None,
    won_amount: Annotated[float | None, typer.Option(help="Target: the amount won.", min=0)] = None,
    by: Annotated[
        str | None,
        typer.Option(
            help="The manager or admin who sets it (e-mail): a manager only for the teams they "
            "manage and their members. Default: the operator, for any."
        ),
    ] = None,
) -> None:
    """Set a team's or a member's targets for a month; targets not given keep their value."""
    from leadops.cadence.quotas import Targets, parse_month, set_quota
    from leadops.db import run_in_transaction
    from leadops.leads import find_user

    def work(session: Session) -> dict[str, Any]:
        actor = find_user(session, by) if by else None
        return set_quota(
            session,
            actor=actor,
            month=parse_month(month),
            team=team,
            member=member,
            targets=Targets(
                appointments=appointments,
                opportunities=opportunities,
                won_amount=won_amount,
                touches=touches,
                connects=connects,
            ),
            now=rt.clock.now(),
        )

    with runtime() as rt:
        quota = run_in_transaction(rt.factory, work)
    console.print(f"{quota['month']} {quota['subject']} {quota['name']}: {_targets(quota)}")


def _targets(quota: dict[str, Any]) -> str:
    return ", ".join(
        f"{m} {quota[m]:,.0f}" if quota[m] is not None else f"{m} —"
        for m in ("touches", "connects", "appointments", "opportunities", "won_amount")
    )


@quota_app.command("list")
def quota_list_command(
    month: Annotated[str | None, typer.Option(help="The month (YYYY-MM); default: all.")] = None,
    output: OutputOpt = "table",
) -> None:
    """The quotas, by month, teams first."""
    from leadops.cadence.quotas import list_quotas, month_after, parse_month

    with runtime() as rt, rt.factory() as session:
        first = parse_month(month) if month else None
        found = list_quotas(session, start=first, end=month_after(first) if first else None)
    if output == "json":
        print(json.dumps(found, indent=2, ensure_ascii=False, default=str))
        return
    if not found:
        console.print("no quotas")
    for quota in found:
        console.print(
            f"{quota['month']} {quota['subject']} {quota['name']} ({quota['team'] or '—'}): "
            f"{_targets(quota)}",
            highlight=False,
        )


@task_app.command("add")
def task_add(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    due: Annotated[
        str, typer.Option(help="When it is due (ISO 8601, local time if naive): 2026-12-05 10:00.")
    ],
    note: Annotated[str, typer.Option(help="What to do.")] = "",
    by: Annotated[
        str | None, typer.Option(help="Who schedules it (e-mail); default: the lead's owner.")
    ] = None,
    for_: Annotated[
        str | None,
        typer.Option("--for", help="Whose it is (e-mail); default: --by. A manager's members."),
    ] = None,
) -> None:
    """Schedule a follow-up on a lead; the same open one again is found, not made twice."""
    from leadops.cadence.service import touch_author
    from leadops.cadence.tasks import Scheduled, schedule
    from leadops.db import run_in_transaction
    from leadops.leads import find_lead, find_user
    from leadops.normalize import parse_datetime

    def work(session: Session) -> Scheduled:
        now = rt.clock.now()
        try:
            due_at = parse_datetime(due, tz=rt.settings.tz)
        except ValueError as exc:
            raise LeadopsError(f"--due: {exc}") from None
        lead = find_lead(session, ref)
        user = touch_author(session, lead, by)
        if user is None:
            raise LeadopsError(f"{ref} has no owner: say who schedules it with --by")
        assignee = find_user(session, for_) if for_ else None
        return schedule(
            session, lead.id, by=user, assignee=assignee, due_at=due_at, note=note, now=now
        )

    with runtime() as rt:
        done = run_in_transaction(rt.factory, work)
        when = f"{done.task.due_at.astimezone(rt.settings.tz):%Y-%m-%d %H:%M}"
    what = "scheduled" if done.created else "was scheduled already"
    console.print(f"task {done.task.id} {what}: {ref} due {when}", highlight=False)


@task_app.command("list")
def task_list(
    user: Annotated[
        str | None, typer.Option(help="Whose (e-mail); default: everyone's open tasks.")
    ] = None,
    output: OutputOpt = "table",
) -> None:
    """The open follow-ups, the most overdue first."""
    from leadops.cadence.tasks import open_tasks_of
    from leadops.leads import find_user

    with runtime() as rt, rt.factory() as session:
        now, tz = rt.clock.now(), rt.settings.tz
        whose = find_user(session, user).id if user else None
        rows: list[dict[str, Any]] = [
            {
                "id": f.task.id,
                "due_at": f.task.due_at.astimezone(tz).isoformat(),
                "overdue": f.overdue(now),
                "lead_id": f.lead.id,
                "lead": f.lead.company or f.lead.email or "",
                "assignee": f.assignee,
                "note": f.task.note or "",
            }
            for f in open_tasks_of(session, whose, limit=1000)
        ]
    if output == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("id", "due", "", "lead", "assignee", "note")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["due_at"])[:16].replace("T", " "),
            "overdue" if r["overdue"] else "",
            f"{r['lead']} ({r['lead_id']})",
            str(r["assignee"]),
            str(r["note"]),
        )
    console.print(table)


def _close_task(task_id: int, by: str | None, action: str) -> None:
    from leadops.cadence.tasks import Closed, cancel, complete
    from leadops.db import run_in_transaction
    from leadops.leads import find_user
    from leadops.models import FollowUpTask, User

    def work(session: Session) -> Closed:
        task = session.get(FollowUpTask, task_id)
        who = find_user(session, by) if by else None
        if who is None and task is not None:
            who = session.get_one(User, task.assignee_id)
        if who is None:
            raise LeadopsError(f"no task {task_id}")
        close = complete if action == "done" else cancel
        return close(session, task_id, by=who, now=rt.clock.now())

    with runtime() as rt:
        closed = run_in_transaction(rt.factory, work)
    past = "done" if action == "done" else "cancelled"
    said = past if closed.changed else f"was {past} already; nothing changed"
    console.print(f"task {task_id} {said}", highlight=False)


TaskId = Annotated[int, typer.Argument(help="The task's id (see `leadops task list`).", min=1)]
TaskBy = Annotated[str | None, typer.Option(help="Who closes it (e-mail); default: its assignee.")]


@task_app.command("done")
def task_done(task_id: TaskId, by: TaskBy = None) -> None:
    """Mark a follow-up done (again: no change)."""
    _close_task(task_id, by, "done")


@task_app.command("cancel")
def task_cancel(task_id: TaskId, by: TaskBy = None) -> None:
    """Cancel a follow-up (again: no change)."""
    _close_task(task_id, by, "cancel")


@app.command("touch")
def touch_command(
    ref: Annotated[str, typer.Argument(help="The lead's e-mail, id, or external id.")],
    channel: Annotated[str, typer.Option(help="call, email, voicemail, sms, social or meeting.")],
    outcome: Annotated[
        str, typer.Option(help="no_answer, voicemail_left, sent, bounced, replied or connected.")
    ],
    by: Annotated[
        str | None, typer.Option(help="The rep (e-mail); default: the lead's owner.")
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="When (ISO 8601, local time if naive); default now.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    touch_id: Annotated[
        str | None,
        typer.Option("--id", help="Your id for this touch: logging it twice records once."),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(help="The template or script used; default: the stage's playbook's."),
    ] = None,
) -> None:
    """Log a touch (a call, an e-mail …): the touch stage moves on and the next deadline is set."""
    from leadops.cadence.service import TouchResult, log_touch, touch_author
    from leadops.db import run_in_transaction
    from leadops.leads import find_lead
    from leadops.normalize import parse_datetime
    from leadops.rules.service import active_rules

    def work(session: Session) -> TouchResult:
        now = rt.clock.now()
        try:
            when = parse_datetime(at, tz=rt.settings.tz) if at else now
        except ValueError as exc:
            raise LeadopsError(f"--at: {exc}") from None
        lead = find_lead(session, ref)
        return log_touch(
            session,
            active_rules(session, now),
            lead.id,
            user=touch_author(session, lead, by),
            channel=channel,
            outcome=outcome,
            at=when,
            now=now,
            note=note,
            external_id=touch_id,
            template=template,
        )

    with runtime() as rt:
        result = run_in_transaction(rt.factory, work)
        tz = rt.settings.tz
    due = (
        f", next touch due {result.next_due_at.astimezone(tz):%Y-%m-%d %H:%M}"
        if result.next_due_at
        else ""
    )
    if not result.created:
        console.print(f"touch {touch_id} was already logged; nothing changed")
    else:
        used = f" (template {result.template})" if result.template else ""
        console.print(
            f"{ref}: {result.stage_before} → {result.stage_after}{due}{used}", highlight=False
        )


@app.command("report")
def report_command(
    name: Annotated[
        str,
        typer.Argument(
            help="The report: status-board, dwell, recycle-reasons, funnel, cohort, kpis, "
            "campaigns, campaign-months, score-jumps, new-leads, pipeline, tasks, sources, "
            "forecast, connect-patterns, reengagement."
        ),
    ],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (or time) of the range.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day of the range (inclusive).")
    ] = None,
    period: Annotated[str, typer.Option(help="day, week, month, quarter or year.")] = "month",
    by: Annotated[
        str, typer.Option(help="period (when outcomes happened) or cohort (when leads came).")
    ] = "period",
    output_format: Annotated[
        str, typer.Option("--format", help="table, json, csv or xlsx.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Run as of this day (its end) or time, not now.")
    ] = None,
    threshold: Annotated[int, typer.Option(help="score-jumps: the least rise in points.")] = 10,
    backtest: Annotated[
        bool, typer.Option("--backtest", help="forecast: replay past months' forecasts.")
    ] = False,
    segment: Annotated[
        str | None,
        typer.Option(
            help="sources and kpis: break down by industry, department, title_class, "
            "employee_band, prefecture, region or custom.NAME."
        ),
    ] = None,
) -> None:
    """Run a report (definitions in docs/reports.md)."""
    from leadops.reports import run_report
    from leadops.reports.base import report_params
    from leadops.reports.export import to_csv, to_xlsx

    if output_format not in ("table", "json", "csv", "xlsx"):
        raise typer.BadParameter("expected table, json, csv or xlsx", param_hint="--format")
    with runtime() as rt, rt.read_factory() as session:
        params = report_params(
            start,
            end,
            period,
            by,
            rt.settings.tz,
            rt.clock.now(),
            as_of=as_of,
            threshold=threshold,
            backtest=backtest,
            segment=segment,
        )
        result = run_report(session, name, params)
    if output_format == "xlsx":
        target = output or Path(f"{name}.xlsx")
        target.write_bytes(to_xlsx(result, tz=rt.settings.tz))
        console.print(f"written to {target}")
        return
    if output_format in ("json", "csv"):
        text = (
            json.dumps(result.to_json(), ensure_ascii=False, default=str, indent=2)
            if output_format == "json"
            else to_csv(result)
        )
        if output:
            output.write_text(text, encoding="utf-8")
            console.print(f"written to {output}")
        else:
            print(text)
        return
    console.print(_report_table(name, result.columns, result.rows))
    for section, table in result.sections.items():
        rows = table["rows"]
        console.print(_report_table(section, table["columns"], rows[:SECTION_ROWS]))
        if len(rows) > SECTION_ROWS:
            more = len(rows) - SECTION_ROWS
            console.print(
                f"… {more} more rows in {section} (--format csv, json or xlsx has them all)",
                style="dim",
                highlight=False,
            )
    console.print(result.definition, style="dim", highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", style="dim", highlight=False)
    for anomaly in result.anomalies:
        console.print(f"anomaly: {anomaly}", style="yellow", highlight=False)


#: Rows of an extra report table shown in the terminal; the file formats hold them all.
SECTION_ROWS = 50


def _report_cell(column: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, float) and (
        column.endswith(("rate", "share", "compliance", "mape", "pct_error"))
        or column in ("from_previous", "from_first")
    ):
        return f"{value:.1%}"
    return str(value)


def _report_table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A report table; one with many columns is turned on its side (a row per measure) to fit a
    terminal."""
    if len(columns) > 9 and rows:
        table = Table(columns[0], *(str(r[0]) for r in rows), title=title)
        for index, column in enumerate(columns[1:], start=1):
            table.add_row(column, *(_report_cell(column, r[index]) for r in rows))
        return table
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(_report_cell(c, v) for c, v in zip(columns, row, strict=True)))
    return table


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one sweep and exit.")] = False,
    now: Annotated[
        str | None, typer.Option(help="Sweep as if it were this time (ISO 8601); implies --once.")
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between sweeps (default LEADOPS_WORKER_INTERVAL_SECONDS)."),
    ] = None,
) -> None:
    """Run the sweeps (score decay, SLA deadlines, reminders, escalations, reassignment, recycling)
    now and then, or once at a given time."""
    import threading

    from leadops.normalize import parse_datetime
    from leadops.worker import run_forever, run_once

    with runtime() as rt:
        if now is not None:
            try:
                at = parse_datetime(now, tz=rt.settings.tz)
            except ValueError as exc:
                raise LeadopsError(f"--now: {exc}") from None
            console.print(run_once(rt, at).summary())
            return
        if once:
            console.print(run_once(rt, rt.clock.now()).summary())
            return
        every = interval if interval is not None else rt.settings.worker_interval_seconds
        stop = threading.Event()
        try:
            run_forever(rt, stop, interval=every, on_sweep=lambda r: console.print(r.summary()))
        except KeyboardInterrupt:
            stop.set()


@app.command()
def bench(
    name: Annotated[
        str,
        typer.Argument(
            help="Which benchmark: ingest, import-leads, rescore, routing, sweep, reports, "
            "pages, preview, predict, api (or all)."
        ),
    ] = "all",
    events: Annotated[int, typer.Option(help="Activities to ingest or rescore.")] = 200_000,
    leads: Annotated[
        int | None,
        typer.Option(
            help="Leads for rescore and preview (default events ÷ 10), routing, sweep, reports "
            "and predict (default 100,000)."
        ),
    ] = None,
    rows: Annotated[
        int | None, typer.Option(help="Rows of the import-leads file (default: --events).")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="Requests per second of the api benchmark (default 200).")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="How long the api benchmark's load lasts (default 60).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database to measure (default: a fresh SQLite file).")
    ] = None,
    output: OutputOpt = "table",
) -> None:
    """Run benchmarks against the raw speed of the same database; results are written as JSON."""
    from leadops.benchrunner import run_benchmarks

    try:
        results = run_benchmarks(
            name,
            events=events,
            database_url=database_url,
            leads=leads,
            rows=rows,
            rate=rate,
            seconds=seconds,
        )
    except (LeadopsError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if output == "json":
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return
    for result in results:
        console.print(result["summary"], highlight=False)


# -- predictive scoring (leadops.predict) -------------------------------------------------------

predict_app = typer.Typer(
    help="Predictive scoring: learn the probability of an appointment or a win from the history, "
    "measure it, and score the open leads.",
    no_args_is_help=True,
)
app.add_typer(predict_app, name="predict")
OutcomeOpt = Annotated[
    str | None,
    typer.Option("--outcome", help="appointment or won (default LEADOPS_PREDICT_OUTCOME)."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Learn from the results known by this day (its end) or time."),
]


def _predict_setup(rt: Runtime, outcome: str | None, as_of: str | None) -> tuple[Any, datetime]:
    from leadops.normalize import parse_datetime
    from leadops.predict.features import OUTCOMES
    from leadops.predict.service import Options

    if outcome is not None and outcome not in OUTCOMES:
        raise typer.BadParameter(f"expected one of {', '.join(OUTCOMES)}", param_hint="--outcome")
    moment = rt.clock.now()
    if as_of is not None:
        try:
            moment = parse_datetime(as_of, tz=rt.settings.tz)
        except ValueError as exc:
            raise LeadopsError(f"--as-of: {exc}") from None
        if len(as_of.strip()) <= 10:
            moment = moment.replace(hour=0, minute=0, second=0) + timedelta(days=1)
    return Options.from_settings(rt.settings, outcome), min(moment, rt.clock.now())


def _print_metrics(metrics: dict[str, Any], header: str) -> None:
    console.print(header, highlight=False)
    for key in (
        "auc",
        "rules_score_auc",
        "log_loss",
        "precision_top_20",
        "base_rate",
        "training_size",
        "training_positives",
        "holdout_size",
        "holdout_positives",
    ):
        console.print(f"  {key:20} {metrics.get(key)}", highlight=False)
    console.print(
        f"  {'trained on':20} {metrics['trained_from'][:10]} … {metrics['trained_to'][:10]}; "
        f"holdout {metrics['holdout_from'][:10]} … {metrics['holdout_to'][:10]}",
        highlight=False,
    )
    console.print(f"  {'validation auc':20} {metrics['validation_auc']}", highlight=False)
    table = Table("predicted from", "to", "leads", "predicted", "observed", title="calibration")
    for row in metrics["calibration"]:
        table.add_row(*(str(row[k]) for k in ("from", "to", "leads", "predicted", "observed")))
    console.print(table)
    for note in metrics.get("notes", []):
        console.print(f"note: {note}", style="yellow", highlight=False)


@predict_app.command("train")
def predict_train(
    outcome: OutcomeOpt = None, as_of: AsOfOpt = None, output: OutputOpt = "table"
) -> None:
    """Learn from the leads whose result is known, store the model as a new version and score
    every open lead with it. Refused below the minimum history."""
    from leadops.predict.service import score_leads, train_model
    from leadops.rules.service import active_rules

    with runtime() as rt:
        now = rt.clock.now()
        with rt.factory() as session, session.begin():
            options, moment = _predict_setup(rt, outcome, as_of)
            rules = active_rules(session, now)
            model = train_model(session, rules, now, moment, options)
            scored = score_leads(session, rules, now, version=model.version)
            info: dict[str, Any] = {
                "version": model.version,
                "outcome": model.outcome,
                "kind": model.kind,
                "as_of": model.as_of.isoformat(),
                "scored": scored,
                "metrics": model.metrics,
            }
    if output == "json":
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return
    _print_metrics(
        info["metrics"],
        f"model v{info['version']} ({info['outcome']}, {info['kind']}) stored; "
        f"{scored} open leads scored",
    )


@predict_app.command("evaluate")
def predict_evaluate(
    outcome: OutcomeOpt = None, as_of: AsOfOpt = None, output: OutputOpt = "table"
) -> None:
    """Measure on the time-ordered holdout, storing nothing: AUC, log loss, precision in the top
    20 %, a calibration table, next to the AUC of the rules score on the same leads."""
    from leadops.predict.service import evaluate
    from leadops.rules.service import active_rules

    with runtime() as rt, rt.factory() as session:
        options, moment = _predict_setup(rt, outcome, as_of)
        training = evaluate(session, active_rules(session, rt.clock.now()), moment, options)
        info = {"outcome": options.outcome, "kind": training.trained.kind, **training.metrics}
    if output == "json":
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return
    _print_metrics(info, f"{info['outcome']}: {info['kind']} chosen on the validation slice")


@predict_app.command("score")
def predict_score(output: OutputOpt = "table") -> None:
    """Score every open lead with the newest stored model (its probability and factors)."""
    from leadops.predict.service import score_leads
    from leadops.predict.store import latest_version
    from leadops.rules.service import active_rules

    with runtime() as rt:
        now = rt.clock.now()
        with rt.factory() as session, session.begin():
            latest = latest_version(session)
            if latest is None:
                raise LeadopsError("no prediction model yet: run leadops predict train first")
            scored = score_leads(session, active_rules(session, now), now)
    if output == "json":
        print(json.dumps({"version": latest[0], "outcome": latest[1], "scored": scored}))
        return
    console.print(f"{scored} open leads scored with model v{latest[0]} ({latest[1]})")


def main() -> None:
    app()
