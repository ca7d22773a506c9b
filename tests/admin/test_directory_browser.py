"""The directory in headless Chromium: an admin finds a family by searching and paging, downloads
the search as CSV, and makes a pendamping's one-time Telegram link from the pendamping page."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from admin.app import build_admin_app
from admin.users import create_user
from core.settings import Settings
from programme.db import make_engine, make_session_factory
from programme.models import Family, UserRole
from tests.admin.test_browser import browser, free_port

__all__ = ["browser"]  # the Chromium fixture, shared with the other browser tests

PASSWORD = "kata-sandi-panjang-sekali"


@pytest.fixture(scope="module")
def dashboard(fresh_seeded_database: str, secret_key: str) -> Iterator[tuple[str, int, str]]:
    """The dashboard's address, how many families it has, and the PKH id of the last one."""
    engine = make_engine(fresh_seeded_database)
    with make_session_factory(engine).begin() as session:
        create_user(
            session, username="admin.data", password=PASSWORD, role=UserRole.ADMIN, actor="test"
        )
        total = int(session.scalar(select(func.count()).select_from(Family)) or 0)
        last = session.scalars(select(Family.pkh_id).order_by(Family.pkh_id.desc())).first()
        assert last is not None
    engine.dispose()
    settings = Settings.model_validate(
        {"DATABASE_URL": fresh_seeded_database, "PKH_SECRET_KEY": secret_key}
    )
    server = uvicorn.Server(
        uvicorn.Config(
            build_admin_app(settings), host="127.0.0.1", port=free_port(), log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", total, last
    server.should_exit = True
    thread.join(timeout=10)


def test_an_admin_pages_searches_and_downloads_the_families(
    browser: Browser, dashboard: tuple[str, int, str]
) -> None:
    url, total, last = dashboard
    pages = -(-total // 50)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", "admin.data")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")

    page.get_by_role("link", name="Keluarga", exact=True).click()
    expect(page.locator("#directory-total")).to_have_text(f"{total} data; halaman 1 dari {pages}")
    expect(page.locator("#families tbody tr")).to_have_count(50)
    page.locator(".page-links").get_by_role("link", name=str(pages), exact=True).click()
    expect(page.locator("#directory-total")).to_have_text(
        f"{total} data; halaman {pages} dari {pages}"
    )
    expect(page.locator("#families tbody tr")).to_have_count(total - 50 * (pages - 1))

    page.fill("#q", last.lower())
    page.get_by_role("button", name="Cari").click()
    expect(page.locator("#directory-total")).to_have_text("1 data; halaman 1 dari 1")
    expect(page.locator("#families tbody tr td").first).to_have_text(last)
    with page.expect_download() as download:
        page.click("#csv-link")
    saved = download.value.path()
    text = saved.read_text(encoding="utf-8-sig") if saved else ""
    assert text.splitlines()[0].startswith("ID PKH;Nama pengurus;")
    assert text.splitlines()[1].startswith(f"{last};")

    page.get_by_role("link", name="Pendamping", exact=True).click()
    page.locator("#pendamping tbody tr").first.get_by_role(
        "button", name="Buat tautan Telegram"
    ).click()
    expect(page.locator("#issued-link")).to_contain_text("hanya ditampilkan sekali")
    assert re.fullmatch(r"/start pdp-[\w-]+", page.locator("#link-text").inner_text())
    context.close()
