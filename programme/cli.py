"""`pkh db …`: migrate and seed the programme database named by DATABASE_URL."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from core.i18n import translator
from core.settings import get_settings
from programme import migrate
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.imports import ImportKind, ImportPhase, describe
from programme.seed import SeedDataError, seed_reference

db_app = typer.Typer(
    help="The programme database: schema migrations and seed data (DATABASE_URL).",
    no_args_is_help=True,
    # Locals in a traceback could include the secret key or a NIK.
    pretty_exceptions_show_locals=False,
)


def _database_url() -> str:
    return get_settings().database_url


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@db_app.command()
def upgrade(
    revision: str = typer.Argument("head", help="Target revision; the latest by default."),
) -> None:
    """Bring the database to the latest schema (or to REVISION); creates a SQLite file if needed."""
    url = _database_url()
    migrate.upgrade(url, revision)
    typer.echo(f"{_shown(url)} is at revision {migrate.current(url)}")


@db_app.command()
def downgrade(
    revision: str = typer.Argument(..., help='Target revision; "base" removes every table.'),
) -> None:
    """Revert the schema to REVISION (data in the removed tables is lost)."""
    url = _database_url()
    migrate.downgrade(url, revision)
    typer.echo(f"{_shown(url)} is at revision {migrate.current(url) or 'base (empty)'}")


@db_app.command()
def current() -> None:
    """Show the database's schema revision and whether it is the latest."""
    url = _database_url()
    revision, latest = migrate.current(url), migrate.head()
    if revision is None:
        typer.echo(f"{_shown(url)} has no schema yet; run `pkh db upgrade`")
    elif revision == latest:
        typer.echo(f"{_shown(url)} is at {revision} (latest)")
    else:
        typer.echo(f"{_shown(url)} is at {revision}; latest is {latest}: run `pkh db upgrade`")


