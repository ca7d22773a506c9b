"""The admins' retraining loop, without a database: train a new model with progress, compare it
with the active one on the dev and test sets, swap it into the running NLU servers, roll back.

Activation goes through Rasa's HTTP API (PUT /model on every replica, no restart; nlu.rasa_serve
keeps parses flowing while a model loads) and is recorded in models/active.json (nlu.active).
The dashboard and `pkh nlu retrain` run these steps and keep the job's row and the audit log.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.settings import PROJECT_ROOT
from nlu.active import ActiveModels, active_model, read_active, write_active
from nlu.evaluation import Comparison, Report, compare, evaluate_sets, heldout_sets
from nlu.server import (
    fingerprint,
    free_port,
    latest_model,
    model_path,
    rasa_command,
    rasa_environment,
    start_server,
)
from nlu.trainingdata import Example

log = logging.getLogger(__name__)

# An F1 change smaller than this is noise in the table, not a change worth showing.
SHOWN_CHANGE = 0.005
LOG_TAIL_LINES = 40
LOAD_TIMEOUT_SECONDS = 180.0
PROBE_TEXT = "kapan pkh cair"

OnLine = Callable[[str], None]
OnProgress = Callable[[int], None]


def replica_urls(nlu_url: str) -> list[str]:
    """The NLU servers to activate a model on: NLU_URL, or several separated by commas."""
    return [url.strip().rstrip("/") for url in re.split(r"[,\s]+", nlu_url) if url.strip()]


def evaluation_sets() -> dict[str, list[Example]]:
    """The held-out examples a new model must not be worse on: dev and test."""
    return heldout_sets(("dev", "test"))


# --- training -----------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Rasa's own log lines ("2026-12-04 18:39:27 INFO rasa…") and its last word; the rest of its
# output (TensorFlow and deprecation warnings) says nothing to an admin.
_WORTH_SHOWING = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d |Your Rasa model|Error|error:")
# One of these per trained component: trained now, or taken from Rasa's cache (.rasa/cache).
_COMPONENT_DONE = re.compile(r"Finished training component|Restored component")


def trainable_components(config: Path) -> int:
    """How many component lines (trained or restored) a training of `config` prints, about."""
    document = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    # The tokenizer and the FallbackClassifier are not trained; every other component is.
    return max(1, len(document.get("pipeline") or ()) - 2)


def train_candidate(
    *,
    data: Path,
    config: Path,
    models_dir: Path,
    on_line: OnLine = lambda line: None,
    on_progress: OnProgress = lambda percent: None,
) -> tuple[Path, bool]:
    """Train a model of `config` + `data` (a separate `rasa train nlu` process) into models_dir.

    The model is named after its inputs' fingerprint, as `pkh nlu train` names it; when that file
    exists already nothing is trained. Returns the model and whether it was trained now.
    """
    target = model_path(fingerprint(config, data), models_dir)
    if target.exists():
        return target, False
    models_dir.mkdir(parents=True, exist_ok=True)
    command = rasa_command(
        "train", "nlu", "--config", str(config), "--nlu", str(data),
        "--out", str(models_dir), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    )  # fmt: skip
    expected = trainable_components(config)
    finished = 0
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=rasa_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    shown: list[str] = []
    for raw in process.stdout:
        line = _ANSI.sub("", raw.decode("utf-8", "replace")).strip()
        if not line or not _WORTH_SHOWING.search(line):
            continue
        shown.append(line)
        on_line(line)
        if _COMPONENT_DONE.search(line):
            finished += 1
            on_progress(min(99, 100 * finished // expected))
    if process.wait() != 0 or not target.exists():
        last = shown[-1] if shown else "no output"
        raise RuntimeError(f"rasa train nlu failed with exit code {process.returncode}: {last}")
    on_progress(100)
    return target, True


# --- comparison ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentChange:
    intent: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Confusion:
    true: str
    predicted: str
    count: int


@dataclass(frozen=True)
class SetScores:
    """What the comparison keeps of one model's report on one set (JSON in the job's row)."""

    macro_f1: float
    accuracy: float
    intent_f1: dict[str, float]

    @classmethod
    def of(cls, report: Report) -> SetScores:
        return cls(
            macro_f1=report.macro_f1,
            accuracy=report.accuracy,
            intent_f1={intent: scores.f1 for intent, scores in report.per_intent.items()},
        )


@dataclass(frozen=True)
class SetComparison:
    """The new model against the active one on one held-out set."""

    name: str
    size: int
    current: SetScores | None  # None: there was no active model to compare with
    candidate: SetScores
    new_confusions: list[Confusion] = field(default_factory=list)

    @property
    def macro_f1_change(self) -> float:
        return self.candidate.macro_f1 - (self.current.macro_f1 if self.current else 0.0)

    @property
    def not_worse(self) -> bool:
        # Rasa trains reproducibly (fixed seeds): an equal score is the same behaviour, not luck.
        return self.current is None or self.candidate.macro_f1 >= self.current.macro_f1 - 1e-9

    def intent_changes(self, shown: float = SHOWN_CHANGE) -> list[IntentChange]:
        """Per-intent F1 changes bigger than `shown`, largest drop first."""
        if self.current is None:
            return []
        changes = [
            IntentChange(intent, self.current.intent_f1.get(intent, 0.0), after)
            for intent, after in self.candidate.intent_f1.items()
        ]
        return sorted((c for c in changes if abs(c.change) >= shown), key=lambda c: c.change)

    @classmethod
    def of(cls, name: str, current: Report | None, candidate: Report) -> SetComparison:
        confusions: list[Confusion] = []
        if current is not None:
            compared: Comparison = compare(current, candidate)
            confusions = [Confusion(t, p, n) for (t, p), n in compared.newly_confused]
        return cls(
            name=name,
            size=len(candidate.predictions),
            current=SetScores.of(current) if current is not None else None,
            candidate=SetScores.of(candidate),
            new_confusions=confusions,
        )


@dataclass(frozen=True)
class ModelComparison:
    """The new model against the active one on every held-out set."""

    candidate: str
    current: str | None
    sets: list[SetComparison]

    @property
    def not_worse(self) -> bool:
        return all(s.not_worse for s in self.sets)

    @property
    def worse_on(self) -> list[str]:
        return [s.name for s in self.sets if not s.not_worse]

    def to_json(self) -> dict[str, Any]:
        def scores(s: SetScores | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"macro_f1": s.macro_f1, "accuracy": s.accuracy, "intent_f1": s.intent_f1}

        return {
            "candidate": self.candidate,
            "current": self.current,
            "sets": [
                {
                    "name": s.name,
                    "size": s.size,
                    "current": scores(s.current),
                    "candidate": scores(s.candidate),
                    "new_confusions": [[c.true, c.predicted, c.count] for c in s.new_confusions],
                }
                for s in self.sets
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelComparison:
        def scores(value: Mapping[str, Any] | None) -> SetScores | None:
            if value is None:
                return None
            return SetScores(
                macro_f1=float(value["macro_f1"]),
                accuracy=float(value["accuracy"]),
                intent_f1={str(k): float(v) for k, v in value["intent_f1"].items()},
            )

        sets = []
        for item in data["sets"]:
            candidate = scores(item["candidate"])
            assert candidate is not None
            sets.append(
                SetComparison(
                    name=str(item["name"]),
                    size=int(item["size"]),
                    current=scores(item["current"]),
                    candidate=candidate,
                    new_confusions=[Confusion(t, p, int(n)) for t, p, n in item["new_confusions"]],
                )
            )
        return cls(candidate=str(data["candidate"]), current=data.get("current"), sets=sets)


def compare_models(
    candidate: Path,
    current: Path | None,
    sets: Mapping[str, list[Example]],
    *,
    url: str | None = None,
    on_progress: OnProgress = lambda percent: None,
) -> ModelComparison:
    """Score both models on every set with one Rasa server (PUT /model between them).

    The server is a temporary one, never one the bot uses; `url` names a scratch server to use
    instead (the tests keep one running).
    """
    server = None
    if url is None:
        server = start_server(port=free_port(), model=candidate)
        url = server.url
    else:
        load_model(url, candidate)
    try:
        on_progress(25)
        new = evaluate_sets(sets, model=candidate, url=url)
        on_progress(50)
        old: dict[str, Report] = {}
        if current is not None:
            load_model(url, current)
            on_progress(60)
            old = evaluate_sets(sets, model=current, url=url)
        on_progress(100)
    finally:
        if server is not None:
            server.stop()
    return ModelComparison(
        candidate=candidate.name,
        current=current.name if current else None,
        sets=[SetComparison.of(name, old.get(name), new[name]) for name in sets],
    )


# --- activation ---------------------------------------------------------------------------------


class ActivationFailed(Exception):
    """A server refused or failed to load the model; every server is back on the model before."""


class NothingToRestore(Exception):
    """There is no previous model (or its file is gone)."""


@dataclass(frozen=True)
class Activation:
    """What an activation or rollback did: the new record, the servers swapped and not reached."""

    record: ActiveModels
    swapped: list[str]
    unreachable: list[str]


def served_model(url: str) -> str | None:
    """The file name of the model a running server has loaded, or None when it does not answer."""
    try:
        response = httpx.get(f"{url}/status", timeout=5.0)
        response.raise_for_status()
        name = response.json().get("model_file")
        return str(name) if name else None
    except (httpx.HTTPError, ValueError):
        return None


def load_model(url: str, model: Path) -> None:
    """PUT /model on one server, then check it serves `model` and answers a parse."""
    response = httpx.put(
        f"{url}/model", json={"model_file": str(model.resolve())}, timeout=LOAD_TIMEOUT_SECONDS
    )
    if response.status_code != httpx.codes.NO_CONTENT:
        raise ActivationFailed(f"{url} answered PUT /model with HTTP {response.status_code}")
    if served_model(url) != model.name:
        raise ActivationFailed(f"{url} does not report {model.name} after loading it")
    probe = httpx.post(f"{url}/model/parse", json={"text": PROBE_TEXT}, timeout=10.0)
    if probe.status_code != httpx.codes.OK or not probe.json().get("intent"):
        raise ActivationFailed(f"{url} cannot parse with {model.name}")


def current_model(models_dir: Path, urls: Sequence[str] = ()) -> Path | None:
    """The model the loop compares with: the active one; before the first activation, the one
    the first server that answers has loaded, else the one a server would start with."""
    recorded = active_model(models_dir)
    if recorded is not None:
        return recorded
    for url in urls:
        name = served_model(url)
        if name and (models_dir / name).is_file():
            return models_dir / name
    return latest_model(models_dir)


def record_current(models_dir: Path, urls: Sequence[str], *, by: str) -> Path | None:
    """Before the first new model, write down the served one as active, so that a model that is
    never activated is never served after a restart either."""
    if active_model(models_dir) is not None:
        return active_model(models_dir)
    current = current_model(models_dir, urls)
    if current is not None:
        write_active(models_dir, ActiveModels(active=current.name, changed_by=by))
    return current


def activate(model: Path, *, urls: Sequence[str], models_dir: Path, by: str) -> Activation:
    """Swap every answering server to `model` and record it as active (the old one as previous).

    A server that does not answer is skipped: when it starts it reads the record. A server that
    answers but fails to load the model makes the whole activation fail, and the servers already
    swapped go back to the model before.
    """
    before = current_model(models_dir, urls)
    swapped, unreachable = _swap(model, before, urls)
    record = write_active(
        models_dir,
        ActiveModels(active=model.name, previous=before.name if before else None, changed_by=by),
    )
    return Activation(record, swapped, unreachable)


def roll_back(*, urls: Sequence[str], models_dir: Path, by: str) -> Activation:
    """Restore the previous model on every server (the one it replaces becomes the previous)."""
    record = read_active(models_dir)
    if record is None or record.previous is None:
        raise NothingToRestore("no previous model is recorded")
    previous = models_dir / record.previous
    if not previous.is_file():
        raise NothingToRestore(f"{record.previous} is no longer in {models_dir}")
    swapped, unreachable = _swap(previous, models_dir / record.active, urls)
    written = write_active(
        models_dir, ActiveModels(active=previous.name, previous=record.active, changed_by=by)
    )
    return Activation(written, swapped, unreachable)


def _swap(model: Path, before: Path | None, urls: Sequence[str]) -> tuple[list[str], list[str]]:
    swapped: list[str] = []
    unreachable: list[str] = []
    for url in urls:
        if served_model(url) is None:
            unreachable.append(url)
            continue
        try:
            load_model(url, model)
        except (ActivationFailed, httpx.HTTPError) as error:
            _put_back(before, [*swapped, url])
            raise ActivationFailed(str(error)) from error
        swapped.append(url)
    return swapped, unreachable


def _put_back(model: Path | None, urls: list[str]) -> None:
    for url in urls:
        if model is None:
            continue
        try:
            load_model(url, model)
        except (ActivationFailed, httpx.HTTPError):
            log.exception("could not put %s back on %s", model.name, url)
