"""Reading a resident's screenshot: Tesseract OCR in a small process pool, then the matcher.

Everything CPU-bound runs in worker processes (at most `POOL_WORKERS`, started with `spawn`
so that no lock of the gateway's threads is copied into them): decoding the image (Pillow,
with a pixel cap against decompression bombs), preprocessing, OCR with Debian's Vietnamese
language data (tesserocr keeps one loaded Tesseract per worker), masking personal numbers
and codes (core.privacy), and matching (core.screen_match). Only the masked text and the
match leave a worker: the unmasked text and the image are never stored or logged.

Preprocessing (measured on the bench's test set, docs/benchmarks/screens.md): grayscale;
dark-mode screens inverted to dark text on light; images narrower than `MIN_WIDTH` scaled up
and wider than `MAX_WIDTH` scaled down (phone photos are often 3000+ px wide, which only
costs time); autocontrast. Binarisation is Tesseract's (Sauvola, see `THRESHOLDING_SAUVOLA`);
no deskew: the photographed set (up to 4° rotation plus perspective) reads without it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from PIL import Image, ImageOps, UnidentifiedImageError

from core.privacy import mask_pii
from core.screen_match import Match, ScreenProblem, match_screen

if TYPE_CHECKING:
    from tesserocr import PSM, PyTessBaseAPI

log = logging.getLogger(__name__)

POOL_WORKERS = 2
MAX_IN_FLIGHT = 8  # images waiting for or in a worker; more are refused as "busy"
READ_TIMEOUT_SECONDS = 20.0
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 12 MP phone photo is 12 million
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MIN_WIDTH = 1000
MAX_WIDTH = 1600
DARK_MEAN = 110  # mean gray level under which a screen is dark mode
# Tesseract's own binarisation: Sauvola's local threshold keeps dark-mode dialogs (light text
# on a gray card) that the default global Otsu threshold blackens; one text block per screen
# (PSM 6), because the automatic layout analysis finds no text at all in some dim photos.
THRESHOLDING_SAUVOLA = "2"
PSM_ONE_BLOCK = cast("PSM", 6)  # tesserocr.PSM.SINGLE_BLOCK (its stub types the values as ...)
DEBIAN_TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")

Outcome = Literal["read", "not_an_image", "too_large", "busy", "failed"]


@dataclass(frozen=True)
class ScreenReading:
    """What a screenshot says: its masked text and the problem it shows (None: unknown)."""

    outcome: Outcome
    text: str = ""  # masked
    problem: ScreenProblem | None = None
    score: float = 0.0
    seconds: float = 0.0


def tessdata_dir() -> str:
    """Where the language data is: TESSDATA_PREFIX, else Debian's tesseract-ocr 5 folder."""
    return os.environ.get("TESSDATA_PREFIX") or str(DEBIAN_TESSDATA)


def preprocess(image: Image.Image) -> Image.Image:
    """Gray, dark text on light, a width Tesseract reads well, full contrast."""
    gray = ImageOps.exif_transpose(image).convert("L")
    histogram = gray.histogram()
    mean = sum(level * count for level, count in enumerate(histogram)) / max(1, sum(histogram))
    if mean < DARK_MEAN:
        gray = ImageOps.invert(gray)
    width, height = gray.size
    scale = (
        MIN_WIDTH / width if width < MIN_WIDTH else MAX_WIDTH / width if width > MAX_WIDTH else 1
    )
    if scale != 1:
        size = (round(width * scale), round(height * scale))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    return ImageOps.autocontrast(gray, cutoff=1)


class UnreadableImage(ValueError):
    """Not a JPEG, PNG or WebP image, or more pixels than `MAX_PIXELS`."""


def decode(data: bytes) -> Image.Image:
    """The image in `data`, checked: an accepted format and at most `MAX_PIXELS`."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow raises past twice this; checked below too
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise UnreadableImage(f"format {image.format}")
        if image.width * image.height > MAX_PIXELS:
            raise UnreadableImage("too many pixels")
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise UnreadableImage(type(error).__name__) from error
    return image


# --- inside a worker process -------------------------------------------------------------------

_tesseract: PyTessBaseAPI | None = None


def _worker_start() -> None:
    """Load Tesseract with the Vietnamese model once per worker (about 0.1 s)."""
    global _tesseract
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core a worker; read at library load
    import tesserocr

    _tesseract = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang="vie", psm=PSM_ONE_BLOCK)
    _tesseract.SetVariable("thresholding_method", THRESHOLDING_SAUVOLA)


def ocr_text(image: Image.Image) -> str:
    """Tesseract's text for an already preprocessed image (in a worker, or for the bench)."""
    if _tesseract is None:
        _worker_start()
    assert _tesseract is not None
    _tesseract.SetImage(image)
    text: str = _tesseract.GetUTF8Text()
    _tesseract.Clear()
    return text


def _ready() -> None:
    """Nothing: a task that makes the pool start a worker (whose initializer loads Tesseract)."""


def read_in_worker(data: bytes) -> tuple[Outcome, str, Match]:
    """Decode, preprocess, OCR, mask, match: (outcome, masked text, match)."""
    try:
        image = decode(data)
    except UnreadableImage:
        return "not_an_image", "", Match(None, 0.0, 0.0)
    text = mask_pii(ocr_text(preprocess(image)))
    return "read", text, match_screen(text)


# --- in the gateway ----------------------------------------------------------------------------


class ScreenReader:
    """The gateway's door to the pool: `await reader.read(data)`; at most `MAX_IN_FLIGHT`."""

    def __init__(self, executor: Executor | None = None, workers: int = POOL_WORKERS) -> None:
        self._executor = executor
        self._workers = workers
        self._in_flight = 0

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start,
            )
        return self._executor

    async def read(self, data: bytes) -> ScreenReading:
        """What the screenshot in `data` shows; never raises for a bad or slow image."""
        if len(data) > MAX_IMAGE_BYTES:
            return ScreenReading("too_large")
        if self._in_flight >= MAX_IN_FLIGHT:
            return ScreenReading("busy")
        self._in_flight += 1
        started = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for loses a cancel that
            # comes as the read finishes.
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                outcome, text, match = await loop.run_in_executor(
                    self._pool(), read_in_worker, data
                )
        except (TimeoutError, OSError, RuntimeError):
            return ScreenReading("failed", seconds=time.perf_counter() - started)
        finally:
            self._in_flight -= 1
        return ScreenReading(
            outcome,
            text=text,
            problem=match.problem,
            score=match.score,
            seconds=time.perf_counter() - started,
        )

    async def warm(self) -> None:
        """Start the workers now (each loads Tesseract), so that the first photo does not wait
        for them: about 0.75 s on the bench machine. Never raises; a failure shows at the
        first read."""
        loop = asyncio.get_running_loop()
        pool = self._pool()
        try:
            await asyncio.gather(
                *(loop.run_in_executor(pool, _ready) for _ in range(self._workers))
            )
        except (OSError, RuntimeError) as error:
            log.warning("OCR workers did not start: %r", error)

    def worker_pids(self) -> list[int]:
        """The pool's worker processes (for measuring their memory)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
