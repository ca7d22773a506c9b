"""The synthetic demo roster of data/programme/demo.yml, generated and upserted."""

# build_roster is a pure function of the YAML (fixed random seed, ages against a fixed reference
# date); seed_demo upserts it like the reference seed, so seeding twice on one day changes nothing.
# Only P2K2 meetings and invite expiry are placed relative to the day of seeding ("upcoming").

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.benefits import load_stage_rates, stage_amount
from programme.invites import hash_invite_code
from programme.models import (
    AuditLog,
    Disbursement,
    DisbursementStatus,
    Family,
    FamilyMember,
    FamilyRelation,
    FamilyStatus,
    GraduationType,
    InviteCode,
    Kelompok,
    MeetingStatus,
    MemberComponent,
    P2K2Meeting,
    P2K2Module,
    P2K2Session,
    PaymentStage,
    PaymentWindow,
    Pendamping,
    Region,
    RegionLevel,
    ScheduleStatus,
    Sex,
    TelegramUser,
    UserRole,
    WindowBasis,
)
from programme.nik import hash_nik, nik_last4
from programme.seed import DATA_DIR, SeedDataError, SeedReport, Upserter, read_yaml

logger = logging.getLogger(__name__)

# Demo accounts count as linked from this moment; a fixed value keeps re-seeding idempotent.
LINKED_AT: Final = datetime(2026, 10, 1, tzinfo=UTC)
KELOMPOK_NAMES: Final = (
    "Melati", "Mawar", "Anggrek", "Kenanga", "Dahlia", "Cempaka", "Teratai", "Flamboyan",
    "Kamboja", "Bougenvil", "Seroja", "Tulip", "Lily", "Asoka",
)  # fmt: skip
MEETING_TIMES: Final = (time(9, 0), time(10, 0), time(14, 0), time(15, 30))
FAILURES_EARLY_STAGES: Final = ("ACCOUNT", "DUKCAPIL", "DAPODIK", "MOVED", "NOT_DTKS")
FAILURES_STAGE_4: Final = ("ACCOUNT", "DUKCAPIL", "DAPODIK", "DECEASED")


# --- demo.yml ----------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesaIn(_Strict):
    code: str
    name: str
    kelompok: int = Field(ge=1)


class KecamatanIn(_Strict):
    code: str
    name: str
    desa: list[DesaIn]


class KabupatenIn(_Strict):
    code: str
    name: str


class PendampingIn(_Strict):
    code: str
    name: str
    phone: str
    desa: list[str]


class WindowIn(_Strict):
    channels: list[str]
    window: tuple[date, date]
    status: ScheduleStatus


class AreaIn(_Strict):
    key: str
    province: str
    kabupaten: KabupatenIn
    channels: dict[str, int]
    surnames: list[str] = []
    female: list[str]
    male: list[str]
    female_second: list[str] = []
    male_second: list[str] = []
    places: list[str]
    kecamatan: list[KecamatanIn]
    pendamping: list[PendampingIn]
    stage4_windows: list[WindowIn]


class MemberIn(_Strict):
    name: str
    relation: FamilyRelation
    sex: Sex
    birth_date: date
    pengurus: bool = False
    components: list[str] = []


class Stage4In(_Strict):
    status: DisbursementStatus
    paid_on: date | None = None
    reason: str | None = None
    note: str | None = None


class NamedFamilyIn(_Strict):
    key: str
    area: str
    desa: str
    channel: str
    stage4: Stage4In
    members: list[MemberIn]


class UserIn(_Strict):
    handle: str
    telegram_user_id: int
    role: UserRole
    family: str | None = None
    pendamping: str | None = None
    first_name: str | None = None
    meeting_in_days: int | None = None
    meeting_time: time | None = None


class InviteIn(_Strict):
    code: str
    family: str
    pendamping: str
    valid_days: int = Field(ge=1)


class DemoFile(_Strict):
    random_seed: int
    reference_date: date
    families_per_kelompok: tuple[int, int]
    source: str
    areas: list[AreaIn]
    named_families: list[NamedFamilyIn]
    users: list[UserIn]
    invites: list[InviteIn]


