"""Per-stage amounts: components add up, and only the most valuable four are paid."""

from __future__ import annotations

from decimal import Decimal

from programme.benefits import StageRates, paid_components, stage_amount

RATES = StageRates(
    year=2026,
    per_stage={
        "ibu_hamil": Decimal(750_000),
        "anak_usia_dini": Decimal(750_000),
        "anak_sd": Decimal(225_000),
        "anak_smp": Decimal(375_000),
        "anak_sma": Decimal(500_000),
        "disabilitas_berat": Decimal(600_000),
        "lansia": Decimal(600_000),
    },
    max_paid_components=4,
)


def test_one_sd_and_one_smp_child_get_600_thousand_per_stage() -> None:
    assert stage_amount(["anak_sd", "anak_smp"], RATES) == Decimal(600_000)


def test_a_family_with_five_components_is_paid_for_the_four_worth_most() -> None:
    components = ["anak_sd", "ibu_hamil", "anak_usia_dini", "anak_usia_dini", "lansia"]
    assert sorted(paid_components(components, RATES)) == sorted(
        ["ibu_hamil", "anak_usia_dini", "anak_usia_dini", "lansia"]
    )
    assert stage_amount(components, RATES) == Decimal(2_850_000)


def test_without_a_cap_every_component_is_paid() -> None:
    uncapped = StageRates(2019, RATES.per_stage, None)
    assert len(paid_components(["anak_sd"] * 6, uncapped)) == 6
