"""The trained model behind the real Rasa HTTP server, asked real Indonesian questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.client import NLUClient
from nlu.evaluation import evaluate_heldout
from nlu.schema import FALLBACK_INTENT
from nlu.training import train

pytestmark = pytest.mark.integration

QUESTIONS = [
    ("pkh tahap 3 kpn cair min", "ask_payment_schedule", {"stage": "3", "programme": "pkh"}),
    ("tahap III kapan cairnya ya bu", "ask_payment_schedule", {"stage": "3"}),
    ("anak smp dapet brp sih", "ask_benefit_amount", {"component": "anak_smp"}),
    ("bumil dapat berapa per tahap", "ask_benefit_amount", {"component": "ibu_hamil"}),
    ("kok saldo kks saya kosong padahal tetangga udah cair", "ask_payment_status", {}),
    ("kartu kks saya ketelen atm gmn ini", "report_card_problem", {}),
    ("lupa pin kks", "report_card_problem", {}),
    ("p2k2 itu apa sih", "ask_p2k2_modules", {}),
    ("graduasi mandiri itu apa", "ask_graduation", {}),
    ("ketua kelompok minta potongan 50rb tiap cair, lapor kemana", "file_complaint", {}),
    ("cara cek bansos pake hp gmn", "ask_recipient_check", {}),
    ("assalamualaikum", "greet", {}),
    ("makasih ya min", "thank", {}),
    ("pkh tahap 1 2027 kapan cair", "ask_payment_schedule", {"stage": "1", "year": "2027"}),
    ("jadwal pkh thn depan sudah ada?", "ask_payment_schedule", {"year": "tahun_depan"}),
    ("piye bu, pkh tahap papat kapan cair", "ask_payment_schedule", {"stage": "4"}),
    ("kumaha carana daptar pkh", "ask_registration", {}),
    ("punyo ambo alun masuak pak", "ask_payment_status", {}),
    ("BPNT BULAN INI KAPAN CAIR", "ask_bpnt", {"programme": "bpnt"}),
    ("kks saya ditahan ketua kelompok", "file_complaint", {}),
    ("kks saya ketelen di atm bri", "report_card_problem", {"bank": "bri"}),
]


async def test_real_questions_get_the_right_intent_and_entities(nlu_url: str) -> None:
    async with NLUClient(nlu_url, timeout=10.0) as client:
        for text, intent, entities in QUESTIONS:
            result = await client.parse(text)
            assert result.intent == intent, (text, result.intent, result.confidence)
            for entity, value in entities.items():
                assert result.first(entity) == value, (text, result.entities)


@pytest.mark.parametrize(
    "text",
    [
        "asdfghjkl",
        "jdjdjdjdjd",
        "siapa yang menang piala dunia kemarin",
        "resep rendang padang yang enak gimana",
        "besok hujan gak ya di jakarta",
        "😂😂😂",
    ],
)
async def test_gibberish_and_unrelated_questions_never_land_on_a_real_intent(
    nlu_url: str, text: str
) -> None:
    async with NLUClient(nlu_url, timeout=10.0) as client:
        result = await client.parse(text)
    assert result.intent in ("out_of_scope", FALLBACK_INTENT), (result.intent, result.confidence)


def test_dev_and_test_scores_stay_above_the_release_floor(nlu_url: str, tmp_path: Path) -> None:
    # Floors a model must not fall under (a regression guard), set a little under what this
    # release scores; issue 14's bars (macro-F1 0.96, every intent 0.88, out_of_scope 0.95) are
    # the targets, reported in docs/nlu-experiments.md. Test's out_of_scope F1 is 0.948 (recall
    # 1.000: its losses are in-scope messages read as out of scope).
    reports = evaluate_heldout(out=tmp_path, url=nlu_url)
    assert set(reports) == {"dev", "test"}
    for report in reports.values():
        assert report.macro_f1 >= 0.95, report.summary()
        assert {i: s.f1 for i, s in report.per_intent.items() if s.f1 < 0.85} == {}
        assert report.per_intent["out_of_scope"].f1 >= 0.93, report.summary()
        assert report.per_intent["out_of_scope"].recall >= 0.97, report.summary()
        assert report.entity_micro_recall >= 0.95, report.summary()
    assert (tmp_path / "report.md").read_text().startswith("# NLU evaluation")
    assert (tmp_path / "dev" / "report.md").read_text().startswith("# NLU evaluation (dev set)")
    assert (tmp_path / "test" / "intent_confusion_matrix.png").stat().st_size > 10_000


def test_training_is_skipped_when_config_and_data_are_unchanged() -> None:
    first, _ = train()
    again, trained = train()
    assert again == first
    assert not trained
