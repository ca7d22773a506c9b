"""When a meeting is, read from what a pendamping types in Indonesian ("Sabtu jam 2 siang").

dateparser reads calendar dates well ("28 Nov", "2 des 2026", "14/7"), but not Indonesian times of
day: it ignores "jam 9" in "besok jam 9" (tomorrow at the *current* time) and gives up on "sabtu
jam 2 siang" or "lusa jam 10 pagi", because it knows neither "jam"/"pukul" as "at" nor the parts of
the day (pagi, siang, sore, malam) that decide between 2 and 14. It also does not know "lusa" or
"Senin depan". So small regexes here find the time of day and the relative day words ("besok",
"Sabtu", "Senin depan") and dateparser is given only the calendar date that is left.

Anything else that still looks like time (a stray number, "bulan depan", "jam berapa") makes the
text NOT_UNDERSTOOD rather than guessed at: a wrong meeting day is worse than a question.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser


class WhenProblem(enum.StrEnum):
    NOT_UNDERSTOOD = "not_understood"  # no date or time found, or one we cannot read for sure
    NO_TIME = "no_time"  # a day was found but no time of day ("Sabtu")
    IN_THE_PAST = "in_the_past"  # understood, but not after `now`
    TOO_FAR = "too_far"  # more than `horizon_days` days ahead


@dataclass(frozen=True)
class ParsedWhen:
    """`at` is aware, in the group's zone, whenever the text was understood.

    With NO_TIME it is the day at 00.00, so a later reply with only a time can complete it; with
    IN_THE_PAST and TOO_FAR it is the moment understood, to show the user what was read.
    """

    at: datetime | None
    problem: WhenProblem | None  # None when `at` is good


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, horizon_days: int = 366) -> ParsedWhen:
    """Read `text` as a moment in `tz`; "besok" and "Sabtu" count from `now`'s date in `tz`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(tz)
    try:
        clock, rest = _find_clock(_normalise(text))
        day, rest = _find_day(rest, local_now, tz, clock)
        if _still_talks_about_time(rest):
            raise _Unclear
    except _Unclear:
        return ParsedWhen(None, WhenProblem.NOT_UNDERSTOOD)
    return _judge(day, clock, local_now, tz, timedelta(days=horizon_days))


class _Unclear(Exception):
    """The text says something about time that cannot be read with confidence."""


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    zone: ZoneInfo | None  # when the text names WIB, WITA or WIT

    def on(self, day: date, tz: ZoneInfo) -> datetime:
        written = datetime.combine(day, time(self.hour, self.minute), tzinfo=self.zone or tz)
        return written.astimezone(tz)


def _judge(
    day: date | None, clock: _Clock | None, now: datetime, tz: ZoneInfo, horizon: timedelta
) -> ParsedWhen:
    if clock is None:
        if day is None:
            return ParsedWhen(None, WhenProblem.NOT_UNDERSTOOD)
        midnight = datetime.combine(day, time(), tzinfo=tz)
        # No need to ask for the hour of a day that is already over or too far away.
        if day < now.date():
            return ParsedWhen(midnight, WhenProblem.IN_THE_PAST)
        if midnight > now + horizon:
            return ParsedWhen(midnight, WhenProblem.TOO_FAR)
        return ParsedWhen(midnight, WhenProblem.NO_TIME)
    if day is None:
        # Only a time: the next time the clock shows it.
        day = now.date() if clock.on(now.date(), tz) > now else now.date() + timedelta(days=1)
    at = clock.on(day, tz)
    if at <= now:
        return ParsedWhen(at, WhenProblem.IN_THE_PAST)
    if at > now + horizon:
        return ParsedWhen(at, WhenProblem.TOO_FAR)
    return ParsedWhen(at, None)


def _normalise(text: str) -> str:
    text = re.sub(r"['’`]", "", text.lower())  # "Jum'at" is "jumat"
    text = " ".join(re.sub(r"[–—]", "-", text).split())
    # "sore ini" (this afternoon) names today as well as the part of the day.
    return re.sub(r"\b(pagi|siang|sore|malam) ini\b", r"hari ini \1", text)


