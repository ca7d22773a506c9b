"""The NLU training data: Rasa's validator, §4 coverage, and a held-out set kept apart."""

from __future__ import annotations

from collections import Counter

from nlu import validation
from nlu.schema import ENTITY_VALUES, INTENTS
from nlu.trainingdata import load_examples, normalised_text


def test_every_intent_of_product_spec_has_enough_examples_in_both_sets() -> None:
    assert validation.coverage_problems() == []


def test_every_entity_type_and_every_canonical_value_is_taught() -> None:
    taught = {pair for e in load_examples(validation.TRAINING_DIR) for pair in e.entities}
    missing = [
        (entity, value)
        for entity, values in ENTITY_VALUES.items()
        for value in values
        if (entity, value) not in taught
    ]
    assert missing == []


def test_held_out_examples_never_appear_in_training() -> None:
    training = {normalised_text(e.text) for e in load_examples(validation.TRAINING_DIR)}
    heldout = load_examples(validation.HELDOUT_DIR)
    assert heldout, "the held-out set is empty"
    assert [e.text for e in heldout if normalised_text(e.text) in training] == []


def test_no_example_is_written_twice() -> None:
    assert validation.overlap_problems() == []


def test_entity_annotations_use_canonical_values() -> None:
    assert validation.annotation_problems() == []


def test_dev_and_test_sets_each_cover_every_intent() -> None:
    for directory in (validation.DEV_DIR, validation.TEST_DIR):
        counts = Counter(e.intent for e in load_examples(directory))
        short = {i for i in INTENTS if counts[i] < validation.MIN_HELDOUT_EXAMPLES}
        assert short == set(), directory.name


def test_dev_and_test_sets_share_no_example() -> None:
    dev = {normalised_text(e.text) for e in load_examples(validation.DEV_DIR)}
    test = {normalised_text(e.text) for e in load_examples(validation.TEST_DIR)}
    assert dev and test and not dev & test


def test_held_out_directory_is_exactly_dev_and_test() -> None:
    files = {
        p.relative_to(validation.HELDOUT_DIR).parts[0]
        for p in validation.HELDOUT_DIR.rglob("*.yml")
    }
    assert files == {"dev", "test"}


def test_rasa_data_validate_passes() -> None:
    assert validation.rasa_data_validate() == []
