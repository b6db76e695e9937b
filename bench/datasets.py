"""Public datasets of `make bench-nlu`: where to get them and how to place them in var/datasets/.

Neither may be committed or shipped: PhoATIS's terms allow research or educational use only and
forbid distributing it or any part of it; ViLexNorm is CC BY-NC-SA 4.0 (non-commercial). They
live in `var/datasets/` (ignored by git and by the docker build context) on the machine that
runs the bench, and the bench skips each one that is absent with a message saying how to get
it. With internet access:

    git clone --depth 1 https://github.com/VinAIResearch/JointIDSF /tmp/JointIDSF
    git clone --depth 1 https://github.com/ngxtnhi/ViLexNorm /tmp/ViLexNorm
    .venv/bin/python -m bench.datasets --from /tmp/JointIDSF --from /tmp/ViLexNorm

`--from` takes a checkout or a bare git repository (read at HEAD). Only the files the bench
reads are copied: PhoATIS's syllable-level `seq.in` and `label` of each split, and ViLexNorm's
`data/{train,dev,test}.csv`. Without `--from` the command says what is in place.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.settings import PROJECT_ROOT

DATASETS_DIR = PROJECT_ROOT / "var" / "datasets"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Dataset:
    name: str
    url: str  # the upstream git repository
    terms: str
    directory: str  # under var/datasets/
    prefix: str  # the folder of `files` in the upstream repository
    files: tuple[str, ...]  # relative to `prefix`; placed under var/datasets/<directory>/

    def path(self, root: Path = DATASETS_DIR) -> Path:
        """The dataset's folder under `root`."""
        return root / self.directory

    def missing(self, root: Path = DATASETS_DIR) -> str | None:
        """None when every file is in place, else what to do about it."""
        absent = [f for f in self.files if not (self.path(root) / f).is_file()]
        if not absent:
            return None
        clone = f"/tmp/{self.url.rsplit('/', 1)[-1]}"
        where = self.path(root)
        shown = where.relative_to(PROJECT_ROOT) if where.is_relative_to(PROJECT_ROOT) else where
        return (
            f"{self.name} is not in {shown}/ (missing {absent[0]}): skipped. "
            f"Its terms: {self.terms}. To use it: git clone --depth 1 {self.url} {clone} && "
            f".venv/bin/python -m bench.datasets --from {clone}"
        )


PHOATIS = Dataset(
    name="PhoATIS",
    url="https://github.com/VinAIResearch/JointIDSF",
    terms="research or educational use only, never redistributed (any part, any form)",
    directory="phoatis",
    prefix="PhoATIS/syllable-level/",
    files=tuple(f"{split}/{name}" for split in SPLITS for name in ("seq.in", "label")),
)
VILEXNORM = Dataset(
    name="ViLexNorm",
    url="https://github.com/ngxtnhi/ViLexNorm",
    terms="CC BY-NC-SA 4.0 (non-commercial, share alike)",
    directory="vilexnorm",
    prefix="data/",
    files=tuple(f"{split}.csv" for split in SPLITS),
)
DATASETS = (PHOATIS, VILEXNORM)


def _is_bare_git(source: Path) -> bool:
    return (source / "HEAD").is_file() and (source / "objects").is_dir()


def _read(source: Path, path: str) -> bytes | None:
    """`path` of a checkout or of a bare repository's HEAD; None when it has none."""
    if (source / path).is_file():
        return (source / path).read_bytes()
    if not _is_bare_git(source):
        return None
    shown = subprocess.run(
        ["git", "--git-dir", str(source), "show", f"HEAD:{path}"],
        capture_output=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def import_from(source: Path, root: Path = DATASETS_DIR) -> list[Dataset]:
    """Copy every dataset `source` holds in full into `root`; the datasets copied."""
    imported = []
    for dataset in DATASETS:
        contents = {f: _read(source, dataset.prefix + f) for f in dataset.files}
        if any(data is None for data in contents.values()):
            continue
        for name, data in contents.items():
            target = dataset.path(root) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data or b"")
        imported.append(dataset)
    return imported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--from",
        dest="sources",
        type=Path,
        action="append",
        default=[],
        help="a checkout or bare git repository of JointIDSF or ViLexNorm (repeatable)",
    )
    args = parser.parse_args(argv)
    failed = False
    for source in args.sources:
        imported = import_from(source)
        if imported:
            names = ", ".join(d.name for d in imported)
            print(f"{source}: {names} → {DATASETS_DIR}")
        else:
            print(f"{source}: holds neither PhoATIS nor ViLexNorm", file=sys.stderr)
            failed = True
    for dataset in DATASETS:
        print(dataset.missing() or f"{dataset.name}: in place in {dataset.path()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
