"""Logging in and out: sessions, CSRF, the rate limit, safe redirects and security headers."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from admin.auth import COOKIE_NAME, SESSION_LIFETIME, token_hash
from programme.models import AdminSession
from tests.admin.conftest import FakeClock, form_token, log_in, make_account, try_login


def test_every_page_but_login_and_static_sends_a_stranger_to_login(
    app: Starlette, client: TestClient
) -> None:
    for route in app.routes:
        if isinstance(route, Mount) or not isinstance(route, Route) or route.path == "/login":
            continue
        for method in route.methods or ():
            if method == "HEAD":
                continue
            # A path parameter ("/users/{user_id:int}/update") gets a plausible value.
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            response = client.request(method, path)
            assert response.status_code == 303, (method, path)
            back_to = path if method == "GET" else "/"
            assert response.headers["location"] == f"/login?next={back_to}"
    assert client.get("/login").status_code == 200
    assert client.get("/static/admin.css").status_code == 200


def test_the_right_password_logs_in_and_goes_where_the_visitor_was_going(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions)
    assert try_login(client, username, next_path="/?tab=1") == (303, "/?tab=1")
    cookie = client.cookies[COOKIE_NAME]
    page = client.get("/")
    assert page.status_code == 200
    assert username in page.text and "Keluar" in page.text
    with sessions.begin() as session:
        stored = session.get(AdminSession, token_hash(cookie))
        assert stored is not None and stored.csrf_token != cookie  # only the hash is stored


def test_the_session_cookie_is_http_only_and_same_site_lax(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions)
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login", data={"username": username, "password": "kata-sandi-yang-panjang",
                        "csrf_token": token},
    )  # fmt: skip
    set_cookie = next(
        value for value in response.headers.get_list("set-cookie") if COOKIE_NAME + "=" in value
    )
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert "Secure" not in set_cookie  # plain http in the test; https adds Secure


def test_a_wrong_password_or_unknown_user_is_refused_the_same_way(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions)
    wrong = try_login(client, username, password="salah-sekali-ya")
    unknown = try_login(client, "tidak-ada", password="salah-sekali-ya")
    assert wrong[0] == unknown[0] == 401
    assert "Nama pengguna atau kata sandi salah." in wrong[1]
    assert COOKIE_NAME not in client.cookies
    assert client.get("/").status_code == 303


def test_only_a_local_path_is_followed_after_login(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        client.cookies.clear()
        assert try_login(client, username, next_path=target) == (303, "/")


def test_logout_deletes_the_session(sessions: sessionmaker[Session], client: TestClient) -> None:
    csrf = log_in(client, make_account(sessions))
    cookie = client.cookies[COOKIE_NAME]
    response = client.post("/logout", data={"csrf_token": csrf})
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    with sessions.begin() as session:
        assert session.get(AdminSession, token_hash(cookie)) is None
    client.cookies.set(COOKIE_NAME, cookie)  # a kept cookie is worthless now
    assert client.get("/").status_code == 303


def test_a_post_without_the_right_csrf_token_is_refused(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    log_in(client, make_account(sessions))
    assert client.post("/logout").status_code == 403
    refused = client.post("/logout", data={"csrf_token": "not-the-token"})
    assert refused.status_code == 403
    assert "Formulir kedaluwarsa" in refused.text
    assert client.get("/").status_code == 200  # still logged in


def test_a_login_post_without_the_forms_token_is_refused(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions)
    client.get("/login")
    data = {"username": username, "password": "kata-sandi-yang-panjang"}
    assert client.post("/login", data=data).status_code == 403
    assert client.post("/login", data={**data, "csrf_token": "forged"}).status_code == 403
    assert COOKIE_NAME not in client.cookies


def test_twenty_failures_from_one_address_lock_every_username(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions)
    for number in range(20):
        assert try_login(client, f"tebakan-{number}", password="tebak-tebakan")[0] == 401
    assert try_login(client, username)[0] == 429


def test_a_session_expires_after_twelve_hours(
    sessions: sessionmaker[Session], client: TestClient, clock: FakeClock
) -> None:
    log_in(client, make_account(sessions))
    clock.advance(SESSION_LIFETIME - timedelta(minutes=1))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=1))
    response = client.get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/")


def test_a_typed_username_is_shown_back_escaped(client: TestClient) -> None:
    status, page = try_login(client, "<script>alert(1)</script>", password="salah-sekali-ya")
    assert status == 401
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_every_response_carries_the_security_headers(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    log_in(client, make_account(sessions))
    for response in (client.get("/login"), client.get("/"), client.get("/static/admin.css")):
        assert response.headers["content-security-policy"] == "default-src 'self'"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
