"""The dashboard's pages: log in, log out, home."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import (
    COOKIE_NAME,
    SESSION_LIFETIME,
    authenticate,
    end_session,
    find_viewer,
    new_token,
    start_session,
    tokens_match,
)
from admin.queries import home_numbers, newest_waiting_queries
from admin.web import (
    Page,
    error_page,
    is_cross_site,
    login_required,
    read_form,
    render,
    safe_next,
)
from core.i18n import Translator, translator

# Before there is a session, the login form's CSRF token is a double-submit cookie.
LOGIN_CSRF_COOKIE = "pkh_login_csrf"


async def login_form(request: Request) -> Response:
    """GET /login: the form (or home, when already logged in)."""
    if await run_in_threadpool(_is_logged_in, request):
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request, next_path=safe_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    """POST /login: check the password, open a session, go where the visitor was going."""
    expired = translator(None)._("Formulir kedaluwarsa. Muat ulang.")
    # No form cookie, or another site's form: refused before the body is read.
    if not request.cookies.get(LOGIN_CSRF_COOKIE) or is_cross_site(request):
        return error_page(request, 403, expired)
    form = await read_form(request)
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf_token")):
        return error_page(request, 403, expired)
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: FormData) -> Response:
    tr = translator(None)
    username = str(form.get("username", ""))
    next_path = safe_next(form.get("next"))
    sessions: sessionmaker[Session] = request.app.state.sessions
    now = request.app.state.clock()
    with sessions.begin() as session:
        result = authenticate(
            session,
            username=username,
            password=str(form.get("password", "")),
            client=request.client.host if request.client else None,
            now=now,
        )
        if result.wait is not None:
            error = _wait_message(tr, result.wait)
            response = _login_page(request, next_path, username=username, error=error, status=429)
            response.headers["retry-after"] = str(math.ceil(result.wait.total_seconds()))
            return response
        if result.user is None:
            error = tr._("Nama pengguna atau kata sandi salah.")
            return _login_page(request, next_path, username=username, error=error, status=401)
        token = start_session(session, user=result.user, now=now)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def _wait_message(tr: Translator, wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return tr._("Terlalu banyak percobaan. Tunggu {seconds} detik.", seconds=seconds)
    minutes = math.ceil(seconds / 60)
    return tr._("Terlalu banyak percobaan. Tunggu {minutes} menit.", minutes=minutes)


def _login_page(
    request: Request,
    next_path: str,
    *,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    csrf_token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response = render(
        request,
        "login.html",
        status_code=status,
        csrf_token=csrf_token,
        next_path=next_path,
        username=username,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf_token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _is_logged_in(request: Request) -> bool:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions.begin() as session:
        token = request.cookies.get(COOKIE_NAME)
        return find_viewer(session, token=token, now=request.app.state.clock()) is not None


@login_required
def logout(request: Request, page: Page) -> Response:
    """POST /logout: the session row goes, and so does the cookie."""
    end_session(page.session, token=request.cookies[COOKIE_NAME])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response


@login_required
def home(request: Request, page: Page) -> Response:
    """GET /: the figures that say what needs doing, and the newest waiting questions."""
    scope = page.viewer.scope
    return render(
        request,
        "home.html",
        page=page,
        numbers=home_numbers(page.session, scope=scope, now=page.now),
        newest=newest_waiting_queries(page.session, scope=scope),
    )
