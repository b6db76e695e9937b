"""report_scam: every calm step at once, in at most 3 screens, then an urgent human offer."""

from __future__ import annotations

from actions.flows import bubbles
from actions.scam import ActionReportScam
from core.content.emergency import load_emergency
from tests.actions.helpers import assert_one_question_last, payload_of, run_action, texts
from tests.factories import make_tracker


async def test_emergency_steps_come_first_then_an_urgent_handoff() -> None:
    guide = load_emergency("scam")
    events, messages = await run_action(
        ActionReportScam(), make_tracker("report_scam", text="tôi bị lừa chuyển khoản rồi")
    )
    assert events == []
    assert texts(messages) == [*bubbles([guide.opening, *guide.steps], "\n"), guide.handoff]
    assert all(step in "\n".join(texts(messages)) for step in guide.steps)
    assert_one_question_last(messages)
    assert payload_of(messages[-1], "Gặp người hỗ trợ ngay") == '/request_human{"reason":"scam"}'
    assert payload_of(messages[-1], "Học cách nhận biết lừa đảo") == "/lesson_scam_awareness"
