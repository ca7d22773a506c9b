"""Evaluating NLU models: scores on the dev and test sets, comparisons, 5-fold cross-validation.

Messages are parsed through the real HTTP API (what the bot sees), so a report measures the whole
path: tokenizer, classifier, entity extractor, synonym mapping, fallback and our canonicaliser.

Reusable entry points (the retraining loop calls them too):

- `evaluate(examples, model=..., url=...) -> Report` — one set through one model;
- `evaluate_sets({"dev": ..., "test": ...}, model=..., url=...) -> dict[str, Report]` — one server;
- `compare(current, candidate) -> Comparison` — macro-F1 change, per-intent changes, newly
  confused pairs, and whether the candidate is not worse;
- `cross_validate(folds=5) -> CrossValidation` — k-fold on the training data;
- `write_report(report, out)` — report.md and the confusion-matrix PNG.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.client import NLUClient, ParseResult
from nlu.noise import noisy_examples
from nlu.schema import ENTITY_VALUES, FALLBACK_INTENT, INTENTS
from nlu.server import free_port, latest_model, nlu_server, start_server
from nlu.trainingdata import DEV_DIR, TEST_DIR, TRAINING_DIR, Example, load_examples

# The bot treats "not sure" and "not our topic" alike (polite answer, query logged), so an
# out_of_scope message that ends as nlu_fallback is counted as handled correctly.
_EQUIVALENT = {("out_of_scope", FALLBACK_INTENT)}
_OOS_OK = ("out_of_scope", FALLBACK_INTENT)

HELDOUT_SETS: dict[str, Path] = {"dev": DEV_DIR, "test": TEST_DIR}
THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
AMBIGUITIES = (0.0, 0.02, 0.05, 0.1)


@dataclass(frozen=True)
class Prediction:
    """One example with what the model made of it."""

    example: Example
    parse: ParseResult

    @property
    def predicted(self) -> str:
        if (self.example.intent, self.parse.intent) in _EQUIVALENT:
            return self.example.intent
        return self.parse.intent

    @property
    def is_wrong(self) -> bool:
        return self.predicted != self.example.intent

    @property
    def raw_ranking(self) -> list[tuple[str, float]]:
        """The classifier's ranking without the fallback pseudo-intent."""
        return [(g.name, g.confidence) for g in self.parse.ranking if g.name != FALLBACK_INTENT]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    """The scores of one model on one set of examples."""

    model: str
    predictions: list[Prediction]
    name: str = "held-out"
    accuracy: float = 0.0
    macro_f1: float = 0.0
    per_intent: dict[str, Scores] = field(default_factory=dict)
    per_entity: dict[str, Scores] = field(default_factory=dict)
    confused: list[tuple[tuple[str, str], int]] = field(default_factory=list)
    sweep: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    entity_micro_f1: float = 0.0
    entity_micro_recall: float = 0.0
    out_of_scope_max_real_confidence: float = 0.0

    @property
    def lowest(self) -> tuple[str, Scores]:
        return min(self.per_intent.items(), key=lambda item: item[1].f1)

    @property
    def confusion_pairs(self) -> Counter[tuple[str, str]]:
        """(true, predicted) -> count, for every wrongly answered example."""
        return Counter((p.example.intent, p.predicted) for p in self.predictions if p.is_wrong)

    def summary(self) -> str:
        worst, scores = self.lowest
        oos = self.per_intent.get("out_of_scope")
        return (
            f"{self.name}: intent accuracy {self.accuracy:.3f}, macro-F1 {self.macro_f1:.3f} "
            f"(lowest: {worst} {scores.f1:.3f}; out_of_scope {oos.f1 if oos else 0:.3f}) over "
            f"{len(self.predictions)} examples; entity micro-F1 {self.entity_micro_f1:.3f}, "
            f"recall {self.entity_micro_recall:.3f}"
        )


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def intent_scores(pairs: list[tuple[str, str]]) -> tuple[float, float, dict[str, Scores]]:
    """Accuracy, macro-F1 over the §4 intents present, and per-intent scores (true, predicted)."""
    labels = [str(intent) for intent in INTENTS if any(t == intent for t, _ in pairs)]
    true_counts = Counter(t for t, _ in pairs)
    predicted_counts = Counter(p for _, p in pairs)
    hits = Counter(t for t, p in pairs if t == p)
    per_intent: dict[str, Scores] = {}
    for label in labels:
        precision = hits[label] / predicted_counts[label] if predicted_counts[label] else 0.0
        recall = hits[label] / true_counts[label]
        per_intent[label] = Scores(precision, recall, _f1(precision, recall), true_counts[label])
    macro = sum(s.f1 for s in per_intent.values()) / len(per_intent) if per_intent else 0.0
    accuracy = sum(hits.values()) / len(pairs) if pairs else 0.0
    return accuracy, macro, per_intent


