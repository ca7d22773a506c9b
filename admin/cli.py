"""`pkh admin …`: dashboard accounts and the dashboard's web server."""

from __future__ import annotations

import enum
import sys

import typer

from core.settings import get_settings

admin_app = typer.Typer(help="The admin web dashboard.", no_args_is_help=True)


class AccountRole(enum.StrEnum):
    ADMIN = "admin"
    PENDAMPING = "pendamping"


class Language(enum.StrEnum):
    ID = "id"
    EN = "en"


@admin_app.command("create-user")
def create_user(
    username: str = typer.Argument(..., help="Login name (letters, digits, '.', '_', '-')."),
    role: AccountRole = typer.Option(..., help="admin sees everything; pendamping their own."),
    pendamping: str | None = typer.Option(
        None, help="The pendamping's code (required for the pendamping role)."
    ),
    language: Language = typer.Option(Language.ID, help="The dashboard's language."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Create a dashboard account; the password is asked for twice (hidden) unless piped in."""
    from admin.users import AccountRefused
    from admin.users import create_user as create_account
    from programme.db import make_engine, make_session_factory
    from programme.models import UserRole

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _ensure_schema()
    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine).begin() as session:
            user = create_account(
                session,
                username=username,
                password=password,
                role=UserRole(role.value),
                pendamping_code=pendamping,
                language=language.value,
                actor="cli",
            )
            typer.echo(f"created {user.role.value} account {user.username!r}")
    except AccountRefused as error:
        typer.echo(f"Not created: {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        engine.dispose()


@admin_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the dashboard (put it behind an HTTPS reverse proxy when it leaves localhost).

    Behind a proxy, set FORWARDED_ALLOW_IPS to the proxy's address so that the login limits
    count the visitors' addresses (README, "Deployment"); by default no proxy is trusted.
    """
    from admin import server
    from admin.app import build_admin_app

    if _ensure_schema() == 0:
        typer.echo("No dashboard account yet: pkh admin create-user NAME --role admin", err=True)
    settings = get_settings()
    server.serve(build_admin_app(settings), settings, host=host, port=port)


def _ensure_schema() -> int:
    """Migrate the database to the current schema (idempotent); returns how many accounts exist.

    Only the schema: demo data is `make run`'s business, never the dashboard's.
    """
    from sqlalchemy import func, select

    from programme import migrate
    from programme.db import make_engine, make_session_factory
    from programme.models import AdminUser

    url = get_settings().database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(AdminUser)) or 0
    finally:
        engine.dispose()
