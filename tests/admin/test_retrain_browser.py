""" "Latih ulang model" in a real browser: start a training, watch its progress, read the
comparison, confirm the activation, restore the previous model.

Headless Chromium (Debian's) on a real uvicorn server; a real training of a tiny model and a real
comparison on a temporary Rasa server. No NLU server runs for the bot, so the activation is
recorded for the servers' next start (the page says so).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from admin.app import build_admin_app
from admin.retraining import Retrainer, RetrainSetup
from admin.users import create_user
from core.settings import Settings
from nlu.active import ActiveModels, read_active, write_active
from programme import migrate
from programme.db import make_engine, make_session_factory
from programme.models import UserRole
from tests.admin.test_browser import PASSWORD, browser, free_port, screenshot
from tests.nlu.tiny_models import (
    copy_model,
    small_evaluation_sets,
    tiny_cache,
    tiny_model,
    tiny_training_data,
)

pytestmark = pytest.mark.integration

__all__ = ["browser", "tiny_cache"]  # fixtures, used by name

# Examples per intent: the active model's, and the new one's (trained here, in the test).
ACTIVE, NEW = 6, 12


@dataclass(frozen=True)
class RetrainDashboard:
    url: str
    models_dir: Path
    active: str


@pytest.fixture
def dashboard(tmp_path: Path, tiny_cache: Path, secret_key: str) -> Iterator[RetrainDashboard]:
    database = f"sqlite:///{tmp_path / 'pkh.sqlite3'}"
    migrate.upgrade(database)
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        create_user(
            session, username="admin.dinsos", password=PASSWORD, role=UserRole.ADMIN, actor="test"
        )
    engine.dispose()
    models_dir = tmp_path / "models"
    active = copy_model(tiny_model(tiny_cache, ACTIVE), models_dir)
    write_active(models_dir, ActiveModels(active=active.name, changed_by="test"))

    unused_port = free_port()
    settings = Settings(
        DATABASE_URL=database, PKH_SECRET_KEY=secret_key, NLU_URL=f"http://127.0.0.1:{unused_port}"
    )
    app = build_admin_app(settings)
    app.state.retrainer = Retrainer(
        app.state.sessions,
        RetrainSetup(
            models_dir=models_dir,
            urls=[f"http://127.0.0.1:{unused_port}"],
            data=tiny_training_data(tiny_cache, NEW),
            sets=small_evaluation_sets,
        ),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    yield RetrainDashboard(f"http://127.0.0.1:{port}", models_dir, active.name)
    app.state.retrainer.wait(600)
    server.should_exit = True
    thread.join(timeout=10)


def test_an_admin_retrains_watches_compares_activates_and_restores(
    browser: Browser, dashboard: RetrainDashboard
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{dashboard.url}/login?next=/retrain")
    page.fill("#username", "admin.dinsos")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#active-name")).to_have_text(dashboard.active)

    page.click("#start-retrain")
    # The page follows the job by itself: progress while it runs, the comparison when done.
    expect(page.locator("#retrain-progress")).to_be_visible()
    expect(page.locator("#retrain-state")).to_have_text("Melatih model", timeout=60_000)
    expect(page.locator("#comparison")).to_be_visible(timeout=600_000)
    expect(page.locator("#set-dev")).to_contain_text("tidak lebih buruk")
    expect(page.locator("#set-test")).to_contain_text("tidak lebih buruk")
    screenshot(page, "dashboard-retrain", "sqlite")

    page.check("#confirm")
    page.click("#activate")
    expect(page.locator("#retrain-notice")).to_contain_text("Model baru aktif")
    expect(page.locator("#retrain-notice")).to_contain_text("1 server NLU tidak menjawab")
    record = read_active(dashboard.models_dir)
    assert record is not None and record.previous == dashboard.active
    expect(page.locator("#active-name")).to_have_text(record.active)

    page.click("#rollback")
    expect(page.locator("#retrain-notice")).to_contain_text("Model sebelumnya dipulihkan")
    expect(page.locator("#active-name")).to_have_text(dashboard.active)
    context.close()
