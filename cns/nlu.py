"""`cns nlu review` and `cns nlu import`: the learning loop of the NLU.

`review` exports a month's messages the bot did not understand (kept only with the resident's
consent, masked) with the two intents the running model finds likeliest (asked over HTTP, Rasa's
`/model/parse`), as a spreadsheet volunteers label; `import` adds the labelled rows to the
training data (`data/nlu/reviewed.yml`), and the next `cns train` / `make run` retrains.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import httpx

from cns.nlu_eval import TRAINING_DIR, rank_texts
from cns.nlu_loop import (
    HELD_OUT_FILES,
    REVIEWED_FILE,
    BadLabels,
    MissedMessage,
    import_labelled,
    intent_catalogue,
    missed_messages,
)
from cns.nlu_sheet import FORMATS, UnreadableSheet, read_labelled, render
from cns.reports import month_option
from cns.stack import stack_tokens
from core.db import session_scope
from core.settings import VAR_DIR, get_settings
from reports.model import Period

REVIEW_DIR = VAR_DIR / "nlu"


@click.group()
def nlu() -> None:
    """Teach the bot what it missed: export messages to label, import the labels."""


@nlu.command()
@click.option(
    "--month",
    "period",
    callback=month_option,
    metavar="YYYY-MM",
    help="The month whose missed messages to export. [default: last month]",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write it. [default: var/nlu/tin-nhan-chua-hieu-YYYY-MM.FORMAT]",
)
def review(period: Period, fmt: str, out: Path | None) -> None:
    """Export the month's messages the bot missed (consented, masked), with the model's two
    likeliest intents, as a spreadsheet for volunteers to label."""
    with session_scope() as session:
        missed = missed_messages(session=session, period=period)
    settings = get_settings()
    try:
        ranked = rank_texts(
            settings.rasa_url,
            [m.text for m in missed],
            token=stack_tokens(settings).get("RASA_TOKEN"),
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"Rasa did not answer at {settings.rasa_url} ({exc}); start it (make run) and run "
            "this again."
        ) from exc
    rows = [MissedMessage(m.text, m.count, g) for m, g in zip(missed, ranked, strict=True)]
    path = out or REVIEW_DIR / f"tin-nhan-chua-hieu-{period.label}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(rows, intent_catalogue(), period, fmt))
    times = sum(m.count for m in rows)
    click.echo(
        f"{len(rows)} messages the bot missed ({times} times) in {period.title}, written to {path}"
    )


@nlu.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=TRAINING_DIR,
    show_default=True,
    help="The training data folder to add to (reviewed.yml in it).",
)
def import_(file: Path, data_dir: Path) -> None:
    """Add the labelled rows of FILE (.xlsx or .csv from `cns nlu review`) to the training
    data: checked, masked, without duplicates, never a held-out message."""
    if not file.is_file():
        raise click.ClickException(f"no such file: {file}")
    if missing := [str(path) for path in HELD_OUT_FILES if not path.is_file()]:
        raise click.ClickException(
            f"the held-out sets {', '.join(missing)} are missing, so no overlap can be checked: "
            "import in a checkout of the source (not in the containers)"
        )
    try:
        done = import_labelled(read_labelled(file), training_dir=data_dir)
    except (UnreadableSheet, BadLabels) as exc:
        click.echo(f"Nothing imported. Please fix {file.name}:\n{exc}", err=True)
        sys.exit(1)
    target = data_dir / REVIEWED_FILE
    click.echo(f"Added {done.count} examples to {target}.")
    for intent, texts in sorted(done.added.items()):
        click.echo(f"  {intent}: {len(texts)}")
    skipped = {
        "overlap a held-out set (refused)": done.held_out,
        "already in the training data": sorted(done.known),
        "repeat an earlier row": done.repeated,
        "have no label": done.unlabelled,
    }
    for reason, rows in skipped.items():
        if rows:
            click.echo(f"Skipped {len(rows)} rows that {reason}: {_rows(rows)}")
    if done.count:
        click.echo("The next `make run` (or `cns train`) retrains the model with them.")


def _rows(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
