"""The dashboard's composition root: database, templates, middleware and the route table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from admin import directory_pages, inbox_pages, pages, retrain_pages, stage_pages
from admin.audit_pages import audit_log
from admin.import_pages import import_form, import_progress, import_upload
from admin.retraining import Retrainer, RetrainSetup
from admin.stats import CHARTS, stats_chart, stats_csv, stats_page
from admin.users_pages import create_user, list_users, set_password, update_user
from admin.web import STATIC_DIR, AdminApp, Clock, make_templates
from core.settings import PROJECT_ROOT, Settings
from programme.db import make_engine, make_session_factory
from programme.imports import MAX_UPLOAD_BYTES
from programme.models import utcnow

# The largest body each route takes (admin.web.BodySizeLimit); the others take 64 KiB.
# An upload's multipart framing adds a few hundred bytes to the file: 64 KiB leaves room.
BODY_LIMITS = {"/import": MAX_UPLOAD_BYTES + 64 * 1024}


def build_admin_app(
    settings: Settings, *, clock: Clock = utcnow, nlu_data_file: Path | None = None
) -> Starlette:
    """The dashboard as an ASGI app; its engine is disposed when the server shuts down."""
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.dispose()

    # Every route but /login and /static is wrapped in admin.web.login_required.
    routes = [
        Route("/", pages.home, methods=["GET"]),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/stats", stats_page, methods=["GET"]),
        Route("/stats.csv", stats_csv, methods=["GET"]),
        # One route per chart (no path parameter), so an unknown chart is the router's 404.
        *(Route(f"/stats/chart/{name}.svg", stats_chart, methods=["GET"]) for name in CHARTS),
        Route("/inbox", inbox_pages.inbox, methods=["GET"]),
        Route("/inbox/group", inbox_pages.group, methods=["GET"]),
        Route("/inbox/label", inbox_pages.label, methods=["POST"]),
        Route("/inbox/reply", inbox_pages.reply, methods=["POST"]),
        Route("/inbox/resolve", inbox_pages.resolve, methods=["POST"]),
        Route("/inbox/proposals", inbox_pages.proposals, methods=["GET"]),
        Route("/inbox/proposals/decide", inbox_pages.decide_proposal, methods=["POST"]),
        Route("/users", list_users, methods=["GET"]),
        Route("/users", create_user, methods=["POST"]),
        Route("/users/{user_id:int}/update", update_user, methods=["POST"]),
        Route("/users/{user_id:int}/password", set_password, methods=["POST"]),
        Route("/audit", audit_log, methods=["GET"]),
        Route("/families", directory_pages.families, methods=["GET"]),
        Route("/families.csv", directory_pages.families_csv, methods=["GET"]),
        Route("/kelompok", directory_pages.kelompok, methods=["GET"]),
        Route("/kelompok.csv", directory_pages.kelompok_csv, methods=["GET"]),
        Route("/pendamping", directory_pages.pendamping, methods=["GET"]),
        Route("/pendamping.csv", directory_pages.pendamping_csv, methods=["GET"]),
        Route("/pendamping/{pendamping_id:int}/link", directory_pages.issue_link, methods=["POST"]),
        Route(
            "/pendamping/{pendamping_id:int}/revoke",
            directory_pages.revoke_access,
            methods=["POST"],
        ),
        Route("/meetings", directory_pages.meetings, methods=["GET"]),
        Route("/meetings.csv", directory_pages.meetings_csv, methods=["GET"]),
        Route("/stages", stage_pages.stages_page, methods=["GET"]),
        Route("/stages/open", stage_pages.open_stage, methods=["POST"]),
        Route("/stages/close", stage_pages.close_stage, methods=["POST"]),
        Route("/import", import_form, methods=["GET"]),
        Route("/import", import_upload, methods=["POST"]),
        Route("/retrain", retrain_pages.retrain_page, methods=["GET"]),
        Route("/retrain", retrain_pages.start_retraining, methods=["POST"]),
        Route("/retrain/status", retrain_pages.retrain_status, methods=["GET"]),
        Route("/retrain/activate", retrain_pages.activate_model, methods=["POST"]),
        Route("/retrain/rollback", retrain_pages.roll_back_model, methods=["POST"]),
        Route("/import/{job_id}", import_progress, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = AdminApp(routes=routes, body_limits=BODY_LIMITS, lifespan=lifespan)
    app.state.sessions = make_session_factory(engine)
    app.state.templates = make_templates()
    app.state.clock = clock
    # Pendamping links (admin.directory_pages): signed with the secret key, written for the bot.
    app.state.invite_secret = (
        settings.secret_key.get_secret_value() if settings.secret_key else None
    )
    app.state.bot_username = settings.telegram_bot_username
    # Where the inbox's "Beri label" writes its training examples (tests pass a temporary file).
    app.state.nlu_data_file = nlu_data_file or PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
    # "Latih ulang model": trains in a background thread, swaps models on the NLU servers.
    app.state.retrainer = Retrainer(
        app.state.sessions, RetrainSetup.from_settings(settings), clock=clock
    )
    return app