# dateparser's Indonesian month names; the longer first, as regex alternatives are tried in order.
_MONTH = (
    "januari|jan|februari|pebruari|feb|peb|maret|mar|mrt|april|apr|mei|juni|jun|juli|jul"
    "|agustus|agu|agt|september|sept|sep|oktober|okt|november|nopember|nov|nop|desember|des"
)
# Digits that continue "14.07.2026" or "14/7" are not a new day or hour; "pkl.9" still is an hour.
_NOT_INSIDE_A_NUMBER = r"(?<!\d)(?<!\d[.:/-])"


# --- The time of day ------------------------------------------------------------------------

_PART = r"pagi|siang|sore|malam"
_ZONE = r"wita|wib|wit"  # "wita" first: "wit" is its prefix
_CLOCK_END = r"(?!\d|[.:/]\d)"  # "14" in "14/7" or "14.7.2026" is part of a date, not an hour

_TIME = re.compile(
    rf"""
    (?:\b(?P<part_before>{_PART})\s+)?          # "besok pagi jam 8"
    (?:\b(?P<marker>jam|jm|pukul|pkl)\.?\s*)?
    (?:\b(?P<half>setengah)\s*)?                # "setengah 10" is 09.30
    {_NOT_INSIDE_A_NUMBER}(?P<hour>\d{{1,2}})(?:[.:](?P<minute>\d{{2}}))?{_CLOCK_END}
    (?:\s*lewat\s*(?P<past>\d{{1,2}})(?:\s*menit)?)?   # "jam 9 lewat 15"
    (?:\s*(?P<part>{_PART})\b)?
    (?:\s*(?P<zone>{_ZONE})\b)?
    # The end of a range ("09.00-12.00", "pukul 9 s.d. selesai"): the meeting starts at the first.
    (?:\s*(?:-|s\.?\s?d\b\.?|s/d|sampai|hingga)\s*
       (?:selesai|(?:(?:jam|jm|pukul|pkl)\.?\s*)?\d{{1,2}}(?:[.:]\d{{2}})?{_CLOCK_END}
          (?:\s*(?:{_PART}))?(?:\s*(?:{_ZONE}))?)\b
       (?!\s*(?:{_MONTH})\b))?             # but "jam 9 - 28 nov" is a time and a date
    """,
    re.VERBOSE,
)

# The hours (24-hour clock) each part of the day covers; "jam 2 siang" is the one of 2 and 14 that
# falls in siang. Noon and midnight are left out of pagi and malam: "jam 12 malam" could be the
# start or the end of that day, so it is NOT_UNDERSTOOD, as are "jam 1 malam" and the like.
_PART_HOURS = {
    "pagi": range(1, 12),
    "siang": range(10, 17),
    "sore": range(14, 19),
    "malam": range(18, 24),
}
_ZONES = {
    "wib": ZoneInfo("Asia/Jakarta"),
    "wita": ZoneInfo("Asia/Makassar"),
    "wit": ZoneInfo("Asia/Jayapura"),
}


def _find_clock(text: str) -> tuple[_Clock | None, str]:
    """The one time of day in `text`, and the text without it."""
    found = [match for match in _TIME.finditer(text) if _is_time(match)]
    if not found:
        return None, text
    if len(found) > 1:
        raise _Unclear  # "jam 9 atau jam 10"
    match = found[0]
    return _read_clock(match), text[: match.start()] + " " + text[match.end() :]


def _is_time(match: re.Match[str]) -> bool:
    """A number is an hour only with "jam"/"pukul", "setengah", a part of the day, or minutes."""
    if match["marker"] or match["half"] or match["part"]:
        return True
    # Bare "28.11" cannot be a time, so it is left for the date ("Sabtu 28.11").
    return match["minute"] is not None and int(match["hour"]) < 24 and int(match["minute"]) < 60


