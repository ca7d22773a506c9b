"""The CSV import page: admins only, every bad row shown, nothing imported unless all are valid."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from core.settings import PROJECT_ROOT
from programme.imports import MAX_UPLOAD_BYTES
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
