"""A whitespace tokenizer that normalises informal Indonesian for the featurizers.

Each token keeps its original text and offsets (so entities are still cut from what the user
typed) and gets a normalised lemma, which Rasa's CountVectorsFeaturizer uses by default
(``use_lemma: true``): "gmn", "gimana" and "gimanaaa" all become "bagaimana"; "tahap3" is split
into "tahap" and "3". Enabled or not by evaluation — see docs/nlu-experiments.md.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from nlu.normalize import normalise_token, split_letters_and_digits


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndonesianTokenizer(WhitespaceTokenizer):
    """Whitespace tokens, split at letter/digit boundaries, with normalised lemmas."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**WhitespaceTokenizer.get_default_config(), "normalise": True}

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens: list[Token] = []
        for token in super().tokenize(message, attribute):
            for offset, text in split_letters_and_digits(token.text):
                start = token.start + offset
                lemma = normalise_token(text) if self._config["normalise"] else text.lower()
                tokens.append(Token(text, start, start + len(text), lemma=lemma))
        return tokens
