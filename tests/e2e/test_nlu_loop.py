"""The learning loop end to end: fallback texts kept for consenting residents in last month's
events (the stack's database: PostgreSQL in CI), `cns nlu review` asks the real trained model
over HTTP for its guesses, a volunteer fills the label column, `cns nlu import` adds exactly the
new rows to a copy of the training data, which Rasa's own `rasa data validate` and the project's
data checks still accept."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import delete, or_

from cns.main import cli
from cns.nlu_eval import HELD_OUT_FILE, TRAINING_DIR, load_examples, load_training_examples
from cns.nlu_loop import REVIEWED_FILE
from cns.nlu_sheet import GUESS_1, GUESS_2, LABEL, MESSAGE, MESSAGES_SHEET
from cns.training import rasa_environment, rasa_executable
from core import db
from core.models import Event, EventType, FallbackText, utcnow
from core.privacy import PHONE_MASK
from core.repositories.events import keep_fallback_text, record_event
from core.settings import PROJECT_ROOT, get_settings
from reports.model import Period
from tests.domain import domain_intents
from tests.nlu.test_data import training_problems
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

COW = "con trâu nhà tôi bị ốm thì gọi ai"
WALLET = "mở ví viettel money có cần tài khoản ngân hàng ko, sđt 0912 345 678"
WALLET_AGAIN = "MO VI VIETTEL MONEY CO CAN TAI KHOAN NGAN HANG KO, SDT 0912345678"
CARD = "cháu ơi xem giùm bà cái thẻ bhyt còn hạn hông"
LAND = "nhà em mất sổ đỏ thì làm lại ở đâu ạ"


@pytest.fixture
def cns_env(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`cns` reads the stack's database and asks its Rasa."""
    monkeypatch.setenv("DATABASE_URL", stack.database_url)
    monkeypatch.setenv("RASA_URL", stack.rasa_url)
    monkeypatch.setenv("RASA_TOKEN", stack.rasa_token)
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()
    yield
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()


@pytest.fixture
def run(stack: RunningStack) -> Iterator[str]:
    """This test's residents' prefix; what it seeds in the shared stack's database (including
    a row kept unmasked, as before masking at intake) is deleted afterwards, so the other
    end-to-end tests' scans of every stored text never meet it."""
    run = uuid.uuid4().hex[:8]
    yield run
    with stack.session() as session:
        for model in (FallbackText, Event):
            session.execute(
                delete(model).where(
                    or_(model.resident_id == run, model.resident_id.like(f"loop-{run}-%"))
                )
            )


def _two_guesses(stack: RunningStack, text: str) -> list[str]:
    """The model's two likeliest intents for `text`, asked here directly."""
    answer = httpx.post(
        f"{stack.rasa_url}/model/parse",
        json={"text": text},
        params={"token": stack.rasa_token},
        timeout=30,
    ).json()
    names = [entry["name"] for entry in answer["intent_ranking"]]
    return [name for name in names if name != "nlu_fallback"][:2]


