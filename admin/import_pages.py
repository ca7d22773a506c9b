"""The CSV import page: an admin uploads pendamping, kelompok, roster or payment-schedule files."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from admin.auth import require_admin
from admin.web import Page, error_page, login_required, render
from core.i18n import translator
from core.settings import get_settings
from programme.imports import COLUMNS, MAX_UPLOAD_BYTES, ImportKind, ImportReport, import_csv

# Multipart framing around the file adds a few hundred bytes; this leaves room for it.
_MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


@login_required
def import_form(request: Request, page: Page) -> Response:
    """GET /import: choose what the file holds and upload it."""
    require_admin(page.viewer)
    return _import_page(request, page)


@login_required
def _run_import(request: Request, page: Page) -> Response:
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
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _too_large(request, page)
    secret = get_settings().secret_key
    report = import_csv(
        page.session,
        kind=kind,
        data=data,
        secret_key=secret.get_secret_value() if secret else "",
        actor=f"admin:{page.viewer.username}",
        now=page.now,
        tr=tr,
    )
    status = 200 if report.ok else 422
    return _import_page(
        request, page, kind, report=report, filename=upload.filename, status_code=status
    )


async def import_upload(request: Request) -> Response:
    """POST /import: refuse a body over the limit before reading it, then check and import."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > _MAX_BODY_BYTES:
        return error_page(request, 413, _size_message())
    return await _run_import(request)


def _import_page(
    request: Request,
    page: Page,
    kind: ImportKind | None = None,
    *,
    report: ImportReport | None = None,
    filename: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "import.html",
        page=page,
        status_code=status_code,
        kinds=[(k.value, ", ".join(COLUMNS[k])) for k in ImportKind],
        kind=kind.value if kind else None,
        report=report,
        filename=filename,
        error=error,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


def _too_large(request: Request, page: Page) -> Response:
    return _import_page(request, page, error=_size_message(page.viewer.language), status_code=413)


def _size_message(language: str | None = None) -> str:
    mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    return translator(language)._("File terlalu besar: paling besar {mb} MB.", mb=mb)
