"""Starting, finding and stopping the Rasa HTTP server (a separate process in its own venv)."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT, get_settings
from nlu.active import active_model

log = logging.getLogger(__name__)

# Everything that changes what a trained model does; a model is named after their hash.
MODEL_INPUTS: tuple[str, ...] = (
    "config.yml",
    "data/nlu",
    "nlu/components",
    "nlu/normalize.py",
    "nlu/requirements-rasa.lock",
)


def fingerprint(config: Path | None = None, data: Path | None = None) -> str:
    """A short hash of the model's inputs: same inputs, same model."""
    digest = hashlib.sha256()
    inputs = [PROJECT_ROOT / name for name in MODEL_INPUTS]
    if config is not None:
        inputs[0] = config
    if data is not None:
        inputs[1] = data
    for root in inputs:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root.parent).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(fp: str, models_dir: Path | None = None) -> Path:
    return (models_dir or get_settings().models_dir) / f"nlu-{fp}.tar.gz"


def latest_model(models_dir: Path | None = None) -> Path | None:
    """The model to serve: the active one if recorded (nlu.active), else the model for the
    current inputs if it exists, else the newest one, else None."""
    directory = models_dir or get_settings().models_dir
    active = active_model(directory)
    if active is not None:
        return active
    current = model_path(fingerprint(), directory)
    if current.exists():
        return current
    models = sorted(directory.glob("nlu-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def rasa_environment() -> dict[str, str]:
    """Environment for Rasa subprocesses: our custom component importable, logs quiet."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def rasa_command(*args: str) -> list[str]:
    executable = get_settings().rasa_executable
    if not executable.exists():
        raise FileNotFoundError(f"{executable} is missing: run `make venvs` first")
    return [str(executable), *args]


def serve_command(model: Path, port: int) -> list[str]:
    """`rasa run --enable-api`, through nlu.rasa_serve so that PUT /model never stalls parses."""
    executable = get_settings().rasa_executable
    if not executable.exists():
        raise FileNotFoundError(f"{executable} is missing: run `make venvs` first")
    return [
        str(executable.parent / "python"), "-m", "nlu.rasa_serve",
        "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
        "--model", str(model), "--log-file", str(PROJECT_ROOT / "var" / "log" / "rasa.log"),
    ]  # fmt: skip


@dataclass
class RunningServer:
    """A Rasa server this process started."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def is_ready(url: str) -> bool:
    """True when a Rasa server at `url` answers /status with a model loaded."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/status", timeout=1.0)
        return response.status_code == 200 and bool(response.json().get("model_file"))
    except (httpx.HTTPError, ValueError):
        return False


def start_server(*, port: int, model: Path | None = None, timeout: float = 180.0) -> RunningServer:
    """Start `rasa run --enable-api` on 127.0.0.1:port and wait until its model is loaded."""
    model = model or latest_model()
    if model is None:
        raise FileNotFoundError("no trained NLU model in models/: run `make train` first")
    (PROJECT_ROOT / "var" / "log").mkdir(parents=True, exist_ok=True)
    output = (PROJECT_ROOT / "var" / "log" / "rasa-server.out").open("ab")
    process = subprocess.Popen(
        serve_command(model, port),
        cwd=PROJECT_ROOT,
        env=rasa_environment(),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the Rasa server exited with {process.returncode}: see var/log/rasa-server.out"
            )
        if is_ready(server.url):
            log.info("NLU server ready at %s with %s", server.url, model.name)
            return server
        time.sleep(0.5)
    server.stop()
    raise TimeoutError(f"the Rasa server did not load {model.name} within {timeout:.0f} s")


@contextmanager
def nlu_server(url: str | None = None, *, port: int | None = None) -> Iterator[str]:
    """Yield the URL of a ready NLU server: the one at `url` if it answers, else one we start."""
    if url and is_ready(url):
        yield url
        return
    server = start_server(port=port or free_port())
    try:
        yield server.url
    finally:
        server.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