def load_demo(data_dir: Path = DATA_DIR) -> DemoFile:
    """Read and validate demo.yml."""
    demo = read_yaml(data_dir / "demo.yml", DemoFile)
    areas = {area.key: area for area in demo.areas}
    desa_codes = {d.code for a in demo.areas for k in a.kecamatan for d in k.desa}
    family_keys = {f.key for f in demo.named_families}
    problems: list[str] = []
    for area in demo.areas:
        windowed = {channel for window in area.stage4_windows for channel in window.channels}
        if missing := set(area.channels) - windowed:
            problems.append(f"area {area.key}: no stage IV window for {sorted(missing)}")
        if not area.surnames and not (area.female_second and area.male_second):
            problems.append(f"area {area.key}: needs surnames or female_second/male_second")
        served = [code for p in area.pendamping for code in p.desa]
        area_desa = {d.code for k in area.kecamatan for d in k.desa}
        if sorted(served) != sorted(area_desa):
            problems.append(f"area {area.key}: every desa needs exactly one pendamping")
    for family in demo.named_families:
        if family.area not in areas or family.desa not in desa_codes:
            problems.append(f"named family {family.key}: unknown area or desa")
        if [m.pengurus for m in family.members].count(True) != 1 or not family.members[0].pengurus:
            problems.append(f"named family {family.key}: the first member must be the pengurus")
        outcome = family.stage4
        if (outcome.status is DisbursementStatus.PAID) != (outcome.paid_on is not None) or (
            outcome.status is DisbursementStatus.FAILED
        ) != (outcome.reason is not None):
            problems.append(f"named family {family.key}: paid needs paid_on, failed needs reason")
    for user in demo.users:
        if user.family is not None and user.family not in family_keys:
            problems.append(f"user {user.handle}: unknown family {user.family}")
    if problems:
        raise SeedDataError("demo.yml is inconsistent:\n  " + "\n  ".join(problems))
    return demo


def demo_handles(data_dir: Path = DATA_DIR) -> dict[str, int]:
    """The demo Telegram users: handle (e.g. "kpm-wita") to their fake Telegram user id."""
    return {user.handle: user.telegram_user_id for user in load_demo(data_dir).users}


def demo_user(session: Session, *, handle: str) -> TelegramUser | None:
    """The demo Telegram account of a handle; None when the demo roster is not loaded.

    Raises KeyError, naming the handles there are, for a handle demo.yml does not have.
    """
    handles = demo_handles()
    if handle not in handles:
        raise KeyError(f"unknown demo user {handle!r}; choose one of: {', '.join(sorted(handles))}")
    return session.scalars(
        select(TelegramUser).where(TelegramUser.telegram_user_id == handles[handle])
    ).one_or_none()


# --- the roster as plain data ------------------------------------------------------------------


@dataclass(frozen=True)
class MemberPlan:
    """One person on a family's Kartu Keluarga (the NIK exists only here, in memory)."""

    member_no: int
    name: str
    relation: FamilyRelation
    sex: Sex
    birth_date: date
    is_pengurus: bool
    nik: str
    components: tuple[str, ...]


@dataclass(frozen=True)
class DisbursementPlan:
    """The outcome of one 2026 stage for one family."""

    stage_no: int
    status: DisbursementStatus
    paid_on: date | None = None
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FamilyPlan:
    """A demo KPM."""

    key: str | None  # the named-family key, if any
    pkh_id: str
    area_key: str
    desa_code: str
    kelompok_code: str
    address: str
    channel: str
    status: FamilyStatus
    graduation_type: GraduationType | None
    status_since: date | None
    members: tuple[MemberPlan, ...]
    disbursements: tuple[DisbursementPlan, ...]

    @property
    def components(self) -> list[str]:
        """Every component of every member."""
        return [code for member in self.members for code in member.components]


@dataclass(frozen=True)
class KelompokPlan:
    """A demo kelompok and when its next P2K2 meeting is."""

    code: str
    name: str
    area_key: str
    desa_code: str
    pendamping_code: str
    place: str
    meeting_in_days: int
    meeting_time: time
    session_index: int  # position in the ordered list of core P2K2 sessions


@dataclass(frozen=True)
class Roster:
    """Everything the demo seeds, before it meets the database."""

    kelompok: tuple[KelompokPlan, ...]
    families: tuple[FamilyPlan, ...]

    def family(self, key: str) -> FamilyPlan:
        """The named family with this key."""
        return next(f for f in self.families if f.key == key)


