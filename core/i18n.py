"""Translations of the bot's own text (gettext catalogs under locale/) and locale-bound formatting.

Message ids are the Indonesian text itself: Indonesian is the product's language and what its
writers (pendamping, programme staff) read and review in the code. `locale/en` translates every
one of them and `locale/id` may re-word them without a code change; tests check both catalogs are
complete. Strings go to `tr._()` as literals with `{named}` placeholders, never f-strings, so
`make i18n` can extract them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from babel.support import NullTranslations, Translations

from core import formatting
from core.settings import PROJECT_ROOT

LOCALE_DIR = PROJECT_ROOT / "locale"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
_BABEL_LOCALES = {"id": "id_ID", "en": "en"}


@cache
def catalog(language: str) -> NullTranslations:
    """The compiled catalog of one language (`make i18n` compiles them)."""
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


@dataclass(frozen=True)
class Translator:
    """Text and formatting in one user's language."""

    language: str = DEFAULT_LANGUAGE

    @property
    def locale(self) -> str:
        return _BABEL_LOCALES.get(self.language, "id_ID")

    def _(self, message: str, **values: object) -> str:
        """Translate `message`, then fill its {named} placeholders."""
        text = catalog(self.language).gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, count: int, **values: object) -> str:
        text = catalog(self.language).ngettext(singular, plural, count)
        return text.format(count=count, **values)

    def rupiah(self, amount: Decimal | int) -> str:
        return formatting.rupiah(amount, self.locale)

    def long_date(self, day: date) -> str:
        return formatting.long_date(day, self.locale)

    def short_date(self, day: date) -> str:
        return formatting.short_date(day, self.locale)

    def date_range(self, first: date, last: date) -> str:
        return formatting.date_range(first, last, self.locale)

    def month_range(self, first: int, last: int) -> str:
        return formatting.month_range(first, last, self.locale)

    def local_time(self, moment: datetime, time_zone: str) -> str:
        return formatting.local_time(moment, time_zone, self.locale)

    def local_datetime(self, moment: datetime, time_zone: str) -> str:
        return formatting.local_datetime(moment, time_zone, self.locale)


def translator(language: str | None) -> Translator:
    return Translator(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def fill_source_language() -> int:
    """Copy each message id into its empty Indonesian translation (the ids are Indonesian)."""
    from babel.messages.pofile import read_po, write_po

    path = LOCALE_DIR / DEFAULT_LANGUAGE / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog_ = read_po(handle, locale=DEFAULT_LANGUAGE)
    filled = 0
    for message in catalog_:
        if message.id and not message.string:
            message.string = message.id
            filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog_, width=100)
    return filled


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["fill-source-language"]:
        print(f"{fill_source_language()} Indonesian messages filled from their ids")
