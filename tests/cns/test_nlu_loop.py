"""The learning loop's parts without Rasa: which missed messages a month exports (SQLite and
PostgreSQL), the spreadsheet written and read back, and what an import adds or refuses (into a
copy of the training data, with a held-out file of the test's own)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from cns.main import cli
from cns.nlu_eval import TRAINING_DIR, Example, Guess, Prediction, load_examples, top2_accuracy
from cns.nlu_loop import (
    REVIEWED_FILE,
    BadLabels,
    LabelledRow,
    MissedMessage,
    import_labelled,
    intent_catalogue,
    labelable_intents,
    missed_messages,
)
from cns.nlu_sheet import (
    INTENTS_SHEET,
    LABEL,
    MESSAGE,
    MESSAGES_SHEET,
    UnreadableSheet,
    csv_bytes,
    read_labelled,
    xlsx_bytes,
)
from cns.stack import free_port
from core.db import session_scope
from core.models import EventType, FallbackText
from core.privacy import PHONE_MASK
from core.repositories.events import keep_fallback_text, record_event
from core.settings import get_settings
from reports.model import Period
from tests.domain import first_example

OCTOBER = Period(2026, 10)
IN_OCTOBER = datetime(2026, 10, 12, 3, tzinfo=UTC)
IN_NOVEMBER = datetime(2026, 11, 2, 3, tzinfo=UTC)


def _missed(session: Session, text: str, when: datetime, resident: str = "r1") -> None:
    event = record_event(
        session=session,
        type=EventType.FALLBACK,
        channel="web",
        resident_id=resident,
        key="stuck",
        value=0.2,
        occurred_at=when,
    )
    keep_fallback_text(session=session, event=event, text=text)


def test_a_month_exports_its_kept_messages_grouped_masked_most_frequent_first(
    session: Session,
) -> None:
    _missed(session, "con trau nha toi bi om", IN_OCTOBER)
    _missed(session, "app bao loi hoai", IN_OCTOBER, "r2")
    _missed(session, "Con trâu nhà tôi bị ốm", IN_OCTOBER, "r3")  # another message
    _missed(session, "  con trau nha toi BI OM ", IN_OCTOBER, "r4")  # the first one again
    _missed(session, "thang sau moi hoi", IN_NOVEMBER)
    # A row kept before masking existed, and one of `cns seed-demo`.
    session.add(
        FallbackText(event_id=0, occurred_at=IN_OCTOBER, resident_id="r5", text="goi 0912 345 678")
    )
    session.add(
        FallbackText(
            event_id=0, occurred_at=IN_OCTOBER, resident_id="r6", text="demo", synthetic=True
        )
    )
    session.commit()

    found = missed_messages(session=session, period=OCTOBER)

    assert found == [
        MissedMessage("con trau nha toi bi om", 2),
        MissedMessage("app bao loi hoai", 1),
        MissedMessage("Con trâu nhà tôi bị ốm", 1),
        MissedMessage(f"goi {PHONE_MASK}", 1),
    ]


def _messages() -> list[MissedMessage]:
    return [
        MissedMessage("con trau nha toi bi om", 3, (Guess("stuck", 0.31), Guess("greet", 0.2))),
        MissedMessage("mo vi tien tren dien thoai", 1, (Guess("lesson_online_payments", 0.4),)),
    ]


def test_the_workbook_offers_the_intents_and_reads_back_the_labels(tmp_path: Path) -> None:
    intents = intent_catalogue()
    path = tmp_path / "review.xlsx"
    path.write_bytes(xlsx_bytes(_messages(), intents, OCTOBER))

    book = load_workbook(path)
    sheet = book[MESSAGES_SHEET]
    header = [cell.value for cell in sheet[1]]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0][:6] == ["con trau nha toi bi om", 3, "stuck", 0.31, "greet", 0.2]
    assert rows[1][:6] == [
        "mo vi tien tren dien thoai",
        1,
        "lesson_online_payments",
        0.4,
        None,
        None,
    ]
    label = header.index(LABEL)
    (choice,) = sheet.data_validations.dataValidation
    assert choice.type == "list"
    assert str(choice.sqref) == "G2:G3"
    assert choice.formula1 == f"'{INTENTS_SHEET}'!$A$2:$A${len(intents) + 1}"
    listed = [row[0].value for row in book[INTENTS_SHEET].iter_rows(min_row=2)]
    assert listed == labelable_intents()

    sheet.cell(row=2, column=label + 1, value="out_of_scope")
    book.save(path)
    assert read_labelled(path) == [
        LabelledRow(2, "con trau nha toi bi om", "out_of_scope"),
        LabelledRow(3, "mo vi tien tren dien thoai", ""),
    ]


def test_every_intent_has_its_meaning_from_docs() -> None:
    catalogue = intent_catalogue()
    assert len(catalogue) == 46
    assert [i.name for i in catalogue if not i.meaning or i.label == i.name] == []


def test_the_csv_reads_back_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "review.csv"
    data = csv_bytes(_messages())
    assert data.startswith("\ufeff".encode())
    path.write_bytes(data.replace(b"0.2,\r\n", b"0.2,stuck\r\n"))
    assert [(r.row, r.label) for r in read_labelled(path)] == [(2, "stuck"), (3, "")]
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UnreadableSheet, match=MESSAGE):
        read_labelled(other)
    with pytest.raises(UnreadableSheet, match=r"\.xlsx hoặc \.csv"):
        read_labelled(tmp_path / "review.ods")


@pytest.fixture
def training(tmp_path: Path) -> Path:
    copy = tmp_path / "nlu"
    shutil.copytree(TRAINING_DIR, copy)
    return copy


@pytest.fixture
def held_out(tmp_path: Path) -> Path:
    path = tmp_path / "held_out.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: service_mobile_money\n  examples: |\n'
        "    - mở ví Viettel Money thế nào\n",
        encoding="utf-8",
    )
    return path


def test_import_adds_new_rows_once_and_refuses_held_out_and_duplicates(
    training: Path, held_out: Path
) -> None:
    rows = [
        LabelledRow(2, "con trâu nhà tôi bị ốm, gọi 0912 345 678", "out_of_scope"),
        LabelledRow(3, "mo vi viettel money the nao", "service_mobile_money"),  # held out
        LabelledRow(4, first_example("greet").upper(), "greet"),  # trained already
        LabelledRow(5, "con trau nha toi bi om, goi 0912345678", "out_of_scope"),  # row 2 again
        LabelledRow(6, "ko dc ho tro j het", ""),  # not labelled
        LabelledRow(7, "", ""),  # an empty row
        LabelledRow(8, "em hok bik lam cai [nay](ne)", " Stuck "),
    ]

    done = import_labelled(rows, training_dir=training, held_out=[held_out])

    assert done.added == {
        "out_of_scope": [f"con trâu nhà tôi bị ốm, gọi {PHONE_MASK}"],
        "stuck": ["em hok bik lam cai [nay] (ne)"],
    }
    assert (done.held_out, done.known, done.repeated, done.unlabelled) == (
        [3],
        {4: "greet"},
        [5],
        [6],
    )
    reviewed = load_examples(training / REVIEWED_FILE)
    assert [(e.intent, e.text) for e in reviewed] == [
        ("stuck", "em hok bik lam cai [nay] (ne)"),
        ("out_of_scope", f"con trâu nhà tôi bị ốm, gọi {PHONE_MASK}"),
    ]
    again = import_labelled(rows, training_dir=training, held_out=[held_out])
    assert again.count == 0
    assert sorted(again.known) == [2, 4, 5, 8]
    assert load_examples(training / REVIEWED_FILE) == reviewed


def test_teencode_of_a_held_out_message_is_refused_too(training: Path, held_out: Path) -> None:
    done = import_labelled(
        [LabelledRow(2, "mở ví viettel money thế nàooo", "service_mobile_money")],
        training_dir=training,
        held_out=[held_out],
    )
    assert done.held_out == [2]
    assert not (training / REVIEWED_FILE).exists()


def test_bad_labels_are_named_politely_and_nothing_is_written(training: Path) -> None:
    rows = [
        LabelledRow(2, "con trau bi om", "out_of_scope"),
        LabelledRow(3, "mo vi tien", "service_mobile_mony"),
        LabelledRow(4, "  ", "greet"),
    ]
    with pytest.raises(BadLabels) as raised:
        import_labelled(rows, training_dir=training, held_out=[])
    assert raised.value.problems == [
        "Dòng 3: nhãn 'service_mobile_mony' không có trong danh sách ý định. Có phải anh/chị "
        "muốn chọn 'service_mobile_money'? Anh/chị chọn một ý định ở trang danh sách ý định "
        "giúp em ạ.",
        "Dòng 4: có nhãn 'greet' nhưng không có tin nhắn. Anh/chị xóa nhãn hoặc điền lại tin "
        "nhắn giúp em ạ.",
    ]
    assert not (training / REVIEWED_FILE).exists()


def test_top2_counts_the_two_likeliest_intents_without_the_fallback() -> None:
    def predicted(intent: str, *ranking: str) -> Prediction:
        return Prediction(Example("x", "stuck"), intent, 0.5, 0.01, ranking)

    predictions = [
        predicted("stuck", "stuck", "greet"),
        predicted("nlu_fallback", "greet", "stuck"),  # the fallback's second button
        predicted("greet", "greet", "thank", "stuck"),  # third: not offered
        predicted("stuck"),  # no ranking: the intent itself
    ]
    assert [p.correct_in_top2 for p in predictions] == [True, True, False, True]
    assert top2_accuracy(predictions) == 0.75


def test_review_says_so_when_rasa_does_not_answer(
    app_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with session_scope() as session:
        _missed(session, "con trau nha toi bi om", IN_OCTOBER)
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    out = tmp_path / "review.xlsx"

    result = CliRunner().invoke(cli, ["nlu", "review", "--month", "2026-10", "--out", str(out)])

    assert result.exit_code == 1
    assert "Rasa did not answer at http://127.0.0.1:" in result.output
    assert "start it (make run) and run this again" in result.output
    assert not out.exists()