def demo_nik(kabupaten_code: str, family_no: int, member_no: int) -> str:
    """The obviously fake NIK of a demo person: 9999, kabupaten digits, family and member number."""
    return f"9999{kabupaten_code.replace('.', '')}{family_no:05d}{member_no:03d}"


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def build_roster(demo: DemoFile) -> Roster:
    """The whole demo roster, deterministically, from demo.yml."""
    named_by_area: dict[str, list[NamedFamilyIn]] = defaultdict(list)
    for named in demo.named_families:
        named_by_area[named.area].append(named)
    kelompok: list[KelompokPlan] = []
    families: list[FamilyPlan] = []
    for area in demo.areas:
        # One generator per area, so that editing one area leaves the others as they were.
        rng = random.Random(f"{demo.random_seed}:{area.key}")  # noqa: S311 - synthetic data
        area_kelompok = _plan_kelompok(rng, area, first_name_index=len(kelompok))
        kelompok.extend(area_kelompok)
        family_no = 0
        for named in named_by_area[area.key]:
            family_no += 1
            home = next(k for k in area_kelompok if k.desa_code == named.desa)
            families.append(_named_family(rng, demo, area, named, home, family_no))
        for group in area_kelompok:
            already = sum(1 for f in families if f.kelompok_code == group.code)
            for _ in range(max(0, rng.randint(*demo.families_per_kelompok) - already)):
                family_no += 1
                families.append(_generated_family(rng, demo, area, group, family_no))
    kelompok = _apply_user_meetings(demo, kelompok, families)
    return Roster(tuple(kelompok), tuple(families))


def _plan_kelompok(
    rng: random.Random, area: AreaIn, *, first_name_index: int
) -> list[KelompokPlan]:
    pendamping_of = {code: p.code for p in area.pendamping for code in p.desa}
    digits = area.kabupaten.code.replace(".", "")
    plans: list[KelompokPlan] = []
    for kecamatan in area.kecamatan:
        for desa in kecamatan.desa:
            for _ in range(desa.kelompok):
                flower = KELOMPOK_NAMES[(first_name_index + len(plans)) % len(KELOMPOK_NAMES)]
                plans.append(
                    KelompokPlan(
                        code=f"DEMO-KLP-{digits}-{len(plans) + 1:02d}",
                        name=f"{flower} {desa.name}",
                        area_key=area.key,
                        desa_code=desa.code,
                        pendamping_code=pendamping_of[desa.code],
                        place=rng.choice(area.places).format(desa=desa.name),
                        meeting_in_days=rng.randint(2, 20),
                        meeting_time=rng.choice(MEETING_TIMES),
                        session_index=rng.randrange(14),
                    )
                )
    return plans


def _apply_user_meetings(
    demo: DemoFile, kelompok: list[KelompokPlan], families: list[FamilyPlan]
) -> list[KelompokPlan]:
    # Demo users' groups meet soon, at a fixed time, so reminders can be tried right away.
    overrides: dict[str, UserIn] = {}
    for user in demo.users:
        if user.family is not None and user.meeting_in_days is not None:
            family = next(f for f in families if f.key == user.family)
            overrides[family.kelompok_code] = user
    result = []
    for plan in kelompok:
        override = overrides.get(plan.code)
        if override is not None and override.meeting_in_days is not None:
            plan = replace(
                plan,
                meeting_in_days=override.meeting_in_days,
                meeting_time=override.meeting_time or plan.meeting_time,
            )
        result.append(plan)
    return result


def _named_family(
    rng: random.Random,
    demo: DemoFile,
    area: AreaIn,
    named: NamedFamilyIn,
    home: KelompokPlan,
    family_no: int,
) -> FamilyPlan:
    members = tuple(
        MemberPlan(
            member_no=no,
            name=m.name,
            relation=m.relation,
            sex=m.sex,
            birth_date=m.birth_date,
            is_pengurus=m.pengurus,
            nik=demo_nik(area.kabupaten.code, family_no, no),
            components=tuple(m.components),
        )
        for no, m in enumerate(named.members, start=1)
    )
    year = demo.reference_date.year
    early = tuple(
        DisbursementPlan(
            stage, DisbursementStatus.PAID, paid_on=_quarter_start(year, stage) + timedelta(days=30)
        )
        for stage in (1, 2, 3)
    )
    stage4 = DisbursementPlan(
        4, named.stage4.status, named.stage4.paid_on, named.stage4.reason, named.stage4.note
    )
    return FamilyPlan(
        key=named.key,
        pkh_id=f"DEMO-{area.kabupaten.code.replace('.', '')}-{family_no:05d}",
        area_key=area.key,
        desa_code=named.desa,
        kelompok_code=home.code,
        address=_address(rng, _desa_name(area, named.desa)),
        channel=named.channel,
        status=FamilyStatus.ACTIVE,
        graduation_type=None,
        status_since=None,
        members=members,
        disbursements=(*early, stage4),
    )


