"""The inbox's label form in headless Chromium: entities are marked by clicking words.

A real uvicorn server on a seeded database; an admin opens a group, clicks the word "bri" of its
question, chooses "Bank: BRI", marks it and labels the group: the training data gets Rasa's
annotation, and the admin never typed or saw `[kata]{entitas=nilai}`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from admin.app import build_admin_app
from admin.users import create_user
from core.settings import Settings
from programme.db import make_engine, make_session_factory
from programme.inbox import add_question
from programme.models import TelegramUser, UnansweredReason, UserRole, utcnow
from tests.admin.test_browser import Dashboard, browser, free_port

__all__ = ["browser"]  # the Chromium fixture, shared with the other browser tests

PASSWORD = "kata-sandi-panjang-sekali"
QUESTION = "kartu kks saya tertelan di atm bri kemarin sore"


@pytest.fixture(scope="module")
def dashboard(
    fresh_seeded_database: str, secret_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    engine = make_engine(fresh_seeded_database)
    with make_session_factory(engine).begin() as session:
        create_user(
            session, username="admin.label", password=PASSWORD, role=UserRole.ADMIN, actor="test"
        )
        asker = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == 990000002)
        ).one()
        for _ in range(3):
            add_question(session, text=QUESTION, reason=UnansweredReason.FALLBACK,
                         top_guesses=[{"intent": "report_card_problem", "confidence": 0.4}],
                         confidence=0.4, user_id=asker.id, now=utcnow(), daily_cap=100)  # fmt: skip
    engine.dispose()
    data_file = tmp_path_factory.mktemp("nlu") / "reviewed.yml"
    settings = Settings.model_validate(
        {"DATABASE_URL": fresh_seeded_database, "PKH_SECRET_KEY": secret_key}
    )
    app = build_admin_app(settings, nlu_data_file=data_file)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Dashboard(f"http://127.0.0.1:{port}", data_file)
    server.should_exit = True
    thread.join(timeout=10)


def test_an_admin_marks_an_entity_by_clicking_its_word(
    browser: Browser, dashboard: Dashboard
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{dashboard.url}/login")
    page.fill("#username", "admin.label")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{dashboard.url}/inbox")
    row = page.locator("table tbody tr").filter(has_text="tertelan")
    expect(row).to_contain_text("Masalah kartu KKS")  # the topic, not report_card_problem
    row.locator("a").first.click()

    page.locator("#sample .word", has_text="bri").click()
    expect(page.locator("#sample .word.selected")).to_have_text("bri")
    page.select_option("#entity", "bank=bri")
    page.click("#add-mark")
    expect(page.locator("#marks li")).to_contain_text("«bri» → Bank: BRI")
    expect(page.locator("#sample .word.marked")).to_have_text("bri")
    page.select_option("#intent", "report_card_problem")
    page.click("form#label-form button[type=submit]")

    expect(page.locator("#notice")).to_contain_text("3 pertanyaan diberi label; 1 contoh baru")
    written = Path(dashboard.data_file).read_text(encoding="utf-8")
    assert '[bri]{"entity": "bank", "value": "bri"}' in written
    assert "[kata]{" not in page.content()
    context.close()
