"""Money, dates and times the Indonesian way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from core import formatting


def test_rupiah_has_dots_and_no_decimals() -> None:
    assert formatting.rupiah(Decimal(1500000)) == "Rp1.500.000"
    assert formatting.rupiah(225000) == "Rp225.000"


def test_long_date_names_the_day_in_indonesian() -> None:
    assert formatting.long_date(date(2025, 7, 14)) == "Senin, 14 Juli 2025"
    assert formatting.long_date(date(2026, 5, 1)) == "Jumat, 1 Mei 2026"


def test_time_is_shown_in_the_place_own_zone_with_its_abbreviation() -> None:
    moment = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert formatting.local_time(moment, "Asia/Jakarta") == "08.00 WIB"
    assert formatting.local_time(moment, "Asia/Makassar") == "09.00 WITA"
    assert formatting.local_time(moment, "Asia/Jayapura") == "10.00 WIT"


def test_ranges_of_months_and_dates() -> None:
    assert formatting.month_range(7, 9) == "Juli–September"
    assert formatting.date_range(date(2025, 7, 14), date(2025, 7, 25)) == "14–25 Juli 2025"
    assert formatting.date_range(date(2025, 7, 28), date(2025, 8, 8)) == "28 Juli – 8 Agustus 2025"
