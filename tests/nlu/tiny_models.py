"""Tiny NLU models for tests that are about the retraining loop, not about the model's quality.

A model trained on a few examples per intent takes seconds; more examples make a better model
and two make a clearly worse one. The data is written afresh in every test session (from the
current data/nlu); the models are kept in models/tests/, named by their inputs' fingerprint like
every model, so a model is trained again only when its inputs changed (`make clean` removes them).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from nlu.evaluation import heldout_sets, write_training_data
from nlu.retrain import train_candidate
from nlu.trainingdata import TRAINING_DIR, Example, load_examples

CONFIG = PROJECT_ROOT / "config.yml"
# Beside the real models but out of their way: nlu.server only looks at models/nlu-*.tar.gz.
TINY_MODELS = PROJECT_ROOT / "models" / "tests"


def first_per_intent(examples: list[Example], count: int) -> list[Example]:
    """The first `count` examples of every intent, in file order."""
    taken: dict[str, int] = defaultdict(int)
    chosen = []
    for example in examples:
        if taken[example.intent] < count:
            taken[example.intent] += 1
            chosen.append(example)
    return chosen


def tiny_training_data(directory: Path, per_intent: int) -> Path:
    """Rasa training data with `per_intent` examples of each intent (and all the synonyms)."""
    data = directory / f"data-{per_intent}"
    if not data.exists():
        write_training_data(
            first_per_intent(load_examples(TRAINING_DIR), per_intent), data, TRAINING_DIR
        )
    return data


def small_evaluation_sets(per_intent: int = 4) -> Mapping[str, list[Example]]:
    """A few dev and test examples of each intent: enough to tell a tiny model from a worse one."""
    return {name: first_per_intent(ex, per_intent) for name, ex in heldout_sets().items()}


def tiny_model(cache: Path, per_intent: int) -> Path:
    """A model trained on `per_intent` examples per intent (only when its inputs changed)."""
    model, _ = train_candidate(
        data=tiny_training_data(cache, per_intent), config=CONFIG, models_dir=TINY_MODELS
    )
    return model


def copy_model(model: Path, models_dir: Path) -> Path:
    """The same model file in another models directory (each test has its own)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(model, models_dir / model.name))


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this session's tiny training data lives."""
    return tmp_path_factory.getbasetemp() / "tiny-nlu"
