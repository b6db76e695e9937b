"""Consent: the privacy notice and the resident's answer to it.

Rasa triggers `consent` (no choice) after its reply to a resident's message while the gateway
says the notice is due (nlu/channel.py), so an urgent answer (a scam happening now) is never
held up by the notice. Until a resident agrees, nothing but anonymous counters is kept about
them (Personal Data Protection Law 91/2025/QH15: consent is explicit, never assumed). Refusing
after agreeing (an old notice's button) withdraws consent: the words already kept are deleted
here, and the gateway drops Rasa's copy of the conversation (bot/router.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.flows import button, in_session, str_entity
from actions.tracking import record_for_tracker
from core.erasure import forget_words
from core.models import EventType
from core.repositories.residents import mark_consent_asked, set_consent
from core.settings import get_settings
from nlu.controls import CONSENT_ACTION, CONSENT_INTENT

AGREE = "yes"
REFUSE = "no"
AGREE_BUTTON = button("Đồng ý", CONSENT_INTENT, choice=AGREE)
REFUSE_BUTTON = button("Không lưu nội dung", CONSENT_INTENT, choice=REFUSE)
AGREED_TEXT = "Dạ, em cảm ơn anh/chị. Anh/chị cần em hỗ trợ việc gì cứ nhắn em nhé."
REFUSED_TEXT = (
    "Dạ, em sẽ không lưu nội dung trò chuyện. Em vẫn hỗ trợ anh/chị bình thường, chỉ đếm số "
    "lượt hỏi mà không gắn với anh/chị ạ."
)


def notice_messages(retention_days: int) -> list[str]:
    """What is stored, why and for how long; then how to erase it, with the question."""
    return [
        "🔒 Em xin phép anh/chị: em muốn lưu nội dung trò chuyện trong "
        f"{retention_days} ngày, để khi cần, Tổ công nghệ số ở xã, phường mình xem lại và giúp "
        "đúng việc. Số căn cước, số điện thoại, mã OTP, mật khẩu em tự che đi, không lưu.",
        'Lúc nào muốn xóa, anh/chị nhắn "xóa dữ liệu của tôi". Anh/chị có đồng ý cho em lưu '
        "không ạ? Không đồng ý thì em vẫn hỗ trợ bình thường.",
    ]


class ActionConsent(Action):
    """`consent` alone shows the notice; `/consent{"choice": "yes"|"no"}` is the answer."""

    def name(self) -> str:
        return CONSENT_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        choice = str_entity(tracker, "choice")
        if choice not in (AGREE, REFUSE):
            await in_session(
                lambda session: mark_consent_asked(session=session, resident_id=tracker.sender_id)
            )
            *explain, question = notice_messages(get_settings().retention_days)
            for text in explain:
                dispatcher.utter_message(text=text)
            dispatcher.utter_message(text=question, buttons=[AGREE_BUTTON, REFUSE_BUTTON])
            return []
        agreed = choice == AGREE

        def work(session: Session) -> None:
            set_consent(session=session, resident_id=tracker.sender_id, consent=agreed)
            if not agreed:
                forget_words(session=session, resident_id=tracker.sender_id)
            record_for_tracker(
                session, tracker, EventType.CONSENT_GIVEN if agreed else EventType.CONSENT_REFUSED
            )

        await in_session(work)
        dispatcher.utter_message(text=AGREED_TEXT if agreed else REFUSED_TEXT)
        return []
