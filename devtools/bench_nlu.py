"""Parse latency through the HTTP API: one at a time, then 8 concurrent."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass

from core.settings import PROJECT_ROOT
from nlu.client import NLUClient
from nlu.trainingdata import load_examples


@dataclass(frozen=True)
class LatencyRow:
    mode: str
    messages: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    per_second: float
    errors: int


def benchmark_messages(count: int) -> list[str]:
    """`count` real messages: the held-out set, then training data, repeated as needed."""
    texts = [e.text for e in load_examples(PROJECT_ROOT / "tests" / "nlu" / "heldout")]
    texts += [e.text for e in load_examples(PROJECT_ROOT / "data" / "nlu")]
    return list(itertools.islice(itertools.cycle(texts), count))


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def _measure(url: str, texts: list[str], concurrency: int, mode: str) -> LatencyRow:
    latencies: list[float] = []
    errors = 0
    queue = iter(texts)
    async with NLUClient(url, timeout=10.0) as client:

        async def worker() -> None:
            nonlocal errors
            for text in queue:
                started = time.perf_counter()
                try:
                    await client.parse(text)
                except Exception:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LatencyRow(
        mode,
        len(texts),
        _percentile(latencies, 50),
        _percentile(latencies, 95),
        _percentile(latencies, 99),
        max(latencies),
        len(latencies) / elapsed,
        errors,
    )


async def run_benchmark(url: str, *, messages: int, warmup: int = 100) -> list[LatencyRow]:
    texts = benchmark_messages(messages)
    await _measure(url, texts[:warmup], 1, "warm-up")
    return [
        await _measure(url, texts, 1, "sequential"),
        await _measure(url, texts, 8, "8 concurrent"),
    ]


def render_table(rows: list[LatencyRow]) -> str:
    header = "| mode | messages | p50 ms | p95 ms | p99 ms | max ms | msg/s | errors |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [
        f"| {r.mode} | {r.messages} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | "
        f"{r.max_ms:.1f} | {r.per_second:.0f} | {r.errors} |"
        for r in rows
    ]
    return "\n".join(lines)
