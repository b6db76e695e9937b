"""Runs the conversation tests (`rasa test core`) against the current trained model."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cns.training import ensure_model, rasa_environment, rasa_executable
from core.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

STORIES = Path(__file__).with_name("stories.yml")


def test_main_flows_predict_as_written(tmp_path: Path) -> None:
    model = ensure_model()
    result = subprocess.run(
        [
            str(rasa_executable()),
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            str(STORIES),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=PROJECT_ROOT,
        env=rasa_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, details
