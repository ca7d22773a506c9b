"""The `pkh` command: one entry point for the database, NLU, chat, bot and benchmarks."""

from __future__ import annotations

import asyncio
import logging

import typer

from nlu.cli import nlu_app

app = typer.Typer(
    help="PKH Assistant: a Telegram assistant for Program Keluarga Harapan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Benchmarks of the quality bars (PRODUCT.md §6).", no_args_is_help=True
)

app.add_typer(nlu_app, name="nlu")
app.add_typer(bench_app, name="bench")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug output.")) -> None:
    """Configure logging for every command."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


@bench_app.command("nlu")
def bench_nlu(
    messages: int = typer.Option(1000, min=100, help="Messages per mode."),
    url: str = typer.Option(None, help="Benchmark this running server instead of starting one."),
) -> None:
    """Parse latency p50/p99 through the HTTP API, one at a time and 8 concurrent."""
    from nlu.bench import render_table, run_benchmark
    from nlu.server import nlu_server

    with nlu_server(url) as served:
        rows = asyncio.run(run_benchmark(served, messages=messages))
    typer.echo(render_table(rows))
