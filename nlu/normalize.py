"""Indonesian chat normalisation: slang, abbreviations and elongated letters, token by token.

Standard library only: the Rasa tokenizer in ``nlu.components`` uses it inside Rasa's environment
and the tests import it from the application's. Offsets are never changed here — callers keep each
token's position in the original text and only replace what the featurizers see.
"""

from __future__ import annotations

import re
from typing import Final

# Informal and abbreviated forms -> the form most of the training data spells out. Only forms that
# are unambiguous in a PKH conversation belong here ("mi" is a madrasah *and* noodles: left out).
SLANG: Final[dict[str, str]] = {
    # negation and aspect
    "gak": "tidak",
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "ndak": "tidak",
    "idak": "tidak",
    "tdk": "tidak",
    "kagak": "tidak",
    "ora": "tidak",
    "tak": "tidak",
    "ndk": "tidak",
    "g": "tidak",
    "udah": "sudah",
    "udh": "sudah",
    "dah": "sudah",
    "sdh": "sudah",
    "udeh": "sudah",
    "wis": "sudah",
    "uda": "sudah",
    "sudh": "sudah",
    "blm": "belum",
    "belom": "belum",
    "blom": "belum",
    "durung": "belum",
    "blum": "belum",
    # question words
    "brp": "berapa",
    "brapa": "berapa",
    "berapakah": "berapa",
    "pira": "berapa",
    "gmn": "bagaimana",
    "gimana": "bagaimana",
    "gmna": "bagaimana",
    "bgmn": "bagaimana",
    "gimane": "bagaimana",
    "piye": "bagaimana",
    "kumaha": "bagaimana",
    "pripun": "bagaimana",
    "kpn": "kapan",
    "kapn": "kapan",
    "kpan": "kapan",
    "kapankah": "kapan",
    "knp": "kenapa",
    "napa": "kenapa",
    "ngapa": "kenapa",
    "kenopo": "kenapa",
    "mengapa": "kenapa",
    "dmn": "dimana",
    "dimn": "dimana",
    "opo": "apa",
    "apaan": "apa",
    # people and pronouns
    "sy": "saya",
    "sya": "saya",
    "aku": "saya",
    "aye": "saya",
    "gue": "saya",
    "gw": "saya",
    "ane": "saya",
    "q": "saya",
    "kula": "saya",
    "bu": "ibu",
    "buk": "ibu",
    "bun": "ibu",
    "pak": "bapak",
    "bpk": "bapak",
    "min": "admin",
    "mimin": "admin",
    "kak": "kakak",
    # common words
    "yg": "yang",
    "dgn": "dengan",
    "dg": "dengan",
    "utk": "untuk",
    "untk": "untuk",
    "krn": "karena",
    "karna": "karena",
    "soalnya": "karena",
    "jd": "jadi",
    "lg": "lagi",
    "aja": "saja",
    "aj": "saja",
    "kalo": "kalau",
    "klo": "kalau",
    "kl": "kalau",
    "tgl": "tanggal",
    "bln": "bulan",
    "thn": "tahun",
    "th": "tahun",
    "hr": "hari",
    "skrg": "sekarang",
    "skrang": "sekarang",
    "sekarng": "sekarang",
    "dpt": "dapat",
    "dapet": "dapat",
    "dpet": "dapat",
    "tau": "tahu",
    "tw": "tahu",
    "bs": "bisa",
    "bsa": "bisa",
    "mw": "mau",
    "mo": "mau",
    "nak": "mau",
    "pengen": "ingin",
    "pgn": "ingin",
    "ado": "ada",
    "tp": "tapi",
    "trs": "terus",
    "trus": "terus",
    "sm": "sama",
    "ama": "sama",
    "makasi": "makasih",
    "mksh": "makasih",
    "makasiih": "makasih",
    "trims": "makasih",
    "thx": "makasih",
    "tq": "makasih",
    "trimakasih": "makasih",
    "terimakasih": "makasih",
    "nian": "sekali",
    "bgt": "sekali",
    "banget": "sekali",
    "budak": "anak",
    "bocah": "anak",
    # domain slang
    "duit": "uang",
    "doku": "uang",
    "dana": "uang",
    "ketelen": "tertelan",
    "ketelan": "tertelan",
    "ditelen": "tertelan",
    "ilang": "hilang",
    "ngilang": "hilang",
    "apras": "balita",
    "pendampingnya": "pendamping",
    "pndamping": "pendamping",
    "pendmping": "pendamping",
    "cairnya": "cair",
    "cair2": "cair",
    "pencairan": "cair",
}

_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_REDUPLICATION_DIGIT = re.compile(r"^([^\W\d_]+)2$")
# Words that are followed by a number ("tahap2" is stage 2, not "tahap-tahap").
NUMBERED_WORDS: Final[frozenset[str]] = frozenset(
    {
        "tahap",
        "ke",
        "modul",
        "sesi",
        "kelas",
        "tanggal",
        "tgl",
        "bulan",
        "bln",
        "jam",
        "pukul",
        "gelombang",
        "no",
        "nomor",
        "rt",
        "rw",
        "tahun",
        "thn",
        "sd",
        "smp",
        "sma",
    }
)


def _is_reduplication(word: str) -> bool:
    match = _REDUPLICATION_DIGIT.match(word)
    return bool(match) and match.group(1) not in NUMBERED_WORDS  # type: ignore[union-attr]


def normalise_token(token: str) -> str:
    """The canonical spelling of one token (lower case, elongation collapsed, slang mapped)."""
    word = token.lower()
    collapsed = _ELONGATION.sub(r"\1", word)
    if collapsed in SLANG:
        return SLANG[collapsed]
    if word in SLANG:
        return SLANG[word]
    # "kira2" and "cepat2" are written reduplication: keep the base word.
    if _is_reduplication(collapsed):
        return collapsed[:-1]
    return collapsed


_LETTER_DIGIT_BOUNDARY = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def split_letters_and_digits(token: str) -> list[tuple[int, str]]:
    """Split "tahap3" into [(0, "tahap"), (5, "3")]: offsets relative to the token's start.

    Written reduplication ("kira2") is not split: the trailing 2 is part of the word.
    """
    if _is_reduplication(token.lower()):
        return [(0, token)]
    parts: list[tuple[int, str]] = []
    start = 0
    for match in _LETTER_DIGIT_BOUNDARY.finditer(token):
        parts.append((start, token[start : match.start()]))
        start = match.start()
    parts.append((start, token[start:]))
    return [(offset, text) for offset, text in parts if text]
