"""The payment stages page: each window's state today; an admin opens and closes a stage for a
region with the same functions as `pkh stage open/close`, and the audit log says so."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from programme.models import AuditLog, PaymentStage, UserRole
from programme.payments import local_date
from tests.admin.conftest import FakeClock, log_in, make_account
from tests.admin.test_users_pages import a_pendamping_code

STATES = {"Akan datang", "Sedang berjalan", "Sudah selesai", "Ditutup petugas"}


def window_rows(page: str) -> list[list[str]]:
    table = re.search(r'<table class="list" id="windows">(.*?)</table>', page, re.S)
    assert table, page
    body = table.group(1).split("<tbody>")[1]
    return [
        [
            html.unescape(re.sub(r"\s+", " ", cell).strip())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def a_stage(sessions: sessionmaker[Session], clock: FakeClock) -> tuple[int, int]:
    with sessions.begin() as session:
        stage = session.scalars(
            select(PaymentStage)
            .where(PaymentStage.year == local_date(clock.now).year)
            .order_by(PaymentStage.stage_no.desc())
        ).first()
        assert stage is not None
        return stage.year, stage.stage_no


def audit_rows(sessions: sessionmaker[Session], action: str, actor: str) -> int:
    with sessions.begin() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == action, AuditLog.actor == actor)
            )
            or 0
        )


def test_the_stages_page_shows_each_windows_state_in_words(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    log_in(client, make_account(sessions))
    page = client.get("/stages")
    assert page.status_code == 200
    rows = window_rows(page.text)
    assert rows
    assert {row[5].split(" (")[0] for row in rows} <= STATES
    assert "Nasional" in {row[1] for row in rows}
    assert 'formaction="/stages/open"' in page.text


def test_an_admin_closes_and_opens_a_stage_for_a_region_audited(
    client: TestClient, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    username = make_account(sessions)
    token = log_in(client, username)
    year, stage_no = a_stage(sessions, clock)
    form = {"csrf_token": token, "stage": f"{year}-{stage_no}", "region": "11", "channel": ""}

    closed = client.post("/stages/close", data=form)
    assert closed.status_code == 303
    page = client.get(closed.headers["location"]).text
    assert "Tahap ditutup untuk wilayah itu." in page
    aceh = [row for row in window_rows(page) if row[0] == str(stage_no) and row[1] == "Aceh"]
    assert aceh and aceh[0][5].startswith("Ditutup petugas (")
    assert aceh[0][5].endswith("WIB)")
    assert audit_rows(sessions, "stage.close", f"admin:{username}") == 1

    opened = client.post("/stages/open", data={**form, "until": ""})
    assert opened.status_code == 303
    page = client.get(opened.headers["location"]).text
    aceh = [row for row in window_rows(page) if row[0] == str(stage_no) and row[1] == "Aceh"]
    assert aceh[0][5] == "Sedang berjalan"
    assert audit_rows(sessions, "stage.open", f"admin:{username}") == 1


def test_an_unknown_region_or_stage_is_refused_with_nothing_written(
    client: TestClient, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    username = make_account(sessions)
    token = log_in(client, username)
    year, stage_no = a_stage(sessions, clock)
    for stage, region, until in (
        (f"{year}-{stage_no}", "no-such-region", ""),
        (f"{year}-9", "11", ""),
        ("tahap", "11", ""),
        (f"{year}-{stage_no}", "11", "kemarin"),
    ):
        refused = client.post(
            "/stages/open",
            data={"csrf_token": token, "stage": stage, "region": region, "until": until},
        )
        assert refused.status_code == 400
        assert 'class="alert"' in refused.text
    assert audit_rows(sessions, "stage.open", f"admin:{username}") == 0


def test_only_admins_with_the_forms_token_open_or_close_stages(
    client: TestClient, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    year, stage_no = a_stage(sessions, clock)
    token = log_in(
        client, make_account(sessions, UserRole.PENDAMPING, pendamping=a_pendamping_code(sessions))
    )
    assert client.get("/stages").status_code == 403
    form = {"csrf_token": token, "stage": f"{year}-{stage_no}", "region": "11"}
    assert client.post("/stages/close", data=form).status_code == 403
    admin = TestClient(client.app, client=("10.9.8.7", 5000), follow_redirects=False)
    log_in(admin, make_account(sessions))
    assert admin.post("/stages/close", data={**form, "csrf_token": "wrong"}).status_code == 403