def _read_clock(match: re.Match[str]) -> _Clock:
    minute = int(match["minute"] or 0)
    if match["past"]:
        if match["minute"]:
            raise _Unclear
        minute = int(match["past"])
    hour = _hour_in_part(int(match["hour"]), _part_of_day(match))
    if match["half"]:
        if match["minute"] or match["past"] or hour == 0:
            raise _Unclear
        hour, minute = hour - 1, 30  # "setengah 3 sore": half-way to 15.00
    if minute > 59:
        raise _Unclear
    return _Clock(hour, minute, _ZONES.get(match["zone"] or ""))


def _part_of_day(match: re.Match[str]) -> str | None:
    before, after = match["part_before"], match["part"]
    if before and after and before != after:
        raise _Unclear  # "pagi jam 7 malam"
    return before or after


def _hour_in_part(hour: int, part: str | None) -> int:
    if part is None:
        if hour > 23:
            raise _Unclear
        return hour
    candidates = (hour, hour + 12) if hour <= 12 else (hour,)
    for candidate in candidates:
        if candidate in _PART_HOURS[part]:
            return candidate
    raise _Unclear  # "jam 9 malam" is 21.00, but "jam 9 siang" or "jam 20 pagi" is no time


# --- The day ----------------------------------------------------------------------------------

_CALENDAR = re.compile(
    rf"""
    (?:\b(?:tanggal|tgl)\.?\s*)?
    {_NOT_INSIDE_A_NUMBER}
    (?:
        # 14/7, 14-07-26, 14.7.2026
        (?P<day>\d{{1,2}})[/.-](?P<month>\d{{1,2}})(?:[/.-](?P<year>\d{{4}}|\d{{2}}))?
      | (?P<named_day>\d{{1,2}})\s*(?P<month_name>{_MONTH})\b\.?(?:\s*,?\s*(?P<named_year>\d{{4}}))?
    )
    (?!\d|[/.-]\d)
    """,
    re.VERBOSE,
)

# "tgl 15" alone: the next 15th (this month if it has not passed, else the next month's).
_DAY_OF_MONTH = re.compile(r"\b(?:tanggal|tgl)\.?\s*(?P<day>\d{1,2})(?!\d|[/.:-]\d)")

