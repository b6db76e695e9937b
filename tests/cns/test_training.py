"""The model cache key changes exactly when a training input changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cns.training import (
    SERVING_ONLY,
    TRAINING_INPUTS,
    model_path,
    train_command,
    training_hash,
)
from core.settings import PROJECT_ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in TRAINING_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tmp_path / name)
    return tmp_path


def test_hash_is_stable_and_ignores_other_files(project: Path) -> None:
    before = training_hash(project)
    (project / "README.md").write_text("not a training input")
    (project / "data" / "services").mkdir(parents=True, exist_ok=True)
    (project / "data" / "services" / "x.yml").write_text("content, not training data")
    cache = project / "nlu" / "__pycache__"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "m.cpython-311.pyc").write_bytes(b"\0")
    for name in SERVING_ONLY:  # the turn channel, the tracker stores: not used in training
        (project / name).write_text("# serving code, edited")
    assert training_hash(project) == before
    assert model_path(project) == project / "models" / f"{before}.tar.gz"


@pytest.mark.parametrize(
    "changed",
    [
        "config.yml",
        "data/domain.yml",
        "data/rules/new.yml",
        "data/nlu/reviewed.yml",  # what `cns nlu import` writes: the next `make run` retrains
        "nlu/new_component.py",
    ],
)
def test_hash_changes_with_each_input(project: Path, changed: str) -> None:
    before = training_hash(project)
    path = project / changed
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    assert training_hash(project) != before


def test_train_command_names_only_existing_data(project: Path) -> None:
    command = train_command(project, "abc")
    data = command[command.index("--data") + 1 : command.index("--out")]
    assert data == [d for d in ("data/nlu", "data/rules", "data/stories") if (project / d).is_dir()]
    assert command[-2:] == ["--fixed-model-name", "abc"]
