"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright.

A real uvicorn server on a seeded database; an admin logs in, labels a group of unanswered
questions and finds the example in the training data file, uploads a CSV with an error and reads
the report, and looks at the charts. `make screenshots` (PKH_SCREENSHOTS=docs) also saves the
README's screenshots.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from admin.app import build_admin_app
from admin.users import create_user
from core.settings import Settings
from programme.db import make_engine, make_session_factory
from programme.models import (
    AnswerRating,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    QuestionLog,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
    UserRole,
    utcnow,
)

PASSWORD = "kata-sandi-panjang-sekali"
# `make screenshots` sets this to docs/; a plain test run leaves the committed pictures alone.
SCREENSHOTS = os.environ.get("PKH_SCREENSHOTS")
QUESTION = "kapan bansos pkh buat lansia dibuka pendaftaran"


@dataclass(frozen=True)
class Dashboard:
    url: str
    data_file: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_dashboard_data(url: str, secret_key: str) -> None:
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        create_user(
            session,
            username="admin.dinsos",
            password=PASSWORD,
            role=UserRole.ADMIN,
            actor="test",
        )
        asker = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == 990000002)
        ).one()
        now = utcnow()
        variants = [QUESTION, "Kapan bansos PKH buat lansia dibuka pendaftaran?", QUESTION + "!!"]
        for number in range(24):
            session.add(
                UnansweredQuery(
                    text=variants[number % 3],
                    reason=UnansweredReason.FALLBACK,
                    top_guesses=[{"intent": "ask_registration", "confidence": 0.41}],
                    confidence=0.41,
                    user_id=asker.id,
                    created_at=now - timedelta(hours=number),
                )
            )
        intents = ["ask_payment_schedule"] * 5 + ["ask_benefit_amount"] * 3 + ["ask_p2k2"] * 2
        for number in range(140):
            answered = number % 9 != 0
            session.add(
                QuestionLog(
                    created_at=now - timedelta(days=number % 14, hours=number % 5),
                    user_id=asker.id,
                    intent=intents[number % len(intents)] if answered else None,
                    confidence=0.9 if answered else 0.3,
                    answered=answered,
                    reason=None if answered else UnansweredReason.FALLBACK,
                )
            )
        for number in range(30):
            session.add(
                AnswerRating(
                    user_id=asker.id,
                    intent="ask_payment_schedule",
                    is_helpful=number % 5 != 0,
                    created_at=now - timedelta(days=number % 10),
                )
            )
        for number, state in enumerate([OutboxState.SENT] * 8 + [OutboxState.BLOCKED] * 2):
            session.add(
                OutboxMessage(
                    dedupe_key=f"browser:{number}",
                    kind=OutboxKind.REMINDER,
                    chat_id=1000 + number,
                    text="pengingat",
                    time_zone=TimeZone.WITA,
                    state=state,
                    not_before=now,
                    created_at=now - timedelta(days=number % 4),
                )
            )
    engine.dispose()


@pytest.fixture(scope="module")
def dashboard(
    fresh_seeded_database: str, secret_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    seed_dashboard_data(fresh_seeded_database, secret_key)
    data_file = tmp_path_factory.mktemp("nlu") / "reviewed.yml"
    settings = Settings(DATABASE_URL=fresh_seeded_database, PKH_SECRET_KEY=secret_key)
    app = build_admin_app(settings, nlu_data_file=data_file)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    yield Dashboard(f"http://127.0.0.1:{port}", data_file)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Debian's chromium is needed for the browser tests: apt-get install chromium "
            "(.ci/run installs it).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, dashboard: Dashboard) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="id-ID")
    opened = context.new_page()
    opened.goto(f"{dashboard.url}/login")
    opened.fill("#username", "admin.dinsos")
    opened.fill("#password", PASSWORD)
    opened.click("button[type=submit]")
    expect(opened.locator("#waiting-count")).to_be_visible()
    yield opened
    context.close()


def screenshot(page: Page, name: str, backend: str) -> None:
    """<PKH_SCREENSHOTS>/<name>.png, from the SQLite run (the pages look the same on PostgreSQL)."""
    if SCREENSHOTS and backend == "sqlite":
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_logging_in_shows_the_waiting_count_on_the_home_page(
    browser: Browser, dashboard: Dashboard, backend: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{dashboard.url}/")
    expect(page).to_have_url(f"{dashboard.url}/login?next=/")
    screenshot(page, "dashboard-login", backend)
    page.fill("#username", "admin.dinsos")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#waiting-count")).to_have_text("24")
    screenshot(page, "dashboard-home", backend)
    context.close()


def test_labelling_a_group_writes_the_example_into_the_training_data(
    page: Page, dashboard: Dashboard, backend: str
) -> None:
    page.goto(f"{dashboard.url}/inbox")
    row = page.locator("table tbody tr").filter(has_text="lansia")
    expect(row).to_have_count(1)  # 24 questions, three spellings: one group
    expect(row).to_contain_text("24")
    screenshot(page, "dashboard-inbox", backend)
    row.locator("a").first.click()
    page.select_option("form[action='/inbox/label'] select[name=intent]", "ask_registration")
    screenshot(page, "dashboard-inbox-group", backend)
    page.click("form[action='/inbox/label'] button[type=submit]")
    expect(page.locator("#waiting-count")).to_have_text("0")
    written = dashboard.data_file.read_text(encoding="utf-8")
    assert "- intent: ask_registration" in written
    assert "kapan bansos pkh buat lansia dibuka pendaftaran" in written.lower()


def test_a_csv_with_an_error_shows_the_report_and_imports_nothing(
    page: Page, dashboard: Dashboard, backend: str, tmp_path: Path
) -> None:
    bad = tmp_path / "pendamping.csv"
    bad.write_text(
        "code,name,phone,region_code\n"
        "PDP-BARU-1,Yohana Dhey,081234567890,53.15\n"
        "PDP-BARU-2,Markus Jehaut,081234567891,99.99\n",
        encoding="utf-8",
    )
    page.goto(f"{dashboard.url}/import")
    page.select_option("select[name=kind]", "pendamping")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form[action='/import'] button[type=submit]")
    report = page.locator("table")
    expect(report).to_contain_text("99.99")
    expect(report).to_contain_text("3")  # the spreadsheet row of the bad line
    screenshot(page, "dashboard-import-report", backend)


def test_the_statistics_page_shows_its_charts(
    page: Page, dashboard: Dashboard, backend: str
) -> None:
    page.goto(f"{dashboard.url}/stats")
    charts = page.locator("img[src*='/stats/chart/']")
    assert charts.count() >= 4
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        loaded = chart.evaluate("image => image.complete && image.naturalWidth > 0")
        assert loaded, f"chart {chart.get_attribute('src')} did not load"
    screenshot(page, "dashboard-stats", backend)
