"""The NLU retraining jobs' rows and the audit entries of activations and rollbacks.

A job's states are defined with `RetrainState` (programme.models). One job runs at a time; a job
whose row has not moved for STALE_AFTER (its process died) counts as failed. Every function takes
the caller's session and clock; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import AuditLog, RetrainJob, RetrainState

RUNNING = (RetrainState.QUEUED, RetrainState.TRAINING, RetrainState.EVALUATING)
FINISHED = (RetrainState.READY, RetrainState.WORSE, RetrainState.UNCHANGED, RetrainState.FAILED)
# Training prints a line at least every minute or two; a quarter of an hour of silence is a
# process that is gone (a restart of the dashboard, a kill).
STALE_AFTER = timedelta(minutes=15)
LOG_TAIL_LINES = 40
LOG_TAIL_CHARS = 8000
ERROR_CHARS = 500


class JobRunning(Exception):
    """Another retraining job is still running."""

    def __init__(self, job: RetrainJob) -> None:
        super().__init__(f"retraining job {job.id} is still {job.state.value}")
        self.job = job


def running_job(session: Session, *, now: datetime) -> RetrainJob | None:
    """The job still running, if any; a stale one is marked failed on the way."""
    for job in session.scalars(select(RetrainJob).where(RetrainJob.state.in_(RUNNING))):
        if job.updated_at < now - STALE_AFTER:
            _finish(job, RetrainState.FAILED, now=now, error="interrupted: no progress for 15 min")
            continue
        return job
    return None


def start_job(session: Session, *, requested_by: str, now: datetime) -> RetrainJob:
    """A new queued job, audited; refused (JobRunning) while another one runs."""
    running = running_job(session, now=now)
    if running is not None:
        raise JobRunning(running)
    job = RetrainJob(
        state=RetrainState.QUEUED, requested_by=requested_by, created_at=now, updated_at=now
    )
    session.add(job)
    session.flush()
    _audit(session, actor=requested_by, action="nlu.retrain_started", job=job, details={}, now=now)
    return job


def find_job(session: Session, job_id: int) -> RetrainJob | None:
    return session.get(RetrainJob, job_id)


def recent_jobs(session: Session, *, limit: int = 10) -> list[RetrainJob]:
    """The newest jobs first."""
    return list(session.scalars(select(RetrainJob).order_by(RetrainJob.id.desc()).limit(limit)))


def report_progress(
    session: Session,
    job_id: int,
    *,
    now: datetime,
    state: RetrainState | None = None,
    progress: int | None = None,
    line: str | None = None,
) -> None:
    """Move a running job on: its state, its percentage, one more line of its log."""
    job = session.get(RetrainJob, job_id)
    if job is None:
        return
    if state is not None:
        job.state = state
    if progress is not None:
        job.progress = max(0, min(100, progress))
    if line is not None:
        job.log_tail = _tail(job.log_tail, line)
    job.updated_at = now


def finish_job(
    session: Session,
    job_id: int,
    *,
    state: RetrainState,
    now: datetime,
    model_file: str | None = None,
    compared_with: str | None = None,
    comparison: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """A job's end: ready, worse, unchanged or failed, with what it found."""
    if state not in FINISHED:
        raise ValueError(f"{state.value} is not a finished state")
    job = session.get(RetrainJob, job_id)
    if job is None:
        return
    job.model_file = model_file or job.model_file
    job.compared_with = compared_with or job.compared_with
    job.comparison = comparison
    _finish(job, state, now=now, error=error)


def record_activation(
    session: Session,
    job: RetrainJob,
    *,
    actor: str,
    previous: str | None,
    swapped: list[str],
    unreachable: list[str],
    now: datetime,
) -> None:
    """The job's model is the active one now."""
    job.state = RetrainState.ACTIVATED
    job.updated_at = now
    details = {
        "model": job.model_file,
        "previous": previous,
        "servers": len(swapped),
        "not_reached": len(unreachable),
    }
    _audit(session, actor=actor, action="nlu.model_activated", job=job, details=details, now=now)


def record_refusal(
    session: Session, job: RetrainJob, *, actor: str, reason: str, now: datetime
) -> None:
    """An activation that was asked for and refused (worse, not confirmed, outdated, failed)."""
    details = {"model": job.model_file, "reason": reason[:200]}
    _audit(session, actor=actor, action="nlu.activation_refused", job=job, details=details, now=now)


def record_rollback(
    session: Session,
    *,
    actor: str,
    restored: str,
    replaced: str,
    swapped: list[str],
    unreachable: list[str],
    now: datetime,
) -> None:
    """The previous model is back: the job that brought the replaced one in is rolled back."""
    for job in session.scalars(select(RetrainJob).where(RetrainJob.model_file == replaced)):
        if job.state is RetrainState.ACTIVATED:
            job.state = RetrainState.ROLLED_BACK
            job.updated_at = now
    for job in session.scalars(select(RetrainJob).where(RetrainJob.model_file == restored)):
        if job.state is RetrainState.ROLLED_BACK:
            job.state = RetrainState.ACTIVATED
            job.updated_at = now
    session.add(
        AuditLog(
            actor=actor,
            action="nlu.model_rolled_back",
            target_type="nlu_model",
            target_id=restored[:50],
            details={
                "model": restored,
                "replaced": replaced,
                "servers": len(swapped),
                "not_reached": len(unreachable),
            },
            created_at=now,
        )
    )


def _finish(job: RetrainJob, state: RetrainState, *, now: datetime, error: str | None) -> None:
    job.state = state
    job.error = error[:ERROR_CHARS] if error else None
    job.progress = 100 if state is not RetrainState.FAILED else job.progress
    job.updated_at = now
    job.finished_at = now


def _tail(log: str, line: str) -> str:
    lines = [*log.splitlines(), line.replace("\r", " ")][-LOG_TAIL_LINES:]
    text = "\n".join(lines)
    return text[-LOG_TAIL_CHARS:]


def _audit(
    session: Session,
    *,
    actor: str,
    action: str,
    job: RetrainJob,
    details: dict[str, Any],
    now: datetime,
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            target_type="nlu_retrain_job",
            target_id=str(job.id),
            details=details,
            created_at=now,
        )
    )
