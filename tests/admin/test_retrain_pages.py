"""The "Latih ulang model" page: train in the background, compare, activate only when confirmed
and not worse, restore the previous model with one click; every step audited.

Real training (`rasa train nlu` on a tiny data set), real evaluation on a few dev and test
examples, and a real Rasa server standing in for the bot's NLU replica.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from admin.retraining import Retrainer, RetrainSetup
from nlu.active import ActiveModels, read_active, write_active
from nlu.retrain import activate, load_model, served_model
from nlu.server import free_port, start_server
from programme import retraining
from programme.models import AuditLog, RetrainJob, RetrainState, UserRole
from tests.admin.conftest import FakeClock, log_in, make_account
from tests.admin.test_users_pages import a_pendamping_code
from tests.nlu.tiny_models import (
    copy_model,
    small_evaluation_sets,
    tiny_cache,
    tiny_model,
    tiny_training_data,
)

__all__ = ["tiny_cache"]  # a fixture, used by name

CURRENT, BETTER, WORSE = 6, 30, 2  # training examples per intent
JOB_TIMEOUT = 600


@pytest.fixture(scope="module")
def replica(tiny_cache: Path) -> Iterator[str]:
    """A running NLU server, as the bot uses it."""
    server = start_server(port=free_port(), model=tiny_model(tiny_cache, CURRENT))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def scratch(tiny_cache: Path) -> Iterator[str]:
    """A server for the comparisons (saves starting one per job)."""
    server = start_server(port=free_port(), model=tiny_model(tiny_cache, CURRENT))
    yield server.url
    server.stop()


@pytest.fixture
def models_dir(tmp_path: Path, tiny_cache: Path, replica: str) -> Path:
    """This test's models: the current one active, and loaded on the replica."""
    directory = tmp_path / "models"
    current = copy_model(tiny_model(tiny_cache, CURRENT), directory)
    write_active(directory, ActiveModels(active=current.name, changed_by="test"))
    load_model(replica, current)
    return directory


def use_retrainer(
    app: Starlette, *, models_dir: Path, replica: str, data: Path, scratch: str
) -> Retrainer:
    retrainer = Retrainer(
        app.state.sessions,
        RetrainSetup(
            models_dir=models_dir,
            urls=[replica],
            data=data,
            sets=small_evaluation_sets,
            scratch_url=scratch,
        ),
        clock=app.state.clock,
    )
    app.state.retrainer = retrainer
    return retrainer


def job_id_of(location: str) -> int:
    found = re.fullmatch(r"/retrain\?job=(\d+)", location)
    assert found, location
    return int(found.group(1))


def audit_actions(sessions: sessionmaker[Session], job_id: int) -> list[str]:
    with sessions.begin() as session:
        return list(
            session.scalars(
                select(AuditLog.action)
                .where(AuditLog.target_type == "nlu_retrain_job", AuditLog.target_id == str(job_id))
                .order_by(AuditLog.id)
            )
        )


def comparison_section(html: str) -> str:
    start = html.index('id="comparison"')
    return html[start : html.index("Catatan pelatihan", start)]


def test_the_retrain_page_is_for_admins_only(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    code = a_pendamping_code(sessions)
    csrf = log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=code))
    assert "/retrain" not in client.get("/").text  # not in the pendamping's menu
    assert client.get("/retrain").status_code == 403
    assert client.get("/retrain/status?job=1").status_code == 403
    for path in ("/retrain", "/retrain/activate", "/retrain/rollback"):
        assert client.post(path, data={"csrf_token": csrf, "job": "1"}).status_code == 403
    with sessions.begin() as session:
        assert session.scalars(select(RetrainJob)).first() is None


