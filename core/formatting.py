"""Money, dates and times the Indonesian way (Babel), in one place.

`Rp1.500.000`, `Senin, 14 Juli 2025`, `09.00 WITA`, `Juli–September`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_month_names
from babel.numbers import format_decimal

DEFAULT_LOCALE = "id_ID"

TIME_ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def rupiah(amount: Decimal | int, locale: str = DEFAULT_LOCALE) -> str:
    """`Rp1.500.000`: whole rupiah, no decimals, no space ("Rp1,500,000" in English, not "IDR")."""
    return format_decimal(Decimal(amount), format="Rp#,##0", locale=locale)


def long_date(day: date, locale: str = DEFAULT_LOCALE) -> str:
    """`Senin, 14 Juli 2025`; `Jumat, 1 Mei 2026` (CLDR's "full" would write 01)."""
    return format_date(day, "EEEE, d MMMM y", locale=locale)


def short_date(day: date, locale: str = DEFAULT_LOCALE) -> str:
    """`14 Juli 2025`."""
    return format_date(day, "d MMMM y", locale=locale)


def local_time(moment: datetime, time_zone: str, locale: str = DEFAULT_LOCALE) -> str:
    """`09.00 WITA`: the time in the place's own zone, with its abbreviation."""
    local = moment.astimezone(ZoneInfo(time_zone))
    pattern = "HH.mm" if locale.startswith("id") else "HH:mm"
    abbreviation = TIME_ZONE_ABBREVIATIONS.get(time_zone, local.tzname() or "")
    return f"{format_time(local, pattern, locale=locale)} {abbreviation}".strip()


def local_datetime(moment: datetime, time_zone: str, locale: str = DEFAULT_LOCALE) -> str:
    """`Sabtu, 28 November 2026, 09.00 WITA`."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return f"{long_date(local.date(), locale)}, {local_time(moment, time_zone, locale)}"


def month_name(month: int, locale: str = DEFAULT_LOCALE) -> str:
    """`Juli`."""
    return str(get_month_names("wide", locale=locale)[month])


def month_range(first: int, last: int, locale: str = DEFAULT_LOCALE) -> str:
    """`Juli–September`, or one month's name when first == last."""
    if first == last:
        return month_name(first, locale)
    return f"{month_name(first, locale)}–{month_name(last, locale)}"


def date_range(first: date, last: date, locale: str = DEFAULT_LOCALE) -> str:
    """`14–25 Juli 2025`, `28 Juli – 8 Agustus 2025`, or one date."""
    if first == last:
        return short_date(first, locale)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{short_date(last, locale)}"
    if first.year == last.year:
        return f"{format_date(first, 'd MMMM', locale=locale)} – {short_date(last, locale)}"
    return f"{short_date(first, locale)} – {short_date(last, locale)}"
