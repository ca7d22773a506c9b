"""Request plumbing shared by every page: login check, CSRF check, templates, security headers.

A page is a plain function `(request, page) -> Response` wrapped by `@login_required`; it runs in
a worker thread (the database and argon2 are blocking) inside one transaction per request.

Nothing reads a request body before it is known to be wanted: a POST's session and origin are
checked first, and `BodySizeLimit` refuses a body over its route's limit with 413 as it streams
in, with or without a Content-Length. `AdminApp` puts the security headers outside Starlette's
own error handling, so error pages (500 included) carry them too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin.auth import COOKIE_NAME, NotAllowed, Viewer, find_viewer, tokens_match
from admin.queries import waiting_query_count
from core.i18n import Translator, translator
from core.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

TEMPLATES_DIR = PROJECT_ROOT / "admin" / "templates"
STATIC_DIR = PROJECT_ROOT / "admin" / "static"

Clock = Callable[[], datetime]

# The most a request body may hold, unless its route says otherwise (`AdminApp(body_limits=…)`):
# the dashboard's forms are small (a reply is at most a few thousand characters).
DEFAULT_BODY_LIMIT = 64 * 1024
# Form fields and files Starlette will parse in one body.
MAX_FORM_FIELDS = 500
MAX_FORM_FILES = 1

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
    """Send anonymous visitors to /login; refuse a POST without the session's CSRF token.

    A POST's session and origin are checked before its body is read, so an anonymous or
    cross-site request never makes the server parse (or spool) anything.
    """

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        if request.method != "POST":
            return await run_in_threadpool(_serve, request, None, handler)
        refused = await run_in_threadpool(_refuse_before_body, request)
        if refused is not None:
            return refused
        form = await read_form(request)
        return await run_in_threadpool(_serve, request, form, handler)

    return endpoint


async def read_form(request: Request) -> FormData:
    """The POSTed form, with Starlette's part limits tightened to what the dashboard sends."""
    return await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)


def _refuse_before_body(request: Request) -> Response | None:
    """A response for a POST that must not be read (no session, another site), else None."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions.begin() as session:
        token = request.cookies.get(COOKIE_NAME)
        viewer = find_viewer(session, token=token, now=request.app.state.clock())
    if viewer is None:
        return redirect_to_login(request)
    if is_cross_site(request):
        return error_page(request, 403, viewer.tr._("Formulir kedaluwarsa. Muat ulang."))
    return None


def is_cross_site(request: HTTPConnection) -> bool:
    """Whether the browser says the form was sent from another site (checked before the body).

    Browsers send Sec-Fetch-Site and Origin with every POST; a request without them (a script,
    an old browser) still needs the CSRF token, checked once the body is read.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    # Host names only: a reverse proxy may change the port the dashboard sees.
    host = request.headers.get("host", "")
    return urlsplit(origin).hostname != urlsplit(f"//{host}").hostname


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


class BodySizeLimit:
    """Refuses a request body over its route's limit with 413, as it streams in.

    A Content-Length over the limit is refused before anything is read; a chunked body (no
    Content-Length) is counted as it arrives and refused the moment it passes the limit, so
    neither memory nor Starlette's spooled upload files grow past it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int = DEFAULT_BODY_LIMIT,
        limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(str(scope.get("path", "")), self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if started:
                raise
            await _too_large(scope, receive, send)


class _BodyTooLarge(Exception):
    """The body passed its limit while being read."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    log.info("refused a request body over the limit: %s %s", scope["method"], scope["path"])
    request = Request(scope, receive)
    message = translator(None)._("Isi kiriman terlalu besar.")
    response = error_page(request, 413, message)
    response.headers["connection"] = "close"  # the rest of the body is not wanted
    await response(scope, receive, send)


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 page (the error itself goes to the log, by Starlette)."""
    return error_page(request, 500, translator(None)._("Maaf, terjadi kesalahan. Coba lagi nanti."))


class AdminApp(Starlette):
    """The dashboard's Starlette app: security headers outermost, body limits, a 500 page."""

    def __init__(self, *, body_limits: Mapping[str, int] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("exception_handlers", {500: server_error})
        super().__init__(**kwargs)
        self.user_middleware.insert(0, Middleware(BodySizeLimit, limits=body_limits))

    def build_middleware_stack(self) -> ASGIApp:
        # Starlette's ServerErrorMiddleware is the outermost layer it builds: wrapping the whole
        # stack is the only way for its 500 responses to get the headers.
        return SecurityHeaders(super().build_middleware_stack())
