"""Canonical entity values, whatever surface form the model extracted."""

from __future__ import annotations

import pytest

from nlu.entities import canonical_value


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
    ],
)
def test_surface_forms_map_to_canonical_values(entity: str, typed: str, canonical: str) -> None:
    assert canonical_value(entity, typed) == canonical


def test_values_naming_nothing_known_are_dropped() -> None:
    assert canonical_value("stage", "tujuh") is None
    assert canonical_value("bank", "bca") is None
    assert canonical_value("no_such_entity", "x") is None
