"""The public benchmarks of `make bench-nlu` without their data: importing (bench/datasets.py),
PhoATIS's conversion and report (bench/phoatis.py), ViLexNorm's scoring (bench/vilexnorm.py).

Every fixture here is a few lines written for these tests in the datasets' file formats; no
line of PhoATIS or ViLexNorm is in the repository (their terms forbid it).
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from bench import phoatis, vilexnorm
from bench.datasets import DATASETS_DIR, PHOATIS, SPLITS, VILEXNORM, import_from
from cns.nlu_eval import Example, Prediction, load_examples
from core.settings import PROJECT_ROOT

# Utterance, label: the PhoATIS format (seq.in and label, one per line), written for the test.
PHOATIS_LINES = [
    ("cho tôi xem các chuyến bay từ hà nội đến huế", "flight"),
    ("giá vé từ đà nẵng đi vinh là bao nhiêu", "airfare"),
    ("cho tôi xem các chuyến bay từ hà nội đến huế", "flight"),
    ("giá vé và giờ bay sáng mai đến cần thơ", "airfare#flight"),
]
# Typed, normalised: the ViLexNorm format (a CSV with an unnamed index column).
VILEXNORM_ROWS = [("tôi ko biết", "tôi không biết"), ("Sv, đi học", "Sinh viên, đi học")]


def write_upstream(directory: Path) -> Path:
    """A checkout holding both datasets' files as their repositories lay them out."""
    for split in SPLITS:
        folder = directory / "PhoATIS" / "syllable-level" / split
        folder.mkdir(parents=True)
        (folder / "seq.in").write_text("".join(f"{t}\n" for t, _ in PHOATIS_LINES), "utf-8")
        (folder / "label").write_text("".join(f"{label}\n" for _, label in PHOATIS_LINES))
    (directory / "data").mkdir()
    for split in SPLITS:
        with (directory / "data" / f"{split}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["", "original", "normalized"])
            writer.writerows([i, *row] for i, row in enumerate(VILEXNORM_ROWS))
    return directory


@pytest.fixture
def datasets(tmp_path: Path) -> Path:
    """var/datasets/ as `bench.datasets --from` leaves it, with both fixtures imported."""
    root = tmp_path / "datasets"
    assert import_from(write_upstream(tmp_path / "upstream"), root) == [PHOATIS, VILEXNORM]
    return root


# --- bench/datasets.py ---


def test_the_datasets_folder_is_never_committed_nor_shipped() -> None:
    for dataset in (PHOATIS, VILEXNORM):
        placed = dataset.path() / dataset.files[0]
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", str(placed)], cwd=PROJECT_ROOT
        )
        assert ignored.returncode == 0, f"{placed} is not ignored by git"
    dockerignore = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert DATASETS_DIR.relative_to(PROJECT_ROOT).parts[0] in dockerignore


def test_an_absent_dataset_says_how_to_get_it(tmp_path: Path) -> None:
    message = PHOATIS.missing(tmp_path)
    assert message is not None
    assert "skipped" in message
    assert "git clone --depth 1 https://github.com/VinAIResearch/JointIDSF" in message
    assert "-m bench.datasets --from" in message
    assert "never redistributed" in message


def test_import_from_a_checkout_places_the_files(datasets: Path) -> None:
    assert PHOATIS.missing(datasets) is None
    assert VILEXNORM.missing(datasets) is None
    assert (datasets / "phoatis" / "test" / "label").read_text().splitlines()[3] == (
        "airfare#flight"
    )


def test_import_from_a_bare_repository(tmp_path: Path) -> None:
    checkout = write_upstream(tmp_path / "checkout")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", str(checkout)], check=True)
    subprocess.run([*git, "-C", str(checkout), "add", "."], check=True)
    subprocess.run([*git, "-C", str(checkout), "commit", "-q", "-m", "data"], check=True)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(checkout), str(bare)], check=True)
    root = tmp_path / "datasets"
    assert import_from(bare, root) == [PHOATIS, VILEXNORM]
    assert (root / "vilexnorm" / "dev.csv").read_bytes() == (
        checkout / "data" / "dev.csv"
    ).read_bytes()