def entity_scores(predictions: list[Prediction]) -> tuple[dict[str, Scores], float, float]:
    """Per entity type, then micro-averaged F1 and recall of (type, canonical value) per message."""
    counts = {name: Counter[str]() for name in ENTITY_VALUES}
    for prediction in predictions:
        gold = set(prediction.example.entities)
        found = {(e.entity, e.value) for e in prediction.parse.entities}
        for entity, _ in gold & found:
            counts[entity]["tp"] += 1
        for entity, _ in found - gold:
            counts[entity]["fp"] += 1
        for entity, _ in gold - found:
            counts[entity]["fn"] += 1
    scores = {}
    for name, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        scores[name] = Scores(precision, recall, _f1(precision, recall), c["tp"] + c["fn"])
    total = sum(counts.values(), Counter[str]())
    micro_precision = total["tp"] / (total["tp"] + total["fp"]) if total["tp"] else 0.0
    micro_recall = total["tp"] / (total["tp"] + total["fn"]) if total["tp"] else 0.0
    return scores, _f1(micro_precision, micro_recall), micro_recall


def simulate_fallback(prediction: Prediction, threshold: float, ambiguity: float) -> str:
    """What the FallbackClassifier would answer with these settings."""
    ranking = prediction.raw_ranking
    if not ranking:
        return FALLBACK_INTENT
    top = ranking[0][1]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK_INTENT
    return ranking[0][0]


def threshold_sweep(
    predictions: list[Prediction],
) -> list[tuple[float, float, float, float, float]]:
    """(threshold, ambiguity, macro-F1, in-scope fallback rate, out-of-scope leak rate).

    Rasa's ranking is the classifier's whatever the served threshold, so one parse per message
    simulates every setting.
    """
    rows = []
    in_scope = [p for p in predictions if p.example.intent != "out_of_scope"]
    out_scope = [p for p in predictions if p.example.intent == "out_of_scope"]
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            guesses = [simulate_fallback(p, threshold, ambiguity) for p in predictions]
            pairs = [
                (p.example.intent, p.example.intent if (p.example.intent, g) in _EQUIVALENT else g)
                for p, g in zip(predictions, guesses, strict=True)
            ]
            _, macro, _ = intent_scores(pairs)
            fallback_rate = sum(
                simulate_fallback(p, threshold, ambiguity) == FALLBACK_INTENT for p in in_scope
            ) / max(len(in_scope), 1)
            leaks = sum(
                simulate_fallback(p, threshold, ambiguity) not in _OOS_OK for p in out_scope
            ) / max(len(out_scope), 1)
            rows.append((threshold, ambiguity, macro, fallback_rate, leaks))
    return rows


async def parse_all(url: str, texts: list[str], concurrency: int = 4) -> list[ParseResult]:
    """Parse many messages through the HTTP API, a few at a time."""
    semaphore = asyncio.Semaphore(concurrency)
    async with NLUClient(url, timeout=30.0) as client:

        async def one(text: str) -> ParseResult:
            async with semaphore:
                return await client.parse(text)

        return list(await asyncio.gather(*(one(text) for text in texts)))


