"""A noisier copy of a test set, to measure robustness to how people really type.

Deterministic (seeded), character-level only: per message one word gets an elongated letter and
one long word loses a letter. (Swapping in slang would reuse nlu/normalize.py's own table and so
flatter the normalising tokenizer; the clean held-out set already holds real slang.)
"""

from __future__ import annotations

import random
import re

from nlu.trainingdata import Example


def add_noise(text: str, rng: random.Random) -> str:
    """`text` as a hurried typist might write it."""
    words = text.split()
    letters = [i for i, w in enumerate(words) if re.fullmatch(r"[a-zA-Z]{4,}", w)]
    if letters:
        i = rng.choice(letters)
        j = rng.randrange(len(words[i]))
        words[i] = words[i][: j + 1] + words[i][j] * 2 + words[i][j + 1 :]
    long_words = [i for i, w in enumerate(words) if re.fullmatch(r"[a-zA-Z]{6,}", w)]
    if long_words:
        i = rng.choice(long_words)
        j = rng.randrange(1, len(words[i]) - 1)
        words[i] = words[i][:j] + words[i][j + 1 :]
    return " ".join(words)


def noisy_examples(examples: list[Example], seed: int = 7) -> list[Example]:
    """The same examples with noisy text (entities that no longer appear are dropped)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test noise, not a secret
    noisy = []
    for example in examples:
        text = add_noise(example.text, rng)
        noisy.append(Example(text, example.intent, frozenset(), example.source))
    return noisy
