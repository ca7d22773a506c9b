"""The account pages: admins list, create and change dashboard accounts; every change audited."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from starlette.testclient import TestClient

from admin.users import AccountRefused, update_user
from programme.models import (
    AdminSession,
    AdminUser,
    AuditLog,
    Pendamping,
    TelegramUser,
    UserRole,
)
from tests.admin.conftest import PASSWORD, log_in, make_account, try_login

NEW_PASSWORD = "sandi-baru-yang-panjang"


def a_pendamping_code(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        code = session.scalars(
            select(Pendamping.code).where(Pendamping.is_active).order_by(Pendamping.code)
        ).first()
        assert code is not None
        return code


def account(sessions: sessionmaker[Session], username: str) -> AdminUser:
    with sessions.begin() as session:
        user = session.scalars(
            select(AdminUser)
            .options(selectinload(AdminUser.pendamping))
            .where(AdminUser.username == username)
        ).one()
        session.expunge_all()
        return user


def session_count(sessions: sessionmaker[Session], username: str) -> int:
    with sessions.begin() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AdminSession)
                .join(AdminUser)
                .where(AdminUser.username == username)
            )
            or 0
        )


def audit_rows(sessions: sessionmaker[Session], action: str, target_id: int) -> list[AuditLog]:
    with sessions.begin() as session:
        rows = list(
            session.scalars(
                select(AuditLog)
                .where(AuditLog.action == action, AuditLog.target_id == str(target_id))
                .order_by(AuditLog.id)
            )
        )
        session.expunge_all()
        return rows


def new_account_form(token: str, **fields: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "username": f"baru-{secrets.token_hex(4)}",
        "role": "admin",
        "pendamping": "",
        "language": "id",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    form.update(fields)
    return form


def update_form(token: str, user: AdminUser, **fields: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "role": user.role.value,
        "pendamping": user.pendamping.code if user.pendamping else "",
        "language": user.language,
    }
    if user.is_active:
        form["active"] = "on"
    form.update(fields)
    return {key: value for key, value in form.items() if value != "<absent>"}


def logged_in_admin(sessions: sessionmaker[Session], client: TestClient) -> tuple[str, str]:
    username = make_account(sessions)
    return username, log_in(client, username)


def test_the_pages_need_a_login(client: TestClient) -> None:
    response = client.get("/users")
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/users")
    assert client.post("/users", data={"username": "x"}).status_code == 303
    assert client.post("/users/1/update", data={}).status_code == 303


def test_a_pendamping_gets_the_403_page_on_every_account_page(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    pendamping = make_account(sessions, UserRole.PENDAMPING, pendamping=a_pendamping_code(sessions))
    token = log_in(client, pendamping)
    assert 'href="/users"' not in client.get("/").text
    target = account(sessions, pendamping).id
    for response in (
        client.get("/users"),
        client.post("/users", data=new_account_form(token)),
        client.post(f"/users/{target}/update", data={"csrf_token": token, "role": "admin"}),
        client.post(f"/users/{target}/password", data={"csrf_token": token}),
    ):
        assert response.status_code == 403
        assert "Halaman ini hanya untuk admin." in response.text
    assert account(sessions, pendamping).role is UserRole.PENDAMPING


def test_the_list_shows_accounts_with_their_pendamping_and_last_login(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    code = a_pendamping_code(sessions)
    pendamping = make_account(sessions, UserRole.PENDAMPING, pendamping=code, language="en")
    admin, _ = logged_in_admin(sessions, client)
    with sessions.begin() as session:
        name = session.scalars(select(Pendamping.name).where(Pendamping.code == code)).one()
    page = client.get("/users")
    assert page.status_code == 200
    assert 'href="/users"' in page.text and 'href="/audit"' in page.text
    row = page.text.split(f'id="account-{account(sessions, pendamping).id}"')[1].split("</tr>")[0]
    assert pendamping in row and name in row and "<td>en</td>" in row and "Pendamping" in row
    admin_row = page.text.split(f'id="account-{account(sessions, admin).id}"')[1]
    assert "WIB" in admin_row.split("</tr>")[0]  # logged in just now


def test_an_admin_creates_a_pendamping_account_that_can_log_in(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    admin, token = logged_in_admin(sessions, client)
    code = a_pendamping_code(sessions)
    username = f"Siti.{secrets.token_hex(4)}"
    form = new_account_form(token, username=username, role="pendamping", pendamping=code)
    response = client.post("/users", data=form)
    assert (response.status_code, response.headers["location"]) == (303, "/users?done=created")
    assert "Akun dibuat." in client.get(response.headers["location"]).text

    created = account(sessions, username.lower())
    assert created.role is UserRole.PENDAMPING and created.pendamping_id is not None
    (row,) = audit_rows(sessions, "admin.create_user", created.id)
    assert row.actor == f"admin:{admin}"
    assert row.details == {"username": username.lower(), "role": "pendamping", "pendamping": code}
    assert NEW_PASSWORD not in str(row.details)
    client.cookies.clear()
    assert try_login(client, username, NEW_PASSWORD)[0] == 303


def test_an_admin_account_ignores_the_pendamping_list(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    _, token = logged_in_admin(sessions, client)
    form = new_account_form(token, pendamping=a_pendamping_code(sessions))
    assert client.post("/users", data=form).status_code == 303
    assert account(sessions, form["username"]).pendamping_id is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "pendek9", "password_again": "pendek9"}, "Kata sandi minimal 10 karakter."),
        ({"password_again": "lain-sekali-ya"}, "Kedua kata sandi tidak sama."),
        ({"role": "pendamping"}, "Akun pendamping perlu kode pendamping."),
        ({"role": "pendamping", "pendamping": "NOPE"}, "Tidak ada pendamping aktif"),
        ({"username": "a b"}, "Nama pengguna 3–64 karakter"),
        ({"role": "kpm"}, "Pilihan tidak sah."),
        ({"language": "fr"}, "Pilihan tidak sah."),
    ],
)
def test_a_refused_account_is_not_created_and_the_form_says_why(
    sessions: sessionmaker[Session], client: TestClient, fields: dict[str, str], message: str
) -> None:
    _, token = logged_in_admin(sessions, client)
    form = new_account_form(token, **fields)
    response = client.post("/users", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert NEW_PASSWORD not in response.text  # the passwords are not sent back
    with sessions.begin() as session:
        taken = session.scalar(select(AdminUser).where(AdminUser.username == form["username"]))
        assert taken is None


def test_a_taken_username_is_refused(sessions: sessionmaker[Session], client: TestClient) -> None:
    admin, token = logged_in_admin(sessions, client)
    response = client.post("/users", data=new_account_form(token, username=admin.upper()))
    assert response.status_code == 400
    assert "Nama pengguna itu sudah dipakai." in response.text


def test_a_post_without_the_csrf_token_is_refused(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    _, token = logged_in_admin(sessions, client)
    other = make_account(sessions)
    target = account(sessions, other)
    for path, form in (
        ("/users", new_account_form(token)),
        (f"/users/{target.id}/update", update_form(token, target, active="<absent>")),
        (
            f"/users/{target.id}/password",
            {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        ),
    ):
        form.pop("csrf_token", None)
        assert client.post(path, data=form).status_code == 403
        form["csrf_token"] = "not-the-token"
        assert client.post(path, data=form).status_code == 403
    assert account(sessions, other).is_active
    assert not audit_rows(sessions, "admin.update_user", target.id)


def test_deactivating_an_account_ends_its_sessions_and_is_audited(
    sessions: sessionmaker[Session], client: TestClient, app: object
) -> None:
    other = make_account(sessions, UserRole.PENDAMPING, pendamping=a_pendamping_code(sessions))
    with TestClient(app, client=("10.9.9.9", 50000), follow_redirects=False) as other_browser:  # type: ignore[arg-type]
        log_in(other_browser, other)
        assert session_count(sessions, other) == 1
        admin, token = logged_in_admin(sessions, client)
        target = account(sessions, other)
        response = client.post(
            f"/users/{target.id}/update", data=update_form(token, target, active="<absent>")
        )
        assert (response.status_code, response.headers["location"]) == (303, "/users?done=updated")
        assert session_count(sessions, other) == 0
        assert other_browser.get("/").status_code == 303  # back to the login form
    assert not account(sessions, other).is_active
    (row,) = audit_rows(sessions, "admin.update_user", target.id)
    assert row.actor == f"admin:{admin}"
    assert (row.details["active"], row.details["sessions_ended"]) == (False, 1)


def test_changing_the_language_keeps_the_sessions_and_changing_the_role_ends_them(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    other = make_account(sessions)
    try_login(client, other)  # a session of the other account, left open
    client.cookies.clear()
    _, token = logged_in_admin(sessions, client)
    target = account(sessions, other)
    client.post(f"/users/{target.id}/update", data=update_form(token, target, language="en"))
    assert (account(sessions, other).language, session_count(sessions, other)) == ("en", 1)

    code = a_pendamping_code(sessions)
    target = account(sessions, other)
    form = update_form(token, target, role="pendamping", pendamping=code)
    assert client.post(f"/users/{target.id}/update", data=form).status_code == 303
    demoted = account(sessions, other)
    assert (demoted.role, demoted.pendamping_id is not None) == (UserRole.PENDAMPING, True)
    assert session_count(sessions, other) == 0


def test_an_admin_cannot_deactivate_or_demote_themself(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    make_account(sessions)  # so the refusal is about oneself, not about the last admin
    admin, token = logged_in_admin(sessions, client)
    me = account(sessions, admin)
    code = a_pendamping_code(sessions)
    for form in (
        update_form(token, me, active="<absent>"),
        update_form(token, me, role="pendamping", pendamping=code),
    ):
        response = client.post(f"/users/{me.id}/update", data=form)
        assert response.status_code == 400
        assert "tidak bisa menonaktifkan atau menurunkan peran akun sendiri" in response.text
    still = account(sessions, admin)
    assert (still.role, still.is_active, session_count(sessions, admin)) == (
        UserRole.ADMIN,
        True,
        1,
    )
    # Their own language is theirs to change.
    client.post(f"/users/{me.id}/update", data=update_form(token, me, language="en"))
    assert account(sessions, admin).language == "en"


def test_the_last_active_admin_stays_an_admin(sessions: sessionmaker[Session]) -> None:
    # Through the pages the acting admin is another active admin, so this rule guards callers
    # without a viewer (and races): it is checked on the domain function itself.
    last = make_account(sessions)
    with sessions.begin() as session:
        for user in session.scalars(select(AdminUser).where(AdminUser.username != last)):
            if user.role is UserRole.ADMIN:
                user.is_active = False
    target = account(sessions, last)
    code = a_pendamping_code(sessions)
    for role, active, pendamping in (
        (UserRole.ADMIN, False, None),
        (UserRole.PENDAMPING, True, code),
    ):
        with sessions.begin() as session, pytest.raises(AccountRefused) as refused:
            update_user(
                session,
                user_id=target.id,
                role=role,
                pendamping_code=pendamping,
                language="id",
                is_active=active,
                changed_by=0,
                actor="test",
            )
        assert refused.value.reason == "last_admin"
    assert account(sessions, last).is_active
    make_account(sessions)  # with a second admin the first may go
    with sessions.begin() as session:
        update_user(
            session,
            user_id=target.id,
            role=UserRole.ADMIN,
            pendamping_code=None,
            language="id",
            is_active=False,
            changed_by=0,
            actor="test",
        )
    assert not account(sessions, last).is_active


def test_setting_a_password_ends_the_sessions_and_the_new_one_works(
    sessions: sessionmaker[Session], client: TestClient, app: object
) -> None:
    other = make_account(sessions)
    with TestClient(app, client=("10.9.9.8", 50000), follow_redirects=False) as other_browser:  # type: ignore[arg-type]
        log_in(other_browser, other)
        admin, token = logged_in_admin(sessions, client)
        target = account(sessions, other)
        short = {"csrf_token": token, "password": "pendek9", "password_again": "pendek9"}
        response = client.post(f"/users/{target.id}/password", data=short)
        assert (response.status_code, "Kata sandi minimal 10 karakter." in response.text) == (
            400,
            True,
        )
        assert session_count(sessions, other) == 1
        form = {"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        response = client.post(f"/users/{target.id}/password", data=form)
        assert (response.status_code, response.headers["location"]) == (303, "/users?done=password")
        assert other_browser.get("/").status_code == 303
    assert session_count(sessions, other) == 0
    (row,) = audit_rows(sessions, "admin.set_password", target.id)
    assert row.actor == f"admin:{admin}"
    assert row.details == {"username": other, "sessions_ended": 1}
    client.cookies.clear()
    assert try_login(client, other, PASSWORD)[0] == 401
    assert try_login(client, other, NEW_PASSWORD)[0] == 303


def test_an_unknown_account_is_a_404(sessions: sessionmaker[Session], client: TestClient) -> None:
    _, token = logged_in_admin(sessions, client)
    form = {"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert client.post("/users/999999/password", data=form).status_code == 404


def test_markup_in_a_telegram_name_is_escaped(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    with sessions.begin() as session:
        session.add(
            TelegramUser(
                telegram_user_id=770001,
                chat_id=770001,
                first_name='<script>alert("x")</script>',
                role=UserRole.ADMIN,
            )
        )
    logged_in_admin(sessions, client)
    page = client.get("/users").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
