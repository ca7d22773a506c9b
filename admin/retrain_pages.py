"""The admins' "Latih ulang model" page: start a training, follow it, compare, activate, restore."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from admin.auth import require_admin
from admin.retraining import ActivationRefused, Retrainer
from admin.web import Page, login_required, render
from core.i18n import Translator
from nlu.retrain import ModelComparison
from nlu.topics import topic_name
from nlu.trainingdata import load_examples
from programme import retraining
from programme.models import RetrainJob, RetrainState


@login_required
def retrain_page(request: Request, page: Page) -> Response:
    """GET /retrain[?job=N]: the active model, the newest (or chosen) job, the jobs before."""
    require_admin(page.viewer)
    return _retrain_page(request, page, notice=_notice(page.viewer.tr, request.query_params))


@login_required
def start_retraining(request: Request, page: Page) -> Response:
    """POST /retrain: a new job, trained in the background."""
    require_admin(page.viewer)
    try:
        job = _retrainer(request).start(page.session, requested_by=_actor(page))
    except retraining.JobRunning as running:
        error = page.viewer.tr._("Pelatihan lain masih berjalan; tunggu sampai selesai.")
        return _retrain_page(request, page, error=error, chosen=running.job, status_code=409)
    return RedirectResponse(f"/retrain?job={job.id}", status_code=303)


@login_required
def retrain_status(request: Request, page: Page) -> Response:
    """GET /retrain/status?job=N: the job's progress as JSON (the page polls it while it runs)."""
    require_admin(page.viewer)
    job = _job(page, request.query_params.get("job", ""))
    if job is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse(
        {
            "state": job.state.value,
            "state_text": state_text(page.viewer.tr, job.state),
            "running": job.state in retraining.RUNNING,
            "progress": job.progress,
            "log": job.log_tail,
        }
    )


@login_required
def activate_model(request: Request, page: Page) -> Response:
    """POST /retrain/activate: the job's model on every NLU server, if confirmed and not worse."""
    require_admin(page.viewer)
    form = page.form
    assert form is not None
    job = _job(page, str(form.get("job", "")))
    if job is None:
        return _retrain_page(request, page, error=refusal_text(page.viewer.tr, "not_found"))
    try:
        activation = _retrainer(request).activate(
            page.session, job.id, actor=_actor(page), confirmed=form.get("confirm") == "yes"
        )
    except ActivationRefused as refused:
        # The refusal's audit entry is written in this request's transaction: keep it.
        error = refusal_text(page.viewer.tr, refused.reason, job=job)
        return _retrain_page(request, page, error=error, chosen=job, status_code=409)
    query = {"job": job.id, "done": "activated", "missed": len(activation.unreachable)}
    return RedirectResponse(f"/retrain?{urlencode(query)}", status_code=303)


@login_required
def roll_back_model(request: Request, page: Page) -> Response:
    """POST /retrain/rollback: the previous model back on every NLU server."""
    require_admin(page.viewer)
    try:
        activation = _retrainer(request).roll_back(page.session, actor=_actor(page))
    except ActivationRefused as refused:
        error = refusal_text(page.viewer.tr, refused.reason)
        return _retrain_page(request, page, error=error, status_code=409)
    query = {"done": "rolled_back", "missed": len(activation.unreachable)}
    return RedirectResponse(f"/retrain?{urlencode(query)}", status_code=303)


def _retrain_page(
    request: Request,
    page: Page,
    *,
    notice: str | None = None,
    error: str | None = None,
    chosen: RetrainJob | None = None,
    status_code: int = 200,
) -> Response:
    retrainer = _retrainer(request)
    running = retraining.running_job(page.session, now=page.now)
    jobs = retraining.recent_jobs(page.session)
    job = chosen or _job(page, request.query_params.get("job", "")) or (jobs[0] if jobs else None)
    comparison = (
        ModelComparison.from_json(job.comparison) if job is not None and job.comparison else None
    )
    tr = page.viewer.tr
    return render(
        request,
        "retrain.html",
        page=page,
        status_code=status_code,
        active=retrainer.active(),
        running=running,
        job=job,
        jobs=jobs,
        comparison=comparison,
        reviewed_count=_reviewed_count(retrainer),
        running_states=retraining.RUNNING,
        ready=RetrainState.READY,
        state_text=lambda state: state_text(tr, state),
        set_name=lambda name: set_name(tr, name),
        topic=lambda intent: topic_name(intent, tr),
        requester=lambda actor: requester_name(tr, actor),
        notice=notice,
        error=error,
    )


