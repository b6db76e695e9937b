"""Training a Rasa NLU model and serving it for `/model/parse`, for the NLU benchmarks.

`train` runs `rasa train nlu` in .venv-rasa with a fresh, disabled training cache (every
pipeline is timed from scratch); `serve` starts `rasa run --enable-api` on a free port with no
input channel and yields its URL. Used by `make bench-nlu` (bench/nlu.py) for the project's
held-out sets and for PhoATIS (bench/phoatis.py).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from cns.nlu_eval import TRAINING_DIR
from cns.stack import free_port
from cns.training import rasa_environment, rasa_executable
from core.settings import PROJECT_ROOT

START_TIMEOUT_SECONDS = 300
# The pipelines every NLU benchmark compares: Rasa's default (`rasa init`), config.yml as it
# was before issue 17, and ours.
DEFAULT_CONFIG = PROJECT_ROOT / "bench" / "configs" / "rasa_init.yml"
PREVIOUS_CONFIG = PROJECT_ROOT / "bench" / "configs" / "previous.yml"
OUR_CONFIG = PROJECT_ROOT / "config.yml"


def train(config: Path, out: Path, nlu: Path = TRAINING_DIR) -> tuple[Path, float]:
    """Train `config` on the NLU data in `nlu`; the model's path and the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [
            str(rasa_executable()),
            "train",
            "nlu",
            "--config",
            str(config),
            "--nlu",
            str(nlu),
            "--out",
            str(out),
            "--fixed-model-name",
            config.stem,
        ],
        cwd=PROJECT_ROOT,
        # A fresh, disabled training cache: every pipeline is timed from scratch.
        env=rasa_environment()
        | {"RASA_CACHE_DIRECTORY": str(out / "cache"), "RASA_MAX_CACHE_SIZE": "0"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out / f"{config.stem}.tar.gz", time.perf_counter() - started


@contextmanager
def serve(model: Path) -> Iterator[str]:
    """A Rasa server for `model` on 127.0.0.1 (its base URL), stopped on leaving."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # No input channel: only `/model/parse` is asked (credentials.yml's turn channel would
    # want the gateway's RASA_TOKEN).
    no_channels = model.with_name("no-channels.yml")
    no_channels.write_text("{}\n", encoding="utf-8")
    server = subprocess.Popen(
        [
            str(rasa_executable()),
            "run",
            "--enable-api",
            "--credentials",
            str(no_channels),
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env=rasa_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Rasa server did not start")
            try:
                if httpx.get(f"{url}/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
