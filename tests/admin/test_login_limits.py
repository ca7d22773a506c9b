"""The login throttle: guessing is slowed, but nobody can lock out a user who knows the password."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from programme import logins
from tests.admin.conftest import FakeClock, make_account, try_login

WRONG = "tebak-tebakan-saja"
_addresses = itertools.count(1)


@contextmanager
def browser(app: Starlette) -> Iterator[TestClient]:
    """A browser at an address of its own."""
    number = next(_addresses)
    address = f"172.16.{number // 250}.{number % 250 + 1}"
    with TestClient(app, client=(address, 40000), follow_redirects=False) as client:
        yield client


def test_an_attacker_cannot_lock_out_a_user_who_knows_the_password(
    sessions: sessionmaker[Session], app: Starlette, clock: FakeClock
) -> None:
    username = make_account(sessions)
    with browser(app) as home:
        assert try_login(home, username)[0] == 303  # the admin's usual address
        home.cookies.clear()
        # An attacker guesses from one address, then from fifteen more, for half an hour.
        with browser(app) as attacker:
            for _ in range(30):
                try_login(attacker, username, password=WRONG)
                clock.advance(timedelta(minutes=1))
        for _ in range(15):
            with browser(app) as elsewhere:
                assert try_login(elsewhere, username, password=WRONG)[0] in (401, 429)
        # Before: five failures from anywhere locked the username for 15 minutes, for everyone.
        assert try_login(home, username)[0] == 303


def test_failures_of_one_username_and_address_wait_longer_each_time(
    sessions: sessionmaker[Session], app: Starlette, clock: FakeClock
) -> None:
    username = make_account(sessions)
    with browser(app) as client:
        for _ in range(logins.FREE_FAILURES_PER_PAIR):
            assert try_login(client, username, password=WRONG)[0] == 401
        for seconds in (1, 2, 4, 8):
            status, page = try_login(client, username)  # even the right password waits
            assert status == 429 and f"Tunggu {seconds} detik." in page
            clock.advance(timedelta(seconds=seconds))
            assert try_login(client, username, password=WRONG)[0] == 401
        clock.advance(timedelta(seconds=16))
        assert try_login(client, username)[0] == 303  # waited out: the right password works
    assert logins.delay_after(100) == logins.MAX_DELAY


def test_password_spraying_from_one_address_is_limited(
    sessions: sessionmaker[Session], app: Starlette, clock: FakeClock
) -> None:
    username = make_account(sessions)
    with browser(app) as sprayer:
        for number in range(logins.MAX_FAILURES_PER_CLIENT):
            assert try_login(sprayer, f"pengguna-{number}", password=WRONG)[0] == 401
        status, page = try_login(sprayer, username)
        assert status == 429 and "Tunggu 15 menit." in page
        clock.advance(logins.WINDOW + timedelta(seconds=1))
        assert try_login(sprayer, username)[0] == 303
    with browser(app) as other:  # other addresses were never held back
        assert try_login(other, username)[0] == 303


def test_guessing_one_username_from_many_addresses_slows_only_new_addresses(
    sessions: sessionmaker[Session], app: Starlette, clock: FakeClock
) -> None:
    username = make_account(sessions)
    with browser(app) as home:
        assert try_login(home, username)[0] == 303
        home.cookies.clear()
        for _ in range(logins.MAX_FAILURES_PER_USERNAME):
            with browser(app) as guesser:
                assert try_login(guesser, username, password=WRONG)[0] == 401
        with browser(app) as new_address:
            assert try_login(new_address, username, password=WRONG)[0] == 429
            assert try_login(new_address, username)[0] == 429
            clock.advance(logins.WINDOW + timedelta(seconds=1))
            assert try_login(new_address, username)[0] == 303
        assert try_login(home, username)[0] == 303


def test_an_unknown_username_is_throttled_like_a_known_one(
    app: Starlette,
) -> None:
    with browser(app) as client:
        answers = [try_login(client, "tidak-ada-orangnya", password=WRONG)[0] for _ in range(4)]
    assert answers == [401, 401, 401, 429]