_WEEKDAYS = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "sabtu": 5,
    "minggu": 6,
    "ahad": 6,
}
_DAYS_FROM_TODAY = {
    "hari ini": 0,
    "tadi": 0,
    "besok": 1,
    "bsk": 1,
    "lusa": 2,
    "kemarin": -1,
    "kmrn": -1,
    "kemarin lusa": -2,
}
_WEEK_OFFSET = {"depan": 1, "ini": 0, "lalu": -1}


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation: the longest first ("kemarin lusa" before "kemarin"), spaces kept."""
    return "|".join(word.replace(" ", r"\s+") for word in sorted(words, key=len, reverse=True))


_RELATIVE = re.compile(
    rf"""
    \b(?:
        # "3 hari lagi", "seminggu lagi"
        (?:(?P<count>\d{{1,2}})\s*|se)(?P<unit>hari|minggu|pekan)\s+lagi
        # Alone, "minggu depan" is next week, not next Sunday ("hari minggu depan").
      | (?P<week>minggu|pekan)\s+(?P<week_direction>depan|ini|lalu)
        # "sabtu", "hari sabtu ini", "senin depan", "senin minggu depan"
      | (?:hari\s+)?(?P<weekday>{_alternatives(_WEEKDAYS)})
        (?:\s+(?:(?P<of_week>minggu|pekan)\s+)?(?P<direction>depan|ini|lalu))?
      | (?P<word>{_alternatives(_DAYS_FROM_TODAY)})
    )\b
    """,
    re.VERBOSE,
)


def _find_day(
    text: str, now: datetime, tz: ZoneInfo, clock: _Clock | None
) -> tuple[date | None, str]:
    """The one day `text` names, and the text without it.

    A day can be said twice if both agree ("besok, Sabtu 28 Nov"); two different days are unclear.
    """
    today = now.date()
    days = {_read_calendar(match, today) for match in _CALENDAR.finditer(text)}
    text = _CALENDAR.sub(" ", text)
    days |= {_next_day_of_month(int(match["day"]), today) for match in _DAY_OF_MONTH.finditer(text)}
    text = _DAY_OF_MONTH.sub(" ", text)
    weekdays: set[int] = set()
    for match in _RELATIVE.finditer(text):
        hint = _read_relative(match, today)
        if isinstance(hint, date):
            days.add(hint)
        else:
            weekdays.add(hint)
    text = _RELATIVE.sub(" ", text)
    if len(days) > 1 or len(weekdays) > 1:
        raise _Unclear
    if days:
        day = days.pop()
        if weekdays and weekdays != {day.weekday()}:
            raise _Unclear  # "Sabtu, 29 Nov" when the 29th is a Sunday: which one was meant?
        return day, text
    if weekdays:
        return _next_weekday(weekdays.pop(), now, tz, clock), text
    return None, text


def _read_calendar(match: re.Match[str], today: date) -> date:
    day = int(match["day"] or match["named_day"])
    month = int(match["month"]) if match["month"] else None
    year = match["year"] or match["named_year"]
    if year and len(year) == 2:
        year = f"20{year}"  # dateparser may read "26" as 2126 when it prefers future dates
    typed = f"{day}/{month}" if month else f"{day} {match['month_name']}"
    if year:
        typed += f"/{year}" if month else f" {year}"
    parsed = dateparser.parse(
        typed,
        languages=["id"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            # dateparser moves today's date without a year ("23/11" on 23 November) to next year,
            # as if it were past; counting from yesterday keeps it today.
            "RELATIVE_BASE": datetime.combine(today - timedelta(days=1), time()),
            "PARSERS": ["absolute-time"],
        },
    )
    # dateparser reads numbers that cannot be a day or month as a year ("7/14" → 7 Nov 2114).
    if (
        parsed is None
        or parsed.day != day
        or (month is not None and parsed.month != month)
        or (year is not None and parsed.year != int(year))
    ):
        raise _Unclear
    return parsed.date()


def _next_day_of_month(day: int, today: date) -> date:
    """The first date from today on whose day of the month is `day` ("tgl 31" skips November)."""
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None  # no such day in that month (tgl 31 in November, tgl 0)
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise _Unclear


def _read_relative(match: re.Match[str], today: date) -> date | int:
    """A date, or for a bare day name ("Sabtu") its weekday, which depends on the time too."""
    if match["unit"]:
        count = int(match["count"] or 1)  # "seminggu" is one week
        return today + timedelta(days=count * (1 if match["unit"] == "hari" else 7))
    if match["week"]:
        if match["week_direction"] == "ini":
            raise _Unclear  # "minggu ini" is some day this week
        return today + timedelta(weeks=_WEEK_OFFSET[match["week_direction"]])
    if match["weekday"]:
        weekday = _WEEKDAYS[match["weekday"]]
        direction = match["direction"]
        if direction is None or (direction == "ini" and not match["of_week"]):
            return weekday  # "Sabtu", "Sabtu ini": the coming Saturday
        # "Sabtu depan" is the Saturday of next week (weeks start on Monday), even on a Monday.
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=_WEEK_OFFSET[direction], days=weekday)
    return today + timedelta(days=_DAYS_FROM_TODAY[match["word"]])


def _next_weekday(weekday: int, now: datetime, tz: ZoneInfo, clock: _Clock | None) -> date:
    """The coming `weekday`; today only if a time later today was given ("Senin jam 15")."""
    days_ahead = (weekday - now.weekday()) % 7
    if days_ahead == 0 and (clock is None or clock.on(now.date(), tz) <= now):
        days_ahead = 7
    return now.date() + timedelta(days=days_ahead)


# --- What is left -----------------------------------------------------------------------------

_TIME_WORDS = frozenset(
    {"jam", "jm", "pukul", "pkl", "setengah", "lewat", "tanggal", "tgl", "depan", "lalu", "lagi"}
    | {"minggu", "pekan", "seminggu", "sepekan", "bulan", "tahun"}
    | set(_MONTH.split("|"))
)


def _still_talks_about_time(rest: str) -> bool:
    """Other words are chat ("rapat di balai desa"); numbers and time words are a misreading."""
    return any(word.isdigit() or word in _TIME_WORDS for word in re.findall(r"\w+", rest))
