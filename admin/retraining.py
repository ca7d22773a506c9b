"""The retraining loop as the dashboard and `pkh nlu retrain` run it: a job in the database,
trained and evaluated in the background, activated only when confirmed and not worse.

The heavy work happens in other processes (`rasa train nlu`, a temporary Rasa server for the
comparison); the job's thread only waits for them and writes their progress to the job's row,
so the web server never waits for a training.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.settings import PROJECT_ROOT, Settings
from nlu import retrain
from nlu.active import ActiveModels, read_active
from nlu.retrain import (
    Activation,
    ActivationFailed,
    ModelComparison,
    NothingToRestore,
    evaluation_sets,
    replica_urls,
)
from nlu.trainingdata import Example
from programme import retraining
from programme.models import RetrainJob, RetrainState, utcnow

log = logging.getLogger(__name__)

# How the job's percentage is shared out: training first, then the comparison.
TRAINING_SHARE = 60

Clock = Callable[[], datetime]


class ActivationRefused(Exception):
    """The job's model may not be activated; `reason` says why (a key the pages translate)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass
class RetrainSetup:
    """What a retraining works on; tests give a tiny training set and their own model directory."""

    models_dir: Path
    urls: list[str]
    data: Path = PROJECT_ROOT / "data" / "nlu"
    config: Path = PROJECT_ROOT / "config.yml"
    sets: Callable[[], Mapping[str, list[Example]]] = field(default=evaluation_sets)
    # A Rasa server the comparison may load models into; None: a temporary one per job.
    scratch_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrainSetup:
        return cls(
            models_dir=settings.models_dir,
            urls=replica_urls(settings.nlu_replica_urls or settings.nlu_url),
        )


