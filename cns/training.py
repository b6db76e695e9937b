"""Training the Rasa model only when its inputs changed.

The model file is named after a hash of everything that goes into it (pipeline config,
domain, training data, our custom NLU components and the pinned Rasa environment), so an
unchanged checkout reuses the model it trained before.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from core.settings import PROJECT_ROOT, get_settings

TRAINING_DATA_DIRS = ("data/nlu", "data/rules", "data/stories")
TRAINING_INPUTS = (
    "config.yml",
    "data/domain.yml",
    *TRAINING_DATA_DIRS,
    "nlu",
    "rasa-env/requirements.txt",
)
# Code of the nlu package that only runs while serving: editing it does not retrain.
SERVING_ONLY = ("nlu/channel.py", "nlu/controls.py", "nlu/hot_paths.py", "nlu/tracker_store.py")
MODELS_KEPT = 3


def rasa_executable(root: Path = PROJECT_ROOT) -> Path:
    return root / ".venv-rasa" / "bin" / "rasa"


def rasa_environment(
    root: Path = PROJECT_ROOT, env: dict[str, str] | None = None
) -> dict[str, str]:
    """`env` (default: this process's) made right for Rasa: our `nlu` package importable,
    no telemetry, quiet TensorFlow, and ACTIONS_URL and ACTIONS_TOKEN set (endpoints.yml
    needs both; an empty token is sent to no one)."""
    result = dict(os.environ if env is None else env)
    path = result.get("PYTHONPATH")
    result["PYTHONPATH"] = str(root) + (os.pathsep + path if path else "")
    result["RASA_TELEMETRY_ENABLED"] = "false"
    result.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    result.setdefault("ACTIONS_URL", get_settings().actions_url)
    result.setdefault("ACTIONS_TOKEN", "")
    return result


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p
                for p in path.rglob("*")
                if p.is_file()
                and "__pycache__" not in p.parts
                and p.suffix != ".pyc"
                and p.relative_to(root).as_posix() not in SERVING_ONLY
            )
    return sorted(files)


def training_hash(root: Path = PROJECT_ROOT) -> str:
    """A hash of every training input's path and content."""
    digest = hashlib.sha256()
    for path in _input_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return root / "models" / f"{training_hash(root)}.tar.gz"


def train_command(root: Path, name: str) -> list[str]:
    data = [d for d in TRAINING_DATA_DIRS if (root / d).is_dir()]
    return [
        str(rasa_executable(root)),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "data/domain.yml",
        "--data",
        *data,
        "--out",
        "models",
        "--fixed-model-name",
        name,
    ]


def ensure_model(
    root: Path = PROJECT_ROOT, *, force: bool = False, echo: Callable[[str], object] = print
) -> Path:
    """The trained model for the current inputs, training it first if there is none."""
    target = model_path(root)
    if target.is_file() and not force:
        echo(f"Model is up to date: {target.relative_to(root)}")
        return target
    echo(f"Training the Rasa model ({target.name}); this takes a few minutes the first time…")
    subprocess.run(
        train_command(root, target.name.removesuffix(".tar.gz")),
        cwd=root,
        env=rasa_environment(root),
        check=True,
    )
    if not target.is_file():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    _prune_old_models(target)
    echo(f"Model trained: {target.relative_to(root)}")
    return target


def _prune_old_models(keep: Path) -> None:
    models = sorted(keep.parent.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][MODELS_KEPT - 1 :]:
        old.unlink(missing_ok=True)
