"""`pkh admin create-user`: accounts from the command line, and what it refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from admin.cli import admin_app
from admin.passwords import verify_password
from pkh.cli import app as pkh_app
from programme.models import AdminUser, AuditLog, Pendamping, UserRole
from tests.admin.conftest import PASSWORD


def create(*args: str, password: str = PASSWORD) -> tuple[int, str]:
    result = CliRunner().invoke(
        admin_app, ["create-user", *args, "--password-stdin"], input=password + "\n"
    )
    return result.exit_code, result.output


def a_pendamping_code(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        code = session.scalars(select(Pendamping.code).order_by(Pendamping.code)).first()
    assert code is not None
    return code


def test_create_user_makes_an_audited_account_with_a_hashed_password(
    sessions: sessionmaker[Session],
) -> None:
    code = a_pendamping_code(sessions)
    exit_code, output = create(
        "Siti.Pendamping", "--role", "pendamping", "--pendamping", code, "--language", "en"
    )
    assert exit_code == 0, output
    with sessions.begin() as session:
        user = session.scalars(
            select(AdminUser).where(AdminUser.username == "siti.pendamping")
        ).one()
        assert user.role is UserRole.PENDAMPING and user.language == "en"
        assert user.pendamping is not None and user.pendamping.code == code
        assert verify_password(user.password_hash, "kata-sandi-yang-panjang")
        audit = session.scalars(
            select(AuditLog).where(
                AuditLog.action == "admin.create_user", AuditLog.target_id == str(user.id)
            )
        ).one()
        assert audit.actor == "cli"
        assert audit.details == {"username": "siti.pendamping", "role": "pendamping",
                                 "pendamping": code}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "password", "reason"),
    [
        (["pendek", "--role", "admin"], "sembilan9", "at least 10 characters"),
        (["tanpa-kode", "--role", "pendamping"], "kata-sandi-yang-panjang", "needs --pendamping"),
        (["kode-salah", "--role", "pendamping", "--pendamping", "NOPE"], "kata-sandi-yang-panjang",
         "no active pendamping"),
        (["<b>nama</b>", "--role", "admin"], "kata-sandi-yang-panjang", "a username is"),
    ],
)  # fmt: skip
def test_create_user_refuses_what_it_cannot_make(
    sessions: sessionmaker[Session], args: list[str], password: str, reason: str
) -> None:
    exit_code, output = create(*args, password=password)
    assert exit_code == 1
    assert reason in output
    with sessions.begin() as session:
        assert session.scalar(select(AdminUser).where(AdminUser.username == args[0])) is None


def test_create_user_refuses_a_taken_username_and_an_admin_with_a_pendamping_code(
    sessions: sessionmaker[Session],
) -> None:
    assert create("budi", "--role", "admin")[0] == 0
    exit_code, output = create("budi", "--role", "admin")
    assert (exit_code, "is taken" in output) == (1, True)
    code = a_pendamping_code(sessions)
    exit_code, output = create("ani", "--role", "admin", "--pendamping", code)
    assert (exit_code, "only a pendamping account" in output) == (1, True)


def test_create_user_asks_for_the_password_twice_without_stdin(
    sessions: sessionmaker[Session],
) -> None:
    result = CliRunner().invoke(
        admin_app,
        ["create-user", "dewi", "--role", "admin"],
        input="kata-sandi-yang-panjang\nkata-sandi-yang-panjang\n",
    )
    assert result.exit_code == 0, result.output
    assert "kata-sandi-yang-panjang" not in result.output  # hidden input


@pytest.mark.parametrize("command", ["create-user", "serve"])
def test_every_admin_command_explains_itself(command: str) -> None:
    result = CliRunner().invoke(pkh_app, ["admin", command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
