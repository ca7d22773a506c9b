"""The dashboard's login throttle: slow guessing down without letting anyone lock a user out.

OWASP's advice against online guessing ("Blocking Brute Force Attacks", "Slow Down Online
Guessing Attacks with Device Cookies"): count failures per username *and* address, delay rather
than lock, and keep a user who knows the password and comes from where they logged in before
out of reach of anyone else's failures. Three limits, each a wait, never a lock-out:

1. Username + address: after 3 failures since that pair's last success, each further try waits
   1 s, 2 s, 4 s, … (at most 15 minutes) after the previous failure. Only that pair is slowed:
   an attacker's failures never delay the user at the user's own address.
2. Address: 20 failures in 15 minutes, whatever the usernames, make the address wait until the
   oldest of them is 15 minutes old. This limits password spraying (one guess for many users).
3. Username, from a new address: 10 failures in 15 minutes from anywhere make every address that
   has not logged in as that user in the last 90 days wait the same way. This limits guessing
   from many addresses at once; a known address is never held back by it.

A refused try is not checked (no password is verified) and not recorded, so waiting it out is the
only way on. Unknown usernames are treated exactly like known ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from programme.models import LoginAttempt

FREE_FAILURES_PER_PAIR = 3
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
PAIR_MEMORY = timedelta(hours=24)  # a pair's failures older than this no longer slow it
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 20
MAX_FAILURES_PER_USERNAME = 10
KNOWN_ADDRESS_FOR = timedelta(days=90)
CLIENT_LENGTH = 64


def login_wait(
    session: Session, *, username: str, client: str | None, now: datetime
) -> timedelta | None:
    """How long this username from this address must wait before its next try, or None."""
    client = _client(client)
    pair = (LoginAttempt.username == username) & _same_client(client)
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(pair, LoginAttempt.succeeded)
    )
    waits = [_pair_wait(session, pair, last_success, now)]
    if client is not None:
        waits.append(
            _window_wait(session, LoginAttempt.client == client, MAX_FAILURES_PER_CLIENT, now)
        )
    known = last_success is not None and last_success > now - KNOWN_ADDRESS_FOR
    if not known:
        waits.append(
            _window_wait(session, LoginAttempt.username == username, MAX_FAILURES_PER_USERNAME, now)
        )
    found = [wait for wait in waits if wait is not None and wait > timedelta(0)]
    return max(found) if found else None


def record_attempt(
    session: Session, *, username: str, client: str | None, succeeded: bool, now: datetime
) -> None:
    """Remember a checked try (a refused one is never checked, so never recorded)."""
    session.add(
        LoginAttempt(
            username=username, client=_client(client), succeeded=succeeded, attempted_at=now
        )
    )


def _client(client: str | None) -> str | None:
    return client[:CLIENT_LENGTH] if client else None


def _same_client(client: str | None) -> ColumnElement[bool]:
    return LoginAttempt.client.is_(None) if client is None else LoginAttempt.client == client


def _pair_wait(
    session: Session,
    pair: ColumnElement[bool],
    last_success: datetime | None,
    now: datetime,
) -> timedelta | None:
    since = now - PAIR_MEMORY
    if last_success is not None:
        since = max(since, last_success)
    # Enough failures to reach the longest delay; the count beyond that changes nothing.
    enough = FREE_FAILURES_PER_PAIR + _doublings_to_max() + 1
    failures = list(
        session.scalars(
            select(LoginAttempt.attempted_at)
            .where(pair, ~LoginAttempt.succeeded, LoginAttempt.attempted_at > since)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(enough)
        )
    )
    if len(failures) < FREE_FAILURES_PER_PAIR:
        return None
    return failures[0] + delay_after(len(failures)) - now


def delay_after(failures: int) -> timedelta:
    """The wait after `failures` failures of one username + address (none for the first ones)."""
    if failures < FREE_FAILURES_PER_PAIR:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES_PER_PAIR, _doublings_to_max())
    delay: timedelta = FIRST_DELAY * (1 << doublings)
    return min(delay, MAX_DELAY)


def _doublings_to_max() -> int:
    doublings = 0
    while FIRST_DELAY * (1 << doublings) < MAX_DELAY:
        doublings += 1
    return doublings


def _window_wait(
    session: Session, condition: ColumnElement[bool], limit: int, now: datetime
) -> timedelta | None:
    failures = list(
        session.scalars(
            select(LoginAttempt.attempted_at)
            .where(condition, ~LoginAttempt.succeeded, LoginAttempt.attempted_at > now - WINDOW)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        )
    )
    if len(failures) < limit:
        return None
    # Allowed again once the oldest of the last `limit` failures leaves the window.
    return failures[-1] + WINDOW - now