def _generated_family(
    rng: random.Random, demo: DemoFile, area: AreaIn, group: KelompokPlan, family_no: int
) -> FamilyPlan:
    today = demo.reference_date
    people = _generate_people(rng, area, today)
    members = tuple(
        MemberPlan(
            member_no=no,
            name=name,
            relation=relation,
            sex=sex,
            birth_date=born,
            is_pengurus=no == 1,
            nik=demo_nik(area.kabupaten.code, family_no, no),
            components=tuple(components),
        )
        for no, (name, relation, sex, born, components) in enumerate(people, start=1)
    )
    channel = rng.choices(list(area.channels), weights=list(area.channels.values()))[0]
    status, graduation, since = FamilyStatus.ACTIVE, None, None
    roll = rng.random()
    if roll < 0.03:
        status, since = FamilyStatus.SUSPENDED, date(today.year, 10, 1)
    elif roll < 0.05:
        status, graduation = FamilyStatus.GRADUATED, GraduationType.SEJAHTERA_MANDIRI
        since = date(today.year, 9, 30)
    return FamilyPlan(
        key=None,
        pkh_id=f"DEMO-{area.kabupaten.code.replace('.', '')}-{family_no:05d}",
        area_key=area.key,
        desa_code=group.desa_code,
        kelompok_code=group.code,
        address=_address(rng, _desa_name(area, group.desa_code)),
        channel=channel,
        status=status,
        graduation_type=graduation,
        status_since=since,
        members=members,
        disbursements=_plan_disbursements(rng, area, channel, status, today),
    )


Person = tuple[str, FamilyRelation, Sex, date, list[str]]


def _generate_people(rng: random.Random, area: AreaIn, today: date) -> list[Person]:
    """A plausible household whose components respect the caps (≤2 AUD, ≤1 lansia, ≤1 dis)."""
    surname = rng.choice(area.surnames) if area.surnames else None

    def name(sex: Sex, *, own_surname: bool = False) -> str:
        given = rng.choice(area.female if sex is Sex.PEREMPUAN else area.male)
        if surname is not None:
            # Children and the husband carry the family name; the wife keeps her own.
            return f"{given} {rng.choice(area.surnames) if own_surname else surname}"
        seconds = area.female_second if sex is Sex.PEREMPUAN else area.male_second
        return f"{given} {rng.choice(seconds)}"

    def born(age: int) -> date:
        return date(today.year - age - 1, 1, 1) + timedelta(days=rng.randrange(365))

    mother_age = rng.randint(22, 52)
    has_husband = rng.random() < 0.8
    people: list[Person] = [
        (
            name(Sex.PEREMPUAN, own_surname=True),
            FamilyRelation.ISTRI if has_husband else FamilyRelation.KEPALA_KELUARGA,
            Sex.PEREMPUAN,
            born(mother_age),
            ["ibu_hamil"] if mother_age < 42 and rng.random() < 0.12 else [],
        )
    ]
    if has_husband:
        husband_born = born(mother_age + rng.randint(0, 8))
        people.append(
            (name(Sex.LAKI_LAKI), FamilyRelation.KEPALA_KELUARGA, Sex.LAKI_LAKI, husband_born, [])
        )
    oldest_child = min(20, mother_age - 18)
    n_children = min(rng.choices(range(6), weights=(4, 20, 30, 26, 12, 8))[0], oldest_child + 1)
    ages = sorted(rng.sample(range(oldest_child + 1), n_children), reverse=True)
    usia_dini = 0
    for age in ages:
        sex = rng.choice((Sex.LAKI_LAKI, Sex.PEREMPUAN))
        components: list[str] = []
        if age <= 5:
            if usia_dini < 2:  # at most two anak usia dini per family
                components, usia_dini = ["anak_usia_dini"], usia_dini + 1
        elif age <= 11:
            components = ["anak_sd"]
        elif age <= 14:
            components = ["anak_smp"]
        elif age <= 17 or (age <= 19 and rng.random() < 0.4):  # some repeat a year
            components = ["anak_sma"]
        people.append((name(sex), FamilyRelation.ANAK, sex, born(age), components))
    if rng.random() < 0.22:
        sex = rng.choice((Sex.LAKI_LAKI, Sex.PEREMPUAN))
        # 70+ rather than 60+: the age threshold is disputed (pkh-facts §10), 70+ is safe for both.
        elder_born = born(rng.randint(70, 88))
        people.append(
            (name(sex, own_surname=True), FamilyRelation.ORANG_TUA, sex, elder_born, ["lansia"])
        )
    if rng.random() < 0.06:
        candidates = [i for i, p in enumerate(people) if i > 0 and "lansia" not in p[4]]
        if candidates:
            index = rng.choice(candidates)
            person = people[index]
            people[index] = (*person[:4], [*person[4], "disabilitas_berat"])
    if not any(p[4] for p in people):
        # Every KPM has at least one component, or it would not be in PKH.
        sex = rng.choice((Sex.LAKI_LAKI, Sex.PEREMPUAN))
        people.append((name(sex), FamilyRelation.ANAK, sex, born(rng.randint(6, 11)), ["anak_sd"]))
    return people


