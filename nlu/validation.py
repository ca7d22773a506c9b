"""Checks of the NLU data: Rasa's own validator, PRODUCT.md §4 coverage, train/test separation."""

from __future__ import annotations

import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT
from nlu.schema import ENTITY_VALUES, INTENTS
from nlu.server import rasa_command, rasa_environment
from nlu.trainingdata import (
    DEV_DIR,
    HELDOUT_DIR,
    TEST_DIR,
    TRAINING_DIR,
    load_examples,
    normalised_text,
    parse_annotated,
)

__all__ = ["DEV_DIR", "HELDOUT_DIR", "TEST_DIR", "TRAINING_DIR", "validate_all"]
# Issue 14: at least 80 training examples per intent, 120 for the intents that are easily
# confused with a neighbour (every topic of §4; small talk and out_of_scope are not), and enough
# in each held-out set to score every intent.
MIN_TRAINING_EXAMPLES = 80
MIN_CONFUSABLE_EXAMPLES = 120
SMALL_TALK = frozenset({"greet", "thank", "goodbye", "bot_challenge", "ask_help", "out_of_scope"})
MIN_HELDOUT_EXAMPLES = 8


def domain_yaml() -> str:
    """A Rasa domain listing the §4 intents and entities (Rasa's validator needs one)."""
    return yaml.safe_dump(
        {"version": "3.1", "intents": [str(i) for i in INTENTS], "entities": list(ENTITY_VALUES)},
        sort_keys=False,
    )


def rasa_data_validate(data: Path = TRAINING_DIR) -> list[str]:
    """Run `rasa data validate` on the training data; its complaints, if it failed."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as domain:
        domain.write(domain_yaml())
        domain.flush()
        result = subprocess.run(
            [*rasa_command("data", "validate", "--domain", domain.name, "--data", str(data)),
             "--fail-on-warnings"],
            cwd=PROJECT_ROOT, env=rasa_environment(), capture_output=True, text=True,
        )  # fmt: skip
    if result.returncode == 0:
        return []
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return ["rasa data validate failed:", *lines[-30:]]


def coverage_problems() -> list[str]:
    """Every §4 intent with enough examples in both sets; every entity type present."""
    problems = []
    training = Counter(e.intent for e in load_examples(TRAINING_DIR))
    heldout = Counter(e.intent for e in load_examples(HELDOUT_DIR))
    sets = {d.name: Counter(e.intent for e in load_examples(d)) for d in (DEV_DIR, TEST_DIR)}
    for intent in INTENTS:
        least = MIN_TRAINING_EXAMPLES if intent in SMALL_TALK else MIN_CONFUSABLE_EXAMPLES
        if training[intent] < least:
            problems.append(f"{intent}: {training[intent]} training examples (< {least})")
        for name, counts in sets.items():
            if counts[intent] < MIN_HELDOUT_EXAMPLES:
                problems.append(
                    f"{intent}: {counts[intent]} {name} examples (< {MIN_HELDOUT_EXAMPLES})"
                )
    for name in set(training) | set(heldout):
        if name not in INTENTS:
            problems.append(f"{name}: not an intent of PRODUCT.md §4")
    seen = {entity for e in load_examples(TRAINING_DIR) for entity, _ in e.entities}
    problems += [f"entity {name}: never annotated" for name in ENTITY_VALUES if name not in seen]
    return problems


def annotation_problems() -> list[str]:
    """Entity annotations whose value is not one of §4's canonical values."""
    problems = []
    for directory in (TRAINING_DIR, HELDOUT_DIR):
        for file in sorted(directory.rglob("*.yml")):
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if (line.strip().startswith("- ") and "](" in line) or "]{" in line:
                    for problem in parse_annotated(line.strip()[2:])[2]:
                        problems.append(f"{file.relative_to(PROJECT_ROOT)}:{number}: {problem}")
    return problems


def overlap_problems() -> list[str]:
    """Held-out examples that also occur in training (after normalising), and duplicates (one
    text in both dev and test counts as a held-out duplicate)."""
    training = load_examples(TRAINING_DIR)
    heldout = load_examples(HELDOUT_DIR)
    trained = {normalised_text(e.text) for e in training}
    problems = [
        f"held-out example also in training: {e.text!r} ({e.source})"
        for e in heldout
        if normalised_text(e.text) in trained
    ]
    for name, examples in (("training", training), ("held-out", heldout)):
        counts = Counter(normalised_text(e.text) for e in examples)
        problems += [f"duplicate {name} example: {text!r}" for text, n in counts.items() if n > 1]
    return problems


def validate_all() -> list[str]:
    return coverage_problems() + annotation_problems() + overlap_problems() + rasa_data_validate()
