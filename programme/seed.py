"""Reference seed: data/programme/*.yml into the database, upserted on natural keys."""

# Running it twice changes nothing; editing a YAML value and running it again updates that row.
# Rows are never deleted here (other rows may point at them), and FAQ rows an admin has edited are
# left alone. The caller owns the transaction.

from __future__ import annotations

import logging
import string
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT
from nlu.schema import ENTITY_VALUES, FALLBACK_INTENT, INTENTS
from programme.models import (
    AuditLog,
    Base,
    BenefitAmount,
    BenefitYear,
    Channel,
    ChannelKind,
    ComplaintChannel,
    Component,
    ComponentGroup,
    ComponentKind,
    FailureReason,
    FaqAnswer,
    P2K2Module,
    P2K2Session,
    PaymentStage,
    PaymentWindow,
    Region,
    RegionLevel,
    ScheduleStatus,
    TimeZone,
    WindowBasis,
)

logger = logging.getLogger(__name__)

DATA_DIR = PROJECT_ROOT / "data" / "programme"
# libyaml's loader is ten times faster than the pure-Python one; both are "safe" loaders.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ModelT = TypeVar("ModelT", bound=Base)
_PRELOAD_CHUNK = 1000  # keys per IN (...)


class SeedDataError(ValueError):
    """A seed file is missing, malformed, or contradicts the NLU schema."""


# --- the shape of the YAML files ---------------------------------------------------------------


class _Strict(BaseModel):
    # A misspelt key in a YAML file must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProvinceIn(_Strict):
    code: str
    name: str
    time_zone: TimeZone


class RegionsFile(_Strict):
    source: str
    provinces: list[ProvinceIn]


class ComponentIn(_Strict):
    code: str
    kind: ComponentKind
    name: str
    group: ComponentGroup | None
    max_per_family: int | None
    eligibility_note: str
    needs_verification: bool = False
    source: str


class ComponentsFile(_Strict):
    components: list[ComponentIn]


class ChannelIn(_Strict):
    code: str
    kind: ChannelKind
    name: str
    description: str
    source: str


class ChannelsFile(_Strict):
    channels: list[ChannelIn]


class AmountIn(_Strict):
    per_year: int = Field(gt=0)
    per_month: int | None = None
    note: str | None = None
    needs_verification: bool = False


