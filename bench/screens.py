"""`make bench-screens`: read the screenshot test set, write docs/benchmarks/screens.md.

1. The set (bench/screens_gen.py) in var/screens/, generated when missing (`--regenerate`
   makes it again).
2. Preprocessing and Tesseract settings compared, in this process, on every third image:
   what each recipe gets right, and its time.
3. The whole set through the gateway's reader (core.screens.ScreenReader: the process pool of
   2 workers, two images in flight): correct problem on known screens, a guess on unknown
   ones, latency per image (decode, OCR, masking, matching and the trip to the worker), and
   the workers' memory (peak resident set, from /proc).
4. The match threshold: the same masked texts matched again at other thresholds.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PIL import Image, ImageOps

from bench.results import write_results
from bench.screens_gen import DEFAULT_OUT, write
from core import screens
from core.privacy import mask_pii
from core.screen_match import MATCH_MARGIN, MATCH_THRESHOLD, match_screen
from core.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from tesserocr import PSM

RESULTS = PROJECT_ROOT / "docs" / "benchmarks" / "screens.md"
THRESHOLDS = (80.0, 84.0, 86.0, 88.0, 90.0, 92.0, 95.0)


@dataclass(frozen=True)
class Labelled:
    file: Path
    label: str | None
    kind: str


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    text: str
    got: str | None
    seconds: float
    score: float = 0.0  # the best problem's match score


def load_set(folder: Path, *, regenerate: bool) -> list[Labelled]:
    manifest = folder / "manifest.json"
    if regenerate or not manifest.exists():
        print(f"==> generating the test set in {folder}")
        write(folder)
    items = json.loads(manifest.read_text(encoding="utf-8"))
    return [Labelled(folder / i["file"], i["label"], i["kind"]) for i in items]


def _gray(image: Image.Image) -> Image.Image:
    return ImageOps.exif_transpose(image).convert("L")


@dataclass(frozen=True)
class Recipe:
    name: str
    prepare: Callable[[Image.Image], Image.Image]
    thresholding: str  # Tesseract's thresholding_method: 0 Otsu (global), 2 Sauvola (local)
    psm: int  # 3 automatic layout, 6 one block


RECIPES = (
    Recipe("gray only, Tesseract's defaults (Otsu, automatic layout)", _gray, "0", 3),
    Recipe("our preprocessing, Otsu, automatic layout", screens.preprocess, "0", 3),
    Recipe("our preprocessing, Sauvola, automatic layout", screens.preprocess, "2", 3),
    Recipe("our preprocessing, Sauvola, one block (chosen)", screens.preprocess, "2", 6),
)


def compare_recipes(items: list[Labelled]) -> list[tuple[str, float, float, float]]:
    """(recipe, known correct %, unknown guessed %, p95 seconds) on `items`, in this process."""
    screens._worker_start()
    api = screens._tesseract
    assert api is not None
    rows = []
    for recipe in RECIPES:
        api.SetVariable("thresholding_method", recipe.thresholding)
        api.SetPageSegMode(cast("PSM", recipe.psm))
        outcomes = []
        for item in items:
            started = time.perf_counter()
            image = recipe.prepare(screens.decode(item.file.read_bytes()))
            text = mask_pii(screens.ocr_text(image))
            match = match_screen(text)
            got = match.problem.key if match.problem else None
            outcomes.append(Outcome(item, text, got, time.perf_counter() - started))
        known, guessed, _ = rates(outcomes)
        rows.append((recipe.name, known, guessed, percentile(outcomes, 95)))
        print(f"   {recipe.name}: {known:.1f} % known, {guessed:.1f} % guessed")
    screens._tesseract = None
    return rows


def rates(outcomes: list[Outcome]) -> tuple[float, float, float]:
    """(% known screens read as their problem, % unknown screens given a problem,
    % known screens given another problem)."""
    known = [o for o in outcomes if o.item.label]
    unknown = [o for o in outcomes if not o.item.label]
    right = sum(o.got == o.item.label for o in known)
    other = sum(o.got is not None and o.got != o.item.label for o in known)
    guessed = sum(o.got is not None for o in unknown)
    return (
        100 * right / max(1, len(known)),
        100 * guessed / max(1, len(unknown)),
        100 * other / max(1, len(known)),
    )


def percentile(outcomes: list[Outcome], p: int) -> float:
    times = sorted(o.seconds for o in outcomes)
    return times[min(len(times) - 1, int(len(times) * p / 100))]


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def read_all(items: list[Labelled]) -> tuple[list[Outcome], int, int]:
    """Every image through the pool, two in flight; (outcomes, peak kB of the larger worker,
    sum of both workers' peaks in kB)."""
    reader = screens.ScreenReader()
    await reader.read(items[0].file.read_bytes())  # start the workers (not timed)
    queue = list(items)
    outcomes: list[Outcome] = []

    async def worker() -> None:
        while queue:
            item = queue.pop(0)
            reading = await reader.read(item.file.read_bytes())
            got = reading.problem.key if reading.problem else None
            outcomes.append(Outcome(item, reading.text, got, reading.seconds, reading.score))

    await asyncio.gather(worker(), worker())
    peaks = [_memory_kb(pid, "VmHWM") for pid in reader.worker_pids()]
    reader.close()
    return outcomes, max(peaks, default=0), sum(peaks)


def threshold_table(outcomes: list[Outcome]) -> list[str]:
    lines = [
        "| threshold | known: correct | known: another problem | unknown: guessed |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for threshold in THRESHOLDS:
        again = []
        for o in outcomes:
            match = match_screen(o.text, threshold=threshold, margin=MATCH_MARGIN)
            again.append(Outcome(o.item, o.text, match.problem.key if match.problem else None, 0))
        known, guessed, other = rates(again)
        mark = " (used)" if threshold == MATCH_THRESHOLD else ""
        lines.append(f"| {threshold:.0f}{mark} | {known:.1f} % | {other:.1f} % | {guessed:.1f} % |")
    return lines


def report(
    items: list[Labelled],
    recipes: list[tuple[str, float, float, float]],
    outcomes: list[Outcome],
    peak_kb: int,
    pool_kb: int,
) -> str:
    known, guessed, other = rates(outcomes)
    n_known = sum(1 for i in items if i.label)
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.item.kind].append(o)
    misses = [o for o in outcomes if o.got != o.item.label]
    closest = max((o.score for o in outcomes if not o.item.label), default=0.0)
    lines = [
        "# Reading screenshots (`make bench-screens`)",
        "",
        f"Test set: {len(items)} images from `bench/screens_gen.py` ({n_known} showing a known "
        f"problem, {len(items) - n_known} showing none); Tesseract {screens_version()}, "
        "Debian's `vie` data, 2 workers.",
        "",
        "## Targets",
        "",
        "| measure | result | target |",
        "| --- | ---: | ---: |",
        f"| known screens: correct problem | {known:.1f} % | ≥ 90 % |",
        f"| unknown screens: a problem guessed | {guessed:.1f} % | ≤ 2 % |",
        f"| known screens: another problem | {other:.1f} % | — |",
        f"| latency per image, p50 | {statistics.median(o.seconds for o in outcomes):.2f} s | — |",
        f"| latency per image, p95 | {percentile(outcomes, 95):.2f} s | ≤ 1.5 s |",
        f"| latency per image, max | {max(o.seconds for o in outcomes):.2f} s | — |",
        f"| worker pool memory (both workers' peak RSS) | {pool_kb / 1024:.0f} MB | ≤ 500 MB |",
        f"| one worker's peak RSS | {peak_kb / 1024:.0f} MB | — |",
        f"| highest match score of an unknown screen | {closest:.0f} | < {MATCH_THRESHOLD:.0f} |",
        "",
        "## By kind of image",
        "",
        "| kind | images | correct (known) / not guessed (unknown) |",
        "| --- | ---: | ---: |",
    ]
    for kind, group in sorted(by_kind.items()):
        ok = sum(o.got == o.item.label for o in group)
        lines.append(f"| {kind} | {len(group)} | {100 * ok / len(group):.0f} % |")
    lines += [
        "",
        "## Preprocessing and Tesseract settings (every third image, one process)",
        "",
        "| recipe | known: correct | unknown: guessed | p95 |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {n} | {k:.1f} % | {g:.1f} % | {p:.2f} s |" for n, k, g, p in recipes),
        "",
        f"## Match threshold (margin {MATCH_MARGIN:.0f} over any other problem)",
        "",
        *threshold_table(outcomes),
        "",
        "## Misread images",
        "",
        *(f"- `{o.item.file.name}`: expected {o.item.label}, got {o.got}" for o in misses),
        *([] if misses else ["None."]),
        "",
    ]
    return "\n".join(lines)


def screens_version() -> str:
    import tesserocr

    return str(tesserocr.tesseract_version().split()[1])


def main(argv: list[str]) -> None:
    items = load_set(DEFAULT_OUT, regenerate="--regenerate" in argv)
    print(f"==> comparing preprocessing on {len(items[::3])} images")
    recipes = compare_recipes(items[::3])
    print(f"==> reading {len(items)} images through the pool")
    outcomes, peak_kb, pool_kb = asyncio.run(read_all(items))
    write_results(RESULTS, report(items, recipes, outcomes, peak_kb, pool_kb))
    known, guessed, _ = rates(outcomes)
    print(f"known {known:.1f} %, unknown guessed {guessed:.1f} %, p95 "
          f"{percentile(outcomes, 95):.2f} s → {RESULTS.relative_to(PROJECT_ROOT)}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
