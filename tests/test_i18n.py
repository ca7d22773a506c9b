"""The gettext catalogs: up to date with the code, complete in Indonesian and English."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR, Translator
from core.settings import PROJECT_ROOT


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def message_ids(catalog: Catalog) -> set[str]:
    return {str(m.id) for m in catalog if m.id}


def test_template_has_every_message_of_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_", "-k", "n_:1,2",
         "-o", str(fresh), "."],
        cwd=PROJECT_ROOT, check=True,
    )  # fmt: skip
    committed = message_ids(load(LOCALE_DIR / "messages.pot"))
    assert message_ids(load(fresh)) == committed, "run `make i18n` and translate the new messages"


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_message_is_translated(language: str) -> None:
    template = message_ids(load(LOCALE_DIR / "messages.pot"))
    catalog = load(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", language)
    translated = {str(m.id) for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(template - translated) == []


@pytest.mark.parametrize("language", ["id", "en"])
def test_translations_keep_the_placeholders(language: str) -> None:
    catalog = load(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", language)
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string:
            wanted = set(re.findall(r"\{(\w+)\}", message.id))
            assert set(re.findall(r"\{(\w+)\}", str(message.string))) == wanted, message.id


def test_english_translation_is_used_for_english_speakers() -> None:
    assert Translator("en")._("Kapan cair?") != "Kapan cair?"
    assert Translator("id")._("Kapan cair?") == "Kapan cair?"
