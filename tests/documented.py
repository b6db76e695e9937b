"""The shell commands the documentation gives: every command line of the ```sh, ```bash and
```console blocks of README.md and docs/trien-khai.md, with the heading it stands under."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.settings import PROJECT_ROOT

GUIDE = PROJECT_ROOT / "docs" / "trien-khai.md"
DOCUMENTS = (PROJECT_ROOT / "README.md", GUIDE)
SHELL_BLOCKS = frozenset({"sh", "bash", "console"})
FENCE = re.compile(r"^\s*```\s*(\S*)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")


@dataclass(frozen=True)
class Command:
    text: str  # continuation lines joined, comments and a console's "$ " removed
    document: Path
    line: int  # where it starts, 1-based
    heading: str  # the nearest heading above it

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(PROJECT_ROOT)}:{self.line}"


def _without_comment(line: str) -> str:
    """`line` without a trailing ` # comment` (a `#` inside quotes stays)."""
    for match in re.finditer(r"\s#", line):
        before = line[: match.start()]
        if before.count("'") % 2 == 0 and before.count('"') % 2 == 0:
            return before.rstrip()
    return line.rstrip()


def commands(document: Path) -> list[Command]:
    """Every command of `document`'s shell blocks, in order."""
    found: list[Command] = []
    heading, language = "", None  # language: None outside a fence
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(raw)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language is None:
            title = HEADING.match(raw)
            heading = title.group(1) if title else heading
            continue
        if language not in SHELL_BLOCKS:
            continue
        line = raw.strip()
        if not pending:
            if language == "console":
                if not line.startswith("$ "):
                    continue  # output
                line = line[2:]
            if not line or line.startswith("#"):
                continue
            start = number
        line = _without_comment(line)
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        text = " ".join([*pending, line]).strip()
        pending = []
        found.append(Command(text, document, start, heading))
    return found


def documented_commands() -> list[Command]:
    return [command for document in DOCUMENTS for command in commands(document)]
