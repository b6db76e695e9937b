"""The pure logic of `make bench-turns` (bench/turns_model.py): schedule, statistics, the
residents' conversations, request routes, Telegram answer attribution, py-spy summaries."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from bench.turns import TOPOLOGIES, parse, response_head
from bench.turns_model import (
    MIX,
    Button,
    Step,
    achieved_rate,
    answer_sizes,
    attribute_answers,
    choose,
    consent_button,
    cpu_percent,
    load_phrasings,
    package_of,
    percentile,
    pick_kind,
    proc_stat_ticks,
    route_of,
    schedule,
    session_steps,
    summarise_profile,
    sustained,
)
from core.settings import PROJECT_ROOT

PHRASINGS = load_phrasings(PROJECT_ROOT / "data" / "nlu")


def test_the_schedule_is_evenly_spaced_and_open_loop() -> None:
    assert schedule(5, 2) == pytest.approx([n / 5 for n in range(10)])
    assert len(schedule(40, 60)) == 2400
    assert schedule(0, 10) == []
    assert schedule(10, 0) == []


def test_the_poisson_schedule_has_the_mean_rate_and_is_repeatable() -> None:
    due = schedule(20, 100, poisson=True, seed=3)
    assert due == schedule(20, 100, poisson=True, seed=3)
    assert all(a < b for a, b in itertools.pairwise(due))
    assert 1800 < len(due) < 2200
    assert due[-1] < 100


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(100, 0, -1)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (
        50.0,
        95.0,
        99.0,
    )
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_achieved_rate_drops_when_the_stack_falls_behind() -> None:
    dues = [n / 10 for n in range(100)]  # 10/s offered for 10 s
    assert achieved_rate(dues, [0.3] * 100, 10) == pytest.approx(10)
    jitter = [0.3 + (n % 5) / 2 for n in range(100)]  # 0.3 to 2.3 s: still keeping up
    assert achieved_rate(dues, jitter, 10) == pytest.approx(10, rel=0.1)
    behind = [0.3 + n / 10 for n in range(100)]  # each waits longer: answered at 5/s
    assert achieved_rate(dues, behind, 10) == pytest.approx(5, rel=0.1)
    assert achieved_rate([], [], 10) == 0.0


def test_a_rate_is_held_when_answered_in_time_without_errors() -> None:
    assert sustained(20, 18.5, 0.250, {})
    assert not sustained(20, 17.0, 0.250, {})
    assert not sustained(20, 20.0, 0.301, {})
    assert not sustained(20, 20.0, 0.100, {"web: HTTP 503": 1})
    assert not sustained(20, 20.0, math.nan, {})


def test_cpu_from_proc_stat() -> None:
    line = "4242 (python -c x) (y)) S 17 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0"
    assert proc_stat_ticks(line) == (17, 200)
    assert cpu_percent(1000, 1200, 2.0, 100) == pytest.approx(100.0)
    assert cpu_percent(0, 50, 1.0, 100) == pytest.approx(50.0)


def test_a_resident_presses_the_button_when_it_is_there_else_types() -> None:
    buttons = [
        Button("Tiếp theo", '/next_step{"service":"id_card","step":2}', 1),
        Button("Thoát", "/stop_flow", 1),
    ]
    pressed = choose(Step("tiep theo", press="Tiếp theo"), buttons)
    assert pressed.text == '/next_step{"service":"id_card","step":2}'
    assert pressed.button == buttons[0]
    assert choose(Step("tiep theo", press="Tiếp theo"), []).text == "tiep theo"
    assert choose(Step("tiep theo", press="Tiếp theo"), []).button is None


def test_first_button_is_taken_from_the_last_message_with_buttons() -> None:
    buttons = [Button("Đồng ý", "/consent", 0), Button("A", "/a", 2), Button("B", "/b", 2)]
    assert choose(Step("x", first_button=True), buttons).text == "/a"
    assert choose(Step("x", first_button=True), []).text == "x"


def test_the_privacy_notice_is_recognised_by_its_agree_button() -> None:
    assert consent_button([Button("Đồng ý", '/consent{"choice":"yes"}', 0)]) is not None
    assert consent_button([Button("Tiếp theo", "/next_step", 0)]) is None


def test_phrasings_come_from_the_training_data() -> None:
    for intent in ("greet", "thank", "request_human", "out_of_scope", "start_lessons"):
        assert PHRASINGS.by_intent[intent], intent
    assert len(PHRASINGS.services()) == 20
    assert not any("](" in text for texts in PHRASINGS.by_intent.values() for text in texts)


def test_every_session_kind_has_turns_and_the_mix_adds_up() -> None:
    assert sum(MIX.values()) == pytest.approx(1.0)
    rng = random.Random(1)
    for kind in MIX:
        steps = session_steps(kind, PHRASINGS, rng)
        assert steps, kind
        assert all(step.text for step in steps), kind
    kinds = [pick_kind(random.Random(seed)) for seed in range(300)]
    assert set(kinds) == set(MIX)
    with pytest.raises(ValueError, match="unknown"):
        session_steps("nap", PHRASINGS, rng)


def test_requests_are_counted_by_route_not_by_resident() -> None:
    assert route_of("GET /conversations/ab12/tracker?include_events=NONE HTTP/1.1") == (
        "GET /conversations/{id}/tracker"
    )
    assert route_of("POST /webhook?token=s3cret HTTP/1.1") == "POST /webhook"


def test_response_heads() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\nconnection: close\r\n\r\n"
    assert response_head(head) == (200, 12, False)
    assert response_head(b"HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n") == (503, 0, True)


def test_telegram_answers_are_the_messages_before_the_chats_next_turn() -> None:
    rows = ["message_in", "message_out", "message_out", "message_in", "message_in"]
    rows += ["message_out", "message_out", "message_out"]
    sizes = answer_sizes(rows)
    assert sizes == [2, 0, 3]  # bubbles, which Telegram gets joined into fewer messages
    dues = [0.0, 10.0, 20.0]
    sent = [0.5, 1.6, 20.4, 21.5]
    assert attribute_answers(dues, sizes, sent) == pytest.approx([1.6, None, 1.5])
    # Nothing arrived yet for the last turn; a turn the gateway never recorded has none.
    assert attribute_answers(dues, sizes, sent[:2]) == pytest.approx([1.6, None, None])
    assert attribute_answers([*dues, 30.0], sizes, sent)[3] is None


RAW = """\
process 1:"python -m bot";thread (1);run (asyncio/base_events.py);handle (bot/router.py);\
execute (/x/.venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py) 30
process 1:"python -m bot";thread (1);run (asyncio/base_events.py);\
loads (/usr/lib/python3.11/json/decoder.py) 10
process 1:"python -m bot";thread (1);run (asyncio/base_events.py);handle (bot/router.py) 10
"""


def test_py_spy_stacks_are_summarised_by_package_and_function() -> None:
    profile = summarise_profile(RAW)
    assert profile.samples == 50
    assert profile.by_package[0] == ("sqlalchemy", 0.6)
    assert dict(profile.by_package)["stdlib json"] == 0.2
    assert profile.self_time[0][1] == 0.6
    # The event loop is on every stack, and the standard library's frames are left out.
    assert [name for name, _ in profile.inclusive] == [
        "handle (bot/router.py)",
        "execute (/x/.venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py)",
    ]
    assert profile.ours == [("handle (bot/router.py)", 0.8)]
    assert summarise_profile("").samples == 0


def test_packages_of_frames() -> None:
    assert package_of("f (/v/lib/python3.11/site-packages/tensorflow/x/y.py)") == "tensorflow"
    assert package_of("f (jsonschema/validators.py)") == "jsonschema"
    assert package_of("f (rasa/core/processor.py)") == "rasa"
    assert package_of("f (/work/wt/x/core/db.py)") == "core/ (ours)"
    assert package_of("f (bot/router.py)") == "bot/ (ours)"
    assert package_of("f (/usr/lib/python3.11/asyncio/events.py)") == "stdlib asyncio"
    assert package_of("f (json/encoder.py)") == "stdlib json"
    assert package_of("_path_stat (<frozen importlib._bootstrap_external>)") == "stdlib importlib"


def test_options_and_topologies() -> None:
    options = parse(["--rates", "5,10", "--seconds", "10", "--profile-rate", "0"])
    assert (options.rates, options.seconds) == ([5.0, 10.0], 10.0)
    assert options.topologies == ["single", "scaled"]  # side by side, as the targets are
    assert set(TOPOLOGIES) == {"single", "scaled"}
    with pytest.raises(SystemExit):
        parse(["--topologies", "nowhere"])
