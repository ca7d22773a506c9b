"""Which trained model the NLU servers serve, and the one before it: `models/active.json`.

The record sits next to the model files, so every NLU server's start-up (`pkh nlu serve`,
`make run`) finds it without a database; a model never activated is never served once a record
exists. Written only by activation and rollback (nlu.retrain), replaced atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RECORD_NAME = "active.json"


@dataclass(frozen=True)
class ActiveModels:
    """File names (inside the models directory) of the active model and the previous one."""

    active: str
    previous: str | None = None
    changed_at: str = ""
    changed_by: str = ""


def record_path(models_dir: Path) -> Path:
    return models_dir / RECORD_NAME


def read_active(models_dir: Path) -> ActiveModels | None:
    """The record, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(record_path(models_dir).read_text(encoding="utf-8"))
        return ActiveModels(
            active=str(data["active"]),
            previous=str(data["previous"]) if data.get("previous") else None,
            changed_at=str(data.get("changed_at", "")),
            changed_by=str(data.get("changed_by", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def active_model(models_dir: Path) -> Path | None:
    """The active model's file, when one is recorded and still on disk."""
    record = read_active(models_dir)
    if record is None:
        return None
    path = models_dir / record.active
    return path if path.is_file() else None


def write_active(models_dir: Path, record: ActiveModels) -> ActiveModels:
    """Replace the record in one step (a reader never sees half a file)."""
    stamped = ActiveModels(
        active=record.active,
        previous=record.previous,
        changed_at=record.changed_at or datetime.now(UTC).isoformat(timespec="seconds"),
        changed_by=record.changed_by,
    )
    models_dir.mkdir(parents=True, exist_ok=True)
    target = record_path(models_dir)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(stamped), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, target)
    return stamped
