"""The audit log as the dashboard reads it: filtered by actor, action and day, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.i18n import Translator
from nlu.topics import topic_name
from programme.models import AuditLog

PAGE_SIZE = 50
DETAILS_LIMIT = 200
# The days of an account that has not chosen a zone are days in Jakarta (WIB), like its times.
TIME_ZONE = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page was asked for; empty fields do not filter."""

    actor: str = ""
    action: str = ""
    first_day: date | None = None
    last_day: date | None = None
    time_zone: str = TIME_ZONE.key  # the zone whose days first_day and last_day are


@dataclass(frozen=True)
class AuditPage:
    """One page of entries and where it sits among all that match."""

    entries: list[AuditLog]
    number: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def find_entries(session: Session, *, wanted: AuditFilter, page: int) -> AuditPage:
    """Page `page` (from 1) of the entries that match, newest first."""
    conditions = _conditions(wanted)
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conditions)) or 0
    number = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    entries = session.scalars(
        select(AuditLog)
        .where(*conditions)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return AuditPage(entries=list(entries), number=number, total=total)


def action_label(tr: Translator, action: str) -> str:
    """What was done, in words for programme staff ("Akun dasbor dibuat"), not the code."""
    return _action_labels(tr).get(action) or action  # a new kind of entry shows its code


def action_choices(tr: Translator) -> list[tuple[str, str]]:
    """(code, words) for the audit page's filter, sorted by the words."""
    return sorted(_action_labels(tr).items(), key=lambda item: item[1].casefold())


def target_text(tr: Translator, target_type: str | None, target_id: str | None) -> str:
    """ "Kelompok 12", "Pendamping 3"…: the record acted on."""
    if not target_type:
        return ""
    names = {
        "kelompok": tr._("Kelompok"),
        "pendamping": tr._("Pendamping"),
        "family": tr._("Keluarga"),
        "meeting": tr._("Pertemuan"),
        "broadcast": tr._("Siaran"),
        "admin_user": tr._("Akun dasbor"),
        "telegram_user": tr._("Akun Telegram"),
        "payment_stage": tr._("Tahap bantuan"),
        "payment_window": tr._("Jadwal pencairan wilayah"),
        "unanswered_query": tr._("Pertanyaan"),
        "import": tr._("Impor"),
        "nlu_model": tr._("Model NLU"),
    }
    name = names.get(target_type, target_type.replace("_", " "))
    return f"{name} {target_id}" if target_id else name


def details_text(details: dict[str, object] | None, tr: Translator | None = None) -> str:
    """`Keluarga: 12 · Berlaku (hari): 14`, cut to DETAILS_LIMIT characters (escaped by the
    template); keys named in words, yes/no and lists written out."""
    tr = tr or Translator()
    labels = _detail_labels(tr)
    parts = []
    for key, value in (details or {}).items():
        label = labels.get(key) or key.replace("_", " ").capitalize()
        if key in ("intent", "labelled_intent") and isinstance(value, str):
            value = topic_name(value, tr)  # "Jadwal pencairan", not ask_payment_schedule
        parts.append(f"{label}: {_value_text(tr, value)}")
    text = " · ".join(parts)
    return text if len(text) <= DETAILS_LIMIT else text[: DETAILS_LIMIT - 1] + "…"


def _value_text(tr: Translator, value: object) -> str:
    if isinstance(value, bool):
        return tr._("ya") if value else tr._("tidak")
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(tr, item) for item in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value_text(tr, v)}" for k, v in value.items()) or "-"
    return "-" if value is None or value == "" else str(value)