def score(
    examples: list[Example], parses: list[ParseResult], *, model: str = "?", name: str = "held-out"
) -> Report:
    """Every metric of one set, from its examples and the parses the model gave them."""
    predictions = [Prediction(e, p) for e, p in zip(examples, parses, strict=True)]
    report = Report(model=model, predictions=predictions, name=name)
    pairs = [(p.example.intent, p.predicted) for p in predictions]
    report.accuracy, report.macro_f1, report.per_intent = intent_scores(pairs)
    report.per_entity, report.entity_micro_f1, report.entity_micro_recall = entity_scores(
        predictions
    )
    report.confused = Counter((t, p) for t, p in pairs if t != p).most_common(10)
    report.sweep = threshold_sweep(predictions)
    real = [
        p.parse.confidence
        for p in predictions
        if p.example.intent == "out_of_scope" and p.parse.intent not in _OOS_OK
    ]
    report.out_of_scope_max_real_confidence = max(real, default=0.0)
    return report


def evaluate_sets(
    sets: Mapping[str, list[Example]], *, model: Path | None = None, url: str | None = None
) -> dict[str, Report]:
    """Score each named set of examples with one model.

    `url`: a running server to use; otherwise a server is started for `model` (default: the
    latest in models/) and stopped afterwards.
    """
    chosen = model or latest_model()
    name = chosen.name.removesuffix(".tar.gz") if chosen else "?"
    if url is None and model is not None:
        server = start_server(port=free_port(), model=model)
        try:
            return _score_sets(sets, server.url, name)
        finally:
            server.stop()
    with nlu_server(url) as served:
        return _score_sets(sets, served, name)


def _score_sets(sets: Mapping[str, list[Example]], url: str, model: str) -> dict[str, Report]:
    reports = {}
    for name, examples in sets.items():
        parses = asyncio.run(parse_all(url, [e.text for e in examples]))
        reports[name] = score(examples, parses, model=model, name=name)
    return reports


def evaluate(
    examples: list[Example], *, model: Path | None = None, url: str | None = None
) -> Report:
    """Score one set of examples with one model (see `evaluate_sets`)."""
    return evaluate_sets({"held-out": examples}, model=model, url=url)["held-out"]


def heldout_sets(names: Iterable[str] = ("dev", "test")) -> dict[str, list[Example]]:
    """The dev and/or test examples by name."""
    return {name: load_examples(HELDOUT_SETS[name]) for name in names}


def evaluate_model(
    *, test_data: Path, out: Path, url: str | None = None, noisy: bool = False
) -> Report:
    """Parse one directory of examples through a served model and write report.md + PNG."""
    examples = load_examples(test_data)
    if noisy:
        examples = noisy_examples(examples)
    report = evaluate(examples, url=url)
    report.name = test_data.name
    write_report(report, out)
    return report


@dataclass(frozen=True)
class Comparison:
    """A candidate model against the current one on one set."""

    set_name: str
    current: Report
    candidate: Report

    @property
    def macro_f1_change(self) -> float:
        return self.candidate.macro_f1 - self.current.macro_f1

    @property
    def per_intent_change(self) -> dict[str, float]:
        """F1 change per intent (candidate − current), largest drop first."""
        changes = {
            intent: scores.f1 - self.current.per_intent.get(intent, scores).f1
            for intent, scores in self.candidate.per_intent.items()
        }
        return dict(sorted(changes.items(), key=lambda item: item[1]))

    @property
    def newly_confused(self) -> list[tuple[tuple[str, str], int]]:
        """(true, predicted) pairs the candidate gets wrong more often than the current model."""
        before = self.current.confusion_pairs
        after = self.candidate.confusion_pairs
        grown = [(pair, n - before[pair]) for pair, n in after.items() if n > before[pair]]
        return sorted(grown, key=lambda item: -item[1])

    def not_worse(self, tolerance: float = 0.0) -> bool:
        """True when the candidate's macro-F1 is at least the current one's (minus tolerance)."""
        return self.macro_f1_change >= -tolerance


def compare(current: Report, candidate: Report) -> Comparison:
    """How `candidate` differs from `current` on the same set of examples."""
    return Comparison(candidate.name, current, candidate)


# -- reports -------------------------------------------------------------------------------------


