"""Reading a date of birth the ways people type it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.linking import parse_birth_date


@pytest.mark.parametrize(
    "typed",
    ["14-03-1991", "14/3/1991", "14.03.1991", "1991-03-14", "14 Maret 1991", "14 mar 1991"],
)
def test_common_ways_of_writing_a_birth_date(typed: str) -> None:
    assert parse_birth_date(typed) == date(1991, 3, 14)


@pytest.mark.parametrize("typed", ["kemarin", "31-02-1991", "14 Marettt 1991", "", "1991"])
def test_what_is_not_a_date(typed: str) -> None:
    assert parse_birth_date(typed) is None
