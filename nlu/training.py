"""Training the NLU model with Rasa, skipped when config and data have not changed."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from core.settings import PROJECT_ROOT
from nlu.server import fingerprint, model_path, rasa_command, rasa_environment

log = logging.getLogger(__name__)


def train(
    *,
    config: Path | None = None,
    data: Path | None = None,
    out: Path | None = None,
    force: bool = False,
    log: Path | None = None,
) -> tuple[Path, bool]:
    """Train if needed; return the model's path and whether it was trained now.

    Rasa's own output goes to the terminal, or appended to `log` (the first `make run` keeps it
    out of the newcomer's chat).
    """
    config = config or PROJECT_ROOT / "config.yml"
    data = data or PROJECT_ROOT / "data" / "nlu"
    fp = fingerprint(config, data)
    target = model_path(fp, out)
    if target.exists() and not force:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    command = rasa_command(
        "train", "nlu", "--config", str(config), "--nlu", str(data),
        "--out", str(target.parent), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    )  # fmt: skip
    if log is None:
        subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_environment(), check=True)
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            subprocess.run(
                command, cwd=PROJECT_ROOT, env=rasa_environment(), check=True,
                stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
    if not target.exists():
        raise RuntimeError(f"Rasa finished but {target} is missing")
    return target, True
