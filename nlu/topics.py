"""The Indonesian names programme staff read for intents and entities, never their codes.

The dashboard (inbox, statistics, proposals) shows `topic_name("ask_payment_schedule")` —
"Jadwal pencairan" — where the model and the data say `ask_payment_schedule`. Names go through
gettext, so an English-speaking admin reads them in English.
"""

from __future__ import annotations

from core.i18n import DEFAULT_LANGUAGE, Translator
from nlu.schema import ENTITY_VALUES, Intent

_INDONESIAN = Translator(DEFAULT_LANGUAGE)


def topic_name(intent: str, tr: Translator = _INDONESIAN) -> str:
    """The topic an intent stands for, as staff call it ("Jadwal pencairan")."""
    names = {
        Intent.ASK_PAYMENT_SCHEDULE: tr._("Jadwal pencairan"),
        Intent.ASK_BENEFIT_AMOUNT: tr._("Besaran bantuan"),
        Intent.ASK_PAYMENT_STATUS: tr._("Status bantuan keluarga"),
        Intent.ASK_RECIPIENT_CHECK: tr._("Cek status penerima"),
        Intent.ASK_REGISTRATION: tr._("Cara mendaftar"),
        Intent.ASK_OBLIGATIONS: tr._("Kewajiban KPM"),
        Intent.ASK_P2K2_MODULES: tr._("Modul P2K2"),
        Intent.ASK_P2K2_SCHEDULE: tr._("Jadwal pertemuan P2K2"),
        Intent.ASK_GRADUATION: tr._("Graduasi"),
        Intent.ASK_AFTER_GRADUATION: tr._("Setelah graduasi"),
        Intent.ASK_BPNT: tr._("BPNT / Sembako"),
        Intent.REPORT_CARD_PROBLEM: tr._("Masalah kartu KKS"),
        Intent.FILE_COMPLAINT: tr._("Pengaduan"),
        Intent.ASK_PENDAMPING_CONTACT: tr._("Kontak pendamping"),
        Intent.UPDATE_FAMILY_DATA: tr._("Perubahan data keluarga"),
        Intent.GREET: tr._("Salam"),
        Intent.THANK: tr._("Ucapan terima kasih"),
        Intent.GOODBYE: tr._("Salam penutup"),
        Intent.BOT_CHALLENGE: tr._("Bertanya apakah ini robot"),
        Intent.ASK_HELP: tr._("Cara memakai bot"),
        Intent.REQUEST_HUMAN: tr._("Minta bicara dengan petugas"),
        Intent.OUT_OF_SCOPE: tr._("Di luar topik PKH"),
        Intent.NLU_FALLBACK: tr._("Tidak dipahami bot"),
    }
    try:
        return names[Intent(intent)]
    except ValueError:
        return tr._("Topik lain")


def entity_name(entity: str, tr: Translator = _INDONESIAN) -> str:
    """What an entity is, as staff call it ("Bank")."""
    names = {
        "component": tr._("Komponen"),
        "stage": tr._("Tahap"),
        "module": tr._("Modul P2K2"),
        "bank": tr._("Bank"),
        "programme": tr._("Program"),
    }
    return names.get(entity, entity)


def entity_value_name(entity: str, value: str, tr: Translator = _INDONESIAN) -> str:
    """A canonical entity value as staff write it ("anak_smp" → "Anak SMP", "bri" → "BRI")."""
    names = {
        ("component", "ibu_hamil"): tr._("Ibu hamil"),
        ("component", "anak_usia_dini"): tr._("Anak usia dini"),
        ("component", "anak_sd"): tr._("Anak SD"),
        ("component", "anak_smp"): tr._("Anak SMP"),
        ("component", "anak_sma"): tr._("Anak SMA"),
        ("component", "disabilitas_berat"): tr._("Disabilitas berat"),
        ("component", "lansia"): tr._("Lansia"),
        ("module", "pengasuhan_pendidikan"): tr._("Pengasuhan dan pendidikan"),
        ("module", "kesehatan_gizi"): tr._("Kesehatan dan gizi"),
        ("module", "ekonomi"): tr._("Ekonomi"),
        ("module", "perlindungan_anak"): tr._("Perlindungan anak"),
        ("module", "kesejahteraan_sosial"): tr._("Kesejahteraan sosial"),
        ("bank", "pos"): tr._("Kantor Pos"),
        ("programme", "prokus"): tr._("PROKUS"),
    }
    if (entity, value) in names:
        return names[entity, value]
    if entity == "stage":
        return tr._("Tahap {number}", number=value)
    return value.upper()


def entity_choices(tr: Translator = _INDONESIAN) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every entity with its values, named: [(entity name, [("bank=bri", "BRI"), …]), …]."""
    return [
        (
            entity_name(entity, tr),
            [(f"{entity}={value}", entity_value_name(entity, value, tr)) for value in values],
        )
        for entity, values in ENTITY_VALUES.items()
    ]