class BenefitYearIn(_Strict):
    year: int
    max_paid_components: int | None
    stages_per_year: int
    scheme_note: str
    source: str
    carried_forward: bool = False
    needs_verification: bool = False
    amounts: dict[str, AmountIn]

    @field_validator("amounts", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        # `anak_sd: 900000` is short for `anak_sd: {per_year: 900000}`.
        if isinstance(value, dict):
            return {k: {"per_year": v} if isinstance(v, int) else v for k, v in value.items()}
        return value


class BenefitAmountsFile(_Strict):
    years: list[BenefitYearIn]


class StageIn(_Strict):
    stage: int = Field(ge=1, le=4)
    window: tuple[date, date]
    status: ScheduleStatus
    note: str | None = None
    needs_verification: bool = False


class StageYearIn(_Strict):
    year: int
    basis: WindowBasis
    source: str
    source_date: date
    stages: list[StageIn]


class PaymentStagesFile(_Strict):
    years: list[StageYearIn]


class ReasonIn(_Strict):
    code: str
    title: str
    explanation: str
    advice: str
    needs_verification: bool = False
    source: str


class ReasonsFile(_Strict):
    reasons: list[ReasonIn]


class ComplaintChannelIn(_Strict):
    code: str
    name: str
    contact: str | None
    description: str
    is_current: bool = True
    needs_verification: bool = False
    source: str


class ComplaintChannelsFile(_Strict):
    channels: list[ComplaintChannelIn]


class SessionIn(_Strict):
    number: int
    title: str
    summary: str | None = None
    needs_verification: bool = False


class ModuleIn(_Strict):
    code: str
    number: int
    name: str
    description: str
    needs_verification: bool = False
    source: str
    sessions: list[SessionIn]


class P2K2File(_Strict):
    modules: list[ModuleIn]


class FaqIn(_Strict):
    intent: str
    topic: str
    text_id: str
    text_en: str | None = None
    needs_verification: bool = False
    source: str


class FaqFile(_Strict):
    placeholders: dict[str, str]
    answers: list[FaqIn]


@dataclass(frozen=True)
class ReferenceData:
    """Every reference seed file, parsed and cross-checked."""

    regions: RegionsFile
    components: ComponentsFile
    channels: ChannelsFile
    benefit_amounts: BenefitAmountsFile
    payment_stages: PaymentStagesFile
    failure_reasons: ReasonsFile
    complaint_channels: ComplaintChannelsFile
    p2k2: P2K2File
    faq: FaqFile


ModelIn = TypeVar("ModelIn", bound=BaseModel)


def read_yaml(path: Path, model: type[ModelIn]) -> ModelIn:
    """Parse one YAML file into `model`, naming the file in any error."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506
        return model.model_validate(raw)
    except FileNotFoundError as error:
        raise SeedDataError(f"{path}: file not found") from error
    except (yaml.YAMLError, ValidationError) as error:
        raise SeedDataError(f"{path}: {error}") from error


def load_reference_data(data_dir: Path = DATA_DIR) -> ReferenceData:
    """Read and validate every reference file in `data_dir`."""
    data = ReferenceData(
        regions=read_yaml(data_dir / "regions.yml", RegionsFile),
        components=read_yaml(data_dir / "components.yml", ComponentsFile),
        channels=read_yaml(data_dir / "channels.yml", ChannelsFile),
        benefit_amounts=read_yaml(data_dir / "benefit_amounts.yml", BenefitAmountsFile),
        payment_stages=read_yaml(data_dir / "payment_stages.yml", PaymentStagesFile),
        failure_reasons=read_yaml(data_dir / "failure_reasons.yml", ReasonsFile),
        complaint_channels=read_yaml(data_dir / "complaint_channels.yml", ComplaintChannelsFile),
        p2k2=read_yaml(data_dir / "p2k2.yml", P2K2File),
        faq=read_yaml(data_dir / "faq.yml", FaqFile),
    )
    _check_consistency(data)
    return data


def _check_consistency(data: ReferenceData) -> None:
    problems: list[str] = []

    def unique(label: str, keys: list[Any]) -> None:
        duplicates = sorted({str(k) for k, n in Counter(keys).items() if n > 1})
        if duplicates:
            problems.append(f"{label}: duplicated {', '.join(duplicates)}")

    unique("regions.yml", [p.code for p in data.regions.provinces])
    unique("components.yml", [c.code for c in data.components.components])
    unique("channels.yml", [c.code for c in data.channels.channels])
    unique("failure_reasons.yml", [r.code for r in data.failure_reasons.reasons])
    unique("complaint_channels.yml", [c.code for c in data.complaint_channels.channels])
    unique("p2k2.yml modules", [m.code for m in data.p2k2.modules])
    unique("faq.yml", [(a.intent, a.topic) for a in data.faq.answers])

    # The NLU's entity values must map straight onto rows.
    komponen = {c.code for c in data.components.components if c.kind is ComponentKind.KOMPONEN}
    if komponen != set(ENTITY_VALUES["component"]):
        problems.append(f"components.yml: komponen codes {sorted(komponen)} != nlu/schema.py")
    if {c.code for c in data.channels.channels} != set(ENTITY_VALUES["bank"]):
        problems.append("channels.yml: channel codes differ from nlu/schema.py `bank` values")
    missing_modules = set(ENTITY_VALUES["module"]) - {m.code for m in data.p2k2.modules}
    if missing_modules:
        problems.append(f"p2k2.yml: modules missing: {sorted(missing_modules)}")

    component_kinds = {c.code: c.kind for c in data.components.components}
    for year in data.benefit_amounts.years:
        for code, amount in year.amounts.items():
            kind = component_kinds.get(code)
            if kind is None:
                problems.append(f"benefit_amounts.yml {year.year}: unknown component {code}")
            elif kind is ComponentKind.KOMPONEN and amount.per_year % year.stages_per_year:
                problems.append(f"benefit_amounts.yml {year.year} {code}: not divisible by stages")

    for stage_year in data.payment_stages.years:
        unique(f"payment_stages.yml {stage_year.year}", [s.stage for s in stage_year.stages])
        for stage in stage_year.stages:
            start, end = stage.window
            if not start <= end or start.year != stage_year.year:
                problems.append(f"payment_stages.yml {stage_year.year} stage {stage.stage}: window")

    known_intents = {*INTENTS, FALLBACK_INTENT}
    used_placeholders: set[str] = set()
    for answer in data.faq.answers:
        if answer.intent not in known_intents:
            problems.append(f"faq.yml: unknown intent {answer.intent}")
        for text in (answer.text_id, answer.text_en or ""):
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            except ValueError as error:
                problems.append(f"faq.yml {answer.intent}/{answer.topic}: {error}")
                continue
            used_placeholders |= names
            undeclared = names - data.faq.placeholders.keys()
            if undeclared:
                problems.append(
                    f"faq.yml {answer.intent}/{answer.topic}: undeclared {sorted(undeclared)}"
                )
    unused = data.faq.placeholders.keys() - used_placeholders
    if unused:
        problems.append(f"faq.yml: placeholders declared but never used: {sorted(unused)}")

    if problems:
        raise SeedDataError("reference data is inconsistent:\n  " + "\n  ".join(problems))


# --- upsert ------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    """How many rows of each table a seed inserted, updated, left unchanged or skipped."""

    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        """Rows inserted or updated."""
        return self.inserted.total() + self.updated.total()

    def as_dict(self) -> dict[str, dict[str, int]]:
        """The counts as plain dictionaries (for the audit log)."""
        return {
            "inserted": dict(self.inserted),
            "updated": dict(self.updated),
            "skipped": dict(self.skipped),
        }

    def summary(self) -> str:
        """One line per table, for the command line."""
        tables = sorted({*self.inserted, *self.updated, *self.unchanged, *self.skipped})
        return "\n".join(
            f"  {table:<20} +{self.inserted[table]:<5} ~{self.updated[table]:<5}"
            f" ={self.unchanged[table]:<5}"
            + (f" skipped {self.skipped[table]}" if self.skipped[table] else "")
            for table in tables
        )


class Upserter:
    """Insert-or-update on a natural key, loading each table's existing rows once."""

    def __init__(self, session: Session, report: SeedReport) -> None:
        self.session = session
        self.report = report
        self._indexes: dict[tuple[type[Base], tuple[str, ...]], dict[tuple[Any, ...], Any]] = {}

    def get(self, model: type[ModelT], key: Mapping[str, Any]) -> ModelT | None:
        """The existing row with this natural key, if any."""
        found: ModelT | None = self._index(model, tuple(key)).get(tuple(key.values()))
        return found

    def upsert(
        self, model: type[ModelT], key: Mapping[str, Any], values: Mapping[str, Any]
    ) -> ModelT:
        """The row with this natural key, created or brought up to date with `values`."""
        index = self._index(model, tuple(key))
        table = model.__tablename__
        row: ModelT | None = index.get(tuple(key.values()))
        if row is None:
            row = model(**key, **values)
            self.session.add(row)
            index[tuple(key.values())] = row
            self.report.inserted[table] += 1
            return row
        changed = False
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        (self.report.updated if changed else self.report.unchanged)[table] += 1
        return row

    def preload(self, model: type[Base], column: str, values: Iterable[Any]) -> None:
        """Load only the rows whose `column` is one of `values`, instead of the whole table.

        For imports into big tables: a file names a few keys of a table that may hold a
        province's rows. Every key upserted afterwards must be among `values` (a key not loaded
        counts as new).
        """
        index = self._indexes.setdefault((model, (column,)), {})
        wanted = sorted({value for value in values if value is not None} - {k[0] for k in index})
        attribute = getattr(model, column)
        for first in range(0, len(wanted), _PRELOAD_CHUNK):
            chunk = wanted[first : first + _PRELOAD_CHUNK]
            for row in self.session.scalars(select(model).where(attribute.in_(chunk))):
                index[(getattr(row, column),)] = row

    def _index(self, model: type[Base], key_names: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
        cache_key = (model, key_names)
        if cache_key not in self._indexes:
            rows = self.session.scalars(select(model)).all()
            self._indexes[cache_key] = {
                tuple(getattr(row, name) for name in key_names): row for row in rows
            }
        return self._indexes[cache_key]


# --- the seed ----------------------------------------------------------------------------------


def seed_reference(session: Session, *, data_dir: Path = DATA_DIR) -> SeedReport:
    """Upsert all reference data from `data_dir`; returns what changed."""
    data = load_reference_data(data_dir)
    report = SeedReport()
    upserter = Upserter(session, report)

    _seed_regions(upserter, data.regions)
    _seed_components(upserter, data.components)
    _seed_channels(upserter, data.channels)
    session.flush()
    _seed_benefit_amounts(upserter, data.benefit_amounts, data.components)
    _seed_payment_stages(upserter, data.payment_stages, session)
    _seed_failure_reasons(upserter, data.failure_reasons)
    _seed_complaint_channels(upserter, data.complaint_channels)
    _seed_p2k2(upserter, data.p2k2)
    _seed_faq(upserter, data.faq)
    session.flush()

    if report.changed:
        session.add(
            AuditLog(actor="system:seed", action="seed.reference", details=report.as_dict())
        )
    logger.info("reference seed: %d rows inserted or updated", report.changed)
    return report


def _seed_regions(upserter: Upserter, regions: RegionsFile) -> None:
    for province in regions.provinces:
        upserter.upsert(
            Region,
            {"code": province.code},
            {
                "level": RegionLevel.PROVINSI,
                "name": province.name,
                "parent_id": None,
                "time_zone": province.time_zone,
            },
        )


def _seed_components(upserter: Upserter, components: ComponentsFile) -> None:
    for order, item in enumerate(components.components, start=1):
        upserter.upsert(
            Component,
            {"code": item.code},
            {
                "kind": item.kind,
                "name": item.name,
                "group": item.group,
                "max_per_family": item.max_per_family,
                "eligibility_note": item.eligibility_note,
                "needs_verification": item.needs_verification,
                "source": item.source,
                "sort_order": order,
            },
        )


def _seed_channels(upserter: Upserter, channels: ChannelsFile) -> None:
    for item in channels.channels:
        upserter.upsert(
            Channel,
            {"code": item.code},
            {
                "kind": item.kind,
                "name": item.name,
                "description": item.description,
                "source": item.source,
            },
        )


def _seed_benefit_amounts(
    upserter: Upserter, amounts: BenefitAmountsFile, components: ComponentsFile
) -> None:
    kinds = {c.code: c.kind for c in components.components}
    for year in amounts.years:
        upserter.upsert(
            BenefitYear,
            {"year": year.year},
            {
                "max_paid_components": year.max_paid_components,
                "stages_per_year": year.stages_per_year,
                "scheme_note": year.scheme_note,
                "source": year.source,
                "needs_verification": year.needs_verification,
            },
        )
        for code, amount in year.amounts.items():
            per_stage = (
                Decimal(amount.per_year // year.stages_per_year)
                if kinds[code] is ComponentKind.KOMPONEN
                else None
            )
            upserter.upsert(
                BenefitAmount,
                {"year": year.year, "component_code": code},
                {
                    "per_year": Decimal(amount.per_year),
                    "per_stage": per_stage,
                    "per_month": None if amount.per_month is None else Decimal(amount.per_month),
                    "carried_forward": year.carried_forward,
                    "needs_verification": year.needs_verification or amount.needs_verification,
                    "note": amount.note,
                    "source": year.source,
                },
            )


def _seed_payment_stages(upserter: Upserter, stages: PaymentStagesFile, session: Session) -> None:
    national: list[tuple[PaymentStage, StageYearIn, StageIn]] = []
    for stage_year in stages.years:
        uncertain_year = stage_year.basis is WindowBasis.USUAL_PATTERN
        for item in stage_year.stages:
            stage = upserter.upsert(
                PaymentStage,
                {"year": stage_year.year, "stage_no": item.stage},
                {
                    "status": item.status,
                    "note": item.note,
                    "source": stage_year.source,
                    "source_date": stage_year.source_date,
                    "needs_verification": uncertain_year or item.needs_verification,
                },
            )
            national.append((stage, stage_year, item))
    session.flush()  # the windows' natural key holds the stage id
    for stage, stage_year, item in national:
        upserter.upsert(
            PaymentWindow,
            {"stage_id": stage.id, "region_id": None, "channel_code": None},
            {
                "starts_on": item.window[0],
                "ends_on": item.window[1],
                "basis": stage_year.basis,
                "status": item.status,
                "note": item.note,
                "source": stage_year.source,
                "source_date": stage_year.source_date,
                "needs_verification": stage.needs_verification,
            },
        )


def _seed_failure_reasons(upserter: Upserter, reasons: ReasonsFile) -> None:
    for item in reasons.reasons:
        upserter.upsert(
            FailureReason,
            {"code": item.code},
            {
                "title": item.title,
                "explanation": item.explanation,
                "advice": item.advice,
                "needs_verification": item.needs_verification,
                "source": item.source,
            },
        )


def _seed_complaint_channels(upserter: Upserter, channels: ComplaintChannelsFile) -> None:
    for order, item in enumerate(channels.channels, start=1):
        upserter.upsert(
            ComplaintChannel,
            {"code": item.code},
            {
                "name": item.name,
                "contact": item.contact,
                "description": item.description,
                "is_current": item.is_current,
                "needs_verification": item.needs_verification,
                "source": item.source,
                "sort_order": order,
            },
        )


def _seed_p2k2(upserter: Upserter, p2k2: P2K2File) -> None:
    for module in p2k2.modules:
        upserter.upsert(
            P2K2Module,
            {"code": module.code},
            {
                "number": module.number,
                "name": module.name,
                "description": module.description,
                "needs_verification": module.needs_verification,
                "source": module.source,
            },
        )
        for session_in in module.sessions:
            upserter.upsert(
                P2K2Session,
                {"module_code": module.code, "number": session_in.number},
                {
                    "title": session_in.title,
                    "summary": session_in.summary,
                    "needs_verification": module.needs_verification
                    or session_in.needs_verification,
                    "source": module.source,
                },
            )


def _seed_faq(upserter: Upserter, faq: FaqFile) -> None:
    for answer in faq.answers:
        key = {"intent": answer.intent, "topic_key": answer.topic}
        existing = upserter.get(FaqAnswer, key)
        if existing is not None and existing.admin_edited_at is not None:
            upserter.report.skipped[FaqAnswer.__tablename__] += 1
            continue
        upserter.upsert(
            FaqAnswer,
            key,
            {
                "text_id": answer.text_id,
                "text_en": answer.text_en,
                "source": answer.source,
                "needs_verification": answer.needs_verification,
            },
        )
