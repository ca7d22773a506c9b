"""The bot's own words typed back reach their topic (issue 13), through the real model.

Menu and topic button labels come from `actions.content`; the phrases the bot tells people to
type ("ketik "minta pendamping"", 'misalnya "modul ekonomi"') are read from the code and the FAQ
data, so a new suggestion fails here until someone says which topic it must reach.
"""

from __future__ import annotations

import re

import pytest
import yaml

from actions.content import main_menu, topic_label
from core.i18n import Translator
from core.settings import PROJECT_ROOT
from nlu.client import NLUClient
from nlu.entities import canonical_value
from nlu.schema import INTENTS, Intent

pytestmark = pytest.mark.integration

# Where the bot's words live: answers, handlers, notices and the FAQ texts.
SOURCES = ("actions", "bot", "programme", "core", "data/programme")
# ketik "…", misalnya "…" / misalnya: "…" (straight or curly quotes, escaped or not).
SUGGESTION = re.compile(r"(?:[Kk]etik|misalnya:?)\s+\\?[\"“]([^\"”\\{}]+)\\?[\"”]")

# Every phrase the bot suggests, with the topic it must reach. A suggestion found in the code
# and missing here fails test_every_suggested_phrase_has_an_expected_topic.
EXPECTED: dict[str, Intent] = {
    "minta pendamping": Intent.REQUEST_HUMAN,
    "hubungi pendamping": Intent.REQUEST_HUMAN,
    "menu": Intent.ASK_HELP,
    "modul ekonomi": Intent.ASK_P2K2_MODULES,
    "kapan pkh tahap 4 cair?": Intent.ASK_PAYMENT_SCHEDULE,
}

# Questions of a linked family that must get a real answer (issue 13), with the topic §4 gives.
FAMILY_QUESTIONS: list[tuple[str, Intent, dict[str, str]]] = [
    ("komponen keluarga saya apa saja", Intent.ASK_BENEFIT_AMOUNT, {}),
    ("kalau pengurus meninggal siapa yang ambil pkh nya", Intent.UPDATE_FAMILY_DATA, {}),
    # Collecting at the Pos (what to bring on the pay day) is the schedule's Pos topic.
    ("ambil pkh di kantor pos bawa apa aja", Intent.ASK_PAYMENT_SCHEDULE, {"bank": "pos"}),
    # Who may withdraw (not a pendamping) is the schedule's withdrawal (KKS) topic.
    ("bisa gak pendamping yg ambilin duit pkh saya", Intent.ASK_PAYMENT_SCHEDULE, {}),
]


def suggested_phrases() -> dict[str, list[str]]:
    """Each quoted phrase the bot suggests typing -> the files that suggest it."""
    found: dict[str, list[str]] = {}
    for source in SOURCES:
        for path in sorted((PROJECT_ROOT / source).rglob("*")):
            if path.suffix not in (".py", ".yml") or "__pycache__" in path.parts:
                continue
            for phrase in SUGGESTION.findall(path.read_text(encoding="utf-8")):
                if not phrase.startswith("/"):
                    key = phrase.strip().lower()
                    found.setdefault(key, []).append(str(path.relative_to(PROJECT_ROOT)))
    return found


def button_labels() -> list[tuple[str, str]]:
    """(label, intent) of the main menu and of every topic button the bot can show."""
    tr = Translator()
    labels = {(b.label, b.value) for b in main_menu(tr)}
    labels |= {(topic_label(tr, i), i) for i in INTENTS if topic_label(tr, i) != i}
    return sorted(labels)


def module_names() -> list[str]:
    """The P2K2 module names the bot lists after "Ketik nama modulnya"."""
    data = yaml.safe_load((PROJECT_ROOT / "data" / "programme" / "p2k2.yml").read_text())
    return [module["name"] for module in data["modules"]]


def test_every_suggested_phrase_has_an_expected_topic() -> None:
    found = suggested_phrases()
    assert {"minta pendamping", "modul ekonomi"} <= set(found), found
    assert {p: files for p, files in found.items() if p not in EXPECTED} == {}


def test_button_labels_are_read_from_the_code() -> None:
    labels = dict(button_labels())
    assert labels["Status bantuan saya"] == Intent.ASK_PAYMENT_STATUS
    assert len(labels) >= len(main_menu(Translator()))


async def test_typed_button_labels_reach_their_topic(nlu_url: str) -> None:
    async with NLUClient(nlu_url, timeout=10.0) as client:
        wrong = {
            label: (result.intent, round(result.confidence, 2))
            for label, intent in button_labels()
            if (result := await client.parse(label)).intent != intent
        }
    assert wrong == {}


async def test_typed_suggestions_reach_their_topic(nlu_url: str) -> None:
    async with NLUClient(nlu_url, timeout=10.0) as client:
        wrong = {
            phrase: (result.intent, round(result.confidence, 2))
            for phrase in suggested_phrases()
            if (result := await client.parse(phrase)).intent != EXPECTED[phrase]
        }
    assert wrong == {}


async def test_typed_module_names_reach_the_modules_topic(nlu_url: str) -> None:
    async with NLUClient(nlu_url, timeout=10.0) as client:
        for name in module_names():
            result = await client.parse(name)
            assert result.intent == Intent.ASK_P2K2_MODULES, (name, result.intent)
            module = canonical_value("module", name)
            if module is not None:
                assert result.first("module") == module, (name, result.entities)


@pytest.mark.parametrize(("text", "intent", "entities"), FAMILY_QUESTIONS)
async def test_family_questions_of_issue_13_get_their_topic(
    nlu_url: str, text: str, intent: Intent, entities: dict[str, str]
) -> None:
    async with NLUClient(nlu_url, timeout=10.0) as client:
        result = await client.parse(text)
    assert result.intent == intent, (result.intent, result.confidence)
    for entity, value in entities.items():
        assert result.first(entity) == value, result.entities
