"""NIK handling: keyed hash and last four digits only, and never a NIK in the logs."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from programme.demo import build_roster, load_demo, seed_demo
from programme.nik import (
    InvalidNikError,
    NikRedactingFilter,
    hash_nik,
    nik_last4,
    normalize_nik,
    redact_nik,
)
from programme.queries import find_member_by_nik
from programme.seed import seed_reference

NIK = "9999531500001001"


def test_hash_is_stable_hex_and_depends_on_the_key() -> None:
    digest = hash_nik(NIK, "key-one")
    assert digest == hash_nik(NIK, "key-one")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != hash_nik(NIK, "key-two")
    assert NIK not in digest


def test_spaces_dots_and_dashes_are_ignored() -> None:
    assert normalize_nik("9999 5315.0000-1001") == NIK
    assert hash_nik("9999 5315 0000 1001", "k") == hash_nik(NIK, "k")


@pytest.mark.parametrize("bad", ["999953150000100", "99995315000010011", "9999abcd00001001", ""])
def test_anything_but_16_digits_is_refused_without_repeating_it(bad: str) -> None:
    with pytest.raises(InvalidNikError) as error:
        hash_nik(bad, "k")
    assert bad not in str(error.value) or bad == ""


def test_hashing_needs_a_key() -> None:
    with pytest.raises(ValueError, match="PKH_SECRET_KEY"):
        hash_nik(NIK, "")


def test_last4_is_all_we_show() -> None:
    assert nik_last4(NIK) == "1001"


def test_redaction_masks_nik_like_numbers_only() -> None:
    text = f"NIK saya {NIK}, telepon 081234567890"
    assert redact_nik(text) == "NIK saya ************1001, telepon 081234567890"


def test_the_logging_filter_masks_a_nik_in_a_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.nik.filter")
    caplog.handler.addFilter(NikRedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.nik.filter"):
        logger.info("user typed %s", NIK)
    assert NIK not in caplog.text
    assert "************1001" in caplog.text


def test_full_seed_and_lookup_by_nik_leave_no_nik_in_the_logs(
    engine: Engine, secret_key: str, demo_now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    roster = build_roster(load_demo())
    niks = [member.nik for family in roster.families for member in family.members]
    caplog.set_level(logging.DEBUG)  # everything, SQL statements and result rows included
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")

    # A connection opened now logs its SQL (SQLAlchemy decides when a connection is made).
    with engine.connect() as connection, connection.begin() as transaction:
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        seed_reference(session)
        seed_demo(session, secret_key=secret_key, now=demo_now)
        for nik in niks[:25]:
            assert find_member_by_nik(session, nik=nik, secret_key=secret_key) is not None
        session.close()
        transaction.rollback()

    logged = caplog.text
    assert "INSERT INTO family_member" in logged, "SQL logging was not captured"
    assert not [nik for nik in niks if nik in logged]
    assert re.search(r"9999\d{12}", logged) is None
