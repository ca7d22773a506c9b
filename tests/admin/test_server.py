"""The dashboard under a real uvicorn server: bodies, proxies and error pages, tried as attacks."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from admin import pages
from admin.app import BODY_LIMITS, build_admin_app
from admin.web import DEFAULT_BODY_LIMIT, SECURITY_HEADERS
from core.settings import Settings, get_settings
from programme import logins
from tests.admin.conftest import PASSWORD, FakeClock, form_token, log_in, make_account
from tests.admin.servers import RunningServer, running_server

WRONG = "tebak-tebakan-saja"


@pytest.fixture
def server(app: Starlette) -> Iterator[RunningServer]:
    with running_server(app, get_settings()) as running:
        yield running


def logged_in(server: RunningServer, username: str) -> tuple[str, str]:
    """(session cookie header, CSRF token) of a real login through the server."""
    with httpx.Client(base_url=server.url) as client:
        token = form_token(client.get("/login").text)
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text
        csrf = form_token(client.get("/").text)
        cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return cookies, csrf


def resident_memory() -> int:
    """This process's resident memory in bytes (the server runs in one of its threads)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Upload:
    status: int | None
    sent: int
    peak_growth: int
    seconds: float


def stream_chunked(
    server: RunningServer,
    path: str,
    *,
    headers: dict[str, str],
    total: int,
    chunk: int = 256 * 1024,
    prefix: bytes = b"",
) -> Upload:
    """POST `total` bytes with Transfer-Encoding: chunked (no Content-Length), as fast as the
    server takes them; stop when it answers or closes. Memory is sampled meanwhile."""
    baseline, peak = resident_memory(), 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, resident_memory() - baseline)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    sent = 0
    lines = [f"POST {path} HTTP/1.1", f"Host: {server.host}:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Transfer-Encoding: chunked", "", ""]
    with socket.create_connection((server.host, server.port), timeout=30) as connection:
        connection.sendall("\r\n".join(lines).encode())
        block = prefix + b"x" * (chunk - len(prefix))
        try:
            while sent < total:
                connection.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                sent += len(block)
                block = b"x" * chunk
                connection.setblocking(False)
                try:
                    if connection.recv(1, socket.MSG_PEEK):
                        break  # the server has answered
                except BlockingIOError:
                    pass
                finally:
                    connection.setblocking(True)
            else:
                connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what a limit should do
        connection.settimeout(30)
        answer = b""
        try:
            while b"\r\n" not in answer:
                piece = connection.recv(4096)
                if not piece:
                    break
                answer += piece
        except (ConnectionResetError, TimeoutError):
            pass
    stop.set()
    sampler.join()
    status = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return Upload(int(status.group(1)) if status else None, sent, peak, time.monotonic() - started)


# --- bodies -----------------------------------------------------------------------------------


