"""The privacy question, asked just in time: at the first moment the bot would keep more than
anonymous counters about a resident, never before and never in an emergency.

The moments (`Moment`): opening a handoff (the volunteer reads what the resident writes; the
summary and the conversation are kept), keeping the questions the bot missed, keeping a
walkthrough or lesson half-way after the session, subscribing to the commune's announcements
(actions/announcements.py: asked whenever a resident without consent asks to subscribe).
Each asks one short bubble: why, in one sentence, with "Đồng ý" / "Không lưu" / "Xem chi
tiết". The buttons name the moment (`/consent{"choice":…,"reason":…}`), so action_consent goes
on with what was interrupted.
Asked at most once a day until answered (`consent_notice_due`); no answer counts as no.
"""

from __future__ import annotations

from enum import StrEnum

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.flows import Button, button
from core.repositories.residents import consent_notice_due, mark_consent_asked
from nlu.controls import CONSENT_INTENT

AGREE = "yes"
REFUSE = "no"
DETAILS = "details"


class Moment(StrEnum):
    """What the bot is about to keep, and why it asks now."""

    HANDOFF = "handoff"
    FALLBACK = "fallback"
    PROGRESS = "progress"
    SUBSCRIBE = "subscribe"


QUESTIONS = {
    Moment.HANDOFF: (
        "🔒 Để người hỗ trợ hiểu đúng việc, em xin phép lưu nội dung anh/chị nhắn (em tự che số "
        "căn cước, số điện thoại, mã OTP). Anh/chị đồng ý không ạ?"
    ),
    Moment.FALLBACK: (
        "🔒 Em xin phép lưu những câu em chưa hiểu để Tổ công nghệ số dạy thêm cho em. "
        "Anh/chị đồng ý không ạ?"
    ),
    Moment.PROGRESS: "Em lưu chỗ anh/chị đang làm để lần sau làm tiếp nhé?",
    Moment.SUBSCRIBE: (
        "🔒 Để gửi thông báo của xã, phường, em xin phép lưu xã, phường của anh/chị và cách "
        "nhắn cho anh/chị. Anh/chị đồng ý không ạ?"
    ),
}


def consent_buttons(moment: Moment | None, *, details: bool = True) -> list[Button]:
    """ "Đồng ý", "Không lưu" and, unless already shown, "Xem chi tiết", naming the moment."""
    choices = [("Đồng ý", AGREE), ("Không lưu", REFUSE)] + [("Xem chi tiết", DETAILS)] * details
    named = {"reason": moment.value} if moment else {}
    return [button(title, CONSENT_INTENT, choice=choice, **named) for title, choice in choices]


def details_text(retention_days: int) -> str:
    """The full notice: what is stored, why, for how long, how to erase it."""
    return (
        "🔒 Nếu anh/chị đồng ý, em lưu: nội dung anh/chị nhắn (số căn cước, số điện thoại, mã "
        "OTP, mật khẩu em tự che đi), những câu em chưa hiểu, và chỗ anh/chị đang làm trong các "
        "bước hướng dẫn, bài học, để Tổ công nghệ số ở xã, phường mình xem lại và giúp đúng "
        f"việc. Em giữ trong {retention_days} ngày. Lúc nào muốn xóa, anh/chị nhắn "
        '"xóa dữ liệu của tôi". Không đồng ý thì em vẫn hỗ trợ bình thường, chỉ đếm số lượt '
        "hỏi mà không gắn với anh/chị."
    )


def moment_of(value: str | None) -> Moment | None:
    try:
        return Moment(value) if value else None
    except ValueError:
        return None


def question_due(session: Session, resident_id: str) -> bool:
    """Ask now? When the resident has not answered and was not asked in the last day; marks
    the question asked when it is."""
    if not consent_notice_due(session=session, resident_id=resident_id):
        return False
    mark_consent_asked(session=session, resident_id=resident_id)
    return True


def ask(dispatcher: CollectingDispatcher, moment: Moment) -> None:
    """The question of `moment` as one bubble with its three buttons."""
    dispatcher.utter_message(text=QUESTIONS[moment], buttons=consent_buttons(moment))


def progress_hint(*, kept: bool) -> str:
    """How to come back to a walkthrough or lesson left half-way: any time when it is kept,
    else within this session (README "Privacy")."""
    if kept:
        return 'Khi nào muốn làm tiếp, anh/chị nhắn "tiếp tục" là em đưa về đúng chỗ đang dở ạ.'
    return 'Trong buổi này, anh/chị nhắn "tiếp tục" là em đưa về đúng chỗ đang dở ạ.'
