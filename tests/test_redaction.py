"""NIKs in any typed form, and secrets, are masked in text and in every part of a log record."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import redaction
from core.redaction import (
    MASK,
    RedactingFilter,
    install_log_redaction,
    redact,
    redact_nik,
    redact_record,
    with_redaction,
)
from tests.nik_forms import leaks, messages_with_nik, nik_forms

NIK = "3302011234567891"


@pytest.mark.parametrize(
    "typed",
    [
        "3302011234567891",
        "3302 0112 3456 7891",
        "3302-0112-3456-7891",
        "3302.0112.3456.7891",
        "3302\u00a00112\u00a03456\u00a07891",
        "3302\t0112\t3456\t7891",
        "3302 - 0112.3456\u00a07891",
        "330201 123456 7891",
        "3 3 0 2 0 1 1 2 3 4 5 6 7 8 9 1",
        # as logs write it again: a repr, JSON, a URL query
        "3302\\xa00112\\xa03456\\xa07891",
        "3302\\u00a00112\\u00a03456\\u00a07891",
        "3302%200112%C2%A03456+7891",
    ],
)
def test_every_typed_form_of_a_nik_is_masked_to_its_last_four(typed: str) -> None:
    assert redact_nik(f"NIK saya {typed}, tolong dicek") == f"NIK saya {MASK}7891, tolong dicek"


@pytest.mark.parametrize(
    "text",
    [
        "telepon 081234567890",
        "hp +62 812-3456-7890",
        "0812 3456 7890 dan 0813-1111-2222",  # two phone numbers: 12 + 11 digits, neither is 16
        "Rp225.000 tahap 3 tanggal 14-07-2025",
        "12345678901234567",  # 17 digits in a row are not a NIK
        "kode 2025/2026",
    ],
)
def test_numbers_that_are_not_nik_shaped_are_left_alone(text: str) -> None:
    assert redact_nik(text) == text


def test_a_nik_next_to_other_numbers_is_still_masked() -> None:
    assert redact_nik("no 2. 3302011234567891 anak 3") == f"no 2. {MASK}7891 anak 3"
    assert redact_nik("NIK 3302 0112 3456 7891 2 anak") == f"NIK {MASK}7891 2 anak"
    # a 4-digit number before a NIK typed 12 + 4: every NIK-shaped stretch goes
    assert redact_nik("1234 330201123456 7891") == f"{MASK}7891"


@given(nik_forms())
def test_property_any_typed_nik_is_masked(form: tuple[str, str]) -> None:
    nik, typed = form
    masked = redact_nik(typed)
    assert masked == MASK + nik[-4:]


@given(messages_with_nik())
def test_property_no_message_keeps_the_hidden_digits(message: tuple[str, str]) -> None:
    nik, text = message
    masked = redact_nik(text)
    assert not leaks(nik, masked), (text, masked)
    assert len(masked) <= len(text)


@given(st.text(max_size=200))
def test_property_masking_never_grows_a_text_and_keeps_short_numbers(text: str) -> None:
    masked = redact_nik(text)
    assert len(masked) <= len(text)
    if sum(character.isdigit() for character in text) < 16:
        assert masked == text


@given(
    st.lists(st.text(alphabet="0123456789", min_size=10, max_size=13), min_size=1, max_size=5),
    st.sampled_from([", ", " / ", " atau ", "; "]),
    st.sampled_from(["", " ", "-", "."]),
)
def test_property_phone_numbers_are_never_masked(
    numbers: list[str], joiner: str, grouping: str
) -> None:
    """Phone numbers (10-13 digits, grouped or not), one or several in a message."""
    typed = [f"{n[:4]}{grouping}{n[4:8]}{grouping}{n[8:]}" for n in numbers]
    text = "hubungi " + joiner.join(typed)
    assert redact_nik(text) == text


# --- log records ------------------------------------------------------------------------------

TOKEN = "987654321:AAHfiuehfiuwehfiuwehfiuwehfiuwehfiwu"


@pytest.fixture
def redacting() -> Iterator[None]:
    """Redaction installed for this test only (the record factory and the secrets restored)."""
    factory = logging.getLogRecordFactory()
    installed, secrets = redaction._factory_installed, set(redaction._secrets)
    redaction._factory_installed = False
    install_log_redaction([TOKEN])
    yield
    logging.setLogRecordFactory(factory)
    redaction._factory_installed = installed
    redaction._secrets.clear()
    redaction._secrets.update(secrets)


def capture(logger_name: str) -> tuple[logging.Logger, io.StringIO]:
    """A logger with its own handler (no filter of ours), as a library would set one up."""
    stream = io.StringIO()
    logger = logging.getLogger(logger_name)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


@pytest.mark.usefixtures("redacting")
def test_httpx_debug_lines_carry_neither_the_token_nor_a_nik() -> None:
    logger, stream = capture("test.redaction.httpx")
    url = httpx.URL(f"https://api.telegram.org/bot{TOKEN}/getUpdates")
    # What httpx logs: the URL as an object among the format arguments.
    logger.info('HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 200, "OK")
    update = {"message": {"text": "nik saya 3302\u00a00112\u00a03456\u00a07891", "chat": {}}}
    logger.debug("Getting updates: %s", [update])  # a repr: the no-break spaces are escaped
    logger.debug("NIK %d", 3302011234567891)
    written = stream.getvalue()
    assert TOKEN not in written and "AAHfiu" not in written
    assert not leaks(NIK, written), written
    assert written.count("7891") == 2 and "getUpdates" in written


@pytest.mark.usefixtures("redacting")
def test_exceptions_and_stacks_are_masked_too() -> None:
    logger, stream = capture("test.redaction.errors")
    try:
        raise ValueError(f"bad NIK 3302-0112-3456-7891 for bot{TOKEN}")
    except ValueError:
        logger.exception("while linking %s", "3302.0112.3456.7891")
    logger.warning("where", stack_info=True, extra={"nik": NIK})
    written = stream.getvalue()
    assert "ValueError" in written and "Traceback" in written
    assert not leaks(NIK, written) and TOKEN not in written


@pytest.mark.usefixtures("redacting")
def test_format_arguments_are_kept_for_formatters_that_read_them() -> None:
    # uvicorn's access formatter unpacks record.args: masking must keep the tuple's shape.
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET", "/inbox?q=3302+0112+3456+7891", "1.1", 200),
        None,
    )
    redact_record(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.getMessage() == f'10.0.0.1:5000 - "GET /inbox?q={MASK}7891 HTTP/1.1" 200'


@pytest.mark.usefixtures("redacting")
def test_handlers_configured_later_by_dict_config_redact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What `pkh admin serve` gives uvicorn: its own logging configuration, with our filter.
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "plain": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        },
        "loggers": {"test.redaction.later": {"handlers": ["plain"], "level": "DEBUG"}},
    }
    logging.config.dictConfig(with_redaction(config))
    handler = logging.getLogger("test.redaction.later").handlers[0]
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    logging.getLogger("test.redaction.later").debug("token %s nik %s", TOKEN, "3302 0112 3456 7891")
    err = capsys.readouterr().err
    assert "7891" in err and not leaks(NIK, err) and TOKEN not in err


def test_installing_puts_a_filter_on_every_existing_handler() -> None:
    logger, _ = capture("test.redaction.existing")
    factory = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        assert any(isinstance(f, RedactingFilter) for f in logger.handlers[0].filters)
        assert any(
            isinstance(f, RedactingFilter)
            for handler in logging.getLogger().handlers
            for f in handler.filters
        )
    finally:
        logging.setLogRecordFactory(factory)
        redaction._factory_installed = False


def test_secrets_are_hidden_also_url_encoded() -> None:
    redaction.add_secrets(["123456:TEST-TOKEN-LONG"])
    assert "TEST-TOKEN" not in redact("https://x/bot123456:TEST-TOKEN-LONG/getMe")
    assert "TEST-TOKEN" not in redact("https://x/bot123456%3ATEST-TOKEN-LONG/getMe")
