"""The dashboard's composition root: database, templates, middleware and the route table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from admin import pages
from admin.web import STATIC_DIR, Clock, SecurityHeaders, make_templates
from pkh.settings import Settings
from programme.db import make_engine, make_session_factory
from programme.models import utcnow


def build_admin_app(settings: Settings, *, clock: Clock = utcnow) -> Starlette:
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
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.sessions = make_session_factory(engine)
    app.state.templates = make_templates()
    app.state.clock = clock
    return app
