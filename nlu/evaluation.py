"""Evaluating a served model on the held-out set: intent and entity metrics, a threshold sweep.

The held-out messages are parsed through the real HTTP API (what the bot sees), so the report
measures the whole path: tokenizer, DIET, synonym mapping, fallback and our entity canonicaliser.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nlu.client import NLUClient, ParseResult
from nlu.noise import noisy_examples
from nlu.schema import ENTITY_VALUES, FALLBACK_INTENT, INTENTS
from nlu.server import latest_model, nlu_server
from nlu.trainingdata import Example, load_examples

# The bot treats "not sure" and "not our topic" alike (polite answer, query logged), so an
# out_of_scope message that ends as nlu_fallback is counted as handled correctly.
_EQUIVALENT = {("out_of_scope", FALLBACK_INTENT)}


@dataclass(frozen=True)
class Prediction:
    """One held-out example with what the model made of it."""

    example: Example
    parse: ParseResult

    @property
    def predicted(self) -> str:
        if (self.example.intent, self.parse.intent) in _EQUIVALENT:
            return self.example.intent
        return self.parse.intent

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
    """Everything `pkh nlu evaluate` prints and writes."""

    model: str
    predictions: list[Prediction]
    accuracy: float = 0.0
    macro_f1: float = 0.0
    per_intent: dict[str, Scores] = field(default_factory=dict)
    per_entity: dict[str, Scores] = field(default_factory=dict)
    confused: list[tuple[tuple[str, str], int]] = field(default_factory=list)
    sweep: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    entity_micro_f1: float = 0.0
    out_of_scope_max_real_confidence: float = 0.0

    def summary(self) -> str:
        worst = min(self.per_intent.items(), key=lambda item: item[1].f1)
        return (
            f"intent accuracy {self.accuracy:.3f}, macro-F1 {self.macro_f1:.3f} "
            f"(lowest: {worst[0]} {worst[1].f1:.3f}) over {len(self.predictions)} held-out "
            f"examples; entity micro-F1 {self.entity_micro_f1:.3f}"
        )


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def intent_scores(pairs: list[tuple[str, str]]) -> tuple[float, float, dict[str, Scores]]:
    """Accuracy, macro-F1 over the §4 intents, and per-intent scores from (true, predicted)."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    truth = [t for t, _ in pairs]
    predicted = [p for _, p in pairs]
    labels = [intent for intent in INTENTS if intent in truth]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_intent = {
        label: Scores(float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    macro = sum(s.f1 for s in per_intent.values()) / len(per_intent)
    return float(accuracy_score(truth, predicted)), macro, per_intent


def entity_scores(predictions: list[Prediction]) -> tuple[dict[str, Scores], float]:
    """Per entity type, then micro-averaged: F1 of the (type, canonical value) pairs per message."""
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
    return scores, _f1(micro_precision, micro_recall)


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
    """(threshold, ambiguity, macro-F1, in-scope fallback rate, out-of-scope leak rate)."""
    rows = []
    in_scope = [p for p in predictions if p.example.intent != "out_of_scope"]
    out_scope = [p for p in predictions if p.example.intent == "out_of_scope"]
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        for ambiguity in (0.0, 0.05, 0.1, 0.2):
            pairs = []
            for p in predictions:
                guess = simulate_fallback(p, threshold, ambiguity)
                if (p.example.intent, guess) in _EQUIVALENT:
                    guess = p.example.intent
                pairs.append((p.example.intent, guess))
            _, macro, _ = intent_scores(pairs)
            fallback_rate = sum(
                simulate_fallback(p, threshold, ambiguity) == FALLBACK_INTENT for p in in_scope
            ) / max(len(in_scope), 1)
            leaks = sum(
                simulate_fallback(p, threshold, ambiguity) not in ("out_of_scope", FALLBACK_INTENT)
                for p in out_scope
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


def evaluate_model(
    *, test_data: Path, out: Path, url: str | None = None, noisy: bool = False
) -> Report:
    """Parse the held-out set through a served model and write report.md + confusion PNG."""
    examples = load_examples(test_data)
    if noisy:
        examples = noisy_examples(examples)
    model = latest_model()
    with nlu_server(url) as served:
        parses = asyncio.run(parse_all(served, [e.text for e in examples]))
    predictions = [Prediction(e, p) for e, p in zip(examples, parses, strict=True)]
    report = Report(model=model.name if model else "?", predictions=predictions)
    pairs = [(p.example.intent, p.predicted) for p in predictions]
    report.accuracy, report.macro_f1, report.per_intent = intent_scores(pairs)
    report.per_entity, report.entity_micro_f1 = entity_scores(predictions)
    report.confused = Counter((t, p) for t, p in pairs if t != p).most_common(10)
    report.sweep = threshold_sweep(predictions)
    real = [
        p.parse.confidence
        for p in predictions
        if p.example.intent == "out_of_scope" and p.parse.intent not in _OOS_OK
    ]
    report.out_of_scope_max_real_confidence = max(real, default=0.0)
    out.mkdir(parents=True, exist_ok=True)
    write_confusion_png(pairs, out / "intent_confusion_matrix.png")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report


_OOS_OK = ("out_of_scope", FALLBACK_INTENT)


def write_confusion_png(pairs: list[tuple[str, str]], path: Path) -> None:
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
    axes.set_title("Intent confusion matrix (held-out set)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def render_markdown(report: Report) -> str:
    lines = [
        "# NLU evaluation (held-out set)",
        "",
        f"Model `{report.model}`; {len(report.predictions)} held-out examples, parsed through "
        "the HTTP API. An `out_of_scope` message answered `nlu_fallback` counts as correct.",
        "",
        f"- **Intent accuracy: {report.accuracy:.3f}**",
        f"- **Intent macro-F1: {report.macro_f1:.3f}**",
        f"- Entity micro-F1: {report.entity_micro_f1:.3f}",
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
        "fallback, share of out-of-scope messages that land on a real intent.",
        "",
        "| threshold | ambiguity | macro-F1 | in-scope fallback | out-of-scope leak |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {t:.2f} | {a:.2f} | {f:.3f} | {fb:.1%} | {leak:.1%} |"
        for t, a, f, fb, leak in report.sweep
    ]
    errors = [p for p in report.predictions if p.predicted != p.example.intent]
    lines += ["", f"## Errors ({len(errors)})", "", "| text | true | predicted | confidence |"]
    lines.append("|---|---|---|---:|")
    for p in errors:
        text = p.example.text.replace("|", "\\|")
        lines.append(
            f"| {text} | {p.example.intent} | {p.parse.intent} | {p.parse.confidence:.2f} |"
        )
    return "\n".join(lines) + "\n"


def compare_configs(configs: list[Path], *, test_data: Path, out: Path) -> str:
    """Train each pipeline config, evaluate it on the held-out set; a Markdown comparison table."""
    from nlu.server import free_port, start_server
    from nlu.training import train

    rows = [
        "| config | accuracy | macro-F1 | lowest intent F1 | entity micro-F1 "
        "| OOS max real conf | macro-F1 with typos |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for config in configs:
        model, _ = train(config=config, out=out / "models")
        server = start_server(port=free_port(), model=model)
        try:
            report = evaluate_model(test_data=test_data, out=out / config.stem, url=server.url)
            noisy = evaluate_model(
                test_data=test_data, out=out / f"{config.stem}-typos", url=server.url, noisy=True
            )
        finally:
            server.stop()
        worst = min(report.per_intent.items(), key=lambda item: item[1].f1)
        rows.append(
            f"| {config.stem} | {report.accuracy:.3f} | {report.macro_f1:.3f} | "
            f"{worst[1].f1:.3f} ({worst[0]}) | {report.entity_micro_f1:.3f} | "
            f"{report.out_of_scope_max_real_confidence:.2f} | {noisy.macro_f1:.3f} |"
        )
    return "\n".join(rows)
