"""Canonical entity values: what the actions receive, whatever the user typed.

Rasa's EntitySynonymMapper maps the surface forms listed in data/nlu/synonyms.yml; this maps the
rest (typos, spacing, unseen variants) or drops the entity, so the bot only ever sees the values of
PRODUCT.md §4 (nlu/schema.py).
"""

from __future__ import annotations

import re
from typing import Final

from nlu.schema import ENTITY_VALUES

_ROMAN_AND_WORDS: Final[dict[str, str]] = {
    "i": "1", "satu": "1", "pertama": "1", "kesatu": "1",
    "ii": "2", "dua": "2", "kedua": "2",
    "iii": "3", "tiga": "3", "ketiga": "3",
    "iv": "4", "empat": "4", "keempat": "4", "terakhir": "4",
}  # fmt: skip

# Ordered: the first keyword found in the value decides (so "anak smp" is not taken for "anak").
_KEYWORDS: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "component": (
        ("ibu_hamil", ("hamil", "bumil", "nifas", "kandung")),
        ("anak_smp", ("smp", "mts", "sltp", "esempe", "tsanawiyah")),
        ("anak_sma", ("sma", "smk", "slta", "aliyah", "esema", " ma")),
        ("anak_sd", ("sd", "sekolah dasar", "esde", " mi", "ibtidaiyah")),
        ("anak_usia_dini", ("balita", "dini", "tk", "paud", "bayi", "apras", "aud", "kecil")),
        ("disabilitas_berat", ("disab", "difabel", "cacat", "disabel")),
        ("lansia", ("lansia", "lanjut", "nenek", "kakek", "mbah", "manula", "jompo", "orang tua")),
    ),
    "module": (
        ("perlindungan_anak", ("perlindungan", "kekerasan")),
        ("pengasuhan_pendidikan", ("pengasuhan", "pendidikan", "parenting", "asuh")),
        ("kesehatan_gizi", ("kesehatan", "gizi", "sehat")),
        ("kesejahteraan_sosial", ("kesejahteraan", "kesos", "lansia", "disabilitas")),
        ("ekonomi", ("ekonomi", "keuangan", "usaha", "uang", "nabung", "tabung")),
    ),
    "bank": (
        ("bsi", ("bsi", "syariah")),
        ("bri", ("bri",)),
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
    padded = f" {text} "
    for canonical, keywords in _KEYWORDS.get(entity, ()):
        if any(keyword in padded for keyword in keywords):
            return canonical
    return None


def _canonical_stage(text: str) -> str | None:
    digits: list[str] = re.findall(r"[1-4]", text)
    if len(digits) == 1:
        return digits[0]
    word = re.sub(r"^(tahap|ke)[\s-]*", "", text).strip(" .-")
    return _ROMAN_AND_WORDS.get(word)
