"""The payment stages page: each window's state today, and opening or closing a stage for a region.

Opening and closing call programme.stages, as `pkh stage open` / `pkh stage close` do, so the
families are told the same way and the audit log gets the same row. Admins only.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import require_admin
from admin.web import Page, login_required, render
from core.i18n import Translator
from programme import directory, stages
from programme.payments import WindowState, local_date


@login_required
def stages_page(request: Request, page: Page) -> Response:
    """GET /stages?year=YYYY."""
    require_admin(page.viewer)
    year = _year(request.query_params.get("year", ""), page)
    tr = page.viewer.tr
    notices = {
        "opened": tr._("Tahap dibuka untuk wilayah itu; keluarga di sana diberi tahu."),
        "closed": tr._("Tahap ditutup untuk wilayah itu."),
    }
    return _page(request, page, year, notice=notices.get(request.query_params.get("done", "")))


@login_required
def open_stage(request: Request, page: Page) -> Response:
    """POST /stages/open: stage, region, channel (optional), until (optional)."""
    require_admin(page.viewer)
    return _change(request, page, opening=True)


@login_required
def close_stage(request: Request, page: Page) -> Response:
    """POST /stages/close: stage, region, channel (optional)."""
    require_admin(page.viewer)
    return _change(request, page, opening=False)


def state_name(tr: Translator, state: WindowState) -> str:
    return {
        WindowState.UPCOMING: tr._("Akan datang"),
        WindowState.RUNNING: tr._("Sedang berjalan"),
        WindowState.FINISHED: tr._("Sudah selesai"),
        WindowState.CLOSED: tr._("Ditutup petugas"),
    }[state]


def _change(request: Request, page: Page, *, opening: bool) -> Response:
    tr = page.viewer.tr
    assert page.form is not None
    fields = {key: str(page.form.get(key, "")).strip() for key in ("stage", "region", "channel")}
    until_text = str(page.form.get("until", "")).strip()
    year_text, _, number_text = fields["stage"].partition("-")
    if not (year_text.isdigit() and number_text.isdigit() and len(fields["stage"]) <= 10):
        return _refused(request, page, tr._("Pilih tahapnya."))
    until: date | None = None
    if opening and until_text:
        try:
            until = date.fromisoformat(until_text)
        except ValueError:
            return _refused(request, page, tr._("Tanggal ditulis TTTT-BB-HH."))
    year, stage_no = int(year_text), int(number_text)
    channel = fields["channel"] or None
    actor = f"admin:{page.viewer.username}"
    try:
        with page.session.begin_nested():  # a refused change leaves nothing behind
            if opening:
                stages.open_stage(
                    page.session,
                    year=year,
                    stage_no=stage_no,
                    region_code=fields["region"],
                    channel_code=channel,
                    now=page.now,
                    actor=actor,
                    until=until,
                )
            else:
                stages.close_stage(
                    page.session,
                    year=year,
                    stage_no=stage_no,
                    region_code=fields["region"],
                    channel_code=channel,
                    now=page.now,
                    actor=actor,
                )
    except ValueError:
        return _refused(
            request,
            page,
            tr._("Tahap, wilayah, saluran atau tanggal itu tidak dikenal atau tidak cocok."),
            year=year,
        )
    done = "opened" if opening else "closed"
    return RedirectResponse("/stages?" + urlencode({"year": year, "done": done}), status_code=303)


def _refused(request: Request, page: Page, error: str, *, year: int | None = None) -> Response:
    return _page(request, page, year or _year("", page), error=error, status_code=400)


def _page(
    request: Request,
    page: Page,
    year: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "stages.html",
        page=page,
        status_code=status_code,
        year=year,
        years=directory.stage_years(page.session),
        windows=directory.stage_windows(page.session, year=year, now=page.now),
        choices=directory.stage_choices(page.session, year=year),
        regions=directory.region_choices(page.session),
        channels=directory.channel_choices(page.session),
        state_name=state_name,
        notice=notice,
        error=error,
    )


def _year(value: str, page: Page) -> int:
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) == 4:
        return int(value)
    return local_date(page.now, page.viewer.time_zone).year