def _action_labels(tr: Translator) -> dict[str, str]:
    return {
        "admin.create_user": tr._("Akun dasbor dibuat"),
        "admin.update_user": tr._("Akun dasbor diubah"),
        "admin.set_password": tr._("Kata sandi diganti"),
        "broadcast.create": tr._("Siaran dibuat"),
        "broadcast.cancel": tr._("Siaran dibatalkan"),
        "broadcast.resend_failed": tr._("Siaran yang gagal dikirim ulang"),
        "delete_own_data": tr._("KPM menghapus datanya sendiri"),
        "flood_dropped": tr._("Pesan beruntun dilewati"),
        "import": tr._("Data diimpor"),
        "inbox.label": tr._("Pertanyaan diberi label"),
        "inbox.propose": tr._("Label diusulkan pendamping"),
        "inbox.reply": tr._("Pertanyaan dibalas"),
        "inbox.resolve": tr._("Pertanyaan ditandai selesai"),
        "invite.create_batch": tr._("Tautan undangan KPM dibuat"),
        "link_account": tr._("Akun Telegram dihubungkan ke keluarga"),
        "meeting.create": tr._("Pertemuan P2K2 dijadwalkan"),
        "meeting.update": tr._("Pertemuan P2K2 diubah"),
        "meeting.cancel": tr._("Pertemuan P2K2 dibatalkan"),
        "nlu.retrain_started": tr._("Pelatihan ulang model dimulai"),
        "nlu.model_activated": tr._("Model baru diaktifkan"),
        "nlu.activation_refused": tr._("Model baru ditolak (lebih buruk)"),
        "nlu.model_rolled_back": tr._("Model dikembalikan ke sebelumnya"),
        "pendamping.invite": tr._("Tautan pendamping dibuat"),
        "pendamping.link": tr._("Akun Telegram menjadi pendamping"),
        "pendamping.revoke": tr._("Akses pendamping dicabut"),
        "refused_staff_command": tr._("KPM mencoba perintah pendamping"),
        "scheduler.job_missed": tr._("Pengingat terlewat"),
        "scheduler.job_failed": tr._("Tugas terjadwal gagal"),
        "seed.demo": tr._("Data demo diisi"),
        "seed.reference": tr._("Data acuan diisi"),
        "stage.open": tr._("Tahap bantuan dibuka"),
        "stage.close": tr._("Tahap bantuan ditutup"),
    }


def _detail_labels(tr: Translator) -> dict[str, str]:
    return {
        "channel": tr._("Saluran"),
        "chat": tr._("Chat"),
        "command": tr._("Perintah"),
        "dropped": tr._("Dilewati"),
        "error": tr._("Galat"),
        "families": tr._("Keluarga"),
        "how": tr._("Cara"),
        "language": tr._("Bahasa"),
        "model": tr._("Model"),
        "not_reached": tr._("Tidak terjangkau"),
        "pendamping": tr._("Pendamping"),
        "queries": tr._("Pertanyaan"),
        "query_ids": tr._("Nomor pertanyaan"),
        "region": tr._("Wilayah"),
        "reissued": tr._("Tautan lama dipakai lagi"),
        "replaced": tr._("Diganti"),
        "role": tr._("Peran"),
        "rows": tr._("Baris"),
        "scheduled_run_time": tr._("Waktu terjadwal"),
        "seconds": tr._("Detik"),
        "servers": tr._("Server"),
        "sessions_ended": tr._("Sesi diakhiri"),
        "stage_no": tr._("Tahap"),
        "username": tr._("Nama akun"),
        "valid_days": tr._("Berlaku (hari)"),
        "year": tr._("Tahun"),
        "links": tr._("Tautan dibatalkan"),
        "accounts": tr._("Akun"),
        "intent": tr._("Topik"),
        "requeued": tr._("Dikirim ulang"),
        "time_zone": tr._("Zona waktu"),
        "active": tr._("Aktif"),
        "window_created": tr._("Jadwal wilayah baru dibuat"),
        "windows_inside": tr._("Jadwal wilayah di dalamnya"),
        "starts_on": tr._("Mulai"),
        "ends_on": tr._("Selesai"),
        "notified": tr._("Keluarga diberi tahu"),
    }


def _conditions(wanted: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.actor:
        conditions.append(AuditLog.actor == wanted.actor)
    if wanted.action:
        conditions.append(AuditLog.action == wanted.action)
    if wanted.first_day is not None:
        conditions.append(AuditLog.created_at >= _start_of(wanted.first_day, wanted.time_zone))
    if wanted.last_day is not None:
        next_day = wanted.last_day + timedelta(days=1)
        conditions.append(AuditLog.created_at < _start_of(next_day, wanted.time_zone))
    return conditions


def _start_of(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(time_zone))
