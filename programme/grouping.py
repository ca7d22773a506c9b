"""The inbox's grouping keys: questions that say the same share a key, computed once at intake.

A question's key is its normalised words (NIKs as "nik"). A key seen before is kept; a new one
joins the most similar key among the latest questions' keys when the word sets are near-identical
(Jaccard ≥ 0.8), so "kapan pkh cair ya" lands in the group of "kapan pkh cair". The key is stored
with the question, so the inbox groups in SQL and viewing it costs the same whatever the text.
"""

# Why only the latest questions' keys: a new key is compared with at most RECENT keys, so intake
# costs the same however many questions wait and however hard their text is to group; a
# question asked often stays among the latest. Pure functions: no database here (programme.inbox
# reads the latest keys; the migration that adds the column backfills with group_keys()).

from __future__ import annotations

import hashlib
import re
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Final

from nlu.normalize import normalise_token
from programme.nik import redact_nik

MAX_KEY: Final = 255  # characters stored; a longer key is cut and ends in a digest of all of it
RECENT: Final = 1000  # a new key may join the key of one of the latest RECENT questions
SIMILARITY: Final = Fraction(4, 5)  # Jaccard of the word sets; exact, so no float rounding

_MASKED_NIK = re.compile(r"\*{12}\d{4}")
_WORD = re.compile(r"\w+")
_DOUBLED_LETTER = re.compile(r"([^\W\d_])\1+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGEST = 16  # hex characters of SHA-256 after " #"


def similarity_key(text: str) -> str:
    """The form two questions share when they say the same: normalised words, NIKs as "nik".

    Lower case, punctuation dropped, slang and typos mapped (nlu.normalize), repeated letters
    squeezed ("kapann" = "kapan"). Texts with the same `nlu.trainingdata.normalised_text` always
    get the same key, so de-duplicating by key also passes the data checks. A text of no words
    (emoji, punctuation) is its own key, without its spaces.
    """
    return " ".join(key_words(text)) or "".join(text.split())


def key_words(text: str) -> list[str]:
    """The normalised words of `text`, in order (a NIK, masked or not, is the word "nik")."""
    masked = _MASKED_NIK.sub(" nik ", redact_nik(text))
    return [_normal(word) for word in _WORD.findall(masked.lower())]


@lru_cache(maxsize=100_000)
def _normal(word: str) -> str:
    # Cached: people reuse a few thousand words, and a 4,096-character message has 700 of them.
    return _squeeze(normalise_token(_squeeze(word)))


def _squeeze(word: str) -> str:
    return _DOUBLED_LETTER.sub(r"\1", word)


def group_key_of(text: str) -> str:
    """The text's own key as stored: its similarity key, at most MAX_KEY characters.

    A text that only repeats itself ("kapan kapan kapan …", "😭😭😭") has the key of one
    repetition, so a flood of one word is one group, not one per length.
    """
    text = storable(text)  # what is stored is what the key is made of
    words = key_words(text)
    if words:
        key = " ".join(_one_repetition(words))
    else:
        key = "".join(_one_repetition(list("".join(text.split()))))
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_DIGEST]
    return f"{key[: MAX_KEY - _DIGEST - 2]} #{digest}"


def storable(text: str) -> str:
    """`text` as both databases can store it: no NUL (PostgreSQL refuses it), no lone surrogate."""
    cleaned = text.replace("\x00", "")
    if _SURROGATE.search(cleaned):
        cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")
    return cleaned


def _one_repetition(items: list[str], longest: int = 20) -> list[str]:
    """The shortest unit that `items` repeats at least twice (the last one may be cut), or all."""
    count = len(items)
    for size in range(1, min(longest, count // 2) + 1):
        unit = items[:size]
        whole = count - 1  # the last item may be cut short (a message cut at 4,096 characters)
        if all(items[i] == unit[i % size] for i in range(whole)) and (
            unit[whole % size].startswith(items[whole])
        ):
            return unit
    return items


def group_keys(
    texts: Iterable[str], *, known: Iterable[str] = (), recent: Sequence[str] = ()
) -> list[str]:
    """The group key of each text, as intake would give them one after another.

    `known` are the keys already stored; `recent` the keys of the latest stored questions,
    oldest first. Intake (programme.inbox.add_question) gives the same answer for one text.
    """
    window = KeyWindow(known=known, recent=recent)
    return [window.assign(group_key_of(text)) for text in texts]


class KeyWindow:
    """The keys of the latest RECENT questions, indexed for finding a near-identical one."""

    # Prefix filtering (Bayardo et al., "Scaling up all pairs similarity search"): with the
    # words of every key in one fixed order, two sets with Jaccard ≥ t share a word among the
    # first |A| - ⌈t·|A|⌉ + 1 of each, so a key is indexed under those words only. Long words
    # come first in the order: they are the rare ones ("pkh" and "ya" are everywhere).

    def __init__(self, *, known: Iterable[str] = (), recent: Sequence[str] = ()) -> None:
        self._known = set(known)
        self._rows: deque[str] = deque()
        self._count: Counter[str] = Counter()
        self._last: dict[str, int] = {}  # key -> number of its latest question in the window
        self._words: dict[str, frozenset[str]] = {}  # key -> its words, for the keys in the window
        self._index: dict[str, set[str]] = {}
        self._number = 0
        for key in recent[-RECENT:]:
            self._push(key)

    def assign(self, key: str) -> str:
        """The group key for a new question whose own key is `key`; the window moves on."""
        if key not in self._known:
            key = self.nearest(key)
        self._known.add(key)
        self._push(key)
        return key

    def nearest(self, key: str) -> str:
        """The most similar key in the window (ties: the latest asked), or `key` if none is."""
        words = frozenset(key.split())
        size = len(words)
        if not size:
            return key
        num, den = SIMILARITY.numerator, SIMILARITY.denominator
        candidates = {other for word in _prefix(words) for other in self._index.get(word, ())}
        best: tuple[Fraction, int, str] | None = None
        for other in candidates:
            other_words = self._words[other]
            # Jaccard ≥ t needs t·|A| ≤ |B| ≤ |A|/t: integers, so 0.8 is exact.
            if num * size > den * len(other_words) or num * len(other_words) > den * size:
                continue
            shared = len(words & other_words)
            union = size + len(other_words) - shared
            if shared * den < num * union:
                continue
            found = (Fraction(shared, union), self._last[other], other)
            if best is None or found[:2] > best[:2]:
                best = found
        return key if best is None else best[2]

    def _push(self, key: str) -> None:
        self._number += 1
        self._rows.append(key)
        if self._count[key] == 0:
            self._words[key] = frozenset(key.split())
            for word in _prefix(self._words[key]):
                self._index.setdefault(word, set()).add(key)
        self._count[key] += 1
        self._last[key] = self._number
        if len(self._rows) > RECENT:
            self._drop(self._rows.popleft())

    def _drop(self, key: str) -> None:
        self._count[key] -= 1
        if self._count[key]:
            return
        del self._count[key], self._last[key]
        for word in _prefix(self._words.pop(key)):
            keys = self._index[word]
            keys.discard(key)
            if not keys:
                del self._index[word]


def _prefix(words: frozenset[str]) -> list[str]:
    size = len(words)
    ordered = sorted(words, key=lambda word: (-len(word), word))
    ceiling = -(-SIMILARITY.numerator * size // SIMILARITY.denominator)
    return ordered[: size - ceiling + 1]