def test_review_then_import_adds_exactly_the_new_labelled_rows(
    stack: RunningStack, cns_env: None, run: str, tmp_path: Path
) -> None:
    month = Period.containing(utcnow()).previous()
    when = month.start + timedelta(days=9)
    held_out = load_examples(HELD_OUT_FILE)[0]  # compared by the program, never shown here
    trained = next(  # one without a number (the review masks numbers)
        e.text
        for e in load_training_examples()
        if e.intent == "service_utility_bills" and not any(c.isdigit() for c in e.text)
    )
    seeded = [COW, COW, WALLET_AGAIN, CARD, LAND, held_out.text, trained.upper()]
    with stack.session() as session:
        for number, text in enumerate(seeded):
            event = record_event(
                session=session,
                type=EventType.FALLBACK,
                channel="web",
                resident_id=f"loop-{run}-{number}",
                occurred_at=when,
            )
            keep_fallback_text(session=session, event=event, text=text)
        # Kept before masking at intake existed: the review masks again.
        session.add(FallbackText(event_id=0, occurred_at=when, resident_id=run, text=WALLET))
        # Neither another month's nor `cns seed-demo`'s.
        other = month.start - timedelta(days=3)
        session.add(FallbackText(event_id=0, occurred_at=other, resident_id=run, text="cũ"))
        session.add(
            FallbackText(event_id=0, occurred_at=when, resident_id=run, text="demo", synthetic=True)
        )

    sheet_path = tmp_path / "review.xlsx"
    result = CliRunner().invoke(
        cli, ["nlu", "review", "--month", month.label, "--out", str(sheet_path)]
    )
    assert result.exit_code == 0, result.output
    assert f"7 messages the bot missed (8 times) in {month.title}" in result.output

    book = load_workbook(sheet_path)
    sheet = book[MESSAGES_SHEET]
    header = [cell.value for cell in sheet[1]]
    rows = {str(row[0].value): row for row in sheet.iter_rows(min_row=2)}
    masked_wallet = WALLET.replace("0912 345 678", PHONE_MASK)
    assert set(rows) == {
        COW, masked_wallet, WALLET_AGAIN.replace("0912345678", PHONE_MASK), CARD, LAND,
        held_out.text, trained.upper(),
    }  # fmt: skip
    assert next(iter(rows)) == COW  # twice: first
    assert "0912" not in str([[c.value for c in row] for row in sheet.iter_rows()])
    for text, row in rows.items():
        guesses = [row[header.index(GUESS_1)].value, row[header.index(GUESS_2)].value]
        assert guesses == _two_guesses(stack, text)
        assert set(guesses) <= domain_intents()

    labels = {
        COW: "out_of_scope",
        masked_wallet: "service_mobile_money",
        WALLET_AGAIN.replace("0912345678", PHONE_MASK): "service_mobile_money",
        CARD: "service_health_insurance",
        held_out.text: held_out.intent,
        trained.upper(): "service_utility_bills",
    }  # LAND left empty: the volunteer was not sure
    for text, label in labels.items():
        rows[text][header.index(LABEL)].value = label
    book.save(sheet_path)

    data = tmp_path / "nlu"
    shutil.copytree(TRAINING_DIR, data)
    result = CliRunner().invoke(cli, ["nlu", "import", str(sheet_path), "--data-dir", str(data)])

    assert result.exit_code == 0, result.output
    assert "Added 3 examples" in result.output
    assert "Skipped 1 rows that overlap a held-out set (refused)" in result.output
    assert "Skipped 1 rows that already in the training data" in result.output
    assert "Skipped 1 rows that repeat an earlier row" in result.output
    assert "Skipped 1 rows that have no label" in result.output
    reviewed = [(e.intent, e.text) for e in load_examples(data / REVIEWED_FILE)]
    first_wallet = min(
        (masked_wallet, WALLET_AGAIN.replace("0912345678", PHONE_MASK)),
        key=list(rows).index,
    )
    assert sorted(reviewed) == sorted(
        [
            ("out_of_scope", COW),
            ("service_mobile_money", first_wallet),
            ("service_health_insurance", CARD),
        ]
    )
    assert training_problems(data) == {}
    validated = subprocess.run(
        [str(rasa_executable()), "data", "validate", "--domain", "data/domain.yml",
         "--data", str(data), "data/rules", "data/stories", "--config", "config.yml"],
        cwd=PROJECT_ROOT, env=rasa_environment(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]

    # A label that is no intent: the volunteer is told which row, and nothing changes.
    rows[LAND][header.index(LABEL)].value = "dat_dai"
    book.save(sheet_path)
    before = (data / REVIEWED_FILE).read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["nlu", "import", str(sheet_path), "--data-dir", str(data)])
    assert result.exit_code == 1
    assert f"Dòng {rows[LAND][0].row}: nhãn 'dat_dai' không có trong danh sách" in result.output
    assert (data / REVIEWED_FILE).read_text(encoding="utf-8") == before
    assert MESSAGE in header
