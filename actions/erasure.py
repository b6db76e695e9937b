"""delete_my_data: erase what is kept about the resident, after they confirm."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher

from actions.flows import button, in_session, str_entity
from actions.tracking import tracker_channel
from core.erasure import erase_resident
from nlu.controls import ERASE_CONVERSATION, ERASED_AS

CONFIRM = "yes"
CONFIRM_TEXT = (
    "Dạ, em sẽ xóa những gì đã lưu về anh/chị: xã, phường; bài học và thủ tục đang làm dở; "
    "lựa chọn về lưu trò chuyện. Số lượt hỏi vẫn được đếm nhưng không còn gắn với anh/chị. "
    "Anh/chị chắc chắn muốn xóa không ạ?"
)
DONE_TEXT = (
    "Dạ, em đã xóa xong thông tin của anh/chị. Lần tới anh/chị nhắn, em sẽ hỏi lại từ đầu ạ."
)
# Tells the gateway to drop Rasa's copy of the conversation too, and under which unlinkable id
# to count this last exchange.


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if str_entity(tracker, "confirm") != CONFIRM:
            dispatcher.utter_message(
                text=CONFIRM_TEXT,
                buttons=[
                    button("Xóa hết", "delete_my_data", confirm=CONFIRM),
                    button("Không xóa", "deny"),
                ],
            )
            return []
        channel = tracker_channel(tracker)
        erasure = await in_session(
            lambda session: erase_resident(
                session=session, resident_id=tracker.sender_id, channel=channel
            )
        )
        dispatcher.utter_message(
            text=DONE_TEXT,
            json_message={ERASE_CONVERSATION: True, ERASED_AS: erasure.anonymous_id},
        )
        return [AllSlotsReset()]
