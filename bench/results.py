"""Writing a benchmark's results page: the measured part is replaced, the notes written by
hand under the marker are kept."""

from __future__ import annotations

from pathlib import Path

NOTES = "<!-- notes: written by hand, kept by the benchmark -->"


def write_results(path: Path, measured: str) -> None:
    """`measured` (markdown) then the page's hand-written notes (or an empty marker)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index(NOTES) :] if NOTES in old else NOTES + "\n"
    path.write_text(measured + "\n" + notes, encoding="utf-8")
