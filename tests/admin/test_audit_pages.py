"""The audit log page: admins only, newest first, filtered by actor, action and WIB day, paged."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from programme.models import AuditLog, UserRole
from tests.admin.conftest import log_in, make_account
from tests.admin.test_users_pages import a_pendamping_code


def an_actor() -> str:
    return f"test:{secrets.token_hex(4)}"


def write(
    sessions: sessionmaker[Session],
    actor: str,
    *,
    count: int = 1,
    action: str = "test.thing",
    at: datetime | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """`count` entries, one minute apart, the last at `at`; entry i has the detail n=i."""
    at = at or datetime.now(UTC)
    with sessions.begin() as session:
        for number in range(count):
            session.add(
                AuditLog(
                    actor=actor,
                    action=action,
                    target_type="thing",
                    target_id=str(number),
                    details=details if details is not None else {"n": number},
                    created_at=at - timedelta(minutes=count - 1 - number),
                )
            )


def shown_numbers(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<td class="details">N: (\d+)</td>', html)]


def test_the_audit_log_needs_a_login_and_refuses_a_pendamping(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    response = client.get("/audit?actor=x")
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/login?next=/audit%3Factor%3Dx",
    )
    log_in(
        client, make_account(sessions, UserRole.PENDAMPING, pendamping=a_pendamping_code(sessions))
    )
    refused = client.get("/audit")
    assert refused.status_code == 403 and "Halaman ini hanya untuk admin." in refused.text
    assert 'href="/audit"' not in refused.text


def test_an_account_change_shows_up_in_the_audit_log(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    admin = make_account(sessions)
    token = log_in(client, admin)
    username = f"baru-{secrets.token_hex(4)}"
    password = "sandi-baru-yang-panjang"
    form = {
        "csrf_token": token,
        "username": username,
        "role": "admin",
        "language": "id",
        "password": password,
        "password_again": password,
    }
    assert client.post("/users", data=form).status_code == 303
    page = client.get(f"/audit?actor=admin:{admin}").text
    # In words for programme staff, not codes and Python dicts.
    assert "Akun dasbor dibuat" in page and f"Nama akun: {username}" in page
    assert "WIB" in page and "Akun dasbor " in page
    assert "username=" not in page and "admin_user:" not in page
    assert password not in page


def test_entries_are_newest_first_and_fifty_to_a_page(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    actor = an_actor()
    write(sessions, actor, count=120)
    log_in(client, make_account(sessions))
    first = client.get(f"/audit?actor={actor}").text
    assert shown_numbers(first) == list(range(119, 69, -1))
    assert "120 catatan; halaman 1 dari 3." in first
    assert f'href="/audit?actor={actor.replace(":", "%3A")}&amp;page=2"' in first
    assert 'rel="prev"' not in first

    last = client.get(f"/audit?actor={actor}&page=3").text
    assert shown_numbers(last) == list(range(19, -1, -1))
    assert 'rel="next"' not in last and "page=2" in last
    # A page past the end shows the last one; nonsense shows the first.
    assert shown_numbers(client.get(f"/audit?actor={actor}&page=99").text)[0] == 19
    assert shown_numbers(client.get(f"/audit?actor={actor}&page=-1").text)[0] == 119


def test_the_filters_narrow_by_action_and_wib_day(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    actor = an_actor()
    # 2025-03-10 17:30 UTC is 2025-03-11 00:30 WIB: it belongs to the 11th.
    write(sessions, actor, action="test.early", at=datetime(2025, 3, 10, 16, 0, tzinfo=UTC))
    write(sessions, actor, action="test.late", at=datetime(2025, 3, 10, 17, 30, tzinfo=UTC))
    write(sessions, an_actor(), action="test.late", at=datetime(2025, 3, 10, 17, 30, tzinfo=UTC))
    log_in(client, make_account(sessions))

    def actions(query: str) -> list[str]:
        page = client.get(f"/audit?actor={actor}&{query}").text
        return re.findall(r"<td>(test\.\w+)</td>", page)

    assert actions("") == ["test.late", "test.early"]
    assert actions("action=test.early") == ["test.early"]
    assert actions("from=2025-03-11") == ["test.late"]
    assert actions("to=2025-03-10") == ["test.early"]
    assert actions("from=2025-03-10&to=2025-03-11") == ["test.late", "test.early"]
    assert actions("from=2025-03-12") == []
    bad = client.get(f"/audit?actor={actor}&from=kemarin").text
    assert "Tanggal ditulis TTTT-BB-HH." in bad
    assert re.findall(r"<td>(test\.\w+)</td>", bad) == ["test.late", "test.early"]


def test_markup_in_the_log_is_escaped_and_long_details_are_cut(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    actor = f"<b>{secrets.token_hex(4)}</b>"
    write(sessions, actor, details={"name": '<img src=x onerror="alert(1)">'})
    write(sessions, actor, details={"long": "x" * 500})
    log_in(client, make_account(sessions))
    page = client.get("/audit", params={"actor": actor}).text
    assert "<img src=x" not in page and "<b>" not in page
    assert "Name: &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "x" * 200 not in page and "…</td>" in page