def test_an_incomplete_source_imports_nothing(tmp_path: Path) -> None:
    checkout = write_upstream(tmp_path / "checkout")
    (checkout / "PhoATIS" / "syllable-level" / "dev" / "label").unlink()
    (checkout / "data" / "test.csv").unlink()
    root = tmp_path / "datasets"
    assert import_from(checkout, root) == []
    assert not root.exists()


# --- bench/phoatis.py ---


def test_phoatis_split_and_rasa_yaml(datasets: Path, tmp_path: Path) -> None:
    examples = phoatis.load_split("train", datasets)
    assert [(e.text, e.intent) for e in examples] == PHOATIS_LINES
    nlu = tmp_path / "train.yml"
    nlu.write_text(phoatis.to_rasa_nlu(examples), encoding="utf-8")
    back = [(e.text, e.intent) for e in load_examples(nlu)]
    # Each utterance once per label; a multi-intent label is one class, as written.
    assert back == [PHOATIS_LINES[0], PHOATIS_LINES[1], PHOATIS_LINES[3]]


def test_phoatis_split_with_a_label_missing_is_refused(datasets: Path) -> None:
    label = datasets / "phoatis" / "dev" / "label"
    label.write_text("flight\n", encoding="utf-8")
    with pytest.raises(ValueError, match="4 utterances but 1 labels"):
        phoatis.load_split("dev", datasets)


def test_phoatis_stripped_keeps_the_labels() -> None:
    [example] = phoatis.stripped([Example("giá vé đi huế", "airfare")])
    assert example == Example("gia ve di hue", "airfare")


def _predictions(answers: list[tuple[str, str]]) -> list[Prediction]:
    return [Prediction(Example("x", true), said, 0.9, 0.004) for true, said in answers]


def test_phoatis_report() -> None:
    marked = _predictions(
        [("flight", "flight"), ("airfare", "airfare"), ("flight", "flight"), ("city", "flight")]
    )
    stripped = _predictions(
        [("flight", "flight"), ("airfare", "nlu_fallback"), ("flight", "flight"), ("city", "x")]
    )
    result = phoatis.PhoatisResult("ours (config.yml)", 123.4, marked, stripped)
    table = phoatis.render([result], 4478, "make bench-nlu")
    assert "| metric | ours (config.yml) | JointIDSF (published) |" in table
    assert "| intent accuracy, with diacritics (%) | 75.0 | 97.6 |" in table
    assert "| intent accuracy, diacritics stripped (%) | 50.0 | — |" in table
    assert "| fallback rate, stripped (%) | 25.0 | — |" in table
    assert "| training time (s) | 123 | — |" in table
    assert "4478 utterances" in table


def test_phoatis_section_is_skipped_without_data(tmp_path: Path) -> None:
    assert phoatis.measure(phoatis.CONFIGS, tmp_path, root=tmp_path / "none") is None
    section = phoatis.section(None, "make bench-nlu", root=tmp_path / "none")
    assert section.startswith(f"\n{phoatis.HEADING}\n")
    assert "PhoATIS is not in" in section
    assert "skipped" in section


# --- bench/vilexnorm.py ---


def test_view_is_the_fixed_comparison() -> None:
    assert vilexnorm.view("Hoà  ĐƯỢC rồi ạ.") == ["hòa", "được", "rồi", "ạ"]
    # Emoticons and laughter are not words: not compared. "hi" (a greeting) and "khi" are.
    assert vilexnorm.view("vui :)) hahaha kkk hjhj, hi khi =))") == ["vui", "hi", "khi"]
    assert vilexnorm.view("mã 123456 gửi 12 lần") == ["mã", "xxso", "gửi", "12", "lần"]


