"""Reading Rasa NLU YAML files into plain examples (text, intent, canonical entities)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT
from nlu.entities import canonical_value

TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
# Held-out examples, never trained on: dev/ for every choice (data, features, thresholds) and
# test/ scored once per release. Loading HELDOUT_DIR reads both.
HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu" / "heldout"
DEV_DIR = HELDOUT_DIR / "dev"
TEST_DIR = HELDOUT_DIR / "test"

_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message."""

    text: str
    intent: str
    entities: frozenset[tuple[str, str]]
    source: str
    # The line as written in the YAML file, entity markup included (for re-writing the data).
    annotated: str = ""


def parse_annotated(line: str) -> tuple[str, set[tuple[str, str]], list[str]]:
    """Plain text, canonical (entity, value) pairs, and any problems of one annotated example."""
    entities: set[tuple[str, str]] = set()
    problems: list[str] = []

    def strip(match: re.Match[str]) -> str:
        surface = match["text"]
        explicit = False
        if match["entity"]:
            entity, value = match["entity"], surface
        else:
            try:
                spec = json.loads(match["json"])
                entity, value, explicit = (
                    spec["entity"],
                    spec.get("value", surface),
                    "value" in spec,
                )
            except (ValueError, KeyError):
                problems.append(f"bad annotation {match[0]!r}")
                return surface
        canonical = canonical_value(entity, value)
        if canonical is None or (explicit and canonical != value):
            problems.append(f"{entity}={value!r} is not a canonical value")
        else:
            entities.add((entity, canonical))
        return surface

    return _ANNOTATION.sub(strip, line), entities, problems


def load_examples(path: Path) -> list[Example]:
    """All intent examples of one YAML file, or of every YAML file under a directory."""
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    examples: list[Example] = []
    for file in files:
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or ():
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if not line.startswith("- "):
                    continue
                annotated = line[2:].strip()
                text, entities, _ = parse_annotated(annotated)
                examples.append(
                    Example(text, block["intent"], frozenset(entities), file.name, annotated)
                )
    return examples


def normalised_text(text: str) -> str:
    """The form used to detect duplicates: lower case, letters and digits, single spaces.

    A message of only emoji or punctuation ("😂😂", "?????") is kept as typed instead.
    """
    words = " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
    return words or "".join(text.split())