class Retrainer:
    """Starts jobs in a background thread; activates and rolls back, one change at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        setup: RetrainSetup,
        *,
        clock: Clock = utcnow,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.setup = setup
        self.clock = clock
        self.echo = echo  # the command line also prints the job's log lines
        self._swap_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- the job ------------------------------------------------------------------------------

    def start(self, session: Session, *, requested_by: str, background: bool = True) -> RetrainJob:
        """Queue a job in the caller's transaction; in the background, it runs once that
        transaction commits (otherwise the caller runs it: `run(job.id)`).

        Raises programme.retraining.JobRunning while another job runs.
        """
        job = retraining.start_job(session, requested_by=requested_by, now=self.clock())
        if background:
            job_id = job.id

            def run_after_commit(_session: Session) -> None:
                self.run_in_background(job_id)

            # The thread must not look for the row before the request's transaction commits.
            event.listen(session, "after_commit", run_after_commit, once=True)
        return job

    def run_in_background(self, job_id: int) -> None:
        self._thread = threading.Thread(
            target=self.run, args=(job_id,), name=f"retrain-{job_id}", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background job (tests, shutdown); True when none is running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def run(self, job_id: int) -> None:
        """Train, compare, and leave the job ready, worse, unchanged or failed."""
        setup = self.setup
        requested_by = "?"
        try:
            with self.sessions.begin() as session:
                job = retraining.find_job(session, job_id)
                if job is None:
                    return
                requested_by = job.requested_by
            self._progress(job_id, state=RetrainState.TRAINING, progress=0)
            current = retrain.record_current(setup.models_dir, setup.urls, by=requested_by)
            candidate, _ = retrain.train_candidate(
                data=setup.data,
                config=setup.config,
                models_dir=setup.models_dir,
                on_line=lambda line: self._progress(job_id, line=line),
                on_progress=lambda p: self._progress(job_id, progress=p * TRAINING_SHARE // 100),
            )
            if current is not None and candidate.resolve() == current.resolve():
                self._finish(job_id, RetrainState.UNCHANGED, candidate, current)
                return
            self._progress(
                job_id,
                state=RetrainState.EVALUATING,
                progress=TRAINING_SHARE,
                line=f"evaluating {candidate.name} against {current.name if current else '-'}",
            )
            comparison = retrain.compare_models(
                candidate,
                current,
                setup.sets(),
                url=setup.scratch_url,
                on_progress=lambda p: self._progress(
                    job_id, progress=TRAINING_SHARE + p * (100 - TRAINING_SHARE) // 100
                ),
            )
            state = RetrainState.READY if comparison.not_worse else RetrainState.WORSE
            self._finish(job_id, state, candidate, current, comparison)
        except Exception as error:
            log.exception("retraining job %s failed", job_id)
            with self.sessions.begin() as session:
                retraining.finish_job(
                    session,
                    job_id,
                    state=RetrainState.FAILED,
                    now=self.clock(),
                    error=f"{type(error).__name__}: {error}",
                )

    def _progress(
        self,
        job_id: int,
        *,
        state: RetrainState | None = None,
        progress: int | None = None,
        line: str | None = None,
    ) -> None:
        if line is not None and self.echo is not None:
            self.echo(line)
        with self.sessions.begin() as session:
            retraining.report_progress(
                session, job_id, now=self.clock(), state=state, progress=progress, line=line
            )

    def _finish(
        self,
        job_id: int,
        state: RetrainState,
        candidate: Path,
        current: Path | None,
        comparison: ModelComparison | None = None,
    ) -> None:
        with self.sessions.begin() as session:
            retraining.finish_job(
                session,
                job_id,
                state=state,
                now=self.clock(),
                model_file=candidate.name,
                compared_with=current.name if current else None,
                comparison=comparison.to_json() if comparison else None,
            )

    # --- activation and rollback --------------------------------------------------------------

    def active(self) -> ActiveModels | None:
        return read_active(self.setup.models_dir)

    def activate(self, session: Session, job_id: int, *, actor: str, confirmed: bool) -> Activation:
        """Put the job's model on every NLU server: only when confirmed and not worse.

        Raises ActivationRefused (audited) otherwise, or when a server failed to load it.
        """
        now = self.clock()
        job = retraining.find_job(session, job_id)
        if job is None:
            raise ActivationRefused("not_found")
        with self._swap_lock:
            try:
                model = self._activatable(job, confirmed=confirmed)
                activation = retrain.activate(
                    model, urls=self.setup.urls, models_dir=self.setup.models_dir, by=actor
                )
            except ActivationRefused as refused:
                retraining.record_refusal(
                    session, job, actor=actor, reason=refused.detail or refused.reason, now=now
                )
                raise
            except ActivationFailed as failed:
                retraining.record_refusal(session, job, actor=actor, reason=str(failed), now=now)
                raise ActivationRefused("server", str(failed)) from failed
        retraining.record_activation(
            session,
            job,
            actor=actor,
            previous=activation.record.previous,
            swapped=activation.swapped,
            unreachable=activation.unreachable,
            now=now,
        )
        return activation

    def _activatable(self, job: RetrainJob, *, confirmed: bool) -> Path:
        if job.state is RetrainState.WORSE:
            raise ActivationRefused("worse")
        if job.state is not RetrainState.READY or job.comparison is None or not job.model_file:
            raise ActivationRefused("not_ready", f"the job is {job.state.value}")
        if not ModelComparison.from_json(job.comparison).not_worse:
            raise ActivationRefused("worse")
        if not confirmed:
            raise ActivationRefused("not_confirmed")
        active = self.active()
        if job.compared_with and (active is None or active.active != job.compared_with):
            # Compared with a model that is no longer the active one: the figures are stale.
            raise ActivationRefused("outdated")
        model = self.setup.models_dir / job.model_file
        if not model.is_file():
            raise ActivationRefused("missing", f"{job.model_file} is gone")
        return model

    def roll_back(self, session: Session, *, actor: str) -> Activation:
        """Restore the previous model on every server (audited)."""
        with self._swap_lock:
            try:
                activation = retrain.roll_back(
                    urls=self.setup.urls, models_dir=self.setup.models_dir, by=actor
                )
            except NothingToRestore as nothing:
                raise ActivationRefused("nothing_to_restore", str(nothing)) from nothing
            except ActivationFailed as failed:
                raise ActivationRefused("server", str(failed)) from failed
        previous = activation.record.previous
        retraining.record_rollback(
            session,
            actor=actor,
            restored=activation.record.active,
            replaced=previous or "",
            swapped=activation.swapped,
            unreachable=activation.unreachable,
            now=self.clock(),
        )
        return activation
