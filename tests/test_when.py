"""Reading the date and time of a meeting from what a pendamping types in Indonesian."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.when import ParsedWhen, WhenProblem, parse_when

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=WITA)  # Monday 23 November 2026, 10.00 WITA


def when(text: str, *, now: datetime = NOW, tz: ZoneInfo = WITA) -> ParsedWhen:
    return parse_when(text, now=now, tz=tz)


def at(text: str, *, now: datetime = NOW, tz: ZoneInfo = WITA) -> datetime | None:
    """The moment understood, after checking that nothing is wrong with it."""
    result = when(text, now=now, tz=tz)
    assert result.problem is None, result
    return result.at


def local(month: int, day: int, hour: int, minute: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WITA)


# --- The cases the bot must get right ------------------------------------------------------


def test_besok_jam_9_is_tomorrow_at_nine() -> None:
    assert at("besok jam 9") == local(11, 24, 9)


def test_a_day_name_with_a_24_hour_time_is_the_coming_saturday() -> None:
    assert at("Sabtu 14.00") == local(11, 28, 14)


def test_a_day_and_month_already_past_this_year_is_next_year() -> None:
    assert at("14/7 pukul 09.30") == local(7, 14, 9, 30, year=2027)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sabtu jam 2 siang", local(11, 28, 14)),
        ("lusa jam 10 pagi", local(11, 25, 10)),
        ("rabu jam 7 malam", local(11, 25, 19)),
        ("jumat jam 4 sore", local(11, 27, 16)),
    ],
)
def test_the_part_of_the_day_says_morning_or_afternoon(text: str, expected: datetime) -> None:
    assert at(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28 november jam 9", local(11, 28, 9)),
        ("2 desember 10.00", local(12, 2, 10)),
        ("tgl 2 des jam 9 pagi", local(12, 2, 9)),
        ("Sabtu, 28 Nov 2026 pukul 14:00", local(11, 28, 14)),
        ("tanggal 1 agt jam 9", local(8, 1, 9, year=2027)),
        ("28 nop. pkl. 09.00", local(11, 28, 9)),
        ("tgl.2 des pkl.09.00", local(12, 2, 9)),
    ],
)
def test_month_names_and_their_abbreviations_are_read(text: str, expected: datetime) -> None:
    assert at(text) == expected


def test_senin_depan_on_a_monday_is_the_monday_of_next_week() -> None:
    assert at("senin depan jam 8") == local(11, 30, 8)


def test_only_a_time_already_gone_today_is_tomorrow() -> None:
    assert at("jam 9") == local(11, 24, 9)


def test_only_a_time_still_ahead_today_is_today() -> None:
    assert at("jam 15") == local(11, 23, 15)


def test_a_day_without_a_time_asks_for_the_time_and_keeps_the_day_at_midnight() -> None:
    assert when("Sabtu") == ParsedWhen(local(11, 28, 0), WhenProblem.NO_TIME)


@pytest.mark.parametrize("text", ["halo", "", "   ", "kapan kapan", "ok siap bu"])
def test_text_without_a_date_or_time_is_not_understood(text: str) -> None:
    assert when(text) == ParsedWhen(None, WhenProblem.NOT_UNDERSTOOD)


def test_yesterday_is_in_the_past_and_says_when_it_was() -> None:
    assert when("kemarin jam 9") == ParsedWhen(local(11, 22, 9), WhenProblem.IN_THE_PAST)


def test_hour_25_is_not_understood() -> None:
    assert when("jam 25").problem is WhenProblem.NOT_UNDERSTOOD


def test_a_date_years_ahead_is_too_far() -> None:
    assert when("14/7/2030 jam 9") == ParsedWhen(local(7, 14, 9, year=2030), WhenProblem.TOO_FAR)


# --- Time zones ----------------------------------------------------------------------------


def test_now_in_utc_gives_the_same_answer_as_now_in_local_time() -> None:
    now_in_utc = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10.00 WITA
    for text in ["besok jam 9", "Sabtu 14.00", "jam 9", "jam 15", "Sabtu", "kemarin jam 9"]:
        assert when(text, now=now_in_utc) == when(text), text


def test_relative_words_count_from_the_local_date_not_the_utc_date() -> None:
    # 17.00 UTC on the 23rd is already 01.00 on Tuesday the 24th in Makassar.
    now_in_utc = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert at("besok jam 9", now=now_in_utc) == local(11, 25, 9)
    assert at("jam 9", now=now_in_utc) == local(11, 24, 9)


def test_the_result_is_in_the_group_zone() -> None:
    in_papua = at("besok jam 9", tz=WIT)
    assert in_papua == datetime(2026, 11, 24, 9, 0, tzinfo=WIT)
    assert in_papua is not None
    assert in_papua.tzinfo == WIT
    assert in_papua.utcoffset() == timedelta(hours=9)


def test_the_same_words_in_jakarta_mean_an_earlier_utc_moment_than_in_makassar() -> None:
    in_jakarta = at("besok jam 9", tz=WIB)
    assert in_jakarta is not None
    assert in_jakarta.utcoffset() == timedelta(hours=7)
    assert in_jakarta - local(11, 24, 9) == timedelta(hours=1)


def test_a_time_written_in_another_zone_is_converted_to_the_group_zone() -> None:
    assert at("besok jam 9 WIB") == local(11, 24, 10)
    assert at("besok pukul 09.00 WIT") == local(11, 24, 8)
    assert at("besok jam 9 wita") == local(11, 24, 9)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("besok jam 9", now=datetime(2026, 11, 23, 10, 0), tz=WITA)


# --- Times of day --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("jam 9", 9, 0),
        ("pukul 9", 9, 0),
        ("jam 09.30", 9, 30),
        ("pukul 9:30", 9, 30),
        ("14.00", 14, 0),
        ("14:00", 14, 0),
        ("9.30", 9, 30),
        ("jam9", 9, 0),
        ("9 pagi", 9, 0),
        ("jam 9 lewat 15", 9, 15),
        ("jam 9 lewat 15 menit", 9, 15),
        ("setengah 10", 9, 30),
        ("jam setengah 10 pagi", 9, 30),
        ("setengah 3 sore", 14, 30),
        ("jam 11 siang", 11, 0),
        ("jam 12 siang", 12, 0),
        ("jam 1 siang", 13, 0),
        ("jam 3 sore", 15, 0),
        ("jam 4 sore", 16, 0),
        ("jam 7 malam", 19, 0),
        ("jam 19.30 malam", 19, 30),
        ("jam 14 siang", 14, 0),
        ("besok pagi jam 8", 8, 0),
        ("besok siang jam 1", 13, 0),
    ],
)
def test_indonesian_ways_of_saying_the_time(text: str, hour: int, minute: int) -> None:
    moment = at(text)
    assert moment is not None
    assert (moment.hour, moment.minute) == (hour, minute)


@pytest.mark.parametrize(
    "text",
    [
        "jam 12 malam",  # the start or the end of that day?
        "jam 1 malam",
        "jam 12 pagi",
        "jam 9 siang",
        "jam 20 pagi",
        "pagi jam 7 malam",
        "jam 24",
        "jam 9.75",
        "jam 9.30 lewat 15",
        "setengah 9.30",
    ],
)
def test_a_time_that_is_no_time_of_day_is_not_understood(text: str) -> None:
    assert when(f"besok {text}").problem is WhenProblem.NOT_UNDERSTOOD


def test_without_a_part_of_the_day_an_hour_is_read_on_the_24_hour_clock() -> None:
    # So "jam 2" is 02.00; the bot should show what it read and let the user correct it.
    assert at("besok jam 2") == local(11, 24, 2)


def test_a_time_range_starts_the_meeting_at_its_first_time() -> None:
    assert at("besok 09.00-12.00") == local(11, 24, 9)
    assert at("besok jam 9 - 11") == local(11, 24, 9)
    assert at("besok pukul 09.00 s.d. selesai") == local(11, 24, 9)
    assert at("besok jam 9 sampai jam 12 siang") == local(11, 24, 9)


def test_two_different_times_are_not_understood() -> None:
    assert when("besok jam 9 atau jam 10").problem is WhenProblem.NOT_UNDERSTOOD


# --- Dates and times are told apart --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/7", local(7, 14, 0, year=2027)),
        ("14-7", local(7, 14, 0, year=2027)),
        ("14.7.2027", local(7, 14, 0, year=2027)),
        ("14/07/2027", local(7, 14, 0, year=2027)),
        ("14/07/27", local(7, 14, 0, year=2027)),
        ("28.11", local(11, 28, 0)),  # cannot be a time, so it is a date
    ],
)
def test_numeric_dates_are_dates_not_times(text: str, expected: datetime) -> None:
    assert when(text) == ParsedWhen(expected, WhenProblem.NO_TIME)


def test_a_date_followed_by_a_range_dash_is_not_taken_for_the_end_of_the_range() -> None:
    assert at("jam 9 - 28 nov") == local(11, 28, 9)


@pytest.mark.parametrize("text", ["31/11 jam 9", "7/14 jam 9", "30 feb jam 9", "0/5 jam 9"])
def test_a_date_that_does_not_exist_is_not_understood(text: str) -> None:
    # dateparser alone reads "7/14" as 7 November 2114.
    assert when(text).problem is WhenProblem.NOT_UNDERSTOOD


def test_today_date_without_a_year_is_today_not_next_year() -> None:
    assert at("23/11 jam 15") == local(11, 23, 15)
    assert at("23 november pukul 15.00") == local(11, 23, 15)


def test_yesterday_date_without_a_year_is_next_year() -> None:
    assert at("22/11 jam 9") == local(11, 22, 9, year=2027)


def test_a_date_with_a_past_year_is_in_the_past() -> None:
    assert when("14/07/2026 jam 9") == ParsedWhen(local(7, 14, 9), WhenProblem.IN_THE_PAST)


# --- Day names and relative days -----------------------------------------------------------


def test_today_day_name_is_today_when_the_time_is_still_ahead() -> None:
    assert at("Senin jam 15") == local(11, 23, 15)


def test_today_day_name_is_next_week_when_the_time_has_gone() -> None:
    assert at("Senin jam 9") == local(11, 30, 9)


def test_today_day_name_without_a_time_is_next_week() -> None:
    assert when("Senin") == ParsedWhen(local(11, 30, 0), WhenProblem.NO_TIME)


def test_on_a_saturday_sabtu_with_a_later_time_is_today() -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=WITA)
    assert at("Sabtu 14.00", now=saturday) == local(11, 28, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("minggu jam 9", local(11, 29, 9)),  # Minggu is Sunday ...
        ("hari minggu jam 9", local(11, 29, 9)),
        ("minggu depan jam 9", local(11, 30, 9)),  # ... but "minggu depan" is next week
        ("pekan depan jam 9", local(11, 30, 9)),
        ("hari minggu depan jam 9", local(12, 6, 9)),
        ("senin minggu depan jam 8", local(11, 30, 8)),
        ("rabu depan jam 8", local(12, 2, 8)),
        ("rabu jam 8", local(11, 25, 8)),
        ("sabtu ini jam 8", local(11, 28, 8)),
        ("ahad jam 9", local(11, 29, 9)),
    ],
)
def test_minggu_is_sunday_but_minggu_depan_is_next_week(text: str, expected: datetime) -> None:
    assert at(text) == expected


def test_depan_means_the_day_of_next_week_also_later_in_the_week() -> None:
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=WITA)
    assert at("senin depan jam 8", now=friday) == local(11, 30, 8)
    assert at("sabtu depan jam 8", now=friday) == local(12, 5, 8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hari ini jam 15", local(11, 23, 15)),
        ("sore ini jam 4", local(11, 23, 16)),
        ("nanti malam jam 7", local(11, 23, 19)),
        ("bsk jam 9", local(11, 24, 9)),
        ("3 hari lagi jam 9", local(11, 26, 9)),
        ("seminggu lagi jam 9", local(11, 30, 9)),
        ("2 minggu lagi jam 10", local(12, 7, 10)),
    ],
)
def test_relative_days(text: str, expected: datetime) -> None:
    assert at(text) == expected


@pytest.mark.parametrize("text", ["tadi pagi jam 9", "sabtu lalu jam 9", "minggu lalu jam 9"])
def test_days_already_gone_are_in_the_past(text: str) -> None:
    assert when(text).problem is WhenProblem.IN_THE_PAST


def test_a_day_already_over_without_a_time_is_in_the_past_not_missing_a_time() -> None:
    assert when("kemarin") == ParsedWhen(local(11, 22, 0), WhenProblem.IN_THE_PAST)


def test_lusa_without_a_time_asks_for_the_time() -> None:
    assert when("lusa") == ParsedWhen(local(11, 25, 0), WhenProblem.NO_TIME)


# --- Everyday chat -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sabtu, 28 Nov jam 14.00", local(11, 28, 14)),
        ("hari kamis pukul 10", local(11, 26, 10)),
        ("Jum'at jam 8", local(11, 27, 8)),
        ("BESOK   JAM 9!!", local(11, 24, 9)),
        ("besok, Selasa 24 Nov jam 9", local(11, 24, 9)),
        ("Rapat P2K2 kelompok Mawar hari Sabtu 28 Nov jam 14.00 di balai desa", local(11, 28, 14)),
    ],
)
def test_case_punctuation_and_extra_words_are_tolerated(text: str, expected: datetime) -> None:
    assert at(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Sabtu, 29 Nov jam 9",  # the 29th is a Sunday
        "besok sabtu jam 9",  # tomorrow is a Tuesday
        "sabtu atau minggu jam 9",
        "bulan depan jam 9",
        "minggu ini jam 9",
        "agustus jam 9",
        "besok jam sembilan",
        "jam berapa ya",
        "RT 05 besok jam 9",  # a stray number may be a misread date
        "28 nov 26 jam 9",  # a two-digit year only in numeric dates
    ],
)
def test_contradictions_and_vague_or_unread_time_words_are_not_understood(text: str) -> None:
    assert when(text).problem is WhenProblem.NOT_UNDERSTOOD


# --- Limits --------------------------------------------------------------------------------


def test_now_itself_is_already_in_the_past() -> None:
    assert when("hari ini jam 10").problem is WhenProblem.IN_THE_PAST


def test_the_horizon_is_counted_in_days_from_now() -> None:
    def with_one_day_horizon(text: str) -> WhenProblem | None:
        return parse_when(text, now=NOW, tz=WITA, horizon_days=1).problem

    assert with_one_day_horizon("besok jam 9") is None
    assert with_one_day_horizon("lusa jam 9") is WhenProblem.TOO_FAR
    assert when("14/7/2030").problem is WhenProblem.TOO_FAR


# --- A day of the month without the month ("tgl 15") ----------------------------------------
# NOW is Monday 23 November 2026.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tgl 25 jam 10", local(11, 25, 10)),
        ("tanggal 25 jam 10", local(11, 25, 10)),
        ("tgl. 25 pukul 10.30", local(11, 25, 10, 30)),
        ("senin tgl 30 jam 9", local(11, 30, 9)),
        ("tgl 15 jam 10", local(12, 15, 10)),  # the 15th has passed: next month's
        ("tgl 31 jam 8", local(12, 31, 8)),  # November has no 31st
        ("tgl 23 jam 14", local(11, 23, 14)),  # today, later
        ("besok jm 9", local(11, 24, 9)),
        ("sabtu jm 2 siang", local(11, 28, 14)),
    ],
)
def test_a_day_of_the_month_alone_is_the_next_such_date(text: str, expected: datetime) -> None:
    assert at(text) == expected


def test_a_day_of_the_month_on_another_weekday_is_not_guessed() -> None:
    assert when("selasa tgl 30 jam 9").problem is WhenProblem.NOT_UNDERSTOOD  # the 30th is a Monday


def test_a_day_of_the_month_without_a_time_asks_for_the_time() -> None:
    result = when("tgl 25")
    assert result.problem is WhenProblem.NO_TIME
    assert result.at == local(11, 25, 0)


@given(
    day=st.integers(min_value=1, max_value=31),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    word=st.sampled_from(["tgl", "tgl.", "tanggal", "Tgl", "TANGGAL"]),
    marker=st.sampled_from(["jam", "jm", "pukul", "pkl"]),
    days_from_now=st.integers(min_value=0, max_value=400),
)
def test_any_day_of_the_month_with_a_time_is_that_day_within_a_month_or_two(
    day: int, hour: int, minute: int, word: str, marker: str, days_from_now: int
) -> None:
    now = NOW + timedelta(days=days_from_now)
    result = when(f"{word} {day} {marker} {hour}.{minute:02d}", now=now)
    assert result.at is not None, result
    assert (result.at.day, result.at.hour, result.at.minute) == (day, hour, minute)
    assert result.at.date() >= now.date()
    assert result.at - now < timedelta(days=62)  # at most the month after next (tgl 31)
    assert result.problem in (None, WhenProblem.IN_THE_PAST)  # past only: today, earlier