@pytest.mark.parametrize(
    ("gold", "other", "errors"),
    [
        ("a b c", "a b c", 0),
        ("a b c", "a x c", 1),  # one substitution
        ("sinh viên đi", "sv đi", 2),  # one substitution and one insertion
        ("a b", "a b c", 1),  # one deletion
        ("a b", "b a", 2),
        ("", "a", 1),
    ],
)
def test_word_errors_are_the_word_edit_distance(gold: str, other: str, errors: int) -> None:
    assert vilexnorm.word_errors(gold.split(), other.split()) == errors


PAIRS = [vilexnorm.Pair("ko dc", "không được"), vilexnorm.Pair("sv đi học", "sinh viên đi học")]


def test_word_accuracy_and_err() -> None:
    # 6 gold words; as typed: 2 + 2 errors.
    assert vilexnorm.word_accuracy(PAIRS, vilexnorm.leave_as_is) == pytest.approx(2 / 6)
    table = {"ko": "không", "dc": "được"}
    system = vilexnorm.correct_by_table(table)
    assert vilexnorm.word_accuracy(PAIRS, system) == pytest.approx(4 / 6)
    [baseline, scored] = vilexnorm.score(PAIRS, {"table": system})
    assert baseline.accuracy == pytest.approx(2 / 6)
    assert scored.name == "table"
    assert scored.err == pytest.approx(0.5)  # half of the 4 baseline errors removed
    assert vilexnorm.error_reduction(0.5, 0.8) == pytest.approx(-1.5)  # worse than as typed


def test_most_frequent_correction_from_train() -> None:
    train = [
        vilexnorm.Pair("ko đi", "không đi"),
        vilexnorm.Pair("Ko biết", "không biết"),
        vilexnorm.Pair("ko sao", "có sao"),
        vilexnorm.Pair("sv giỏi", "sinh viên giỏi"),
        vilexnorm.Pair("ae ơi", "anh em ơi"),
        vilexnorm.Pair("vk ck", "vợ và chồng"),  # two typed words for three: not aligned
    ]
    table = vilexnorm.most_frequent_corrections(train)
    assert table["ko"] == "không"  # 2 of 3
    assert table["sv"] == "sinh viên"  # one typed word for two
    assert table["đi"] == "đi"
    assert table["ae"] == "anh em"
    assert "vk" not in table
    assert "ck" not in table
    assert vilexnorm.correct_by_table(table)("Ko học, sv") == "không học sinh viên"


def test_vilexnorm_run_scores_the_normaliser(datasets: Path) -> None:
    scores = vilexnorm.run(datasets)
    assert [s.name for s in scores] == [
        "leave as is (baseline)",
        "most frequent correction in train",
        "our normaliser (nlu/vietnamese.py)",
    ]
    # As typed: "ko" and "sv" (1 substitution + 1 insertion) wrong among 7 gold words
    # (punctuation is not compared).
    assert scores[0].accuracy == pytest.approx(4 / 7)
    # Train and test are the same rows here: the table knows every correction.
    assert scores[1].accuracy == pytest.approx(1.0)
    # nlu/abbreviations.yml expands both "ko" and "sv".
    assert scores[2].accuracy == pytest.approx(1.0)
    assert vilexnorm.measure(datasets) == scores
    table = vilexnorm.section(scores, datasets)
    assert "2 comments" in table
    assert "| leave as is (baseline) | 57.1 | — |" in table
    assert "| most frequent correction in train | 100.0 | 100.0 |" in table


def test_vilexnorm_section_is_skipped_without_data(tmp_path: Path) -> None:
    assert vilexnorm.measure(tmp_path) is None
    section = vilexnorm.section(None, tmp_path)
    assert "ViLexNorm is not in" in section
    assert "https://github.com/ngxtnhi/ViLexNorm" in section
