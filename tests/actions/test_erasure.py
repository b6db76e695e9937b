"""delete_my_data: a confirmation first; the confirm button erases and tells the gateway."""

from __future__ import annotations

from rasa_sdk.events import AllSlotsReset

from actions.erasure import CONFIRM_TEXT, DONE_TEXT, ActionDeleteMyData
from core.db import session_scope
from core.models import EventType
from core.repositories.events import list_events
from core.repositories.residents import get_resident, set_commune
from nlu.controls import ERASE_CONVERSATION, ERASED_AS
from tests.actions.helpers import payload_of, recorded, run_action, texts, titles
from tests.factories import make_tracker, press


async def test_asks_first_then_erases_on_confirmation(app_database: str) -> None:
    with session_scope() as session:
        set_commune(session=session, resident_id="d1", commune_code="00004")
    events, asked = await run_action(
        ActionDeleteMyData(), make_tracker("delete_my_data", sender_id="d1")
    )
    assert events == []
    assert texts(asked) == [CONFIRM_TEXT]
    assert titles(asked[0]) == ["Xóa hết", "Không xóa"]
    assert payload_of(asked[0], "Không xóa") == "/deny"
    with session_scope() as session:
        assert get_resident(session=session, resident_id="d1") is not None

    events, done = await run_action(
        ActionDeleteMyData(), press(payload_of(asked[0], "Xóa hết"), sender_id="d1")
    )
    assert events == [AllSlotsReset()]
    with session_scope() as session:
        assert get_resident(session=session, resident_id="d1") is None
        erased = list_events(session=session, type=EventType.DATA_ERASED)
    assert [(e.commune_code, e.channel) for e in erased] == [("00004", "web")]
    assert done == [
        {
            "text": DONE_TEXT,
            "buttons": [],
            "elements": [],
            "custom": {ERASE_CONVERSATION: True, ERASED_AS: erased[0].resident_id},
            "template": None,
            "response": None,
            "image": None,
            "attachment": None,
        }
    ]
    assert recorded("d1") == []
