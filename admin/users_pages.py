"""The admins' account pages: list and create dashboard accounts, change them, set passwords."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin import users
from admin.auth import require_admin
from admin.passwords import MIN_PASSWORD_LENGTH
from admin.users import AccountRefused
from admin.web import Page, login_required, render
from core.i18n import LANGUAGES, Translator
from programme.models import TimeZone, UserRole

ROLES = (UserRole.ADMIN, UserRole.PENDAMPING)


@login_required
def list_users(request: Request, page: Page) -> Response:
    """GET /users: the dashboard accounts, the form for a new one, the bot's staff accounts."""
    require_admin(page.viewer)
    return _users_page(request, page, notice=_notice(page.viewer.tr, request.query_params))


@login_required
def create_user(request: Request, page: Page) -> Response:
    """POST /users: a new dashboard account."""
    require_admin(page.viewer)
    form = _fields(page)
    try:
        _same_passwords(form)
        role = _role(form.get("role", ""))
        users.create_user(
            page.session,
            username=form.get("username", ""),
            password=form.get("password", ""),
            role=role,
            pendamping_code=_pendamping_code(role, form),
            language=form.get("language", ""),
            time_zone=_time_zone(form.get("time_zone")) or TimeZone.WIB,
            actor=_actor(page),
        )
    except AccountRefused as refused:
        return _refused(request, page, refused, new_account=form)
    return RedirectResponse("/users?done=created", status_code=303)


@login_required
def update_user(request: Request, page: Page) -> Response:
    """POST /users/<id>/update: role, pendamping, language and whether the account is active."""
    require_admin(page.viewer)
    form = _fields(page)
    try:
        role = _role(form.get("role", ""))
        users.update_user(
            page.session,
            user_id=request.path_params["user_id"],
            role=role,
            pendamping_code=_pendamping_code(role, form),
            language=form.get("language", ""),
            is_active=form.get("active") == "on",
            changed_by=page.viewer.user_id,
            actor=_actor(page),
            time_zone=_time_zone(form.get("time_zone")),
        )
    except AccountRefused as refused:
        return _refused(request, page, refused)
    return RedirectResponse("/users?done=updated", status_code=303)


@login_required
def set_password(request: Request, page: Page) -> Response:
    """POST /users/<id>/password: a new password; the account's sessions end."""
    require_admin(page.viewer)
    form = _fields(page)
    try:
        _same_passwords(form)
        users.set_password(
            page.session,
            user_id=request.path_params["user_id"],
            password=form.get("password", ""),
            actor=_actor(page),
        )
    except AccountRefused as refused:
        return _refused(request, page, refused)
    return RedirectResponse("/users?done=password", status_code=303)


def _users_page(
    request: Request,
    page: Page,
    *,
    notice: str | None = None,
    error: str | None = None,
    new_account: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "users.html",
        page=page,
        status_code=status_code,
        accounts=users.list_accounts(page.session),
        pendamping=users.active_pendamping(page.session),
        telegram_staff=users.staff_telegram_accounts(page.session),
        roles=[role.value for role in ROLES],
        languages=LANGUAGES,
        time_zones=[zone.abbreviation for zone in TimeZone],
        min_password_length=MIN_PASSWORD_LENGTH,
        new_account=new_account or {"role": "pendamping", "language": "id"},
        notice=notice,
        error=error,
    )


def _refused(
    request: Request,
    page: Page,
    refused: AccountRefused,
    *,
    new_account: Mapping[str, str] | None = None,
) -> Response:
    # A refusal comes before any change; the form comes back without the passwords.
    kept = {k: v for k, v in (new_account or {}).items() if not k.startswith("password")}
    error = refusal_text(page.viewer.tr, refused.reason)
    status = 404 if refused.reason == "not_found" else 400
    return _users_page(request, page, error=error, new_account=kept or None, status_code=status)


def _fields(page: Page) -> dict[str, str]:
    assert page.form is not None
    return {key: value for key, value in page.form.items() if isinstance(value, str)}


def _same_passwords(form: Mapping[str, str]) -> None:
    if form.get("password", "") != form.get("password_again", ""):
        raise AccountRefused("the passwords differ", reason="passwords_differ")


def _role(value: str) -> UserRole:
    try:
        return UserRole(value)
    except ValueError:
        raise AccountRefused("the role must be admin or pendamping", reason="role") from None


def _time_zone(value: str | None) -> TimeZone | None:
    """WIB, WITA or WIT from the form; None when the form has no zone (it stays as it was)."""
    if value is None:
        return None
    if value not in TimeZone.__members__:
        raise AccountRefused("the time zone must be WIB, WITA or WIT", reason="time_zone")
    return TimeZone[value]


def _pendamping_code(role: UserRole, form: Mapping[str, str]) -> str | None:
    # The form always has the pendamping list (no script hides it); an admin has none.
    return (form.get("pendamping") or None) if role is UserRole.PENDAMPING else None


def _actor(page: Page) -> str:
    return f"admin:{page.viewer.username}"


def _notice(tr: Translator, query: Mapping[str, str]) -> str | None:
    match query.get("done"):
        case "created":
            return tr._("Akun dibuat.")
        case "updated":
            return tr._("Akun diubah.")
        case "password":
            return tr._("Kata sandi diganti; sesi akun itu sudah diakhiri.")
    return None


def refusal_text(tr: Translator, reason: str) -> str:
    """Why an account was not created or changed, in the viewer's language."""
    match reason:
        case "username_format":
            return tr._(
                "Nama pengguna 3–64 karakter: huruf, angka, '.', '_' atau '-', "
                "diawali huruf atau angka."
            )
        case "username_taken":
            return tr._("Nama pengguna itu sudah dipakai.")
        case "password_short":
            return tr._("Kata sandi minimal {count} karakter.", count=MIN_PASSWORD_LENGTH)
        case "passwords_differ":
            return tr._("Kedua kata sandi tidak sama.")
        case "code_missing":
            return tr._("Akun pendamping perlu kode pendamping.")
        case "code_unknown":
            return tr._("Tidak ada pendamping aktif dengan kode itu.")
        case "admin_with_code":
            return tr._("Hanya akun pendamping yang punya kode pendamping.")
        case "self":
            return tr._("Anda tidak bisa menonaktifkan atau menurunkan peran akun sendiri.")
        case "last_admin":
            return tr._("Admin aktif terakhir harus tetap admin yang aktif.")
        case "not_found":
            return tr._("Akun tidak ditemukan.")
    return tr._("Pilihan tidak sah.")
