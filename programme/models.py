"""Every table of the programme database, as SQLAlchemy 2.0 declarative models."""

# Codes the NLU extracts (component, bank, P2K2 module) are the primary keys of their reference
# tables, so an entity value maps straight onto a row. Money is Numeric in whole rupiah; every
# timestamp is timezone-aware and stored in UTC; local dates (payment windows, birth dates) are
# plain Dates.

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    Unicode,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from programme.grouping import MAX_KEY, group_key_of
from programme.masked import MaskedJson, MaskedString, MaskedText

# Deterministic constraint names, so that migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUPIAH = Numeric(14, 0)
JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp kept in UTC on every backend (SQLite has no time zone type)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time is ambiguous across WIB/WITA/WIT: refuse it rather than guess.
            raise ValueError("naive datetime: store timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# --- enumerations (stored as VARCHAR + CHECK on both backends, so no native enum types) -------


class TimeZone(enum.StrEnum):
    """Indonesia's three time zones, stored as IANA names."""

    WIB = "Asia/Jakarta"
    WITA = "Asia/Makassar"
    WIT = "Asia/Jayapura"

    @property
    def abbreviation(self) -> str:
        """WIB, WITA or WIT, as Indonesians write it after a time."""
        return self.name


class RegionLevel(enum.StrEnum):
    """The administrative levels, from the top."""

    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KECAMATAN = "kecamatan"
    DESA = "desa"


class ComponentKind(enum.StrEnum):
    """A per-person component, or the flat per-family bantuan tetap of 2019 and earlier."""

    KOMPONEN = "komponen"
    BANTUAN_TETAP = "bantuan_tetap"


class ComponentGroup(enum.StrEnum):
    """The three areas PKH components belong to."""

    KESEHATAN = "kesehatan"
    PENDIDIKAN = "pendidikan"
    KESEJAHTERAAN_SOSIAL = "kesejahteraan_sosial"


class ChannelKind(enum.StrEnum):
    """KKS card on a bank account, or cash through PT Pos."""

    KKS = "kks"
    POS = "pos"


class FamilyStatus(enum.StrEnum):
    """Where a KPM stands in the programme."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    GRADUATED = "graduated"
    REMOVED = "removed"


class GraduationType(enum.StrEnum):
    """Why a graduated family left (pkh-facts §6.1)."""

    ALAMIAH = "alamiah"
    SEJAHTERA_MANDIRI = "sejahtera_mandiri"


class Sex(enum.StrEnum):
    """As written on the Kartu Keluarga."""

    LAKI_LAKI = "L"
    PEREMPUAN = "P"


class FamilyRelation(enum.StrEnum):
    """A member's place in the Kartu Keluarga."""

    KEPALA_KELUARGA = "kepala_keluarga"
    ISTRI = "istri"
    SUAMI = "suami"
    ANAK = "anak"
    CUCU = "cucu"
    ORANG_TUA = "orang_tua"
    LAINNYA = "lainnya"


class ScheduleStatus(enum.StrEnum):
    """Progress of a payment stage or of one of its windows."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class WindowBasis(enum.StrEnum):
    """How sure a payment window is: announced, reported by the press, or only the usual pattern."""

    OFFICIAL = "official"
    REPORTED = "reported"
    USUAL_PATTERN = "usual_pattern"


class DisbursementStatus(enum.StrEnum):
    """One stage's money for one family."""

    PLANNED = "planned"
    PAID = "paid"
    FAILED = "failed"


class MeetingStatus(enum.StrEnum):
    """A P2K2 meeting's state."""

    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class UserRole(enum.StrEnum):
    """Who is chatting with the bot."""

    KPM = "kpm"
    PENDAMPING = "pendamping"
    ADMIN = "admin"


class UnansweredReason(enum.StrEnum):
    """Why a question landed in the admins' inbox."""

    LOW_CONFIDENCE = "low_confidence"
    FALLBACK = "fallback"
    OUT_OF_SCOPE = "out_of_scope"
    NEGATIVE_RATING = "negative_rating"
    NLU_DOWN = "nlu_down"


class ProposalState(enum.StrEnum):
    """A pendamping's label for inbox questions: waiting for an admin, then accepted or rejected."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RsvpAnswer(enum.StrEnum):
    """A member's answer to a P2K2 meeting reminder."""

    HADIR = "hadir"
    TIDAK_BISA = "tidak_bisa"


class BroadcastStatus(enum.StrEnum):
    """A pendamping's broadcast: waiting for its time, put in the outbox, or cancelled."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    CANCELLED = "cancelled"


class OutboxKind(enum.StrEnum):
    """What an outgoing bulk message is."""

    REMINDER = "reminder"
    ROLLUP = "rollup"
    BROADCAST = "broadcast"
    STAGE_OPEN = "stage_open"
    MEETING_CHANGE = "meeting_change"
    ADMIN_REPLY = "admin_reply"  # an admin's answer to a question the bot could not answer


class OutboxState(enum.StrEnum):
    """queued → sending → sent / failed / blocked; or cancelled / expired before it was sent."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RetrainState(enum.StrEnum):
    """An NLU retraining job: queued → training → evaluating → ready / worse / unchanged / failed;
    a ready model becomes activated when an admin confirms, rolled_back when restored from."""

    QUEUED = "queued"
    TRAINING = "training"
    EVALUATING = "evaluating"
    READY = "ready"  # not worse than the active model on dev and test: may be activated
    WORSE = "worse"  # worse on the dev or the test set: never activated
    UNCHANGED = "unchanged"  # the data has not changed since the active model was trained
    FAILED = "failed"
    ACTIVATED = "activated"
    ROLLED_BACK = "rolled_back"


def _enum(enum_cls: type[enum.StrEnum], name: str) -> SqlEnum:
    # length 30 leaves room for new values without widening the column in a migration.
    return SqlEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=30,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    """The declarative base: naming convention and the UTC timestamp type for every datetime."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON_DOCUMENT,
    }


# --- regions, people, groups -------------------------------------------------------------------


class Region(Base):
    """A provinsi, kabupaten/kota, kecamatan or desa/kelurahan, with its time zone."""

    __tablename__ = "region"
    __table_args__ = (
        CheckConstraint(
            "(level = 'provinsi' AND parent_id IS NULL)"
            " OR (level <> 'provinsi' AND parent_id IS NOT NULL)",
            name="only_provinsi_is_root",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # Kemendagri kode wilayah
    level: Mapped[RegionLevel] = mapped_column(_enum(RegionLevel, "region_level"))
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    time_zone: Mapped[TimeZone] = mapped_column(_enum(TimeZone, "time_zone"))

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")


class Pendamping(Base):
    """A PKH social worker."""

    __tablename__ = "pendamping"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()
    kelompok: Mapped[list[Kelompok]] = relationship(back_populates="pendamping")


class Kelompok(Base):
    """A P2K2 group of KPM in one desa, led by one pendamping."""

    __tablename__ = "kelompok"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    pendamping_id: Mapped[int] = mapped_column(ForeignKey("pendamping.id"), index=True)
    desa_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pendamping: Mapped[Pendamping] = relationship(back_populates="kelompok")
    desa: Mapped[Region] = relationship()
    families: Mapped[list[Family]] = relationship(back_populates="kelompok")
    meetings: Mapped[list[P2K2Meeting]] = relationship(back_populates="kelompok")


class Family(Base):
    """A KPM (Keluarga Penerima Manfaat): one household in PKH."""

    __tablename__ = "family"
    __table_args__ = (
        CheckConstraint(
            "(status = 'graduated') = (graduation_type IS NOT NULL)",
            name="graduation_type_iff_graduated",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pkh_id: Mapped[str] = mapped_column(String(30), unique=True)
    kelompok_id: Mapped[int] = mapped_column(ForeignKey("kelompok.id"), index=True)
    desa_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    channel_code: Mapped[str] = mapped_column(ForeignKey("channel.code"))
    status: Mapped[FamilyStatus] = mapped_column(
        _enum(FamilyStatus, "family_status"), default=FamilyStatus.ACTIVE
    )
    graduation_type: Mapped[GraduationType | None] = mapped_column(
        _enum(GraduationType, "graduation_type")
    )
    status_since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    kelompok: Mapped[Kelompok] = relationship(back_populates="families")
    desa: Mapped[Region] = relationship()
    channel: Mapped[Channel] = relationship()
    members: Mapped[list[FamilyMember]] = relationship(
        back_populates="family", order_by="FamilyMember.member_no", cascade="all, delete-orphan"
    )
    disbursements: Mapped[list[Disbursement]] = relationship(back_populates="family")


class FamilyMember(Base):
    """A person on the family's Kartu Keluarga; exactly one is the pengurus (holds the KKS)."""

    # The NIK itself is never stored: only its keyed hash (programme.nik) and its last four digits.

    __tablename__ = "family_member"
    __table_args__ = (
        UniqueConstraint("family_id", "member_no"),
        Index(
            "uq_family_member_one_pengurus_per_family",
            "family_id",
            unique=True,
            sqlite_where=text("is_pengurus"),
            postgresql_where=text("is_pengurus"),
        ),
        CheckConstraint("(nik_hash IS NULL) = (nik_last4 IS NULL)", name="nik_hash_with_last4"),
        CheckConstraint(
            "NOT is_pengurus OR birth_date IS NOT NULL", name="pengurus_has_birth_date"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    member_no: Mapped[int]  # the row number on the Kartu Keluarga
    name: Mapped[str] = mapped_column(String(100))
    family_relation: Mapped[FamilyRelation] = mapped_column(
        _enum(FamilyRelation, "family_relation")
    )
    sex: Mapped[Sex | None] = mapped_column(_enum(Sex, "sex"))
    birth_date: Mapped[date | None] = mapped_column(Date)
    is_pengurus: Mapped[bool] = mapped_column(default=False)
    nik_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    nik_last4: Mapped[str | None] = mapped_column(String(4))

    family: Mapped[Family] = relationship(back_populates="members")
    components: Mapped[list[MemberComponent]] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )


class MemberComponent(Base):
    """A PKH component a family member qualifies for (a child in SD, a pregnant mother, …)."""

    __tablename__ = "member_component"
    __table_args__ = (UniqueConstraint("member_id", "component_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id", ondelete="CASCADE"))
    component_code: Mapped[str] = mapped_column(ForeignKey("component.code"))

    member: Mapped[FamilyMember] = relationship(back_populates="components")
    component: Mapped[Component] = relationship()


# --- benefits, channels, payments --------------------------------------------------------------


class Component(Base):
    """A benefit component (codes as in nlu/schema.py) or the 2019 flat bantuan tetap."""

    __tablename__ = "component"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    kind: Mapped[ComponentKind] = mapped_column(_enum(ComponentKind, "component_kind"))
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[ComponentGroup | None] = mapped_column(_enum(ComponentGroup, "component_group"))
    max_per_family: Mapped[int | None]
    eligibility_note: Mapped[str] = mapped_column(Text)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)


class BenefitYear(Base):
    """The benefit scheme of one year: how many components are paid and how often."""

    __tablename__ = "benefit_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    max_paid_components: Mapped[int | None]
    stages_per_year: Mapped[int]
    scheme_note: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    needs_verification: Mapped[bool] = mapped_column(default=False)


class BenefitAmount(Base):
    """What one component is worth in one year, in rupiah."""

    __tablename__ = "benefit_amount"
    __table_args__ = (
        UniqueConstraint("year", "component_code"),
        CheckConstraint("per_year > 0", name="per_year_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("benefit_year.year"))
    component_code: Mapped[str] = mapped_column(ForeignKey("component.code"))
    per_year: Mapped[Decimal] = mapped_column(RUPIAH)
    per_stage: Mapped[Decimal | None] = mapped_column(RUPIAH)
    per_month: Mapped[Decimal | None] = mapped_column(RUPIAH)  # only the 2020 COVID scheme
    carried_forward: Mapped[bool] = mapped_column(default=False)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)

    benefit_year: Mapped[BenefitYear] = relationship()
    component: Mapped[Component] = relationship()


class Channel(Base):
    """A payment channel: KKS at a Himbara bank or BSI (Aceh), or PT Pos (codes: nlu/schema.py)."""

    __tablename__ = "channel"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind, "channel_kind"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class PaymentStage(Base):
    """A tahap (I–IV) of one year, with its national status."""

    __tablename__ = "payment_stage"
    __table_args__ = (
        UniqueConstraint("year", "stage_no"),
        CheckConstraint("stage_no BETWEEN 1 AND 4", name="stage_no_1_to_4"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    stage_no: Mapped[int]
    status: Mapped[ScheduleStatus] = mapped_column(_enum(ScheduleStatus, "stage_status"))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_date: Mapped[date | None] = mapped_column(Date)
    needs_verification: Mapped[bool] = mapped_column(default=False)

    windows: Mapped[list[PaymentWindow]] = relationship(
        back_populates="stage", order_by="PaymentWindow.starts_on"
    )


class PaymentWindow(Base):
    """When a stage is paid: nationally (no region, no channel) or for one region and/or channel."""

    __tablename__ = "payment_window"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("payment_stage.id", ondelete="CASCADE"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))  # NULL: national
    channel_code: Mapped[str | None] = mapped_column(ForeignKey("channel.code"))  # NULL: all
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[WindowBasis] = mapped_column(_enum(WindowBasis, "window_basis"))
    # As the source reported it on source_date. Answers do not read it: they compute the state
    # from the dates and today (programme.payments.window_state).
    status: Mapped[ScheduleStatus] = mapped_column(_enum(ScheduleStatus, "window_status"))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_date: Mapped[date | None] = mapped_column(Date)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    # Set by programme.stages.close_stage: the window is over whatever its dates say; opening
    # the stage again clears it.
    closed_at: Mapped[datetime | None]

    stage: Mapped[PaymentStage] = relationship(back_populates="windows")
    region: Mapped[Region | None] = relationship()
    channel: Mapped[Channel | None] = relationship()


# NULL means "every region" / "every channel"; COALESCE makes two national windows of one stage
# collide, which a plain UNIQUE would not (NULLs are distinct in both SQLite and PostgreSQL).
Index(
    "uq_payment_window_scope",
    PaymentWindow.stage_id,
    func.coalesce(PaymentWindow.region_id, 0),
    func.coalesce(PaymentWindow.channel_code, ""),
    unique=True,
)


class FailureReason(Base):
    """Why a disbursement did not arrive (pkh-facts §3.4), explained in plain Indonesian."""

    __tablename__ = "failure_reason"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    title: Mapped[str] = mapped_column(String(150))
    explanation: Mapped[str] = mapped_column(Text)
    advice: Mapped[str] = mapped_column(Text)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(Text)


class Disbursement(Base):
    """One stage's money for one family: planned, paid (with the date) or failed (with a reason)."""

    __tablename__ = "disbursement"
    __table_args__ = (
        UniqueConstraint("family_id", "stage_id"),
        CheckConstraint("(status = 'paid') = (paid_on IS NOT NULL)", name="paid_iff_paid_on"),
        CheckConstraint(
            "(status = 'failed') = (failure_reason_code IS NOT NULL)",
            name="failed_iff_failure_reason",
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("payment_stage.id"), index=True)
    channel_code: Mapped[str] = mapped_column(ForeignKey("channel.code"))
    amount: Mapped[Decimal] = mapped_column(RUPIAH)
    status: Mapped[DisbursementStatus] = mapped_column(
        _enum(DisbursementStatus, "disbursement_status")
    )
    paid_on: Mapped[date | None] = mapped_column(Date)
    failure_reason_code: Mapped[str | None] = mapped_column(ForeignKey("failure_reason.code"))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    family: Mapped[Family] = relationship(back_populates="disbursements")
    stage: Mapped[PaymentStage] = relationship()
    channel: Mapped[Channel] = relationship()
    failure_reason: Mapped[FailureReason | None] = relationship()


# --- P2K2 ----------------------------------------------------------------------------------------


class P2K2Module(Base):
    """A P2K2 module (codes as in nlu/schema.py, plus the newer stunting module)."""

    __tablename__ = "p2k2_module"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(Text)

    sessions: Mapped[list[P2K2Session]] = relationship(
        back_populates="module", order_by="P2K2Session.number"
    )


class P2K2Session(Base):
    """One session (sesi) of a P2K2 module."""

    __tablename__ = "p2k2_session"
    __table_args__ = (UniqueConstraint("module_code", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_code: Mapped[str] = mapped_column(ForeignKey("p2k2_module.code"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(Text)

    module: Mapped[P2K2Module] = relationship(back_populates="sessions")


class P2K2Meeting(Base):
    """A monthly P2K2 meeting of one kelompok; its local time zone is the kelompok's desa's."""

    __tablename__ = "p2k2_meeting"
    __table_args__ = (Index("ix_p2k2_meeting_kelompok_starts", "kelompok_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kelompok_id: Mapped[int] = mapped_column(ForeignKey("kelompok.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("p2k2_session.id"))
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(MaskedString(200))
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus, "meeting_status"), default=MeetingStatus.SCHEDULED
    )
    note: Mapped[str | None] = mapped_column(MaskedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    kelompok: Mapped[Kelompok] = relationship(back_populates="meetings")
    session: Mapped[P2K2Session | None] = relationship()


# --- content ---------------------------------------------------------------------------------


class FaqAnswer(Base):
    """The answer to an informational intent on one topic, editable by admins."""

    # topic_key is "general" or a canonical entity value (e.g. a bank or programme code), so an
    # action looks up (intent, entity) and falls back to (intent, "general").

    __tablename__ = "faq_answer"
    __table_args__ = (UniqueConstraint("intent", "topic_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(String(50))
    topic_key: Mapped[str] = mapped_column(String(50))
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set when an admin edits the row; the seed then leaves the row alone.
    admin_edited_at: Mapped[datetime | None]


class ComplaintChannel(Base):
    """Where a KPM can complain or ask (pkh-facts §7.1)."""

    __tablename__ = "complaint_channel"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    contact: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(default=True)
    needs_verification: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)


# --- Telegram users and what they do -----------------------------------------------------------


class TelegramUser(Base):
    """A Telegram account known to the bot, with its role and what it is linked to."""

    __tablename__ = "telegram_user"
    __table_args__ = (
        CheckConstraint(
            "(role = 'kpm' OR family_id IS NULL)"
            " AND (role = 'pendamping' OR pendamping_id IS NULL)",
            name="link_matches_role",
        ),
        CheckConstraint("language IN ('id', 'en')", name="language_supported"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)  # a 403 names the chat
    username: Mapped[str | None] = mapped_column(MaskedString(64))
    first_name: Mapped[str | None] = mapped_column(MaskedString(100))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"), default=UserRole.KPM)
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("family.id", ondelete="SET NULL"), index=True
    )
    pendamping_id: Mapped[int | None] = mapped_column(
        ForeignKey("pendamping.id", ondelete="SET NULL"), index=True
    )
    reminders_enabled: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
    is_unreachable: Mapped[bool] = mapped_column(default=False)  # blocked the bot, chat gone
    linked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    family: Mapped[Family | None] = relationship()
    pendamping: Mapped[Pendamping | None] = relationship()


class PendampingInvite(Base):
    """A one-time link an admin makes for a pendamping record: opened in Telegram, it gives that
    account the pendamping role (hash only; revocable; every step audited)."""

    __tablename__ = "pendamping_invite"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pendamping_id: Mapped[int] = mapped_column(
        ForeignKey("pendamping.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(100))  # "admin:<name>" or "cli"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None]

    pendamping: Mapped[Pendamping] = relationship()


class InviteCode(Base):
    """A one-time code a pendamping gives a KPM to link Telegram to the family (hash only)."""

    __tablename__ = "invite_code"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    issued_by_pendamping_id: Mapped[int] = mapped_column(ForeignKey("pendamping.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="SET NULL")
    )

    family: Mapped[Family] = relationship()
    issued_by: Mapped[Pendamping] = relationship()
    used_by: Mapped[TelegramUser | None] = relationship()


def _own_group_key(context: Any) -> str:
    """A question stored without programme.inbox.add_question gets its own text's key."""
    return group_key_of(str(context.get_current_parameters()["text"]))


class UnansweredQuery(Base):
    """A question the bot could not answer well, for the admins' inbox."""

    __tablename__ = "unanswered_query"
    __table_args__ = (
        # The inbox reads the waiting questions only, grouped by key: this index is all it needs.
        Index(
            "ix_unanswered_query_waiting",
            "group_key",
            "created_at",
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        # One asker's questions of the day, counted at intake for the daily cap.
        Index("ix_unanswered_query_user_asked", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(MaskedText)
    # Computed once at intake (programme.grouping); the inbox groups by it in SQL.
    group_key: Mapped[str] = mapped_column(String(MAX_KEY), default=_own_group_key, index=True)
    reason: Mapped[UnansweredReason] = mapped_column(_enum(UnansweredReason, "unanswered_reason"))
    # [{"intent": "...", "confidence": 0.41}, …] as the NLU ranked them
    top_guesses: Mapped[list[dict[str, Any]]] = mapped_column(JSON_DOCUMENT, default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("telegram_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    labelled_intent: Mapped[str | None] = mapped_column(String(50))
    resolved_at: Mapped[datetime | None]
    # A pendamping's label waiting for an admin (the question leaves the inbox meanwhile).
    label_proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_proposal.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[TelegramUser | None] = relationship()
    label_proposal: Mapped[LabelProposal | None] = relationship(back_populates="queries")


class LabelProposal(Base):
    """A pendamping's label for inbox questions; it teaches the bot only once an admin accepts."""

    __tablename__ = "label_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(String(50))
    # [{"text": "BRI", "entity": "bank", "value": "bri"}, …]: marked words, found in each text
    entities: Mapped[list[dict[str, str]]] = mapped_column(MaskedJson, default=list)
    pendamping_id: Mapped[int | None] = mapped_column(
        ForeignKey("pendamping.id", ondelete="SET NULL"), index=True
    )
    proposed_by: Mapped[str] = mapped_column(String(100))  # the audit log's actor
    state: Mapped[ProposalState] = mapped_column(
        _enum(ProposalState, "proposal_state"), default=ProposalState.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]

    queries: Mapped[list[UnansweredQuery]] = relationship(back_populates="label_proposal")
    pendamping: Mapped[Pendamping | None] = relationship()


class InboxOverflow(Base):
    """Questions kept out of the inbox because their asker passed the day's cap: a count only."""

    __tablename__ = "inbox_overflow"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # on the office clock (WIB)
    questions: Mapped[int]


class AnswerRating(Base):
    """A 👍/👎 on one of the bot's answers."""

    __tablename__ = "answer_rating"
    __table_args__ = (UniqueConstraint("user_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("telegram_user.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the rated bot message
    intent: Mapped[str | None] = mapped_column(String(50))
    topic_key: Mapped[str | None] = mapped_column(String(50))
    question_text: Mapped[str | None] = mapped_column(MaskedText)
    is_helpful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[TelegramUser | None] = relationship()


class QuestionLog(Base):
    """One message the bot answered, for the statistics; never its text (no personal data)."""

    __tablename__ = "question_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="SET NULL"), index=True
    )
    intent: Mapped[str | None] = mapped_column(String(50))
    confidence: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[bool]  # False when the question went to the admins' inbox
    reason: Mapped[UnansweredReason | None] = mapped_column(
        _enum(UnansweredReason, "question_log_reason")
    )
    channel: Mapped[str | None] = mapped_column(String(10))  # "telegram" or "terminal"


# --- statistics roll-ups (programme.stats keeps them; the dashboard reads them) --------------


class StatisticsRollUp(Base):
    """How far the hourly statistics roll-ups reach: every hour before `rolled_up_until`."""

    __tablename__ = "statistics_rollup"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: one row, locked while rolling up
    rolled_up_until: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionHour(Base):
    """Questions asked in one UTC hour, per intent and outcome (a roll-up of question_log)."""

    __tablename__ = "question_hour"

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(index=True)
    intent: Mapped[str | None] = mapped_column(String(50))
    answered: Mapped[bool]
    questions: Mapped[int]


class OutboxHour(Base):
    """Bulk messages sent in one UTC hour (by sent_at, which never changes), per kind and state."""

    __tablename__ = "outbox_hour"

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind, "outbox_hour_kind"))
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState, "outbox_hour_state"))
    messages: Mapped[int]


class ActiveUserMonth(Base):
    """The WIB days of one month on which a user asked something, as bits (day 1 = bit 0),
    and the kabupaten of their family when they asked (None: not linked)."""

    __tablename__ = "active_user_month"

    month: Mapped[date] = mapped_column(primary_key=True)  # the month's first day
    user_id: Mapped[int] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="CASCADE"), primary_key=True
    )
    kabupaten_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="SET NULL"))
    days: Mapped[int]


class AuditLog(Base):
    """Who did what to which record, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="SET NULL")
    )
    actor: Mapped[str] = mapped_column(String(100))  # "telegram:<id>", "system:seed", "cli", …
    action: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(MaskedJson, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor_user: Mapped[TelegramUser | None] = relationship()


# --- the bot's own bookkeeping -----------------------------------------------------------------


class ProcessedUpdate(Base):
    """An update_id already handled: a re-delivered update is skipped, also after restarts."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LinkAttempt(Base):
    """One try to link a Telegram account by NIK + date of birth (for the lock-out)."""

    __tablename__ = "link_attempt"
    __table_args__ = (Index("ix_link_attempt_user_at", "telegram_user_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    succeeded: Mapped[bool]
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- meetings, broadcasts and the outbox --------------------------------------------------------


class MeetingRsvp(Base):
    """A family's answer (Hadir / Tidak bisa) to a meeting's reminder; the latest answer counts."""

    __tablename__ = "meeting_rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "family_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("p2k2_meeting.id", ondelete="CASCADE"))
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("telegram_user.id", ondelete="SET NULL"))
    answer: Mapped[RsvpAnswer] = mapped_column(_enum(RsvpAnswer, "rsvp_answer"))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[P2K2Meeting] = relationship()
    family: Mapped[Family] = relationship()


broadcast_kelompok = Table(
    "broadcast_kelompok",
    Base.metadata,
    Column("broadcast_id", ForeignKey("broadcast.id", ondelete="CASCADE"), primary_key=True),
    Column("kelompok_id", ForeignKey("kelompok.id", ondelete="CASCADE"), primary_key=True),
)


class Broadcast(Base):
    """A pendamping's message to one or more of their kelompok, now or at a set time."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    pendamping_id: Mapped[int] = mapped_column(ForeignKey("pendamping.id"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(MaskedText)
    urgent: Mapped[bool] = mapped_column(default=False)  # may be sent in quiet hours
    send_at: Mapped[datetime]
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum(BroadcastStatus, "broadcast_status"), default=BroadcastStatus.SCHEDULED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    pendamping: Mapped[Pendamping] = relationship()
    kelompok: Mapped[list[Kelompok]] = relationship(secondary=broadcast_kelompok)


class OutboxMessage(Base):
    """One bulk message to one chat, written before it is sent and updated after.

    `dedupe_key` says what the message is for ("broadcast:12:user:55"), so enqueueing the same
    thing twice (a job run twice, a stage opened twice) never makes a second message.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The drain's claim: the next queued message of a zone, whether or not others rest in
        # quiet hours (programme.outbox.claim_next).
        Index(
            "ix_outbox_message_queued",
            "time_zone",
            "urgent",
            "priority",
            "id",
            postgresql_where=text("state = 'queued'"),
            sqlite_where=text("state = 'queued'"),
        ),
        # The leader's housekeeping, every second: queued messages whose time is up, and those
        # a dead leader left in flight. Partial, so the million finished rows are in neither.
        Index(
            "ix_outbox_message_queued_expiry",
            "expires_at",
            postgresql_where=text("state = 'queued'"),
            sqlite_where=text("state = 'queued'"),
        ),
        Index(
            "ix_outbox_message_sending",
            "updated_at",
            postgresql_where=text("state = 'sending'"),
            sqlite_where=text("state = 'sending'"),
        ),
        # A stage notice has neither a broadcast nor a meeting: such rows stay out of these.
        Index(
            "ix_outbox_message_broadcast_id",
            "broadcast_id",
            postgresql_where=text("broadcast_id IS NOT NULL"),
            sqlite_where=text("broadcast_id IS NOT NULL"),
        ),
        Index(
            "ix_outbox_message_meeting_id",
            "meeting_id",
            postgresql_where=text("meeting_id IS NOT NULL"),
            sqlite_where=text("meeting_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind, "outbox_kind"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_user.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(MaskedText)
    # Inline buttons as rows of {"text", "data"}; the data is signed when the message is sent.
    buttons: Mapped[list[list[dict[str, str]]] | None] = mapped_column(JSON_DOCUMENT)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("p2k2_meeting.id", ondelete="CASCADE")
    )
    priority: Mapped[int] = mapped_column(default=0)  # lower goes first: reminders before news
    urgent: Mapped[bool] = mapped_column(default=False)  # may be sent in quiet hours
    time_zone: Mapped[TimeZone] = mapped_column(_enum(TimeZone, "outbox_time_zone"))
    state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState, "outbox_state"), default=OutboxState.QUEUED
    )
    not_before: Mapped[datetime]
    expires_at: Mapped[datetime | None]  # a reminder is useless once its meeting has started
    attempts: Mapped[int] = mapped_column(default=0)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(MaskedString(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]


# The statistics count a message when it reached its final state: sent_at, else updated_at.
Index("ix_outbox_message_sent_at", OutboxMessage.sent_at)
# Blocked and failed messages have no sent_at: this index alone answers the statistics' count.
_FINISHED_UNSENT = "sent_at IS NULL AND state IN ('sent', 'blocked', 'failed')"
Index(
    "ix_outbox_message_finished_unsent",
    OutboxMessage.updated_at,
    OutboxMessage.kind,
    OutboxMessage.state,
    sqlite_where=text(_FINISHED_UNSENT),
    postgresql_where=text(_FINISHED_UNSENT),
)


# APScheduler's SQLAlchemyJobStore table, declared here (same columns as APScheduler 3.x makes)
# so that migrations own it and the schema check sees it; the job store finds it already there.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


# --- the admin dashboard ---------------------------------------------------------------------


class AdminUser(Base):
    """Someone who logs in to the dashboard: an admin sees everything, a pendamping their own."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "admin_role"))
    pendamping_id: Mapped[int | None] = mapped_column(
        ForeignKey("pendamping.id", ondelete="SET NULL")
    )
    language: Mapped[str] = mapped_column(String(5), default="id")
    # The zone the dashboard shows this account its times in (their own region's).
    time_zone: Mapped[TimeZone] = mapped_column(
        _enum(TimeZone, "admin_time_zone"), default=TimeZone.WIB, server_default=TimeZone.WIB.value
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    pendamping: Mapped[Pendamping | None] = relationship()


class AdminSession(Base):
    """A logged-in browser; the cookie holds a random token, only its hash is stored."""

    __tablename__ = "admin_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("admin_user.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[AdminUser] = relationship()


class LoginAttempt(Base):
    """One dashboard login try, for the rate limit."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "attempted_at"),
        Index("ix_login_attempt_client_at", "client", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(MaskedString(64))
    client: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool]
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- NLU retraining --------------------------------------------------------------------------


class RetrainJob(Base):
    """One "Latih ulang model" run: progress and log while it trains, the comparison after.

    The active model itself is recorded next to the model files (nlu.active), where the NLU
    server's start-up finds it without a database.
    """

    __tablename__ = "nlu_retrain_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[RetrainState] = mapped_column(
        _enum(RetrainState, "retrain_state"), default=RetrainState.QUEUED, index=True
    )
    requested_by: Mapped[str] = mapped_column(String(100))  # "admin:<username>" or "cli"
    progress: Mapped[int] = mapped_column(default=0)  # percent
    log_tail: Mapped[str] = mapped_column(Text, default="")
    model_file: Mapped[str | None] = mapped_column(String(200))  # the new model's file name
    compared_with: Mapped[str | None] = mapped_column(String(200))  # the active model's
    comparison: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
