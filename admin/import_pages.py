"""The CSV import page: an admin uploads pendamping, kelompok, roster or payment-schedule files.

The import runs in a thread of its own, in a transaction of its own, so that a province's roster
does not hang on the request: the upload waits a few seconds for the report, and if the file is
still being imported it sends the browser to /import/<id>, which shows the rows done out of the
rows in the file and reloads itself until the report is there. An import and its report live in
the dashboard process that runs it, for an hour after it ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

from babel.numbers import format_decimal
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import require_admin
from admin.web import Page, error_page, login_required, render
from core.i18n import Translator, translator
from core.settings import get_settings
from programme.imports import (
    COLUMNS,
    MAX_UPLOAD_BYTES,
    ImportKind,
    ImportPhase,
    ImportReport,
    import_csv,
)
from programme.models import utcnow

log = logging.getLogger(__name__)

WAIT_FOR_REPORT = 3.0  # seconds the upload waits before showing the progress page instead
KEEP_FINISHED = timedelta(hours=1)
REFRESH_SECONDS = 2
_COPY_CHUNK = 1 << 20


@dataclass
class ImportJob:
    """One uploaded file being imported (or imported): its progress, then its report."""

    id: str
    kind: ImportKind
    filename: str
    started_at: datetime
    phase: ImportPhase = ImportPhase.CHECKING
    done: int = 0
    total: int | None = None
    report: ImportReport | None = None
    failed: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    finished_at: datetime | None = None

    def progress(self, phase: ImportPhase, done: int, total: int | None) -> None:
        self.phase, self.done, self.total = phase, done, total


class ImportJobs:
    """The imports of this dashboard process, by id (an unguessable token)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, ImportJob] = {}

    def new(self, kind: ImportKind, filename: str) -> ImportJob:
        now = utcnow()
        job = ImportJob(secrets.token_urlsafe(16), kind, filename, started_at=now)
        with self._lock:
            for old in [j for j in self._jobs.values() if _expired(j, now)]:
                del self._jobs[old.id]
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> ImportJob | None:
        with self._lock:
            return self._jobs.get(job_id)


def _expired(job: ImportJob, now: datetime) -> bool:
    return job.finished_at is not None and now - job.finished_at > KEEP_FINISHED


def _jobs(request: Request) -> ImportJobs:
    state = request.app.state
    if not hasattr(state, "import_jobs"):
        state.import_jobs = ImportJobs()
    jobs: ImportJobs = state.import_jobs
    return jobs


@login_required
def import_form(request: Request, page: Page) -> Response:
    """GET /import: choose what the file holds and upload it."""
    require_admin(page.viewer)
    return _import_page(request, page)


async def import_upload(request: Request) -> Response:
    """POST /import: check and import the file (a body far over the limit never gets here)."""
    response = await _start_import(request)
    job: ImportJob | None = getattr(request.state, "import_job", None)
    if job is None:
        return response
    if await asyncio.to_thread(job.finished.wait, WAIT_FOR_REPORT):
        return await _show_started_import(request)
    return RedirectResponse(f"/import/{job.id}", status_code=303)


@login_required
def import_progress(request: Request, page: Page) -> Response:
    """GET /import/<id>: how far the import is, reloading itself; then its report."""
    require_admin(page.viewer)
    job = _jobs(request).get(str(request.path_params["job_id"]))
    if job is None:
        message = page.viewer.tr._("Impor ini tidak ditemukan (hasilnya disimpan satu jam).")
        return error_page(request, 404, message, page=page)
    return _job_page(request, page, job)


