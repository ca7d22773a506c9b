"""CSV files as Indonesian spreadsheets open them directly: `;`, UTF-8 with BOM, DD/MM/YYYY.

Excel and LibreOffice in an Indonesian locale use the comma as the decimal mark, so they split
columns on `;`; the byte-order mark makes them read UTF-8 (names with é, ñ…) instead of ANSI.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from starlette.responses import Response

BOM = "\ufeff"
SEPARATOR = ";"


def spreadsheet_date(day: date) -> str:
    """17/03/2025."""
    return day.strftime("%d/%m/%Y")


def spreadsheet_datetime(moment: datetime, time_zone: str) -> str:
    """17/03/2025 19:00, in the zone named (the viewer's)."""
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%d/%m/%Y %H:%M")


def spreadsheet_number(value: float, digits: int = 1) -> str:
    """12,5: the decimal comma an Indonesian spreadsheet reads as a number."""
    return f"{value:.{digits}f}".replace(".", ",")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The file's text, BOM first; a cell that starts like a formula is quoted as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return BOM + buffer.getvalue()


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[object]], filename: str
) -> Response:
    """A download of the rows as `filename`."""
    return Response(
        csv_text(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        raise TypeError("format datetimes with spreadsheet_datetime (they need a zone)")
    if isinstance(value, date):
        return spreadsheet_date(value)
    text = str(value)
    # A name typed as "=HYPERLINK(…)" must stay a name in the admin's spreadsheet.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True
