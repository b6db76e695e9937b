"""report_scam: calm steps first, one per message, then an urgent human offer."""

from __future__ import annotations

from actions.scam import ActionReportScam
from core.content.emergency import load_emergency
from tests.actions.helpers import payload_of, run_action, texts
from tests.factories import make_tracker


async def test_emergency_steps_come_first_then_an_urgent_handoff() -> None:
    guide = load_emergency("scam")
    events, messages = await run_action(
        ActionReportScam(), make_tracker("report_scam", text="tôi bị lừa chuyển khoản rồi")
    )
    assert events == []
    assert texts(messages) == [guide.opening, *guide.steps, guide.handoff]
    assert all(not m["buttons"] for m in messages[:-1])
    assert payload_of(messages[-1], "Gặp người hỗ trợ ngay") == '/request_human{"reason":"scam"}'
    assert payload_of(messages[-1], "Học cách nhận biết lừa đảo") == "/lesson_scam_awareness"