def _plan_disbursements(
    rng: random.Random, area: AreaIn, channel: str, status: FamilyStatus, today: date
) -> tuple[DisbursementPlan, ...]:
    plans = []
    for stage in (1, 2, 3):
        paid_on = _quarter_start(today.year, stage) + timedelta(days=rng.randint(14, 80))
        if status is FamilyStatus.SUSPENDED and stage == 3:
            plans.append(DisbursementPlan(stage, DisbursementStatus.FAILED, reason="COMMITMENT"))
        elif rng.random() < 0.03:
            reason = rng.choice(FAILURES_EARLY_STAGES)
            plans.append(DisbursementPlan(stage, DisbursementStatus.FAILED, reason=reason))
        else:
            plans.append(DisbursementPlan(stage, DisbursementStatus.PAID, paid_on=paid_on))
    if status is FamilyStatus.GRADUATED:
        return tuple(plans)  # left PKH before stage IV
    if status is FamilyStatus.SUSPENDED:
        return (*plans, DisbursementPlan(4, DisbursementStatus.FAILED, reason="COMMITMENT"))
    window = next(w for w in area.stage4_windows if channel in w.channels)
    start, end = window.window
    last_paid_day = min(end, today - timedelta(days=1))
    if window.status is ScheduleStatus.PLANNED or last_paid_day < start:
        stage4 = DisbursementPlan(4, DisbursementStatus.PLANNED)
    elif rng.random() < 0.05:
        stage4 = DisbursementPlan(4, DisbursementStatus.FAILED, reason=rng.choice(FAILURES_STAGE_4))
    elif window.status is ScheduleStatus.COMPLETED or rng.random() < 0.55:
        day = start + timedelta(days=rng.randint(0, (last_paid_day - start).days))
        stage4 = DisbursementPlan(4, DisbursementStatus.PAID, paid_on=day)
    else:
        stage4 = DisbursementPlan(4, DisbursementStatus.PLANNED)
    return (*plans, stage4)


def _quarter_start(year: int, stage: int) -> date:
    return date(year, 3 * stage - 2, 1)


def _address(rng: random.Random, desa_name: str) -> str:
    return f"RT {rng.randint(1, 8):03d}/RW {rng.randint(1, 4):03d}, {desa_name}"


def _desa_name(area: AreaIn, code: str) -> str:
    return next(d.name for k in area.kecamatan for d in k.desa if d.code == code)


# --- into the database -------------------------------------------------------------------------


def seed_demo(
    session: Session,
    *,
    secret_key: str,
    now: datetime | None = None,
    data_dir: Path = DATA_DIR,
) -> SeedReport:
    """Upsert the demo roster (needs the reference seed in the same database first)."""
    now = now or datetime.now(UTC)
    demo = load_demo(data_dir)
    roster = build_roster(demo)
    report = SeedReport()
    upserter = Upserter(session, report)
    year = demo.reference_date.year

    regions = _seed_regions(session, upserter, demo)
    pendamping = _seed_pendamping(upserter, demo, regions)
    session.flush()
    kelompok = {
        plan.code: upserter.upsert(
            Kelompok,
            {"code": plan.code},
            {
                "name": plan.name,
                "pendamping_id": pendamping[plan.pendamping_code].id,
                "desa_id": regions[plan.desa_code].id,
            },
        )
        for plan in roster.kelompok
    }
    session.flush()
    families = _seed_families(session, upserter, roster, kelompok, regions, secret_key)
    stages = _seed_stage4_windows(session, upserter, demo, regions, year)
    _seed_disbursements(session, upserter, roster, families, stages, year)
    _seed_meetings(session, upserter, roster, kelompok, regions, now)
    _seed_users_and_invites(upserter, demo, roster, families, pendamping, secret_key, now)
    session.flush()

    if report.changed:
        session.add(AuditLog(actor="system:seed", action="seed.demo", details=report.as_dict()))
    logger.info(
        "demo seed: %d families, %d rows inserted or updated", len(families), report.changed
    )
    return report


