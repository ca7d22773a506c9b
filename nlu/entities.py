"""Canonical entity values: what the actions receive, whatever the user typed.

Rasa's EntitySynonymMapper maps the surface forms listed in data/nlu/synonyms.yml; this maps the
rest (typos, spacing, unseen variants, regional words) or drops the entity, so the bot only ever
sees the values of PRODUCT.md §4 (nlu/schema.py). A `year` is a four-digit year or one of
tahun_lalu / tahun_ini / tahun_depan; `resolve_year` makes it absolute given today's date.

Standard library only: Rasa's environment imports it too.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from nlu.schema import ENTITY_VALUES

# Indonesian, Roman, Javanese (ngoko/krama), Sundanese and Sumatran Malay stage numbers.
_ROMAN_AND_WORDS: Final[dict[str, str]] = {
    "i": "1", "satu": "1", "pertama": "1", "kesatu": "1", "siji": "1", "setunggal": "1",
    "hiji": "1", "kahiji": "1", "kapisan": "1", "ciek": "1", "sikok": "1", "sekok": "1",
    "ii": "2", "dua": "2", "kedua": "2", "loro": "2", "kaloro": "2", "kalih": "2",
    "kadua": "2", "duo": "2", "keduo": "2",
    "iii": "3", "tiga": "3", "ketiga": "3", "telu": "3", "katelu": "3", "tilu": "3",
    "katilu": "3", "tigo": "3", "ketigo": "3",
    "iv": "4", "empat": "4", "keempat": "4", "terakhir": "4", "papat": "4", "kapat": "4",
    "sekawan": "4", "opat": "4", "kaopat": "4", "ampek": "4", "keampek": "4",
}  # fmt: skip

# Ordered: the first keyword found in the value decides (so "anak smp" is not taken for "anak").
_KEYWORDS: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "component": (
        (
            "ibu_hamil",
            (
                "hamil",
                "bumil",
                "nifas",
                "kandung",
                "meteng",
                "ngandeg",
                "reuneuh",
                "bunting",
                "ngandung",
                "bureuh",
            ),
        ),
        ("anak_smp", ("smp", "mts", "sltp", "esempe", "tsanawiyah", "tsanawiah")),
        ("anak_sma", ("sma", "smk", "slta", "aliyah", "esema", " ma ", "stm")),
        ("anak_sd", ("sd", "sekolah dasar", "esde", " mi ", "ibtidaiyah")),
        (
            "anak_usia_dini",
            (
                "balita",
                "dini",
                "tk",
                "paud",
                "bayi",
                "apras",
                "aud",
                "kecil",
                "orok",
                "cilik",
                "leutik",
                "batita",
                "bocil",
            ),
        ),
        ("disabilitas_berat", ("disab", "difabel", "cacat", "disabel", "lumpuh", "odgj")),
        (
            "lansia",
            (
                "lansia",
                "lanjut",
                "nenek",
                "kakek",
                "mbah",
                "manula",
                "jompo",
                "orang tua",
                "nini",
                " aki ",
                "eyang",
                "sepuh",
                "uyut",
                "wong tuo",
                "wong tuwo",
                "nyai",
                "embah",
                "simbok",
                "ompung",
                "opung",
                "datuk",
                "uwo",
            ),
        ),
    ),
    "module": (
        ("perlindungan_anak", ("perlindungan", "kekerasan")),
        ("pengasuhan_pendidikan", ("pengasuhan", "pendidikan", "parenting", "asuh")),
        ("kesehatan_gizi", ("kesehatan", "gizi", "sehat", "stunting")),
        ("kesejahteraan_sosial", ("kesejahteraan", "kesos", "lansia", "disabilitas")),
        ("ekonomi", ("ekonomi", "keuangan", "usaha", "uang", "nabung", "tabung")),
    ),
    "bank": (
        ("bsi", ("bsi", "syariah")),
        ("bri", ("bri", "rakyat")),
        ("bni", ("bni",)),
        ("mandiri", ("mandiri",)),
        ("btn", ("btn",)),
        ("pos", ("pos",)),
    ),
    "programme": (
        ("prokus", ("prokus", "kewirausahaan")),
        ("bpnt", ("bpnt", "sembako", "pangan")),
        ("kube", ("kube", "usaha bersama")),
        ("kur", ("kur", "kredit usaha")),
        ("pkh", ("pkh", "keluarga harapan")),
    ),
}

# "tahun depan", "thn dpn", "taun ngarep" (Javanese), "taun payun" (Sundanese), "taun muko"…
_YEAR_WORD = r"(?:tahun|thn|th|taun|taon|thun|tahon|warsa)"
_RELATIVE_YEAR: Final[dict[str, tuple[str, ...]]] = {
    "tahun_depan": ("depan", "dpn", "ngarep", "ngajeng", "payun", "mendatang", "muko",
                    "besok", "berikutnya", "selanjutnya", "yad"),
    "tahun_lalu": ("lalu", "lepas", "kemarin", "kemaren", "kmrn", "kmarin", "wingi", "kamari",
                   "kepungkur", "sebelumnya", "kapungkur", "yll", "lewat", "kemaren"),
    "tahun_ini": ("ini", "iki", "ieu", "sekarang", "skrg", "niki", "iko", "saiki", "sakniki",
                  "ayeuna", "kini", "berjalan"),
}  # fmt: skip
_RELATIVE_WORDS: Final[dict[str, str]] = {
    word: value for value, words in _RELATIVE_YEAR.items() for word in words
}
_FOUR_DIGIT_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d\d)(?![\d.,]\d)")
_YEAR_PHRASE = re.compile(
    rf"(?<!\w){_YEAR_WORD}\s+(?:yang\s+|yg\s+|nu\s+|sing\s+)?(?P<word>\w+)(?!\w)", re.IGNORECASE
)
_OFFSETS: Final[dict[str, int]] = {"tahun_lalu": -1, "tahun_ini": 0, "tahun_depan": 1}


def canonical_value(entity: str, value: object) -> str | None:
    """The canonical value of an extracted entity, or None when it names nothing we know."""
    text = str(value).strip().lower()
    allowed = ENTITY_VALUES.get(entity)
    if allowed is None:
        return None
    if text in allowed:
        return text
    if entity == "stage":
        return _canonical_stage(text)
    if entity == "year":
        return _canonical_year(text)
    padded = f" {text} "
    for canonical, keywords in _KEYWORDS.get(entity, ()):
        if any(keyword in padded for keyword in keywords):
            return canonical
    return None


def _canonical_stage(text: str) -> str | None:
    digits: list[str] = re.findall(r"[1-4]", text)
    if len(digits) == 1 and not re.search(r"[05-9]", text):
        return digits[0]
    word = re.sub(r"^(tahapan|tahap|thp|kaping)[\s-]*", "", text).strip(" .-")
    if word in _ROMAN_AND_WORDS:
        return _ROMAN_AND_WORDS[word]
    return _ROMAN_AND_WORDS.get(re.sub(r"^(ke|ka)[\s-]*", "", word))


def _canonical_year(text: str) -> str | None:
    found = _FOUR_DIGIT_YEAR.search(text)
    if found:
        return found.group(1)
    words = re.findall(r"\w+", text)
    for word in reversed(words):
        if word in _RELATIVE_WORDS:
            return _RELATIVE_WORDS[word]
    return None


def find_years(text: str) -> list[tuple[int, int, str]]:
    """Every year named in `text`: (start, end, canonical value), in order.

    The backstop for the model: "2027", "tahun depan", "thn lalu", "taun payun" and the like.
    """
    found = [(m.start(1), m.end(1), m.group(1)) for m in _FOUR_DIGIT_YEAR.finditer(text)]
    for match in _YEAR_PHRASE.finditer(text):
        value = _RELATIVE_WORDS.get(match["word"].lower())
        if value and not any(
            start < match.end() and match.start() < end for start, end, _ in found
        ):
            found.append((match.start(), match.end(), value))
    return sorted(found)


_STAGE_PHRASE = re.compile(
    r"(?<!\w)(?:tahapan|tahap|thp)(?:\s+(?:ke|kaping|ka))?[\s-]*(?P<word>[1-4]|[a-z]+)(?!\w)",
    re.IGNORECASE,
)


def find_stages(text: str) -> list[tuple[int, int, str]]:
    """Every stage named as "tahap …" in `text`: (start, end, canonical value), in order.

    The backstop for the model: "tahap papat", "tahap katilu", "tahap duo", "tahap 3".
    """
    found = []
    for match in _STAGE_PHRASE.finditer(text):
        value = _canonical_stage(match["word"].lower())
        if value is not None:
            found.append((match.start("word"), match.end("word"), value))
    return found


# Words that, in the training data, always name the entity when they occur (never another
# meaning): the backstop for what the model misses, ALL CAPITALS above all ("BERAPA UANG PKH
# UNTUK BALITA"). Ambiguous words stay out: *anak*, *ibu*, *kecil*, *mandiri* (graduasi mandiri),
# *pos* (posyandu is written "pos" too), *orang tua* (parents).
_SURE_COMPONENT_WORDS: Final[tuple[str, ...]] = (
    "hamil", "bumil", "meteng", "ngandeg", "reuneuh", "bunting", "nifas",
    "smp", "mts", "sltp", "tsanawiyah", "sma", "smk", "slta", "stm", "aliyah",
    "sd", "ibtidaiyah", "balita", "batita", "paud", "bayi", "apras",
    "disabilitas", "difabel", "lansia", "manula", "jompo", "nenek", "kakek", "mbah",
    "nini", "sepuh",
)  # fmt: skip
_SURE_PHRASES: Final[dict[str, re.Pattern[str]]] = {
    "component": re.compile(rf"(?<!\w)(?:{'|'.join(_SURE_COMPONENT_WORDS)})(?!\w)", re.IGNORECASE),
    "bank": re.compile(
        r"(?<!\w)(?:bri|brilink|bni|bsi|btn|bank\s+mandiri|kantor\s+pos|pos\s+indonesia)(?!\w)",
        re.IGNORECASE,
    ),
    "module": re.compile(
        r"(?<!\w)(?:modul|materi)\s+(?:tentang\s+|soal\s+|ttg\s+)?\w+(?:\s+\w+)?", re.IGNORECASE
    ),
}


# "smp" and "sd" also abbreviate *sampai* and *s.d.* (until): "blm masuk smp skrg", "tgl 1 sd 10";
# after "anak", "kelas", "sekolah"… they are the school level whatever follows.
_UNTIL_AFTER = re.compile(
    r"\s*(?:skrg|skrng|sekarang|saat|kapan|kpn|hari|hr|besok|bsk|bulan|bln|tahun|thn|minggu|mgg|"
    r"jam|tgl|tanggal|nanti|akhir|habis|hbs|selesai)(?!\w)",
    re.IGNORECASE,
)
_UNTIL_BEFORE = re.compile(r"\d\s*$")
_SCHOOL_BEFORE = re.compile(
    r"(?:anak|anakku|anake|kelas|sekolah|murid|siswa|lulus|lulusan|tamat|budak|lare)\s*$",
    re.IGNORECASE,
)


def _abbreviates_until(match: re.Match[str], text: str) -> bool:
    if match.group().lower() not in ("smp", "sd"):
        return False
    before = text[: match.start()]
    if _SCHOOL_BEFORE.search(before):
        return False
    return bool(_UNTIL_AFTER.match(text, match.end()) or _UNTIL_BEFORE.search(before))


def find_named(entity: str, text: str) -> list[tuple[int, int, str]]:
    """Every `component`, `bank` or `module` named unambiguously in `text`, in order.

    The backstop for the model, like `find_years` and `find_stages`: only words the training data
    always annotates (whatever their case), and a module only after "modul"/"materi".
    """
    pattern = _SURE_PHRASES.get(entity)
    if pattern is None:
        return []
    found = []
    for match in pattern.finditer(text):
        if _abbreviates_until(match, text):
            continue
        value = canonical_value(entity, match.group())
        if value is not None:
            found.append((match.start(), match.end(), value))
    return found


def resolve_year(value: str | None, today: date) -> int | None:
    """The absolute year of a canonical `year` value ("2027", "tahun_depan"), given today."""
    if value is None:
        return None
    if value in _OFFSETS:
        return today.year + _OFFSETS[value]
    return int(value) if re.fullmatch(r"\d{4}", value) else None
