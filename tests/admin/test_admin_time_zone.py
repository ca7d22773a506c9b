"""Each dashboard account reads times in its own zone (WIB, WITA or WIT), set on the accounts page:
the audit log, the meetings page and its CSV, and the audit page's days."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from programme.models import AdminUser, AuditLog, TimeZone
from tests.admin.conftest import log_in, make_account


def set_zone(
    client: TestClient, sessions: sessionmaker[Session], token: str, username: str, zone: str
) -> int:
    with sessions.begin() as session:
        user_id = session.scalars(select(AdminUser.id).where(AdminUser.username == username)).one()
    response = client.post(
        f"/users/{user_id}/update",
        data={
            "csrf_token": token,
            "role": "admin",
            "language": "id",
            "active": "on",
            "time_zone": zone,
        },
    )
    return int(response.status_code)


def test_a_new_account_reads_wib_until_it_chooses_another_zone(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    username = make_account(sessions)
    token = log_in(client, username)
    assert "Waktu (WIB)" in client.get("/audit").text

    assert set_zone(client, sessions, token, username, "WITA") == 303
    with sessions.begin() as session:
        user = session.scalars(select(AdminUser).where(AdminUser.username == username)).one()
        assert user.time_zone is TimeZone.WITA
    audit = client.get("/audit", params={"actor": f"admin:{username}"}).text
    assert "Waktu (WITA)" in audit and "Waktu (WIB)" not in audit
    assert "Zona waktu: WITA" in audit
    assert "WITA</td>" in audit
    meetings = client.get("/meetings").text
    assert "Waktu (WITA)" in meetings
    assert client.get("/meetings.csv").text.lstrip("\ufeff").startswith("Waktu (WITA);")
    users = client.get("/users").text
    assert '<option value="WITA" selected>WITA</option>' in users


def test_an_unknown_zone_is_refused(client: TestClient, sessions: sessionmaker[Session]) -> None:
    username = make_account(sessions)
    token = log_in(client, username)
    assert set_zone(client, sessions, token, username, "GMT") == 400
    with sessions.begin() as session:
        user = session.scalars(select(AdminUser).where(AdminUser.username == username)).one()
        assert user.time_zone is TimeZone.WIB


def test_the_audit_pages_days_are_the_admins_own(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    actor = f"test:{secrets.token_hex(4)}"
    with sessions.begin() as session:
        # 16.30 UTC on 10 March is 23.30 WIB on the 10th but 00.30 WITA on the 11th.
        session.add(
            AuditLog(
                actor=actor,
                action="test.late",
                target_type="thing",
                target_id="1",
                details={},
                created_at=datetime(2025, 3, 10, 16, 30, tzinfo=UTC),
            )
        )
    username = make_account(sessions)
    token = log_in(client, username)
    query = {"actor": actor, "from": "2025-03-11", "to": "2025-03-11"}
    assert "test.late" not in client.get("/audit", params=query).text
    assert set_zone(client, sessions, token, username, "WITA") == 303
    page = client.get("/audit", params=query).text
    assert "test.late" in page and "00.30 WITA" in page