def _seed_regions(session: Session, upserter: Upserter, demo: DemoFile) -> dict[str, Region]:
    provinces = {
        r.code: r
        for r in session.scalars(select(Region).where(Region.level == RegionLevel.PROVINSI))
    }
    regions: dict[str, Region] = {}

    def place(code: str, level: RegionLevel, name: str, parent: Region) -> Region:
        session.flush()  # the parent needs its id
        region = upserter.upsert(
            Region,
            {"code": code},
            # Lower levels share their province's zone (true of every Indonesian province).
            {"level": level, "name": name, "parent_id": parent.id, "time_zone": parent.time_zone},
        )
        regions[code] = region
        return region

    for area in demo.areas:
        province = provinces.get(area.province)
        if province is None:
            raise SeedDataError(f"province {area.province} missing: run the reference seed first")
        kabupaten = place(area.kabupaten.code, RegionLevel.KABUPATEN, area.kabupaten.name, province)
        for kecamatan_in in area.kecamatan:
            kecamatan = place(
                kecamatan_in.code, RegionLevel.KECAMATAN, kecamatan_in.name, kabupaten
            )
            for desa in kecamatan_in.desa:
                place(desa.code, RegionLevel.DESA, desa.name, kecamatan)
    session.flush()
    return regions


def _seed_pendamping(
    upserter: Upserter, demo: DemoFile, regions: dict[str, Region]
) -> dict[str, Pendamping]:
    return {
        p.code: upserter.upsert(
            Pendamping,
            {"code": p.code},
            {
                "name": p.name,
                "phone": p.phone,
                "region_id": regions[area.kabupaten.code].id,
                "is_active": True,
            },
        )
        for area in demo.areas
        for p in area.pendamping
    }


def _seed_families(
    session: Session,
    upserter: Upserter,
    roster: Roster,
    kelompok: dict[str, Kelompok],
    regions: dict[str, Region],
    secret_key: str,
) -> dict[str, Family]:
    families = {
        plan.pkh_id: upserter.upsert(
            Family,
            {"pkh_id": plan.pkh_id},
            {
                "kelompok_id": kelompok[plan.kelompok_code].id,
                "desa_id": regions[plan.desa_code].id,
                "address": plan.address,
                "channel_code": plan.channel,
                "status": plan.status,
                "graduation_type": plan.graduation_type,
                "status_since": plan.status_since,
            },
        )
        for plan in roster.families
    }
    session.flush()
    members: list[tuple[FamilyMember, MemberPlan]] = []
    for plan in roster.families:
        for member in plan.members:
            row = upserter.upsert(
                FamilyMember,
                {"family_id": families[plan.pkh_id].id, "member_no": member.member_no},
                {
                    "name": member.name,
                    "family_relation": member.relation,
                    "sex": member.sex,
                    "birth_date": member.birth_date,
                    "is_pengurus": member.is_pengurus,
                    "nik_hash": hash_nik(member.nik, secret_key),
                    "nik_last4": nik_last4(member.nik),
                },
            )
            members.append((row, member))
    session.flush()
    for row, member in members:
        for code in member.components:
            upserter.upsert(MemberComponent, {"member_id": row.id, "component_code": code}, {})
    return families


