"""A whitespace tokenizer that normalises informal and regional Indonesian for the featurizers.

Each token keeps its original text and offsets (so entities are still cut from what the user
typed) and gets a normalised lemma, which Rasa's CountVectorsFeaturizer uses by default
(``use_lemma: true``): "gmn", "gimana" and "gimanaaa" all become "bagaimana", and so do
"piye" and "kumaha"; "tahap3" is split into "tahap" and "3". Optional steps from PyPI libraries
(each enabled or not by measurement on the dev set — docs/nlu-experiments.md):

- ``stemmer: sastrawi`` — PySastrawi's stemmer on the normalised lemma ("pencairan" -> "cair");
- ``slang: indonlp`` — indoNLP's slang table for words our own lexicon does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from nlu.normalize import normalise_token, split_letters_and_digits


def _sastrawi() -> Callable[[str], str]:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-not-found]

    stemmer = StemmerFactory().create_stemmer()
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        if word not in cache:
            # Numbers, stage numerals and our canonical words stay as they are.
            cache[word] = stemmer.stem(word) if word.isalpha() and len(word) > 4 else word
        return cache[word] or word

    return stem


def _indonlp() -> Callable[[str], str]:
    from indoNLP.preprocessing.slang_data import SLANG_DATA  # type: ignore[import-not-found]

    table = {k.lower(): v.lower() for k, v in SLANG_DATA.items() if " " not in v}
    return lambda word: table.get(word, word)


_STEPS: dict[str, Callable[[], Callable[[str], str]]] = {
    "sastrawi": _sastrawi,
    "indonlp": _indonlp,
}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndonesianTokenizer(WhitespaceTokenizer):
    """Whitespace tokens, split at letter/digit boundaries, with normalised lemmas."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **WhitespaceTokenizer.get_default_config(),
            "normalise": True,
            "regional": True,
            "slang": None,
            "stemmer": None,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        # indoNLP's table is consulted only for words our lexicon left unchanged.
        self._slang = _STEPS[config["slang"]]() if config.get("slang") else None
        self._stem = _STEPS[config["stemmer"]]() if config.get("stemmer") else None

    def lemma(self, text: str) -> str:
        """What the featurizers see for one token."""
        if not self._config["normalise"]:
            return text.lower()
        word = normalise_token(text, regional=self._config["regional"])
        if self._slang is not None and word == text.lower():
            word = self._slang(word)
        if self._stem is not None:
            word = self._stem(word)
        return word

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens: list[Token] = []
        for token in super().tokenize(message, attribute):
            for offset, text in split_letters_and_digits(token.text):
                start = token.start + offset
                tokens.append(Token(text, start, start + len(text), lemma=self.lemma(text)))
        return tokens
