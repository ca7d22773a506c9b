"""Masking what must never be stored or logged in clear: NIKs in any typed form, and secrets.

`redact_nik` is the one masking function for NIKs. It is applied where text enters the database
(`programme.models.MaskedText` columns), the NLU training data and every log record
(`install_log_redaction`). A NIK is 16 digits; people type it in groups ("3302 0112 3456 7891",
"3302-0112-…", "3302.0112.…", with tabs, no-break spaces or a mixture), and logs show it again
escaped ("3302\\xa00112…" in a repr, "3302%200112…" or "3302+0112…" in a URL). Any run of digits
joined by such separators is split into its digit groups, and every stretch of whole groups that
holds exactly 16 digits is masked down to its last four: "************7891". Shorter numbers
(phone numbers have 10-13 digits, amounts, dates) and longer unbroken digit strings are left
alone. The mask never makes a text longer, so it fits any column the text fitted.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote

NIK_DIGITS: Final = 16
KEPT_DIGITS: Final = 4
MASK: Final = "*" * (NIK_DIGITS - KEPT_DIGITS)
SECRET_MASK: Final = "[redacted]"  # noqa: S105 - what replaces a secret

# One separator between two digit groups: white space of any kind (tab, no-break space, …),
# invisible joiners, dots, dashes and minus signs, "+" (a space in a URL query), and the escaped
# forms of white space that reprs, JSON and URLs write.
_SEPARATOR: Final = (
    r"(?:[\s.\-+\u00ad\u2010-\u2015\u2212\u200b-\u200d\u2060\ufeff]"
    r"|\\[tnr]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|%[0-9a-fA-F]{2})"
)
_RUN: Final = re.compile(rf"\d+(?:{_SEPARATOR}{{1,4}}\d+)*")
_TOKEN: Final = re.compile(rf"(?P<digits>\d+)|{_SEPARATOR}")
# A Telegram bot token ("<bot id>:<35 characters>") even when it is not the configured one.
_BOT_TOKEN: Final = re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}")
_MIN_SECRET_LENGTH: Final = 8


def redact_nik(text: str) -> str:
    """`text` with every NIK-shaped run of digits masked down to its last four digits."""
    if sum(character.isdigit() for character in text) < NIK_DIGITS:
        return text  # the common case, and a guarantee: short numbers are never touched
    return _RUN.sub(lambda run: _mask_run(run.group()), text)


def _mask_run(run: str) -> str:
    """Mask every stretch of whole digit groups of `run` that holds exactly 16 digits."""
    groups = [(m.start(), m.end()) for m in _TOKEN.finditer(run) if m.group("digits")]
    sizes = [end - start for start, end in groups]
    masked = [False] * len(groups)
    for start in range(len(groups)):
        total = 0
        for end in range(start, len(groups)):
            total += sizes[end]
            if total >= NIK_DIGITS:
                if total == NIK_DIGITS:
                    masked[start : end + 1] = [True] * (end + 1 - start)
                break
    if not any(masked):
        return run
    out: list[str] = []
    position = index = 0
    while index < len(groups):
        if not masked[index]:
            index += 1
            continue
        last = index
        while last + 1 < len(groups) and masked[last + 1]:
            last += 1
        span_start, span_end = groups[index][0], groups[last][1]
        digits = "".join(run[a:b] for a, b in groups[index : last + 1])
        out += [run[position:span_start], MASK, digits[-KEPT_DIGITS:]]
        position, index = span_end, last + 1
    out.append(run[position:])
    return "".join(out)


# --- secrets ----------------------------------------------------------------------------------

_secrets: set[str] = set()


def add_secrets(values: Iterable[str | None]) -> None:
    """Remember secrets (the bot token, keys) that `redact` must hide wherever they appear."""
    for value in values:
        if value and len(value) >= _MIN_SECRET_LENGTH:
            _secrets.update({value, quote(value, safe="")})


def redact(text: str) -> str:
    """`text` without any known secret, anything shaped like a bot token, or a NIK."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, SECRET_MASK)
    return redact_nik(_BOT_TOKEN.sub(SECRET_MASK, text))


# --- log records ----------------------------------------------------------------------------


def redact_record(record: logging.LogRecord) -> None:
    """Mask NIKs and secrets in a log record: its message, format arguments, traceback, stack."""
    if getattr(record, "_pkh_redacted", False):
        return
    setattr(record, "_pkh_redacted", True)  # noqa: B010 - LogRecord takes any attribute
    _redact_message(record)
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redact_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        record.msg, record.args = redact(str(record.msg)), ()
        return
    clean = redact(message)
    if clean == message:
        return
    # Keep the arguments (some formatters read them, e.g. uvicorn's access log) when masking them
    # one by one gives the same clean message; otherwise the record carries the masked text.
    if isinstance(record.msg, str) and record.args:
        msg, args = redact(record.msg), _redact_args(record.args)
        try:
            if redact(msg % args) == msg % args:
                record.msg, record.args = msg, args
                return
        except (TypeError, ValueError, KeyError):
            pass
    record.msg, record.args = clean, ()


def _redact_args(args: tuple[Any, ...] | Mapping[str, Any]) -> Any:
    if isinstance(args, Mapping):
        return {key: _redact_value(value) for key, value in args.items()}
    return tuple(_redact_value(value) for value in args)


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float | type(None)):
        text = str(value)
        return value if redact(text) == text else redact(text)
    try:
        text = str(value)
    except Exception:
        return value
    clean = redact(text)
    return value if clean == text else clean


class RedactingFilter(logging.Filter):
    """A logging filter for handlers: masks NIKs and secrets in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_factory_installed = False


def install_log_redaction(secrets: Iterable[str | None] = ()) -> None:
    """Mask NIKs and `secrets` in every log record of this process, whoever logs it.

    Every record is masked when it is made (a record factory), so handlers added later (uvicorn's,
    a library's) and every level are covered; every handler that exists now also gets a
    `RedactingFilter`. Calling it again adds secrets and filters for new handlers.
    """
    global _factory_installed
    add_secrets(secrets)
    if not _factory_installed:
        make_record = logging.getLogRecordFactory()

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        _factory_installed = True
    for handler in _every_handler():
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())


def _every_handler() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    return [handler for logger in loggers for handler in logger.handlers]


def with_redaction(config: Mapping[str, Any]) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary (uvicorn's, say) whose handlers all redact."""
    result = dict(config)
    result["filters"] = {
        **dict(config.get("filters", {})),
        "pkh_redact": {"()": "core.redaction.RedactingFilter"},
    }
    handlers = {}
    for name, handler in dict(config.get("handlers", {})).items():
        filters = list(handler.get("filters", []))
        handlers[name] = {**handler, "filters": [*filters, "pkh_redact"]}
    result["handlers"] = handlers
    return result
