"""Activating another model on a running Rasa server loses no request.

The real server (`rasa run --enable-api` through nlu.rasa_serve), the real model and a tiny
one, several threads parsing without a pause while `nlu.retrain.activate` swaps the model back
and forth over PUT /model. Every parse must come back HTTP 200 with an intent within the bot's
own NLU timeout (2 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.settings import Settings
from nlu.active import ActiveModels, read_active, write_active
from nlu.retrain import ActivationFailed, activate, load_model, served_model
from nlu.server import RunningServer, free_port, start_server
from nlu.training import train
from tests.nlu.tiny_models import copy_model, tiny_cache, tiny_model

pytestmark = pytest.mark.integration

__all__ = ["tiny_cache"]  # a fixture, used by name

THREADS = 6
SWAPS = 4
TEXTS = ("kapan pkh cair", "anak smp dapat berapa", "kartu kks saya hilang", "halo min")


@dataclass(frozen=True)
class Parse:
    started: float
    seconds: float
    status: int | None
    intent: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status == 200 and bool(self.intent)


@pytest.fixture(scope="module")
def two_models(tiny_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The real model (its load is what takes time) and a tiny one, in a directory of the test's."""
    models_dir = tmp_path_factory.mktemp("swap-models")
    full, _ = train()  # a no-op when `make test` or another test has trained it already
    return copy_model(full, models_dir), copy_model(tiny_model(tiny_cache, 30), models_dir)


@pytest.fixture(scope="module")
def server(two_models: tuple[Path, Path]) -> Iterator[RunningServer]:
    running = start_server(port=free_port(), model=two_models[0])
    yield running
    running.stop()


def parse_until(url: str, stop: threading.Event, results: list[Parse], offset: int) -> None:
    """Parse one message after another, as the bot does, with the bot's timeout."""
    timeout = Settings().nlu_timeout_seconds
    with httpx.Client(base_url=url, timeout=timeout) as client:
        number = offset
        while not stop.is_set():
            text = TEXTS[number % len(TEXTS)]
            number += 1
            started = time.monotonic()
            try:
                response = client.post("/model/parse", json={"text": text})
                intent = (response.json().get("intent") or {}).get("name")
                result = Parse(
                    started, time.monotonic() - started, response.status_code, intent, None
                )
            except (httpx.HTTPError, ValueError) as error:
                result = Parse(started, time.monotonic() - started, None, None, repr(error))
            results.append(result)


def test_parses_running_during_activation_all_succeed(
    server: RunningServer, two_models: tuple[Path, Path]
) -> None:
    first, second = two_models
    models_dir = first.parent
    results: list[Parse] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=parse_until, args=(server.url, stop, results, n))
        for n in range(THREADS)
    ]
    for worker in workers:
        worker.start()
    swaps: list[tuple[float, float]] = []
    try:
        time.sleep(1.0)
        for number in range(SWAPS):
            model = second if number % 2 == 0 else first
            started = time.monotonic()
            activation = activate(model, urls=[server.url], models_dir=models_dir, by="test")
            swaps.append((started, time.monotonic()))
            assert activation.swapped == [server.url]
            assert served_model(server.url) == model.name
            time.sleep(0.5)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)

    failed = [r for r in results if not r.succeeded]
    during = [r for r in results if any(a <= r.started <= b for a, b in swaps)]
    slowest = max(r.seconds for r in results)
    print(
        f"\n{len(results)} parses, {len(during)} of them started during the {SWAPS} swaps "
        f"(longest swap {max(b - a for a, b in swaps):.2f} s); {len(failed)} failed; "
        f"slowest parse {slowest:.3f} s"
    )
    assert failed == []
    assert len(during) >= THREADS * SWAPS  # the swaps really happened under load
    record = read_active(models_dir)
    assert record is not None and record.active == first.name and record.previous == second.name


@pytest.fixture
def failing_replica() -> Iterator[str]:
    """A second NLU server that answers but cannot load any model (a full disk, say)."""

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"model_file": "nlu-old.tar.gz"})

    async def load(request: Request) -> JSONResponse:
        return JSONResponse({"message": "LoadingError"}, status_code=500)

    app = Starlette(
        routes=[Route("/status", status, methods=["GET"]), Route("/model", load, methods=["PUT"])]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_replica_that_fails_to_load_puts_the_others_back(
    server: RunningServer,
    two_models: tuple[Path, Path],
    failing_replica: str,
    tmp_path: Path,
) -> None:
    first, second = (copy_model(model, tmp_path) for model in two_models)
    load_model(server.url, first)
    before = write_active(tmp_path, ActiveModels(active=first.name, changed_by="test"))

    with pytest.raises(ActivationFailed, match="HTTP 500"):
        activate(second, urls=[server.url, failing_replica], models_dir=tmp_path, by="test")
    assert served_model(server.url) == first.name  # swapped, then put back
    assert read_active(tmp_path) == before
