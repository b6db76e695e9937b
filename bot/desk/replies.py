"""What the gateway itself tells residents about a handoff (short, polite, one idea each)."""

from __future__ import annotations

import json

from bot.messages import Button, OutboundMessage
from core.models import MAX_ID

CANCEL_PAYLOAD = "/cancel_handoff"
RATE_PREFIX = "/csat"
CANCEL_BUTTON = Button("Thôi, không cần nữa", CANCEL_PAYLOAD)


def rate_payload(ticket_id: int, score: int) -> str:
    return f'{RATE_PREFIX}{{"ticket":{ticket_id},"score":{score}}}'


def parse_rating(text: str) -> tuple[int, int] | None:
    """(ticket, score) from a rating button's payload; None for anything else a resident may
    type after "/csat" (not JSON, nested too deep, numbers that are no ticket or score)."""
    if not text.startswith(RATE_PREFIX + "{"):
        return None
    try:
        data = json.loads(text[len(RATE_PREFIX) :])
        ticket, score = data["ticket"], data["score"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if type(ticket) is not int or type(score) is not int:  # not 1.5, "2", true or 1e400
        return None
    return (ticket, score) if 1 <= ticket <= MAX_ID and 1 <= score <= 5 else None


def queued(team: str, position: int, wait_minutes: int) -> list[OutboundMessage]:
    return [
        OutboundMessage(f"Dạ, em đã báo {team}. Người hỗ trợ sẽ nhắn cho bác ngay tại đây ạ."),
        OutboundMessage(
            f"Bác đang ở lượt thứ {position}, thường phải chờ khoảng {wait_minutes} phút. "
            "Trong lúc chờ, bác cứ nhắn thêm chi tiết, người hỗ trợ sẽ đọc được ạ.",
            (CANCEL_BUTTON,),
        ),
    ]


def queued_after_hours(team: str, opening: str) -> list[OutboundMessage]:
    return [
        OutboundMessage(f"Dạ, em đã báo {team}, nhưng bây giờ đang ngoài giờ hỗ trợ ạ."),
        OutboundMessage(
            f"Khoảng {opening} sẽ có người nhắn lại cho bác. "
            "Bác cứ để lại chi tiết việc cần làm ở đây, người hỗ trợ sẽ đọc được ạ.",
            (CANCEL_BUTTON,),
        ),
    ]


def nobody_to_take(place: str, *, urgent: bool) -> list[OutboundMessage]:
    """No volunteer can take a request from this commune here yet: say so, and where to go."""
    messages = [
        OutboundMessage(
            f"Dạ, em xin lỗi bác, Tổ công nghệ số {place} chưa nhận hỗ trợ qua tin nhắn ở đây, "
            "nên em chưa báo được cho ai ạ."
        ),
        OutboundMessage(
            f"Bác có thể đến Trung tâm phục vụ hành chính công {place} để được hướng dẫn trực "
            "tiếp ạ. Em vẫn ở đây, bác cần gì cứ nhắn em nhé."
        ),
    ]
    if urgent:
        messages.insert(
            1,
            OutboundMessage(
                "Nếu đang bị lừa đảo, bác gọi ngay tổng đài ngân hàng để khóa tài khoản, rồi báo "
                "Công an xã, phường nơi mình ở hoặc gọi 113 ạ."
            ),
        )
    return messages


def still_waiting(position: int, wait_minutes: int) -> list[OutboundMessage]:
    return [
        OutboundMessage(
            f"Dạ, em đã chuyển tin của bác cho người hỗ trợ. Bác đang ở lượt thứ {position}, "
            f"chờ thêm khoảng {wait_minutes} phút nữa nhé ạ.",
            (CANCEL_BUTTON,),
        )
    ]


TEAM_BUSY = OutboundMessage(
    "Dạ, lúc này Tổ công nghệ số đang có rất nhiều người chờ nên chưa nhận thêm yêu cầu mới "
    "được ạ. Bác vui lòng nhắn lại sau một lúc nữa, hoặc đến bộ phận một cửa của xã, phường ạ."
)


def claimed(volunteer: str) -> OutboundMessage:
    return OutboundMessage(
        f"Dạ, {volunteer} ở Tổ công nghệ số đã nhận hỗ trợ bác. Bác nhắn trực tiếp ở đây nhé ạ."
    )


def resumed(ticket_id: int, *, returned_to_bot: bool) -> list[OutboundMessage]:
    first = (
        "Dạ, người hỗ trợ đã chuyển bác lại cho em, trợ lý tự động ạ."
        if returned_to_bot
        else "Dạ, người hỗ trợ đã xong phần việc với bác ạ."
    )
    return [
        OutboundMessage(first),
        OutboundMessage(
            "Bác chấm điểm giúp em buổi hỗ trợ vừa rồi nhé (1 là chưa tốt, 5 là rất tốt).",
            tuple(Button(str(score), rate_payload(ticket_id, score)) for score in range(1, 6)),
        ),
        OutboundMessage("Dạ, bác còn cần hỗ trợ gì nữa không ạ?"),
    ]


THANKS_FOR_RATING = OutboundMessage("Dạ, em cảm ơn bác đã chấm điểm ạ.")
CANCELLED = OutboundMessage("Dạ, em đã huỷ yêu cầu gặp người hỗ trợ. Bác cần gì cứ nhắn em nhé ạ.")
NOTHING_TO_CANCEL = OutboundMessage("Dạ, bác hiện không có yêu cầu nào đang chờ ạ.")


def expired(place: str) -> list[OutboundMessage]:
    return [
        OutboundMessage(
            "Dạ, em xin lỗi bác, lâu quá mà chưa có người hỗ trợ nhận được yêu cầu của bác."
        ),
        OutboundMessage(
            f"Bác có thể đến Trung tâm phục vụ hành chính công {place} để được hướng dẫn "
            'trực tiếp, hoặc nhắn lại "gặp người hỗ trợ" để em báo thêm lần nữa ạ.'
        ),
    ]
