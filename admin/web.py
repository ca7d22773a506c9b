"""Request plumbing shared by every page: login check, CSRF check, templates, security headers.

A page is a plain function `(request, page) -> Response` wrapped by `@login_required`; it runs in
a worker thread (the database and argon2 are blocking) inside one transaction per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin.auth import COOKIE_NAME, NotAllowed, Viewer, find_viewer, tokens_match
from admin.queries import waiting_query_count
from core.i18n import Translator, translator
from core.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "admin" / "templates"
STATIC_DIR = PROJECT_ROOT / "admin" / "static"

Clock = Callable[[], datetime]

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


def make_templates() -> Jinja2Templates:
    """Templates with autoescaping on everywhere, so shown text can never become markup."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


@dataclass(frozen=True)
class Page:
    """What a page handler gets: the viewer, their transaction, the form (POST) and the time."""

    viewer: Viewer
    session: Session
    form: FormData | None
    now: datetime


PageHandler = Callable[[Request, Page], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def login_required(handler: PageHandler) -> Endpoint:
    """Send anonymous visitors to /login; refuse a POST without the session's CSRF token."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(_serve, request, form, handler)

    return endpoint


def _serve(request: Request, form: FormData | None, handler: PageHandler) -> Response:
    sessions: sessionmaker[Session] = request.app.state.sessions
    now = request.app.state.clock()
    with sessions.begin() as session:
        viewer = find_viewer(session, token=request.cookies.get(COOKIE_NAME), now=now)
        if viewer is None:
            return redirect_to_login(request)
        if form is not None and not tokens_match(viewer.csrf_token, form.get("csrf_token")):
            return error_page(request, 403, viewer.tr._("Formulir kedaluwarsa. Muat ulang."))
        page = Page(viewer=viewer, session=session, form=form, now=now)
        try:
            return handler(request, page)
        except NotAllowed:
            return error_page(
                request, 403, viewer.tr._("Halaman ini hanya untuk admin."), page=page
            )


def redirect_to_login(request: Request) -> RedirectResponse:
    # Only a page can be gone back to: a form posted without a session starts again from home.
    target = "/"
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def safe_next(value: object) -> str:
    """Where to go after logging in: only a path on this site (never //host or a scheme)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(char) < 32 for char in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def render(
    request: Request,
    template: str,
    *,
    page: Page | None = None,
    tr: Translator | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a template in the viewer's language; a logged-in page gets the layout's figures."""
    values: dict[str, Any] = dict(context)
    if page is not None:
        tr = page.viewer.tr
        values.update(
            viewer=page.viewer,
            csrf_token=page.viewer.csrf_token,
            # Computed once per request, shown in the layout of every page.
            waiting_count=waiting_query_count(page.session, scope=page.viewer.scope),
        )
    else:
        values.setdefault("viewer", None)
    tr = tr or translator(None)
    values.update(_=tr._, language=tr.language)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def error_page(
    request: Request, status_code: int, message: str, *, page: Page | None = None
) -> Response:
    return render(request, "error.html", page=page, status_code=status_code, message=message)


class SecurityHeaders:
    """Adds the security headers (and no-store for pages) to every response."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] = SECURITY_HEADERS) -> None:
        self.app = app
        self.headers = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.headers)
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
