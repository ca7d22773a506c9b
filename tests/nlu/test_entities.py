"""Canonical entity values, whatever surface form the model extracted."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.entities import canonical_value, find_named, find_stages, find_years, resolve_year
from nlu.schema import ENTITY_VALUES


@pytest.mark.parametrize(
    ("entity", "typed", "canonical"),
    [
        ("stage", "3", "3"),
        ("stage", "III", "3"),
        ("stage", "ketiga", "3"),
        ("stage", "ke-2", "2"),
        ("stage", "iv", "4"),
        ("component", "anak SMP", "anak_smp"),
        ("component", "bumil", "ibu_hamil"),
        ("component", "anak tk", "anak_usia_dini"),
        ("component", "balita", "anak_usia_dini"),
        ("component", "simbah", "lansia"),
        ("component", "anak smk", "anak_sma"),
        ("bank", "Bank BRI", "bri"),
        ("bank", "kantor pos", "pos"),
        ("bank", "bank syariah", "bsi"),
        ("programme", "kartu sembako", "bpnt"),
        ("module", "modul ekonomi", "ekonomi"),
        ("module", "kesehatan dan gizi", "kesehatan_gizi"),
        # Regional forms: Javanese, Sundanese, Malay of Sumatra.
        ("stage", "telu", "3"),
        ("stage", "kalih", "2"),
        ("stage", "katilu", "3"),
        ("stage", "kapisan", "1"),
        ("stage", "ampek", "4"),
        ("component", "ibu meteng", "ibu_hamil"),
        ("component", "reuneuh", "ibu_hamil"),
        ("component", "nini", "lansia"),
        ("component", "tiyang sepuh", "lansia"),
        ("component", "lare SD", "anak_sd"),
        ("module", "pencegahan stunting", "kesehatan_gizi"),
        ("bank", "bank rakyat indonesia", "bri"),
        ("year", "2027", "2027"),
        ("year", "thn depan", "tahun_depan"),
        ("year", "taun payun", "tahun_depan"),
        ("year", "tahun ini", "tahun_ini"),
        ("year", "thn lalu", "tahun_lalu"),
        ("year", "taun wingi", "tahun_lalu"),
    ],
)
def test_surface_forms_map_to_canonical_values(entity: str, typed: str, canonical: str) -> None:
    assert canonical_value(entity, typed) == canonical


def test_values_naming_nothing_known_are_dropped() -> None:
    assert canonical_value("stage", "tujuh") is None
    assert canonical_value("bank", "bca") is None
    assert canonical_value("no_such_entity", "x") is None
    assert canonical_value("stage", "tahap 10") is None
    assert canonical_value("year", "tahun") is None


def test_relative_years_resolve_against_today() -> None:
    today = date(2026, 11, 23)
    assert resolve_year("tahun_depan", today) == 2027
    assert resolve_year("tahun_ini", today) == 2026
    assert resolve_year("tahun_lalu", today) == 2025
    assert resolve_year("2029", today) == 2029
    assert resolve_year(None, today) is None


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("tahap 1 2027 kapan cair", ["2027"]),
        ("jadwal thn dpn udah ada?", ["tahun_depan"]),
        ("pkh taun ngarep cair sasi opo", ["tahun_depan"]),
        ("tahun yang lalu saya masih dapat", ["tahun_lalu"]),
        ("anak sd dapat Rp900.000 setahun", []),
        ("nomor 12027 hilang", []),
    ],
)
def test_years_are_found_in_the_text(text: str, years: list[str]) -> None:
    assert [value for _, _, value in find_years(text)] == years


def test_stages_named_after_tahap_are_found_with_their_position() -> None:
    text = "pkh tahap papat kapan, tahap ini belum"
    assert find_stages(text) == [(10, 15, "4")]
    assert [v for _, _, v in find_stages("tahapan kedua, tahap3, tahap ke-1")] == ["2", "3", "1"]


@pytest.mark.parametrize(
    ("entity", "text", "values"),
    [
        ("component", "BERAPA UANG PKH UNTUK BALITA", ["anak_usia_dini"]),
        ("component", "anak SD sama SMP dapat berapa", ["anak_sd", "anak_smp"]),
        ("component", "Mbah kulo sampun sepuh", ["lansia", "lansia"]),
        ("component", "ibu saya sudah tua, anak masih kecil", []),
        ("component", "pkh sy tahap 3 blm masuk jg smp skrg, knp ya", []),
        ("component", "cair tgl 1 sd 10", []),
        ("component", "ANAK SMP KELAS 2 DAPAT BERAPA", ["anak_smp"]),
        ("component", "anak sd sekarang dapat berapa", ["anak_sd"]),
        ("bank", "CAIR LEWAT BRI ATAU KANTOR POS", ["bri", "pos"]),
        ("bank", "graduasi mandiri itu apa, ke posyandu jam berapa", []),
        ("bank", "kartu Bank Mandiri saya hilang", ["mandiri"]),
        ("module", "MODUL KESEHATAN itu ngajarin apa", ["kesehatan_gizi"]),
        ("module", "materi tentang usaha kapan", ["ekonomi"]),
        ("module", "modul apa saja yang ada", []),
        ("year", "tahun depan", []),
    ],
)
def test_unambiguous_words_are_found_whatever_their_case(
    entity: str, text: str, values: list[str]
) -> None:
    assert [value for _, _, value in find_named(entity, text)] == values


@given(st.text(max_size=80), st.sampled_from(["component", "bank", "module"]))
def test_what_the_backstop_finds_is_canonical_and_where_it_says(text: str, entity: str) -> None:
    for start, end, value in find_named(entity, text):
        assert value in ENTITY_VALUES[entity]
        assert 0 <= start < end <= len(text)
        assert canonical_value(entity, text[start:end]) == value