def _retrainer(request: Request) -> Retrainer:
    retrainer: Retrainer = request.app.state.retrainer
    return retrainer


def _job(page: Page, value: str) -> RetrainJob | None:
    return retraining.find_job(page.session, int(value)) if value.isdigit() else None


def _reviewed_count(retrainer: Retrainer) -> int:
    """Examples the inbox has added to the training data (data/nlu/reviewed.yml)."""
    reviewed = retrainer.setup.data / "reviewed.yml"
    return len(load_examples(reviewed)) if reviewed.is_file() else 0


def _actor(page: Page) -> str:
    return f"admin:{page.viewer.username}"


def _notice(tr: Translator, query: Mapping[str, str]) -> str | None:
    missed = int(query["missed"]) if query.get("missed", "").isdigit() else 0
    match query.get("done"):
        case "activated":
            text = tr._("Model baru aktif di semua server NLU yang berjalan.")
        case "rolled_back":
            text = tr._("Model sebelumnya dipulihkan di semua server NLU yang berjalan.")
        case _:
            return None
    if missed:
        text += " " + tr._(
            "{count} server NLU tidak menjawab; server itu memakai model ini saat dinyalakan.",
            count=missed,
        )
    return text


def refusal_text(tr: Translator, reason: str, *, job: RetrainJob | None = None) -> str:
    """Why a model was not activated or restored, in the viewer's language."""
    match reason:
        case "worse":
            comparison = (
                ModelComparison.from_json(job.comparison) if job and job.comparison else None
            )
            sets = ", ".join(
                set_name(tr, name) for name in (comparison.worse_on if comparison else [])
            )
            return tr._("Model baru lebih buruk pada {sets}; model tidak diaktifkan.", sets=sets)
        case "not_confirmed":
            return tr._("Centang konfirmasi dulu untuk mengaktifkan model baru.")
        case "not_ready":
            return tr._("Model ini tidak (lagi) bisa diaktifkan.")
        case "outdated":
            return tr._(
                "Model aktif sudah berganti sejak perbandingan ini dibuat; latih ulang dulu."
            )
        case "missing":
            return tr._("Berkas model ini sudah tidak ada.")
        case "server":
            return tr._(
                "Server NLU gagal memuat model; semua server tetap memakai model sebelumnya."
            )
        case "nothing_to_restore":
            return tr._("Tidak ada model sebelumnya untuk dipulihkan.")
    return tr._("Pelatihan tidak ditemukan.")


def requester_name(tr: Translator, actor: str) -> str:
    """Who started a job: a dashboard account's name, or the command line."""
    if actor.startswith("admin:"):
        return actor.removeprefix("admin:")
    return tr._("baris perintah") if actor == "cli" else actor


def state_text(tr: Translator, state: RetrainState) -> str:
    match state:
        case RetrainState.QUEUED:
            return tr._("Menunggu giliran")
        case RetrainState.TRAINING:
            return tr._("Melatih model")
        case RetrainState.EVALUATING:
            return tr._("Membandingkan dengan model aktif")
        case RetrainState.READY:
            return tr._("Siap diaktifkan")
        case RetrainState.WORSE:
            return tr._("Lebih buruk, tidak bisa diaktifkan")
        case RetrainState.UNCHANGED:
            return tr._("Tidak ada data baru sejak model aktif")
        case RetrainState.FAILED:
            return tr._("Gagal")
        case RetrainState.ACTIVATED:
            return tr._("Diaktifkan")
        case RetrainState.ROLLED_BACK:
            return tr._("Diganti kembali ke model sebelumnya")
    return state.value


def set_name(tr: Translator, name: str) -> str:
    match name:
        case "dev":
            return tr._("set pengembangan (dev)")
        case "test":
            return tr._("set uji (test)")
    return name