@db_app.command()
def seed(
    demo: bool = typer.Option(
        False, "--demo", help="Also load the synthetic demo roster (needs PKH_SECRET_KEY)."
    ),
) -> None:
    """Load the reference data from data/programme/ (safe to repeat; edits update rows)."""
    settings = get_settings()
    url = settings.database_url
    if migrate.current(url) != migrate.head():
        typer.echo(
            "The schema is not at the latest revision: run `pkh db upgrade` first.", err=True
        )
        raise typer.Exit(1)
    if demo and settings.secret_key is None:
        typer.echo("PKH_SECRET_KEY must be set: the demo stores keyed NIK hashes.", err=True)
        raise typer.Exit(1)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            report = seed_reference(session)
            typer.echo(f"Reference data (+inserted ~updated =unchanged):\n{report.summary()}")
            if demo and settings.secret_key is not None:
                demo_report = seed_demo(session, secret_key=settings.secret_key.get_secret_value())
                typer.echo(f"Demo roster:\n{demo_report.summary()}")
    except SeedDataError as error:
        typer.echo(f"Nothing was changed: {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        engine.dispose()


stage_app = typer.Typer(help="Payment stages: open one (and tell the families) or close it.")


@stage_app.command("open")
def open_stage_command(
    year: int = typer.Argument(..., help="Year, e.g. 2026."),
    stage: int = typer.Argument(..., min=1, max=12, help="Stage number, e.g. 4."),
    region: str = typer.Option(..., help="Region code (province, kabupaten, kecamatan or desa)."),
    channel: str = typer.Option(None, help="Channel code (BRI, BNI, POS, …); default: all."),
    until: datetime = typer.Option(None, formats=["%Y-%m-%d"], help="Last day of the window."),
) -> None:
    """Mark a stage as being paid in a region (and channel); linked families there are told once.

    The messages go into the outbox; the running bot's leader sends them (outside quiet hours).
    """
    from programme.models import utcnow
    from programme.stages import open_stage

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            opened = open_stage(
                session,
                year=year,
                stage_no=stage,
                region_code=region,
                channel_code=channel,
                now=utcnow(),
                actor="cli",
                until=until.date() if until else None,
            )
            window = f"{opened.window.starts_on} – {opened.window.ends_on}"
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        engine.dispose()
    typer.echo(f"stage {stage}/{year} open in {region} ({channel or 'all channels'}), {window}")
    typer.echo(f"{opened.notified} families queued to be told (already told ones are skipped)")


@stage_app.command("close")
def close_stage_command(
    year: int = typer.Argument(..., help="Year, e.g. 2026."),
    stage: int = typer.Argument(..., min=1, max=4, help="Stage number, e.g. 4."),
    region: str = typer.Option(..., help="Region code (province, kabupaten, kecamatan or desa)."),
    channel: str = typer.Option(None, help="Channel code (BRI, BNI, POS, …); default: all."),
) -> None:
    """Mark a stage as finished in a region (and channel), whatever its dates say.

    The bot then answers that paying there is over; `pkh stage open` opens it again.
    """
    from programme.models import utcnow
    from programme.stages import close_stage

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            closed = close_stage(
                session,
                year=year,
                stage_no=stage,
                region_code=region,
                channel_code=channel,
                now=utcnow(),
                actor="cli",
            )
            window = f"{closed.window.starts_on} – {closed.window.ends_on}"
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        engine.dispose()
    typer.echo(f"stage {stage}/{year} closed in {region} ({channel or 'all channels'}), {window}")


class _ProgressLines:
    """An import's progress on stderr, a line every few seconds (nothing for a quick file)."""

    def __init__(self, every: float = 5.0) -> None:
        self._every = every
        self._started = time.monotonic()
        self._shown = self._started

    def __call__(self, phase: ImportPhase, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._shown < self._every and not (done == total and now - self._started > 1):
            return
        self._shown = now
        verb = "checked" if phase is ImportPhase.CHECKING else "written"
        of = f" of {total:,}" if total else ""
        typer.echo(f"  {done:,}{of} rows {verb} ({now - self._started:.0f} s)", err=True)


# A plain command rather than a sub-app: a Typer group stops reading options after its
# arguments, so `pkh import roster file.csv --dry-run` would not work.
def import_command(
    kind: ImportKind = typer.Argument(..., help="What the file holds."),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A UTF-8 CSV file, comma- or semicolon-separated."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file; change nothing."),
) -> None:
    """Import pendamping, kelompok, the KPM roster or payment schedules from a CSV file.

    Every row is checked first; the file is imported (rows inserted or updated) only if none is
    wrong, otherwise every bad row is listed and nothing changes. The file is read as a stream,
    so it may be of any size (a province's roster); progress is shown on stderr.
    """
    from programme.imports import import_csv
    from programme.models import utcnow

    settings = get_settings()
    secret_key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if kind is ImportKind.ROSTER and not secret_key:
        typer.echo("PKH_SECRET_KEY must be set: the roster's NIKs are stored as keyed hashes.")
        raise typer.Exit(1)
    engine = make_engine(settings.database_url)
    try:
        with file.open("rb") as stream, make_session_factory(engine)() as session:
            report = import_csv(
                session,
                kind=kind,
                data=stream,
                secret_key=secret_key,
                actor="cli",
                now=utcnow(),
                progress=_ProgressLines(),
            )
            if report.ok and not dry_run:
                session.commit()
            else:
                session.rollback()
    finally:
        engine.dispose()
    if not report.ok:
        tr = translator(None)
        typer.echo(f"{file}: {report.problem_count} problem(s); nothing was imported.")
        for problem in report.problems:
            typer.echo(f"  {describe(problem, tr)}")
        if report.more_problems:
            typer.echo(f"  … and {report.more_problems} more")
        raise typer.Exit(1)
    verb = "would be imported (dry run, nothing changed)" if dry_run else "imported"
    typer.echo(f"{file}: {report.rows} rows {verb} (+created ~updated =unchanged):")
    typer.echo(report.counts.summary())


pendamping_app = typer.Typer(
    help="Pendamping accounts: a one-time link that gives a Telegram account the pendamping role.",
    no_args_is_help=True,
)


@pendamping_app.command("invite")
def invite_pendamping_command(
    pendamping: str = typer.Argument(..., help="The pendamping's code (or number)."),
    days: int = typer.Option(7, min=1, max=30, help="Days the link stays valid."),
    bot_username: str = typer.Option("", help="Bot username, to print the t.me link."),
) -> None:
    """Make a one-time link for a pendamping; their older unused links stop working."""
    from programme import pendamping_access
    from programme.models import utcnow

    settings = get_settings()
    if settings.secret_key is None:
        raise typer.BadParameter("PKH_SECRET_KEY must be set")
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            found = pendamping_access.find_pendamping(session, pendamping)
            if found is None:
                raise typer.BadParameter(f"no pendamping {pendamping}")
            issued = pendamping_access.issue_pendamping_link(
                session,
                pendamping_id=found.id,
                secret_key=settings.secret_key.get_secret_value(),
                now=utcnow(),
                actor="cli",
                valid_for=timedelta(days=days),
            )
    finally:
        engine.dispose()
    typer.echo(f"pendamping link for {issued.pendamping_name}: {issued.code} (valid {days} days)")
    if bot_username:
        typer.echo(f"link: https://t.me/{bot_username}?start={issued.code}")


@pendamping_app.command("revoke")
def revoke_pendamping_command(
    pendamping: str = typer.Argument(..., help="The pendamping's code (or number)."),
) -> None:
    """Void a pendamping's unused links and take the role back from their Telegram account."""
    from programme import pendamping_access
    from programme.models import utcnow

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            found = pendamping_access.find_pendamping(session, pendamping)
            if found is None:
                raise typer.BadParameter(f"no pendamping {pendamping}")
            links, accounts = pendamping_access.revoke_pendamping_access(
                session, pendamping_id=found.id, now=utcnow(), actor="cli"
            )
    finally:
        engine.dispose()
    typer.echo(f"{links} unused links voided, {accounts} Telegram accounts no longer pendamping")
