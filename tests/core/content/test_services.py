"""Service guides: every file validates, and the schema rejects what a resident must not see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from core.content.services import (
    SERVICES_DIR,
    STEP_TEXT_LIMIT,
    find_service_guide,
    load_guide_file,
)
from tests.domain import domain_intents

GUIDE_FILES = sorted(SERVICES_DIR.glob("*.yml"))


def test_every_service_intent_has_a_guide() -> None:
    assert len(domain_intents("service_")) == 20
    assert {f"service_{p.stem}" for p in GUIDE_FILES} == domain_intents("service_")


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.stem)
def test_every_guide_validates(path: Path) -> None:
    guide = load_guide_file(path)
    assert guide.intent == f"service_{path.stem}"
    assert 3 <= len(guide.steps) <= 10
    assert all(len(step.text) <= STEP_TEXT_LIMIT for step in guide.steps)
    assert guide.sources


def _valid() -> dict[str, Any]:
    with (SERVICES_DIR / "vneid_activation.yml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def _write(tmp_path: Path, data: dict[str, Any], name: str = "vneid_activation") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_valid_copy_loads(tmp_path: Path) -> None:
    assert load_guide_file(_write(tmp_path, _valid())).key == "vneid_activation"


def test_step_longer_than_a_phone_screen_is_rejected(tmp_path: Path) -> None:
    data = _valid()
    data["steps"][0]["text"] = "x" * (STEP_TEXT_LIMIT + 1)
    with pytest.raises(ValidationError):
        load_guide_file(_write(tmp_path, data))


def test_guide_without_sources_or_date_is_rejected(tmp_path: Path) -> None:
    for field in ("sources", "as_of"):
        data = _valid()
        del data[field]
        with pytest.raises(ValidationError):
            load_guide_file(_write(tmp_path, data))


def test_source_needs_url_or_document(tmp_path: Path) -> None:
    data = _valid()
    data["sources"] = [{"title": "Nghe nói vậy"}]
    with pytest.raises(ValidationError):
        load_guide_file(_write(tmp_path, data))


def test_unknown_keys_and_too_few_steps_are_rejected(tmp_path: Path) -> None:
    data = _valid()
    data["phone_hotline_guess"] = "1900"
    with pytest.raises(ValidationError):
        load_guide_file(_write(tmp_path, data))
    data = _valid()
    data["steps"] = data["steps"][:2]
    with pytest.raises(ValidationError):
        load_guide_file(_write(tmp_path, data))


def test_key_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not match"):
        load_guide_file(_write(tmp_path, _valid(), name="birth_registration"))


def test_find_returns_none_for_unknown_or_unsafe_keys() -> None:
    assert find_service_guide("birth_registration") is not None
    assert find_service_guide("no_such_service") is None
    assert find_service_guide("../lessons/zalo_basics") is None
    assert find_service_guide(None) is None


def _first_screen_problem(data: dict[str, Any]) -> dict[str, Any]:
    problem: dict[str, Any] = data["steps"][0]["problems"][0]
    assert problem["screen_texts"], "vneid_activation step 1 lists the SIM-owner screen texts"
    return problem


@pytest.mark.parametrize(
    "texts",
    [[""], ["  Số điện thoại không chính chủ"], ["Lỗi"], ["Mã OTP không đúng"] * 2],
    ids=["empty", "padded", "too-short", "twice"],
)
def test_screen_texts_must_be_real_text(tmp_path: Path, texts: list[str]) -> None:
    data = _valid()
    _first_screen_problem(data)["screen_texts"] = texts
    with pytest.raises(ValidationError):
        load_guide_file(_write(tmp_path, data))


def test_screen_texts_need_their_source_and_a_source_needs_texts(tmp_path: Path) -> None:
    data = _valid()
    del _first_screen_problem(data)["screen_source"]
    with pytest.raises(ValidationError, match="screen_source"):
        load_guide_file(_write(tmp_path, data))
    data = _valid()
    problem = _first_screen_problem(data)
    problem["screen_texts"] = []
    with pytest.raises(ValidationError, match="screen_source without"):
        load_guide_file(_write(tmp_path, data))
    data = _valid()
    _first_screen_problem(data)["screen_source"] = {"title": "Nghe nói vậy"}
    with pytest.raises(ValidationError):
        load_guide_file(_write(tmp_path, data))


def test_problems_the_screens_show_are_listed() -> None:
    guide = find_service_guide("vneid_activation")
    assert guide is not None
    texts = {text for step in guide.steps for p in step.problems for text in p.screen_texts}
    assert {"Số điện thoại không chính chủ", "Mã OTP không đúng"} <= texts
