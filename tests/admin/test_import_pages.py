"""The CSV import page: admins only, every bad row shown, nothing imported unless all are valid."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from admin import import_pages
from core.settings import PROJECT_ROOT
from programme.imports import MAX_UPLOAD_BYTES, ImportPhase, ImportReport, import_csv
from programme.models import AuditLog, Family, Kelompok, UserRole
from tests.admin.conftest import form_token, log_in, make_account

EXAMPLES = PROJECT_ROOT / "data" / "import-examples"


def count(sessions: sessionmaker[Session], model: type[object]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def upload(
    client: TestClient, token: str, kind: str, data: bytes, name: str = "data.csv"
) -> httpx.Response:
    return client.post(
        "/import",
        data={"csrf_token": token, "kind": kind},
        files={"file": (name, data, "text/csv")},
    )


def test_an_anonymous_visitor_is_sent_to_log_in(client: TestClient) -> None:
    response = client.get("/import")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/import"


def test_a_pendamping_may_not_import(client: TestClient, sessions: sessionmaker[Session]) -> None:
    token = log_in(
        client, make_account(sessions, UserRole.PENDAMPING, pendamping="DEMO-PDP-5315-1")
    )
    assert client.get("/import").status_code == 403
    response = upload(client, token, "kelompok", (EXAMPLES / "kelompok.csv").read_bytes())
    assert response.status_code == 403
    assert "Impor CSV" not in client.get("/").text


def test_the_form_uploads_a_file_with_the_csrf_token(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    log_in(client, make_account(sessions))
    page = client.get("/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'type="file"' in page.text and form_token(page.text)
    assert '<a href="/import">' in page.text


def test_a_file_with_bad_rows_shows_every_one_and_imports_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = log_in(client, make_account(sessions))
    before = (count(sessions, Kelompok), count(sessions, AuditLog))
    data = (
        b"code;name;pendamping_code;desa_code\n"
        b"K-OK;Mawar;DEMO-PDP-5315-1;53.15.01.2002\n"
        b"K-BAD;Melati;DEMO-PDP-0000-0;53.15.01\n"
    )
    response = upload(client, token, "kelompok", data, name="kelompok-baru.csv")
    assert response.status_code == 422
    assert 'id="import-problems"' in response.text
    assert "kelompok-baru.csv: 2 masalah" in response.text
    assert "Pendamping DEMO-PDP-0000-0 tidak dikenal." in response.text
    assert "Wilayah 53.15.01 bukan desa." in response.text
    assert (count(sessions, Kelompok), count(sessions, AuditLog)) == before


def test_a_valid_roster_is_imported_and_audited(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    username = make_account(sessions)
    token = log_in(client, username)
    before = count(sessions, Family)
    response = upload(client, token, "roster", (EXAMPLES / "roster.csv").read_bytes())
    assert response.status_code == 200, response.text
    assert 'id="import-done"' in response.text
    assert "5 baris diimpor" in response.text
    assert count(sessions, Family) == before + 2
    with sessions() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "import.roster")).one()
    assert audit.actor == f"admin:{username}"


def test_a_missing_file_or_kind_is_asked_for_again(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = log_in(client, make_account(sessions))
    no_kind = upload(client, token, "families", b"x")
    assert no_kind.status_code == 400 and "Pilih jenis data." in no_kind.text
    no_file = client.post("/import", data={"csrf_token": token, "kind": "roster"})
    assert no_file.status_code == 400 and "Pilih file CSV." in no_file.text


def test_a_file_over_the_limit_is_refused(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = log_in(client, make_account(sessions))
    # Far over: refused from the Content-Length, unread; just over: refused after reading it.
    far_over = upload(client, token, "roster", b"x" * (MAX_UPLOAD_BYTES + 100 * 1024))
    assert far_over.status_code == 413
    just_over = upload(client, token, "roster", b"x" * (MAX_UPLOAD_BYTES + 1))
    assert just_over.status_code == 413
    assert "File terlalu besar: paling besar 64 MB." in just_over.text
    assert "pkh import" in just_over.text  # no limit there


ROSTER_HEADER = (
    "pkh_id,kelompok_code,desa_code,channel_code,member_no,name,relation,sex,birth_date,"
    "is_pengurus,nik\n"
)
ROSTER_ROW = "F-WEB,DEMO-KLP-5315-03,53.15.01.2002,bri,1,{name},istri,P,1990-01-01,ya,\n"


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [
        ("Ang\x00gota", "name", "Sel ini berisi karakter NUL (kode 0)."),
        ("x" * 200_000, "—", "Ada sel yang lebih besar dari 128 KiB"),
    ],
)
def test_a_nul_byte_or_a_huge_cell_is_a_row_report_not_an_error(
    client: TestClient, sessions: sessionmaker[Session], name: str, where: str, message: str
) -> None:
    token = log_in(client, make_account(sessions))
    before = (count(sessions, Family), count(sessions, AuditLog))
    data = (ROSTER_HEADER + ROSTER_ROW.format(name=name)).encode()
    response = upload(client, token, "roster", data)
    assert response.status_code == 422, response.text[-500:]
    assert 'id="import-problems"' in response.text
    assert f"<td>2</td>\n        <td>{where}</td>" in response.text
    assert message in response.text
    assert (count(sessions, Family), count(sessions, AuditLog)) == before


def test_a_long_import_shows_its_progress_then_its_report(
    client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = log_in(client, make_account(sessions))
    release = threading.Event()

    def slow_import(*args: Any, **kwargs: Any) -> ImportReport:
        kwargs["progress"](ImportPhase.CHECKING, 2, 5)
        release.wait(10)
        return import_csv(*args, **kwargs)

    monkeypatch.setattr(import_pages, "WAIT_FOR_REPORT", 0.05)
    monkeypatch.setattr(import_pages, "import_csv", slow_import)
    response = upload(client, token, "roster", (EXAMPLES / "roster.csv").read_bytes())
    assert response.status_code == 303
    progress_url = response.headers["location"]
    assert progress_url.startswith("/import/")

    running = client.get(progress_url)
    assert running.status_code == 200
    assert running.headers["refresh"] == "2"
    assert 'id="import-progress"' in running.text
    assert "Memeriksa: 2 dari 5 baris." in running.text

    release.set()
    for _ in range(100):
        done = client.get(progress_url)
        if "refresh" not in done.headers:
            break
        time.sleep(0.1)
    assert done.status_code == 200
    assert 'id="import-done"' in done.text and "5 baris diimpor" in done.text
    assert client.get("/import/no-such-import").status_code == 404