def test_a_second_training_waits_for_the_first(
    app: Starlette, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    csrf = log_in(client, make_account(sessions))
    with sessions.begin() as session:
        running = retraining.start_job(session, requested_by="cli", now=app.state.clock())
        running_id = running.id
    try:
        response = client.post("/retrain", data={"csrf_token": csrf})
        assert response.status_code == 409
        assert "Pelatihan lain masih berjalan" in response.text
        assert 'id="start-retrain" disabled' in client.get("/retrain").text
    finally:
        with sessions.begin() as session:
            retraining.finish_job(
                session, running_id, state=RetrainState.FAILED, now=app.state.clock()
            )


def test_a_job_silent_for_a_quarter_of_an_hour_counts_as_failed(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with sessions.begin() as session:
        job_id = retraining.start_job(session, requested_by="cli", now=clock()).id
    clock.advance(retraining.STALE_AFTER + timedelta(seconds=1))
    with sessions.begin() as session:
        assert retraining.running_job(session, now=clock()) is None
        job = session.get(RetrainJob, job_id)
        assert job is not None and job.state is RetrainState.FAILED
        assert job.error is not None and "interrupted" in job.error


@pytest.mark.integration
def test_a_new_model_is_trained_in_the_background_compared_and_activated_once_confirmed(
    app: Starlette,
    client: TestClient,
    sessions: sessionmaker[Session],
    models_dir: Path,
    replica: str,
    scratch: str,
    tiny_cache: Path,
) -> None:
    retrainer = use_retrainer(
        app,
        models_dir=models_dir,
        replica=replica,
        data=tiny_training_data(tiny_cache, BETTER),
        scratch=scratch,
    )
    current = read_active(models_dir)
    assert current is not None
    csrf = log_in(client, make_account(sessions))
    page = client.get("/retrain")
    assert page.status_code == 200
    assert current.active in page.text

    started = client.post("/retrain", data={"csrf_token": csrf})
    assert started.status_code == 303
    job_id = job_id_of(started.headers["location"])
    # The dashboard answers while the job trains: its state and progress are there to poll.
    running = client.get(f"/retrain/status?job={job_id}").json()
    assert running["running"], running
    assert 'data-running="true"' in client.get(f"/retrain?job={job_id}").text

    assert retrainer.wait(JOB_TIMEOUT)
    done = client.get(f"/retrain/status?job={job_id}").json()
    assert (done["state"], done["progress"]) == ("ready", 100), done["log"]
    assert re.search("Finished training component|Restored component", done["log"])

    html = client.get(f"/retrain?job={job_id}").text
    section = comparison_section(html)
    assert "set pengembangan (dev)" in section and "set uji (test)" in section
    assert "Jadwal pencairan" in section  # topics by name …
    assert "ask_payment_schedule" not in section  # … never by code
    assert 'id="activate-form"' in html

    unconfirmed = client.post("/retrain/activate", data={"csrf_token": csrf, "job": job_id})
    assert unconfirmed.status_code == 409
    assert "Centang konfirmasi" in unconfirmed.text
    assert served_model(replica) == current.active

    confirmed = client.post(
        "/retrain/activate", data={"csrf_token": csrf, "job": job_id, "confirm": "yes"}
    )
    assert confirmed.status_code == 303
    with sessions.begin() as session:
        job = session.get(RetrainJob, job_id)
        assert job is not None and job.model_file is not None
        assert job.state is RetrainState.ACTIVATED
        new_model = job.model_file
    assert served_model(replica) == new_model
    record = read_active(models_dir)
    assert record is not None
    assert (record.active, record.previous) == (new_model, current.active)
    assert record.changed_by.startswith("admin:")
    assert "Model baru aktif" in client.get(confirmed.headers["location"]).text
    assert audit_actions(sessions, job_id) == [
        "nlu.retrain_started",
        "nlu.activation_refused",
        "nlu.model_activated",
    ]


@pytest.mark.integration
def test_a_worse_model_is_never_activated(
    app: Starlette,
    client: TestClient,
    sessions: sessionmaker[Session],
    models_dir: Path,
    replica: str,
    scratch: str,
    tiny_cache: Path,
) -> None:
    # The active model knows 30 examples per intent; the new one only 2.
    good = activate(
        copy_model(tiny_model(tiny_cache, BETTER), models_dir),
        urls=[replica],
        models_dir=models_dir,
        by="test",
    )
    retrainer = use_retrainer(
        app,
        models_dir=models_dir,
        replica=replica,
        data=tiny_training_data(tiny_cache, WORSE),
        scratch=scratch,
    )
    csrf = log_in(client, make_account(sessions))
    job_id = job_id_of(client.post("/retrain", data={"csrf_token": csrf}).headers["location"])
    assert retrainer.wait(JOB_TIMEOUT)

    html = client.get(f"/retrain?job={job_id}").text
    assert 'id="worse"' in html
    assert 'id="activate-form"' not in html
    forced = client.post(
        "/retrain/activate", data={"csrf_token": csrf, "job": job_id, "confirm": "yes"}
    )
    assert forced.status_code == 409
    assert "lebih buruk" in forced.text
    assert served_model(replica) == good.record.active
    assert read_active(models_dir) == good.record
    with sessions.begin() as session:
        job = session.get(RetrainJob, job_id)
        assert job is not None and job.state is RetrainState.WORSE
    assert audit_actions(sessions, job_id) == ["nlu.retrain_started", "nlu.activation_refused"]


@pytest.mark.integration
def test_the_previous_model_comes_back_with_one_click(
    client: TestClient,
    sessions: sessionmaker[Session],
    app: Starlette,
    models_dir: Path,
    replica: str,
    scratch: str,
    tiny_cache: Path,
) -> None:
    use_retrainer(
        app,
        models_dir=models_dir,
        replica=replica,
        data=tiny_training_data(tiny_cache, BETTER),
        scratch=scratch,
    )
    before = read_active(models_dir)
    assert before is not None
    activated = activate(
        copy_model(tiny_model(tiny_cache, BETTER), models_dir),
        urls=[replica],
        models_dir=models_dir,
        by="test",
    )
    csrf = log_in(client, make_account(sessions))
    assert 'id="rollback"' in client.get("/retrain").text

    restored = client.post("/retrain/rollback", data={"csrf_token": csrf})
    assert restored.status_code == 303
    assert served_model(replica) == before.active
    record = read_active(models_dir)
    assert record is not None
    assert (record.active, record.previous) == (before.active, activated.record.active)
    assert "Model sebelumnya dipulihkan" in client.get(restored.headers["location"]).text
    with sessions.begin() as session:
        entry = session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "nlu.model_rolled_back")
            .order_by(AuditLog.id.desc())
        ).first()
        assert entry is not None
        assert entry.details["model"] == before.active
        assert entry.details["replaced"] == activated.record.active
        assert entry.actor.startswith("admin:")