def test_an_anonymous_post_is_answered_without_its_body_being_read(
    server: RunningServer,
) -> None:
    # A declared 1 MiB form that never comes: the answer must not wait for it.
    request = (
        f"POST /import HTTP/1.1\r\nHost: {server.host}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1048576\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=5) as connection:
        connection.sendall(request.encode())
        answer = connection.recv(4096)  # before: timed out, the server was reading the body
    assert answer.startswith(b"HTTP/1.1 303")
    assert b"location: /login" in answer.lower()


def test_an_anonymous_chunked_post_is_refused_unread_and_memory_does_not_grow(
    server: RunningServer,
) -> None:
    upload = stream_chunked(
        server,
        "/inbox/reply",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        total=256 * 1024 * 1024,
    )
    assert upload.status == 303
    assert upload.sent < 64 * 1024 * 1024  # refused long before the 256 MiB were sent
    assert upload.peak_growth < 48 * 1024 * 1024


def test_a_logged_in_chunked_form_is_cut_at_its_limit(
    server: RunningServer, sessions: sessionmaker[Session]
) -> None:
    cookies, csrf = logged_in(server, make_account(sessions))
    upload = stream_chunked(
        server,
        "/inbox/reply",
        headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"},
        total=256 * 1024 * 1024,
        prefix=f"csrf_token={csrf}&ids=1&text=".encode(),
        chunk=16 * 1024,
    )
    assert upload.status == 413
    assert upload.sent < 32 * 1024 * 1024
    assert upload.peak_growth < 48 * 1024 * 1024


def test_a_chunked_upload_with_no_length_is_refused_past_the_import_limit(
    server: RunningServer, sessions: sessionmaker[Session]
) -> None:
    cookies, csrf = logged_in(server, make_account(sessions))
    prefix = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        '--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nroster\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    limit = BODY_LIMITS["/import"]
    upload = stream_chunked(
        server,
        "/import",
        headers={"Cookie": cookies, "Content-Type": "multipart/form-data; boundary=b"},
        total=4 * limit,
        prefix=prefix,
        chunk=1024 * 1024,
    )
    assert upload.status == 413
    assert limit <= upload.sent < limit + 32 * 1024 * 1024
    assert upload.peak_growth < 64 * 1024 * 1024


def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read(
    server: RunningServer, sessions: sessionmaker[Session]
) -> None:
    cookies, _ = logged_in(server, make_account(sessions))
    request = (
        f"POST /inbox/reply HTTP/1.1\r\nHost: {server.host}\r\nCookie: {cookies}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {DEFAULT_BODY_LIMIT + 1}\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=5) as connection:
        connection.sendall(request.encode())
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"x-frame-options: DENY" in answer


def test_a_cross_site_form_is_refused_before_its_body_is_read(
    server: RunningServer, sessions: sessionmaker[Session]
) -> None:
    cookies, csrf = logged_in(server, make_account(sessions))
    with httpx.Client(base_url=server.url) as client:
        response = client.post(
            "/logout",
            data={"csrf_token": csrf},
            headers={"Cookie": cookies, "Origin": "https://penyerang.example"},
        )
        assert response.status_code == 403
        same_site = client.post(
            "/logout",
            data={"csrf_token": csrf},
            headers={"Cookie": cookies, "Origin": server.url, "Sec-Fetch-Site": "same-origin"},
        )
        assert same_site.status_code == 303


# --- the proxy headers ------------------------------------------------------------------------


def _spray(server: RunningServer, forwarded: list[str]) -> list[int]:
    """One failed login per X-Forwarded-For address (each for another username)."""
    statuses = []
    with httpx.Client(base_url=server.url) as client:
        token = form_token(client.get("/login").text)
        for number, address in enumerate(forwarded):
            response = client.post(
                "/login",
                data={"username": f"tebakan-{number}", "password": WRONG, "csrf_token": token},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)
    return statuses


def test_a_rotating_x_forwarded_for_does_not_bypass_the_address_limit(
    server: RunningServer,
) -> None:
    addresses = [f"203.0.113.{n}" for n in range(1, logins.MAX_FAILURES_PER_CLIENT + 3)]
    statuses = _spray(server, addresses)
    # Before: uvicorn believed X-Forwarded-For from 127.0.0.1, so every try had a new address.
    assert statuses[: logins.MAX_FAILURES_PER_CLIENT] == [401] * logins.MAX_FAILURES_PER_CLIENT
    assert set(statuses[logins.MAX_FAILURES_PER_CLIENT :]) == {429}


def test_a_proxy_named_in_forwarded_allow_ips_is_believed(
    admin_env: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
    settings = Settings()
    assert settings.forwarded_allow_ips == "127.0.0.1"
    with running_server(build_admin_app(settings, clock=clock), settings) as server:
        addresses = [f"198.51.100.{n}" for n in range(1, logins.MAX_FAILURES_PER_CLIENT + 3)]
        assert set(_spray(server, addresses)) == {401}  # each visitor counted on their own


def test_forwarded_allow_ips_must_be_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1, proxy.example")
    with pytest.raises(ValueError, match=r"proxy\.example"):
        Settings()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1, 10.0.0.0/8")
    assert Settings().forwarded_allow_ips == "127.0.0.1,10.0.0.0/8"


# --- error pages ------------------------------------------------------------------------------


def test_a_500_page_carries_the_security_headers(
    app: Starlette, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in a page")

    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        log_in(client, make_account(sessions))
        monkeypatch.setattr(pages, "home_numbers", broken)
        response = client.get("/")
    assert response.status_code == 500
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["cache-control"] == "no-store"
    assert "Maaf, terjadi kesalahan" in response.text
    assert "a bug in a page" not in response.text
