"""Hypothesis strategies for NIKs as people type them, and a search for one in any form."""

from __future__ import annotations

import re

from hypothesis import strategies as st

# What people put between the digits of a NIK, alone or mixed.
SEPARATORS = (" ", "\u00a0", ".", "-", "\t", " - ", ". ", "  ", "\u2009", "\u202f", "–", "\u200b")


any_16_digits = st.text(alphabet="0123456789", min_size=16, max_size=16)

_PROVINCES = [11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53]
_PROVINCES += [61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 94]


@st.composite
def realistic_niks(draw: st.DrawFn) -> str:
    """A NIK as Dukcapil writes it: province, regency, district, birth date (+40 for women),
    serial. Unlike any 16 digits, it never looks like a timestamp's digits."""
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40]))
    return (
        f"{draw(st.sampled_from(_PROVINCES)):02d}{draw(st.integers(1, 79)):02d}"
        f"{draw(st.integers(1, 40)):02d}{day:02d}{draw(st.integers(1, 12)):02d}"
        f"{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 9999)):04d}"
    )


@st.composite
def nik_forms(draw: st.DrawFn, digits: st.SearchStrategy[str] = any_16_digits) -> tuple[str, str]:
    """(the 16 digits, the NIK as typed): plain, in groups of four, or cut anywhere."""
    nik = draw(digits)
    shape = draw(st.sampled_from(["plain", "fours", "six-six-four", "anywhere"]))
    if shape == "plain":
        return nik, nik
    cuts = {
        "fours": [4, 8, 12],
        "six-six-four": [6, 12],
        "anywhere": sorted(draw(st.sets(st.integers(1, 15), min_size=1, max_size=15))),
    }[shape]
    groups = [nik[a:b] for a, b in zip([0, *cuts], [*cuts, 16], strict=True)]
    if draw(st.booleans()):
        separator = draw(st.sampled_from(SEPARATORS))
        return nik, separator.join(groups)
    typed = groups[0]
    for group in groups[1:]:
        typed += draw(st.sampled_from(SEPARATORS)) + group
    return nik, typed


# Text around a NIK in a message: words and punctuation, but no digits touching the NIK.
_context_text = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="\x00"),
    max_size=30,
)


@st.composite
def messages_with_nik(
    draw: st.DrawFn, digits: st.SearchStrategy[str] = any_16_digits
) -> tuple[str, str]:
    """(the 16 digits, a message that holds the NIK in some typed form)."""
    nik, typed = draw(nik_forms(digits))
    template = draw(
        st.sampled_from(
            [
                "{}",
                "NIK saya {}",
                "nik {} kok blm cair ya",
                "ini nik ibu: {}, tolong cek",
                "NIK:{}?",
                "no 2. {} anak 3",
                "hp 0812-3456-7890 nik {}",
                "{} 081234567890",
            ]
        )
    )
    before, after = draw(_context_text), draw(_context_text)
    return nik, before + " " + template.format(typed) + " " + after


# Between two digits of a NIK in a text, a log or a dump: any non-digit, or an escape that holds
# digits itself ("\\xa0" in a repr, "\\u00a0" in JSON, "%C2%A0" in a URL).
_BETWEEN = r"(?:\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|%[0-9a-fA-F]{2}|\D){0,8}"


def nik_pattern(nik: str) -> re.Pattern[str]:
    """The first 12 digits of `nik` (what masking hides) in any separator form."""
    return re.compile(_BETWEEN.join(nik[:12]))


def leaks(nik: str, text: str) -> bool:
    """Whether `text` holds the NIK's hidden digits in any separator form."""
    return nik_pattern(nik).search(text) is not None