def write_confusion_png(pairs: list[tuple[str, str]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = [i for i in INTENTS if any(t == i for t, _ in pairs)]
    if any(p == FALLBACK_INTENT for _, p in pairs):
        labels.append(FALLBACK_INTENT)
    figure, axes = plt.subplots(figsize=(15, 13))
    ConfusionMatrixDisplay.from_predictions(
        [t for t, _ in pairs],
        [p for _, p in pairs],
        labels=labels,
        ax=axes,
        xticks_rotation="vertical",
        colorbar=False,
        cmap="Blues",
    )
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def write_report(report: Report, out: Path) -> Path:
    """Write report.md and intent_confusion_matrix.png under `out`; the path of report.md."""
    out.mkdir(parents=True, exist_ok=True)
    pairs = [(p.example.intent, p.predicted) for p in report.predictions]
    write_confusion_png(
        pairs, out / "intent_confusion_matrix.png", f"Intent confusion matrix ({report.name} set)"
    )
    path = out / "report.md"
    path.write_text(render_markdown(report), encoding="utf-8")
    return path


def render_markdown(report: Report) -> str:
    lines = [
        f"# NLU evaluation ({report.name} set)",
        "",
        f"Model `{report.model}`; {len(report.predictions)} examples, parsed through "
        "the HTTP API. An `out_of_scope` message answered `nlu_fallback` counts as correct.",
        "",
        f"- **Intent accuracy: {report.accuracy:.3f}**",
        f"- **Intent macro-F1: {report.macro_f1:.3f}** (lowest: {report.lowest[0]} "
        f"{report.lowest[1].f1:.3f})",
        f"- Entity micro-F1: {report.entity_micro_f1:.3f}, recall {report.entity_micro_recall:.3f}",
        "- Highest confidence of a real intent on an out-of-scope message: "
        f"{report.out_of_scope_max_real_confidence:.3f}",
        "",
        "![confusion matrix](intent_confusion_matrix.png)",
        "",
        "## Per intent",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for intent, s in report.per_intent.items():
        lines.append(
            f"| {intent} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |"
        )
    lines += ["", "## Most confused pairs", "", "| true | predicted | count |", "|---|---|---:|"]
    lines += [f"| {t} | {p} | {n} |" for (t, p), n in report.confused] or ["| — | — | 0 |"]
    lines += ["", "## Entities", "", "| entity | precision | recall | F1 | support |"]
    lines.append("|---|---:|---:|---:|---:|")
    for entity, s in report.per_entity.items():
        lines.append(
            f"| {entity} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |"
        )
    lines += [
        "",
        "## Fallback threshold sweep",
        "",
        "Simulated from the classifier's ranking: macro-F1, share of in-scope questions sent to",
        "fallback, share of out-of-scope messages that land on a real intent. Choose on dev only.",
        "",
        "| threshold | ambiguity | macro-F1 | in-scope fallback | out-of-scope leak |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {t:.2f} | {a:.2f} | {f:.3f} | {fb:.1%} | {leak:.1%} |"
        for t, a, f, fb, leak in report.sweep
    ]
    errors = [p for p in report.predictions if p.is_wrong]
    lines += ["", f"## Errors ({len(errors)})", "", "| text | true | predicted | confidence |"]
    lines.append("|---|---|---|---:|")
    for p in errors:
        text = p.example.text.replace("|", "\\|")
        lines.append(
            f"| {text} | {p.example.intent} | {p.parse.intent} | {p.parse.confidence:.2f} |"
        )
    entity_errors = [
        p
        for p in report.predictions
        if set(p.example.entities) != {(e.entity, e.value) for e in p.parse.entities}
    ]
    lines += ["", f"## Entity differences ({len(entity_errors)})", ""]
    lines += ["| text | expected | found |", "|---|---|---|"]
    for p in entity_errors:
        text = p.example.text.replace("|", "\\|")
        expected = ", ".join(sorted(f"{e}={v}" for e, v in p.example.entities))
        found = ", ".join(sorted(f"{e.entity}={e.value}" for e in p.parse.entities))
        lines.append(f"| {text} | {expected} | {found} |")
    return "\n".join(lines) + "\n"


def render_index(reports: Mapping[str, Report]) -> str:
    """reports/nlu/report.md: one line per set, with links to each set's full report."""
    lines = ["# NLU evaluation", "", "| set | examples | accuracy | macro-F1 | lowest intent |"]
    lines[-1] += " out_of_scope F1 | entity micro-F1 | entity recall |"
    lines.append("|---|---:|---:|---:|---|---:|---:|---:|")
    for name, r in reports.items():
        worst, scores = r.lowest
        oos = r.per_intent.get("out_of_scope")
        lines.append(
            f"| [{name}]({name}/report.md) | {len(r.predictions)} | {r.accuracy:.3f} | "
            f"{r.macro_f1:.3f} | {worst} {scores.f1:.3f} | {oos.f1 if oos else 0:.3f} | "
            f"{r.entity_micro_f1:.3f} | {r.entity_micro_recall:.3f} |"
        )
    names = list(reports)
    lines += ["", "## F1 per intent", "", "| intent | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for intent in INTENTS:
        cells = [
            f"{reports[n].per_intent[intent].f1:.3f}" if intent in reports[n].per_intent else "—"
            for n in names
        ]
        lines.append(f"| {intent} | " + " | ".join(cells) + " |")
    lines += ["", "## Entity F1 (recall)", "", "| entity | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for entity in ENTITY_VALUES:
        cells = [
            f"{reports[n].per_entity[entity].f1:.3f} ({reports[n].per_entity[entity].recall:.3f}"
            f", n={reports[n].per_entity[entity].support})"
            for n in names
        ]
        lines.append(f"| {entity} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def evaluate_heldout(
    *, out: Path, url: str | None = None, sets: Iterable[str] = ("dev", "test")
) -> dict[str, Report]:
    """`pkh nlu evaluate`: the latest model on dev and test; reports under out/<set>/."""
    reports = evaluate_sets(heldout_sets(sets), url=url)
    for name, report in reports.items():
        write_report(report, out / name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(render_index(reports), encoding="utf-8")
    return reports


# -- cross-validation ----------------------------------------------------------------------------


@dataclass
class CrossValidation:
    """k-fold cross-validation on the training data: one report per fold."""

    folds: list[Report]

    def mean(self, values: list[float]) -> tuple[float, float]:
        return statistics.fmean(values), statistics.pstdev(values)

    @property
    def macro_f1(self) -> tuple[float, float]:
        return self.mean([r.macro_f1 for r in self.folds])

    @property
    def accuracy(self) -> tuple[float, float]:
        return self.mean([r.accuracy for r in self.folds])

    @property
    def entity_micro_f1(self) -> tuple[float, float]:
        return self.mean([r.entity_micro_f1 for r in self.folds])

    @property
    def pooled(self) -> Report:
        """All folds' predictions scored together (every training example predicted once)."""
        predictions = [p for r in self.folds for p in r.predictions]
        return score(
            [p.example for p in predictions],
            [p.parse for p in predictions],
            model="cross-validation",
            name="cross-validation (pooled)",
        )

    def summary(self) -> str:
        (f1, f1_sd), (acc, acc_sd) = self.macro_f1, self.accuracy
        entity, entity_sd = self.entity_micro_f1
        return (
            f"{len(self.folds)}-fold cross-validation: macro-F1 {f1:.3f} ± {f1_sd:.3f}, "
            f"accuracy {acc:.3f} ± {acc_sd:.3f}, entity micro-F1 {entity:.3f} ± {entity_sd:.3f}"
        )


def stratified_folds(examples: list[Example], k: int, seed: int) -> list[list[Example]]:
    """k folds with each intent spread evenly, reproducibly."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    folds: list[list[Example]] = [[] for _ in range(k)]
    offset = 0
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        for i, example in enumerate(group):
            folds[(i + offset) % k].append(example)
        offset += len(group)
    return folds


def write_training_data(examples: list[Example], directory: Path, source: Path) -> None:
    """Rasa NLU YAML for `examples` in `directory`, with the synonyms, regexes and lookups of
    `source` (everything that is not an intent block)."""
    directory.mkdir(parents=True, exist_ok=True)
    other_blocks = []
    for file in sorted(source.rglob("*.yml")):
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        other_blocks += [b for b in document.get("nlu") or () if "intent" not in b]
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example.annotated or example.text)
    blocks: list[dict[str, object]] = [
        {"intent": intent, "examples": "".join(f"- {line}\n" for line in lines)}
        for intent, lines in by_intent.items()
    ]
    document = {"version": "3.1", "nlu": blocks + other_blocks}
    (directory / "nlu.yml").write_text(
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000), "utf-8"
    )


def cross_validate(
    *,
    folds: int = 5,
    config: Path | None = None,
    data: Path = TRAINING_DIR,
    seed: int = 2025,
    work: Path | None = None,
) -> CrossValidation:
    """Train on k−1 folds of the training data and score the k-th, k times."""
    from nlu.training import train

    examples = load_examples(data)
    parts = stratified_folds(examples, folds, seed)
    directory = Path(tempfile.mkdtemp(prefix="pkh-cv-", dir=work))
    reports = []
    try:
        for index, held in enumerate(parts):
            rest = [e for j, part in enumerate(parts) if j != index for e in part]
            fold_data = directory / f"fold-{index + 1}" / "data"
            write_training_data(rest, fold_data, data)
            model, _ = train(config=config, data=fold_data, out=directory / "models")
            report = evaluate_sets({f"fold {index + 1}": held}, model=model)[f"fold {index + 1}"]
            reports.append(report)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return CrossValidation(reports)


def render_cross_validation(cv: CrossValidation) -> str:
    pooled = cv.pooled
    lines = [
        "# NLU cross-validation (training data)",
        "",
        cv.summary(),
        "",
        "| fold | examples | accuracy | macro-F1 | lowest intent | entity micro-F1 |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for r in cv.folds:
        worst, scores = r.lowest
        lines.append(
            f"| {r.name} | {len(r.predictions)} | {r.accuracy:.3f} | {r.macro_f1:.3f} | "
            f"{worst} {scores.f1:.3f} | {r.entity_micro_f1:.3f} |"
        )
    lines += ["", "## F1 per intent (pooled over folds)", "", "| intent | F1 | support |"]
    lines.append("|---|---:|---:|")
    lines += [f"| {i} | {s.f1:.3f} | {s.support} |" for i, s in pooled.per_intent.items()]
    lines += ["", "## Entity F1 (pooled)", "", "| entity | precision | recall | F1 | support |"]
    lines.append("|---|---:|---:|---:|---:|")
    lines += [
        f"| {e} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |"
        for e, s in pooled.per_entity.items()
    ]
    return "\n".join(lines) + "\n"


# -- comparing pipeline configs -------------------------------------------------------------------


def compare_configs(
    configs: list[Path], *, out: Path, set_name: str = "dev", data: Path | None = None
) -> str:
    """Train each pipeline config, score it on one held-out set (dev by default); a table."""
    from nlu.training import train

    examples = heldout_sets([set_name])[set_name]
    rows = [
        f"| config ({set_name}) | accuracy | macro-F1 | lowest intent F1 | out_of_scope F1 "
        "| entity micro-F1 | entity recall | macro-F1 with typos | best threshold (macro-F1) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for config in configs:
        model, _ = train(config=config, data=data, out=out / "models")
        reports = evaluate_sets(
            {set_name: examples, "typos": noisy_examples(examples)}, model=model
        )
        report, noisy = reports[set_name], reports["typos"]
        write_report(report, out / config.stem)
        worst, scores = report.lowest
        oos = report.per_intent.get("out_of_scope")
        rows.append(
            f"| {config.stem} | {report.accuracy:.3f} | {report.macro_f1:.3f} | "
            f"{scores.f1:.3f} ({worst}) | {oos.f1 if oos else 0:.3f} | "
            f"{report.entity_micro_f1:.3f} | {report.entity_micro_recall:.3f} | "
            f"{noisy.macro_f1:.3f} | {best_threshold(report)} |"
        )
    return "\n".join(rows)


def best_threshold(report: Report) -> str:
    """The sweep's best fallback setting with no out-of-scope message on a real intent."""
    safe = [row for row in report.sweep if row[4] == 0.0] or report.sweep
    threshold, ambiguity, macro, _, _ = max(safe, key=lambda row: (row[2], row[0]))
    return f"{threshold:.2f}/{ambiguity:.2f} ({macro:.3f})"