@login_required
def _start_import(request: Request, page: Page) -> Response:
    require_admin(page.viewer)
    tr = page.viewer.tr
    assert page.form is not None  # login_required reads the form of every POST
    kind_value = str(page.form.get("kind", ""))
    upload = page.form.get("file")
    if kind_value not in ImportKind.__members__.values():
        return _import_page(request, page, error=tr._("Pilih jenis data."), status_code=400)
    kind = ImportKind(kind_value)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, page, kind, error=tr._("Pilih file CSV."), status_code=400)
    path = _copy_upload(upload.file)
    if path is None:
        return _too_large(request, page)
    job = _jobs(request).new(kind, upload.filename)
    secret = get_settings().secret_key
    worker = threading.Thread(
        target=_run_import,
        name=f"import-{kind.value}",
        args=(job, path, request.app.state.sessions),
        kwargs={
            "secret_key": secret.get_secret_value() if secret else "",
            "actor": f"admin:{page.viewer.username}",
            "now": page.now,
            "tr": tr,
        },
        daemon=True,
    )
    worker.start()
    request.state.import_job = job
    return Response(status_code=202)  # import_upload answers instead


@login_required
def _show_started_import(request: Request, page: Page) -> Response:
    require_admin(page.viewer)
    job: ImportJob = request.state.import_job
    return _job_page(request, page, job)


def _copy_upload(upload: IO[bytes]) -> str | None:
    """The uploaded file copied where the import's thread can read it (the request's copy goes
    with the request); None when it is over the limit."""
    handle, path = tempfile.mkstemp(prefix="pkh-import-", suffix=".csv")
    size = 0
    with os.fdopen(handle, "wb") as copy:
        while chunk := upload.read(_COPY_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                break
            copy.write(chunk)
    if size > MAX_UPLOAD_BYTES:
        os.unlink(path)
        return None
    return path


def _run_import(
    job: ImportJob,
    path: str,
    sessions: sessionmaker[Session],
    *,
    secret_key: str,
    actor: str,
    now: datetime,
    tr: Translator,
) -> None:
    """The import's thread: the whole file in one transaction, committed only if all is valid."""
    try:
        with open(path, "rb") as stream, sessions() as session:
            report = import_csv(
                session,
                kind=job.kind,
                data=stream,
                secret_key=secret_key,
                actor=actor,
                now=now,
                tr=tr,
                progress=job.progress,
            )
            if report.ok:
                session.commit()
            else:
                session.rollback()
        job.report = report
    except Exception:
        log.exception("import %s of a %s file failed", job.id, job.kind.value)
        job.failed = True
    finally:
        os.unlink(path)
        job.finished_at = utcnow()
        job.finished.set()


def _job_page(request: Request, page: Page, job: ImportJob) -> Response:
    tr = page.viewer.tr
    if not job.finished.is_set():
        response = _import_page(request, page, job.kind, job=job, filename=job.filename)
        response.headers["refresh"] = str(REFRESH_SECONDS)
        return response
    if job.failed or job.report is None:
        message = tr._("Impor gagal karena kesalahan sistem; tidak ada yang diimpor.")
        return error_page(request, 500, message, page=page)
    status = 200 if job.report.ok else 422
    return _import_page(
        request, page, job.kind, report=job.report, filename=job.filename, status_code=status
    )


def _import_page(
    request: Request,
    page: Page,
    kind: ImportKind | None = None,
    *,
    report: ImportReport | None = None,
    job: ImportJob | None = None,
    filename: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    locale = "id_ID" if page.viewer.language == "id" else page.viewer.language
    return render(
        request,
        "import.html",
        page=page,
        status_code=status_code,
        kinds=[(k.value, ", ".join(COLUMNS[k])) for k in ImportKind],
        kind=kind.value if kind else None,
        report=report,
        job=job,
        writing=job is not None and job.phase is ImportPhase.WRITING,
        filename=filename,
        error=error,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        number=lambda value: format_decimal(value, locale=locale),
    )


def _too_large(request: Request, page: Page) -> Response:
    return _import_page(request, page, error=_size_message(page.viewer.language), status_code=413)


def _size_message(language: str | None = None) -> str:
    mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    return translator(language)._(
        "File terlalu besar: paling besar {mb} MB. File yang lebih besar diimpor dengan "
        "perintah pkh import.",
        mb=mb,
    )
