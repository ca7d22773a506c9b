"""Onboarding a pendamping: an admin's one-time link gives a Telegram account the role."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme import accounts, pendamping_access
from programme.db import make_engine, make_session_factory
from programme.models import AuditLog, Pendamping, TelegramUser, UserRole

Result = pendamping_access.PendampingLinkResult
FRANSISKUS = "DEMO-PDP-5315-2"  # a demo pendamping without a Telegram account
PKH = Path(sys.executable).with_name("pkh")


def _fransiskus(session: Session) -> Pendamping:
    found = pendamping_access.find_pendamping(session, FRANSISKUS)
    assert found is not None
    return found


def _newcomer(session: Session, telegram_id: int = 995_000_001) -> TelegramUser:
    return accounts.upsert_user(
        session, accounts.Sender(telegram_id, telegram_id, "Frans", None, "id")
    )


def _link(session: Session, secret_key: str, now: datetime) -> str:
    return pendamping_access.issue_pendamping_link(
        session, pendamping_id=_fransiskus(session).id, secret_key=secret_key, now=now, actor="t"
    ).code


def test_the_link_gives_the_account_the_pendamping_role_once(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    code = _link(seeded, secret_key, demo_now)
    user = _newcomer(seeded)

    result = pendamping_access.link_pendamping(
        seeded, user, code=code, secret_key=secret_key, now=demo_now
    )

    assert result is Result.LINKED
    assert (user.role, user.pendamping_id) == (UserRole.PENDAMPING, _fransiskus(seeded).id)
    other = _newcomer(seeded, 995_000_002)
    again = pendamping_access.link_pendamping(
        seeded, other, code=code, secret_key=secret_key, now=demo_now
    )
    assert again is Result.INVALID  # one-time
    actions = seeded.scalars(
        select(AuditLog.action).where(AuditLog.target_id == str(_fransiskus(seeded).id))
    ).all()
    assert {"pendamping.invite", "pendamping.link"} <= set(actions)


def test_a_new_link_voids_the_older_one_and_an_old_link_expires(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    first = _link(seeded, secret_key, demo_now)
    second = _link(seeded, secret_key, demo_now)
    user = _newcomer(seeded)

    assert (
        pendamping_access.link_pendamping(
            seeded, user, code=first, secret_key=secret_key, now=demo_now
        )
        is Result.INVALID
    )
    late = demo_now + pendamping_access.VALID_FOR + timedelta(minutes=1)
    assert (
        pendamping_access.link_pendamping(
            seeded, user, code=second, secret_key=secret_key, now=late
        )
        is Result.INVALID
    )


def test_a_family_account_is_not_made_a_pendamping(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    code = _link(seeded, secret_key, demo_now)
    kpm = seeded.scalars(select(TelegramUser).where(TelegramUser.family_id.is_not(None))).first()
    assert kpm is not None

    result = pendamping_access.link_pendamping(
        seeded, kpm, code=code, secret_key=secret_key, now=demo_now
    )

    assert result is Result.FAMILY_ACCOUNT
    assert kpm.role is UserRole.KPM


def test_revoking_voids_links_and_takes_the_role_back(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    code = _link(seeded, secret_key, demo_now)
    user = _newcomer(seeded)
    pendamping_access.link_pendamping(seeded, user, code=code, secret_key=secret_key, now=demo_now)
    waiting = _link(seeded, secret_key, demo_now)

    voided, unlinked = pendamping_access.revoke_pendamping_access(
        seeded, pendamping_id=_fransiskus(seeded).id, now=demo_now, actor="admin:test"
    )

    assert (voided, unlinked) == (1, 1)
    assert (user.role, user.pendamping_id) == (UserRole.KPM, None)
    stranger = _newcomer(seeded, 995_000_003)
    assert (
        pendamping_access.link_pendamping(
            seeded, stranger, code=waiting, secret_key=secret_key, now=demo_now
        )
        is Result.INVALID
    )


def test_a_second_account_cannot_take_a_linked_pendamping(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    first = _link(seeded, secret_key, demo_now)
    pendamping_access.link_pendamping(
        seeded, _newcomer(seeded), code=first, secret_key=secret_key, now=demo_now
    )
    second = _link(seeded, secret_key, demo_now)

    result = pendamping_access.link_pendamping(
        seeded, _newcomer(seeded, 995_000_004), code=second, secret_key=secret_key, now=demo_now
    )

    assert result is Result.TAKEN


def test_pkh_pendamping_invite_and_revoke_from_the_command_line(
    fresh_seeded_database: str, secret_key: str, demo_now: datetime
) -> None:
    env = {**os.environ, "DATABASE_URL": fresh_seeded_database, "PKH_SECRET_KEY": secret_key}
    made = subprocess.run(
        [str(PKH), "pendamping", "invite", FRANSISKUS, "--bot-username", "pkh_bot"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    code = re.search(r"https://t\.me/pkh_bot\?start=(pdp-\S+)", made.stdout)
    assert code is not None, made.stdout
    engine = make_engine(fresh_seeded_database)
    with make_session_factory(engine).begin() as session:
        user = _newcomer(session, 995_000_010)
        result = pendamping_access.link_pendamping(
            session, user, code=code[1], secret_key=secret_key, now=datetime.now(demo_now.tzinfo)
        )
        assert result is Result.LINKED

    revoked = subprocess.run(
        [str(PKH), "pendamping", "revoke", FRANSISKUS],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    assert "1 Telegram accounts no longer pendamping" in revoked.stdout
    with make_session_factory(engine).begin() as session:
        user = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == 995_000_010)
        ).one()
        assert user.role is UserRole.KPM
    engine.dispose()

    unknown = subprocess.run(
        [str(PKH), "pendamping", "invite", "NO-SUCH"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert unknown.returncode != 0 and "no pendamping NO-SUCH" in unknown.stderr