def _seed_stage4_windows(
    session: Session, upserter: Upserter, demo: DemoFile, regions: dict[str, Region], year: int
) -> dict[int, PaymentStage]:
    stages = {
        s.stage_no: s
        for s in session.scalars(select(PaymentStage).where(PaymentStage.year == year))
    }
    if sorted(stages) != [1, 2, 3, 4]:
        raise SeedDataError(f"payment stages of {year} missing: run the reference seed first")
    for area in demo.areas:
        for window in area.stage4_windows:
            for channel in window.channels:
                upserter.upsert(
                    PaymentWindow,
                    {
                        "stage_id": stages[4].id,
                        "region_id": regions[area.kabupaten.code].id,
                        "channel_code": channel,
                    },
                    {
                        "starts_on": window.window[0],
                        "ends_on": window.window[1],
                        "basis": WindowBasis.OFFICIAL,
                        "status": window.status,
                        "note": "Jadwal contoh untuk data demo.",
                        "source": demo.source,
                        "source_date": demo.reference_date,
                        "needs_verification": False,
                    },
                )
    return stages


def _seed_disbursements(
    session: Session,
    upserter: Upserter,
    roster: Roster,
    families: dict[str, Family],
    stages: dict[int, PaymentStage],
    year: int,
) -> None:
    rates = load_stage_rates(session, year=year)
    for plan in roster.families:
        amount = stage_amount(plan.components, rates)
        for outcome in plan.disbursements:
            upserter.upsert(
                Disbursement,
                {"family_id": families[plan.pkh_id].id, "stage_id": stages[outcome.stage_no].id},
                {
                    "channel_code": plan.channel,
                    "amount": amount,
                    "status": outcome.status,
                    "paid_on": outcome.paid_on,
                    "failure_reason_code": outcome.reason,
                    "note": outcome.note,
                },
            )


def _seed_meetings(
    session: Session,
    upserter: Upserter,
    roster: Roster,
    kelompok: dict[str, Kelompok],
    regions: dict[str, Region],
    now: datetime,
) -> None:
    sessions = _core_sessions(session)
    for plan in roster.kelompok:
        zone = ZoneInfo(regions[plan.desa_code].time_zone)
        # Anchored to the local date, not the instant, so re-seeding the same day changes nothing.
        next_day = now.astimezone(zone).date() + timedelta(days=plan.meeting_in_days)
        upcoming = datetime.combine(next_day, plan.meeting_time, tzinfo=zone)
        previous = upcoming - timedelta(days=28)
        for offset, starts_at, status in (
            (-1, previous, MeetingStatus.HELD),
            (0, upcoming, MeetingStatus.SCHEDULED),
        ):
            p2k2_session = sessions[(plan.session_index + offset) % len(sessions)]
            upserter.upsert(
                P2K2Meeting,
                {"kelompok_id": kelompok[plan.code].id, "session_id": p2k2_session.id},
                {"starts_at": starts_at, "place": plan.place, "status": status},
            )


def _core_sessions(session: Session) -> Sequence[P2K2Session]:
    # The five core modules in order (numbers 1–5), not the newer stunting module.
    return session.scalars(
        select(P2K2Session)
        .join(P2K2Module)
        .where(P2K2Module.number <= 5)
        .order_by(P2K2Module.number, P2K2Session.number)
    ).all()


def _seed_users_and_invites(
    upserter: Upserter,
    demo: DemoFile,
    roster: Roster,
    families: dict[str, Family],
    pendamping: dict[str, Pendamping],
    secret_key: str,
    now: datetime,
) -> None:
    for user in demo.users:
        family = roster.family(user.family) if user.family is not None else None
        first_name = user.first_name or (family.members[0].name.split()[0] if family else None)
        linked = family is not None or user.pendamping is not None
        upserter.upsert(
            TelegramUser,
            {"telegram_user_id": user.telegram_user_id},
            {
                "chat_id": user.telegram_user_id,
                "username": "demo_" + user.handle.replace("-", "_"),
                "first_name": first_name,
                "role": user.role,
                "family_id": families[family.pkh_id].id if family else None,
                "pendamping_id": pendamping[user.pendamping].id if user.pendamping else None,
                "reminders_enabled": True,
                "language": "id",
                "is_unreachable": False,
                "linked_at": LINKED_AT if linked else None,
            },
        )
    for invite in demo.invites:
        valid_until = now.astimezone(UTC).date() + timedelta(days=invite.valid_days)
        upserter.upsert(
            InviteCode,
            {"code_hash": hash_invite_code(invite.code, secret_key)},
            {
                "family_id": families[roster.family(invite.family).pkh_id].id,
                "issued_by_pendamping_id": pendamping[invite.pendamping].id,
                # The seed's clock, not the database's: a seed for another day (the tests') must
                # not make a code that expires before it was made.
                "created_at": now,
                "expires_at": datetime.combine(valid_until, time(0), tzinfo=UTC),
            },
        )
