"""The directory pages through the dashboard: families, kelompok, pendamping, meetings.

Searched and paged (50 a page), a pendamping limited to their own kelompok, CSV for Indonesian
spreadsheets, and the pendamping page's one-time Telegram link and revocation (admins only).
"""

from __future__ import annotations

import csv
import html
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from programme.models import (
    AuditLog,
    Family,
    FamilyMember,
    Kelompok,
    P2K2Meeting,
    Pendamping,
    PendampingInvite,
    Region,
    TelegramUser,
    UserRole,
)
from tests.admin.conftest import FakeClock, form_token, log_in, make_account


def total_line(page: str) -> str:
    found = re.search(r'id="directory-total">([^<]*)<', page)
    assert found, page
    return found.group(1)


def table_rows(page: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table class="list" id="{table_id}">(.*?)</table>', page, re.S)
    if table is None:
        return []
    body = table.group(1).split("<tbody>")[1]
    return [
        [html.unescape(cell.strip()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def spreadsheet(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def count(sessions: sessionmaker[Session], query: object) -> int:
    with sessions.begin() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def test_the_families_page_pages_by_fifty_with_page_links(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    log_in(client, make_account(sessions))
    total = count(sessions, select(func.count()).select_from(Family))
    pages = -(-total // 50)
    page = client.get("/families?page=2")
    assert page.status_code == 200
    assert total_line(page.text) == f"{total} data; halaman 2 dari {pages}"
    assert len(table_rows(page.text, "families")) == 50
    assert 'href="/families?page=1"' in page.text
    assert f'href="/families?page={pages}"' in page.text
    assert 'aria-current="page"><strong>2</strong>' in page.text
    # A page past the end shows the last one.
    assert f"halaman {pages} dari {pages}" in client.get("/families?page=99999").text


def test_families_are_found_by_pkh_id_by_a_members_name_and_by_region(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    log_in(client, make_account(sessions))
    with sessions.begin() as session:
        family = session.scalars(select(Family).order_by(Family.id.desc())).first()
        assert family is not None
        pkh_id = family.pkh_id
        member = session.scalars(
            select(FamilyMember).where(FamilyMember.family_id == family.id)
        ).first()
        assert member is not None
        name = member.name
        province = family.desa
        while province.parent is not None:
            province = province.parent
        province_code = province.code
        elsewhere = session.scalars(select(Region).where(Region.code == "11")).one()
        in_elsewhere = elsewhere.code == province_code

    rows = table_rows(client.get("/families", params={"q": pkh_id.lower()}).text, "families")
    assert [row[0] for row in rows] == [pkh_id]
    rows = table_rows(client.get("/families", params={"q": name.upper()}).text, "families")
    assert pkh_id in [row[0] for row in rows]
    rows = table_rows(
        client.get("/families", params={"q": pkh_id, "region": province_code}).text, "families"
    )
    assert [row[0] for row in rows] == [pkh_id]
    if not in_elsewhere:
        page = client.get("/families", params={"q": pkh_id, "region": "11"}).text
        assert total_line(page).startswith("0 data")
        assert "Tidak ada data yang cocok." in page
    # A % or _ in the search is a letter, not a wildcard.
    assert total_line(client.get("/families?q=%25").text).startswith("0 data")


def test_a_pendamping_sees_only_their_own_kelompok(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        pendamping = session.scalars(
            select(Pendamping).join(Kelompok).order_by(Pendamping.code)
        ).first()
        assert pendamping is not None
        code, name, own_id = pendamping.code, pendamping.name, pendamping.id
        own_families = session.scalar(
            select(func.count())
            .select_from(Family)
            .join(Kelompok)
            .where(Kelompok.pendamping_id == own_id)
        )
        own_kelompok = {
            k.name
            for k in session.scalars(select(Kelompok).where(Kelompok.pendamping_id == own_id))
        }
    log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=code))
    assert total_line(client.get("/families").text).startswith(f"{own_families} data")
    rows = table_rows(client.get("/kelompok").text, "kelompok")
    assert {row[1] for row in rows} == own_kelompok
    assert {row[2] for row in rows} == {name}
    page = client.get("/pendamping").text
    assert [row[0] for row in table_rows(page, "pendamping")] == [code]
    assert "Buat tautan Telegram" not in page
    for when in ("upcoming", "past"):
        meetings = table_rows(client.get(f"/meetings?when={when}").text, "meetings")
        assert {row[1] for row in meetings} <= own_kelompok
    lines = spreadsheet(client.get("/families.csv").text)
    assert len(lines) == 1 + (own_families or 0)


def test_the_kelompok_page_counts_families_and_linked_families(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    log_in(client, make_account(sessions))
    with sessions.begin() as session:
        group = session.scalars(
            select(Kelompok).join(Family).join(TelegramUser, TelegramUser.family_id == Family.id)
        ).first()
        assert group is not None
        code = group.code
        families = session.scalar(
            select(func.count()).select_from(Family).where(Family.kelompok_id == group.id)
        )
        linked = session.scalar(
            select(func.count(func.distinct(Family.id)))
            .join(TelegramUser, TelegramUser.family_id == Family.id)
            .where(Family.kelompok_id == group.id)
        )
    rows = table_rows(client.get("/kelompok", params={"q": code}).text, "kelompok")
    assert rows[0][0] == code
    assert rows[0][4:] == [str(families), str(linked)]


def test_meetings_are_split_into_upcoming_and_past_in_the_admins_zone(
    client: TestClient, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    log_in(client, make_account(sessions))
    with sessions.begin() as session:
        upcoming = session.scalar(
            select(func.count()).select_from(P2K2Meeting).where(P2K2Meeting.starts_at >= clock.now)
        )
    page = client.get("/meetings").text
    assert total_line(page).startswith(f"{upcoming} data")
    assert "Waktu (WIB)" in page
    rows = table_rows(page, "meetings")
    assert rows and all(row[0].endswith("WIB") for row in rows)
    assert all(row[4] in ("Terjadwal", "Sudah dilaksanakan", "Dibatalkan") for row in rows)
    assert 'href="/meetings?when=past&amp;page=1"' in page
    with sessions.begin() as session:
        place = session.scalars(
            select(P2K2Meeting.place).where(P2K2Meeting.starts_at >= clock.now)
        ).first()
        assert place is not None
    found = table_rows(client.get("/meetings", params={"q": place.upper()}).text, "meetings")
    assert place in {row[3] for row in found}


def test_the_csv_export_opens_in_an_indonesian_spreadsheet(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    log_in(client, make_account(sessions))
    page = client.get("/families?q=a").text
    assert 'href="/families.csv?q=a"' in page
    response = client.get("/families.csv?q=a")
    assert response.headers["content-type"].startswith("text/csv")
    assert "pkh-keluarga.csv" in response.headers["content-disposition"]
    lines = spreadsheet(response.text)
    assert lines[0] == [
        "ID PKH",
        "Nama pengurus",
        "Kelompok",
        "Desa",
        "Status",
        "Terhubung ke Telegram",
    ]
    assert len(lines) - 1 == int(total_line(page).split()[0])
    meetings = spreadsheet(client.get("/meetings.csv").text)
    assert meetings[0][0] == "Waktu (WIB)"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", meetings[1][0])
    pendamping = spreadsheet(client.get("/pendamping.csv").text)
    assert pendamping[0][-1] == "Akun Telegram pendamping"
    assert spreadsheet(client.get("/kelompok.csv").text)[0][-2:] == [
        "Jumlah keluarga",
        "Keluarga terhubung",
    ]


def test_an_admin_makes_a_one_time_pendamping_link_and_revokes_it(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    username = make_account(sessions)
    token = log_in(client, username)
    with sessions.begin() as session:
        person = session.scalars(select(Pendamping).order_by(Pendamping.id.desc())).first()
        assert person is not None
        pendamping_id, code = person.id, person.code
    page = client.get("/pendamping", params={"q": code}).text
    assert f'action="/pendamping/{pendamping_id}/link"' in page

    issued = client.post(f"/pendamping/{pendamping_id}/link", data={"csrf_token": token})
    assert issued.status_code == 200
    # TELEGRAM_BOT_USERNAME is not set in the tests: the code and the /start command.
    shown = re.search(r'id="link-text">/start (pdp-[\w-]+)<', issued.text)
    assert shown, issued.text
    assert "hanya ditampilkan sekali" in issued.text
    later = client.get("/pendamping", params={"q": code}).text
    assert shown.group(1) not in later
    assert "tautan menunggu dibuka, berlaku sampai" in later
    with sessions.begin() as session:
        audit = session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "pendamping.invite", AuditLog.actor == f"admin:{username}")
            .order_by(AuditLog.id.desc())
        ).first()
        assert audit is not None and audit.target_id == str(pendamping_id)

    revoked = client.post(f"/pendamping/{pendamping_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/pendamping?done=revoked"
    after = client.get("/pendamping", params={"done": "revoked", "q": code}).text
    assert "Akses pendamping dicabut." in after
    assert "tautan menunggu dibuka" not in after
    with sessions.begin() as session:
        unused = session.scalars(
            select(PendampingInvite).where(
                PendampingInvite.pendamping_id == pendamping_id,
                PendampingInvite.revoked_at.is_(None),
                PendampingInvite.used_at.is_(None),
            )
        ).all()
        assert unused == []
        assert session.scalars(
            select(AuditLog).where(
                AuditLog.action == "pendamping.revoke", AuditLog.actor == f"admin:{username}"
            )
        ).first()


def test_the_link_shows_a_t_me_address_when_the_bot_username_is_known(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    client.app.state.bot_username = "PkhAsistenBot"  # type: ignore[attr-defined]
    token = log_in(client, make_account(sessions))
    with sessions.begin() as session:
        pendamping_id = session.scalars(select(Pendamping.id)).first()
    issued = client.post(f"/pendamping/{pendamping_id}/link", data={"csrf_token": token}).text
    assert re.search(r'id="link-text">https://t\.me/PkhAsistenBot\?start=pdp-[\w-]+<', issued)


def test_only_admins_with_the_forms_token_make_or_revoke_links(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        person = session.scalars(select(Pendamping).order_by(Pendamping.code)).first()
        assert person is not None
        pendamping_id, code = person.id, person.code
    before = count(sessions, select(func.count()).select_from(PendampingInvite))
    token = log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=code))
    for action in ("link", "revoke"):
        refused = client.post(f"/pendamping/{pendamping_id}/{action}", data={"csrf_token": token})
        assert refused.status_code == 403
    admin = TestClient(client.app, client=("10.9.9.9", 5000), follow_redirects=False)
    log_in(admin, make_account(sessions))
    assert (
        admin.post(f"/pendamping/{pendamping_id}/link", data={"csrf_token": "x"}).status_code == 403
    )
    assert (
        admin.post(
            "/pendamping/999999/link", data={"csrf_token": form_token(admin.get("/").text)}
        ).status_code
        == 404
    )
    assert count(sessions, select(func.count()).select_from(PendampingInvite)) == before


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/families", "/kelompok", "/pendamping", "/meetings", "/families.csv"]),
    search=st.text(max_size=120),
    number=st.one_of(st.integers(min_value=-10, max_value=10**12).map(str), st.text(max_size=12)),
    region=st.text(max_size=20),
)
def test_any_search_and_page_number_gives_a_page_never_an_error(
    client: TestClient,
    sessions: sessionmaker[Session],
    path: str,
    search: str,
    number: str,
    region: str,
) -> None:
    if not client.cookies:
        log_in(client, make_account(sessions))
    response = client.get(path, params={"q": search, "page": number, "region": region})
    assert response.status_code == 200
    if path.endswith(".csv"):
        return
    assert "<script" not in response.text.lower().replace('<script src="', "")
    kept = search.replace("\x00", "").strip()[:100]
    if kept and any(char in kept for char in '<>&"'):
        assert f'value="{kept}"' not in response.text
        assert f'value="{escape(kept)}"' in response.text
