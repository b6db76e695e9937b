"""FakeTelegram driven by python-telegram-bot 22 (as the gateway uses it) and by raw HTTP, to
pin the Bot API wire format: answers, error shapes, long polling, webhooks, files, forum
topics, callback queries and the flood limits."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import TOPIC_COLORS, FakeTelegram, RateLimits

JSON = dict[str, Any]
OTHER_TOKEN = "7000000002:AAOtherTokenForTests_0123456789-abcd"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def ptb_bot(tg: FakeTelegram) -> Bot:
    """A python-telegram-bot Bot configured the way the gateway configures it."""
    return Bot(tg.token, base_url=f"{tg.base_url}/bot", base_file_url=f"{tg.base_url}/file/bot")


@functools.cache
def http() -> httpx.Client:
    """One client for the whole module (making one costs tens of milliseconds)."""
    return httpx.Client(timeout=10)


def call(tg: FakeTelegram, method: str, **params: Any) -> httpx.Response:
    """A raw Bot API call with a JSON body."""
    return http().post(f"{tg.api_url}/{method}", json=params)


def keyboard(*data: str) -> JSON:
    return {"inline_keyboard": [[{"text": f"nút {d}", "callback_data": d} for d in data]]}


def started_user(tg: FakeTelegram, name: str = "Lan") -> JSON:
    user = tg.user(name)
    tg.private_chat(user)
    return user


# --------------------------------------------------------------------------- wire format


def test_errors_have_the_shape_and_status_of_the_real_server(tg: FakeTelegram) -> None:
    wrong = http().post(f"{tg.base_url}/bot{OTHER_TOKEN}/getMe")
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    malformed = http().post(f"{tg.base_url}/bot123:abc/getMe")
    assert (malformed.status_code, malformed.json()["description"]) == (404, "Not Found")
    unknown = call(tg, "sendTelepathy")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    no_chat = call(tg, "SENDMESSAGE", chat_id=42, text="xin chào")  # names are case-insensitive
    assert (no_chat.status_code, no_chat.json()) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    stranger = tg.user("Hùng")
    not_started = call(tg, "sendMessage", chat_id=stranger["id"], text="chào")
    assert (not_started.status_code, not_started.json()["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )


def test_file_downloads(tg: FakeTelegram) -> None:
    user = tg.user("Lan")
    photo = tg.user_photo(user, b"jpeg bytes")["photo"][-1]
    file = call(tg, "getFile", file_id=photo["file_id"]).json()["result"]
    assert file == {
        "file_id": photo["file_id"],
        "file_unique_id": photo["file_unique_id"],
        "file_size": 10,
        "file_path": "photos/file_1.jpg",
    }
    download = http().get(f"{tg.base_url}/file/bot{tg.token}/{file['file_path']}")
    assert (download.status_code, download.content) == (200, b"jpeg bytes")
    missing = http().get(f"{tg.base_url}/file/bot{tg.token}/photos/nothing.jpg")
    assert (missing.status_code, missing.json()["description"]) == (404, "Not Found")
    wrong_token = http().get(f"{tg.base_url}/file/bot{OTHER_TOKEN}/{file['file_path']}")
    assert wrong_token.status_code == 401
    unknown = call(tg, "getFile", file_id="AgACAgIAAxkBAAIxyz")
    assert unknown.json()["description"] == "Bad Request: invalid file_id"


def test_text_limits(tg: FakeTelegram) -> None:
    user = started_user(tg)
    longest = call(tg, "sendMessage", chat_id=user["id"], text="ạ" * 4096)
    assert longest.status_code == 200
    assert longest.json()["result"]["text"] == "ạ" * 4096
    too_long = call(tg, "sendMessage", chat_id=user["id"], text="ạ" * 4097)
    assert too_long.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }
    empty = call(tg, "sendMessage", chat_id=user["id"], text="  ")
    assert empty.json()["description"] == "Bad Request: message text is empty"


def test_parameters_as_query_json_form_and_multipart(tg: FakeTelegram) -> None:
    user = started_user(tg)
    as_query = http().get(f"{tg.api_url}/sendMessage", params={"chat_id": user["id"], "text": "1"})
    as_json = call(tg, "sendMessage", chat_id=user["id"], text="2", reply_markup=keyboard("a"))
    as_form = http().post(
        f"{tg.api_url}/sendMessage",
        data={"chat_id": str(user["id"]), "text": "3", "reply_markup": json.dumps(keyboard("b"))},
    )
    as_multipart = http().post(
        f"{tg.api_url}/sendDocument",
        data={"chat_id": str(user["id"]), "caption": "Tờ khai"},
        files={"document": ("to-khai.pdf", b"%PDF-1.4 fake", "application/pdf")},
    )
    assert [r.json()["result"].get("text") for r in (as_query, as_json, as_form)] == ["1", "2", "3"]
    assert as_json.json()["result"]["reply_markup"] == keyboard("a")
    assert as_form.json()["result"]["reply_markup"] == keyboard("b")
    document = as_multipart.json()["result"]["document"]
    assert document["file_name"] == "to-khai.pdf"
    assert document["mime_type"] == "application/pdf"
    assert as_multipart.json()["result"]["caption"] == "Tờ khai"
    assert tg.file_bytes(document["file_id"]) == b"%PDF-1.4 fake"
    assert [m["method"] for m in tg.sent(chat_id=user["id"])] == ["sendMessage"] * 3 + [
        "sendDocument"
    ]


def test_callback_data_must_be_1_to_64_bytes(tg: FakeTelegram) -> None:
    user = started_user(tg)
    fits = call(tg, "sendMessage", chat_id=user["id"], text="?", reply_markup=keyboard("đ" * 32))
    assert fits.status_code == 200
    too_long = call(
        tg, "sendMessage", chat_id=user["id"], text="?", reply_markup=keyboard("đ" * 33)
    )
    assert (too_long.status_code, too_long.json()["description"]) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )
    text_only = {"inline_keyboard": [[{"text": "chỉ có chữ"}]]}
    rejected = call(tg, "sendMessage", chat_id=user["id"], text="?", reply_markup=text_only)
    assert rejected.status_code == 400
    assert "Text buttons are unallowed" in rejected.json()["description"]
    assert len(tg.sent()) == 1


async def test_ptb_sees_callback_data_errors_as_bad_request(tg: FakeTelegram) -> None:
    user = started_user(tg)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="x" * 65)]])
    async with ptb_bot(tg) as bot:
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(user["id"], "Đồng ý?", reply_markup=markup)


def test_html_parse_mode_gives_plain_text_and_utf16_entities(tg: FakeTelegram) -> None:
    user = started_user(tg)
    sent = call(
        tg,
        "sendMessage",
        chat_id=user["id"],
        text='😀 <b>đậm</b> &lt;3 <a href="https://dichvucong.gov.vn">DVC</a>',
        parse_mode="HTML",
    ).json()["result"]
    assert sent["text"] == "😀 đậm <3 DVC"
    assert sent["entities"] == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "text_link", "url": "https://dichvucong.gov.vn", "offset": 10, "length": 3},
    ]
    unsupported = call(
        tg, "sendMessage", chat_id=user["id"], text="<div>x</div>", parse_mode="HTML"
    )
    assert unsupported.json()["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "div"'
    )
    bare = call(tg, "sendMessage", chat_id=user["id"], text="1 < 2", parse_mode="HTML")
    assert bare.status_code == 400


# --------------------------------------------------------------------------- updates


def test_long_poll_answers_as_soon_as_an_update_is_queued(tg: FakeTelegram) -> None:
    user = tg.user("Lan")
    threading.Timer(0.3, tg.user_text, args=(user, "cho hỏi làm căn cước")).start()
    started = time.monotonic()
    answer = call(tg, "getUpdates", timeout=5).json()
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 2
    [update] = answer["result"]
    assert update["message"]["text"] == "cho hỏi làm căn cước"
    assert update["message"]["chat"] == {"id": user["id"], "type": "private", "first_name": "Lan"}
    assert isinstance(update["message"]["date"], int)
    again = call(tg, "getUpdates", timeout=0).json()["result"]
    assert [u["update_id"] for u in again] == [update["update_id"]]  # not confirmed yet
    confirmed = call(tg, "getUpdates", offset=update["update_id"] + 1, timeout=0).json()
    assert confirmed == {"ok": True, "result": []}
    assert tg.pending_updates() == []


def test_negative_offset_and_limit(tg: FakeTelegram) -> None:
    user = tg.user("Lan")
    for text in ("một", "hai", "ba"):
        tg.user_text(user, text)
    first_two = call(tg, "getUpdates", limit=2).json()["result"]
    assert [u["message"]["text"] for u in first_two] == ["một", "hai"]
    last = call(tg, "getUpdates", offset=-1).json()["result"]
    assert [u["message"]["text"] for u in last] == ["ba"]
    assert len(tg.pending_updates()) == 1
    dropped = call(tg, "deleteWebhook", drop_pending_updates=True).json()
    assert dropped == {"ok": True, "result": True, "description": "Webhook is already deleted"}
    assert tg.pending_updates() == []


def test_a_newer_get_updates_ends_a_waiting_one(tg: FakeTelegram) -> None:
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(call(tg, "getUpdates", timeout=5)))
    waiting.start()
    time.sleep(0.2)
    assert call(tg, "getUpdates", timeout=0).json() == {"ok": True, "result": []}
    waiting.join(timeout=2)
    assert (answers[0].status_code, answers[0].json()["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


class WebhookReceiver:
    """A tiny HTTP server standing in for the gateway's webhook endpoint."""

    def __init__(self) -> None:
        self.received: list[tuple[JSON, str | None]] = []
        self.statuses: list[int] = []  # answered in turn, then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
                receiver.received.append((json.loads(body), secret))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/telegram"

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"received only {self.received}"
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_webhook_mode(tg: FakeTelegram, receiver: WebhookReceiver) -> None:
    set_answer = call(tg, "setWebhook", url=receiver.url, secret_token="s3cret_TOKEN-1")
    assert set_answer.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    polled = call(tg, "getUpdates")
    assert (polled.status_code, polled.json()) == (
        409,
        {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        },
    )
    user = tg.user("Lan")
    message = tg.user_text(user, "xin chào")
    receiver.wait_for(1)
    update, secret = receiver.received[0]
    assert secret == "s3cret_TOKEN-1"
    assert update["message"] == message
    info = call(tg, "getWebhookInfo").json()["result"]
    assert info["url"] == receiver.url
    assert info["pending_update_count"] == 0
    assert tg.webhook_deliveries() == [{"update_id": update["update_id"], "status": 200}]
    bad_secret = call(tg, "setWebhook", url=receiver.url, secret_token="có dấu")
    assert bad_secret.json()["description"] == (
        "Bad Request: secret token contains unallowed characters"
    )
    deleted = call(tg, "deleteWebhook").json()
    assert deleted["description"] == "Webhook was deleted"
    assert call(tg, "getUpdates").json() == {"ok": True, "result": []}


def test_failed_webhook_deliveries_are_retried_in_order(receiver: WebhookReceiver) -> None:
    with FakeTelegram(auto_webhook=False) as tg:
        assert call(tg, "setWebhook", url=receiver.url).status_code == 200
        user = tg.user("Lan")
        first = tg.user_text(user, "một")
        tg.user_text(user, "hai")
        receiver.statuses = [500]
        assert tg.deliver_webhook() == [500]
        info = tg.webhook_info()
        assert info["pending_update_count"] == 2
        assert (
            info["last_error_message"]
            == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert tg.deliver_webhook() == [200, 200]
        texts = [update["message"]["text"] for update, _ in receiver.received]
        assert texts == ["một", "một", "hai"]
        assert receiver.received[0][0]["message"]["message_id"] == first["message_id"]
        assert receiver.received[0][1] is None  # no secret token set, no header
        assert tg.pending_updates() == []


# --------------------------------------------------------------------------- python-telegram-bot


async def test_ptb_polling_application_echoes_commands_and_buttons(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"start {' '.join(context.args or [])}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
        await message.reply_text(f"echo: {message.text}", reply_markup=markup)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Đã nhận")
        await query.edit_message_text(f"pressed {query.data}")

    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(f"{tg.base_url}/bot")
        .base_file_url(f"{tg.base_url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        try:
            lan = tg.user("Lan")
            tg.user_command(lan, "start", "ma_xa_123")
            await tg.wait_for_async(lambda m: m.get("text") == "start ma_xa_123")
            tg.user_text(lan, "xin chào")
            reply = await tg.wait_for_async(lambda m: m.get("text") == "echo: xin chào")
            query = tg.press(lan, reply, data="yes")
            edited = await tg.wait_for_async(lambda m: m.get("text") == "pressed yes")
        finally:
            await app.updater.stop()
            await app.stop()
    assert edited["message_id"] == reply["message_id"]
    assert "reply_markup" not in edited  # editMessageText without a keyboard drops it
    assert tg.answered_callbacks() == [
        {
            "callback_query_id": query["id"],
            "text": "Đã nhận",
            "show_alert": False,
            "url": None,
            "cache_time": 0,
        }
    ]
    assert [m["method"] for m in tg.sent(chat_id=lan["id"])] == ["sendMessage", "sendMessage"]
    assert tg.pending_updates() == []  # PTB confirmed every update on the way out


async def test_ptb_replies_inside_a_forum_topic(tg: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("đã nhận")

    desk = tg.forum_group("Tổ CNS xã Tân Hòa")
    app = ApplicationBuilder().token(tg.token).base_url(f"{tg.base_url}/bot").build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        topic = await app.bot.create_forum_topic(desk["id"], "Phiếu #12 · Lan")
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        try:
            volunteer = tg.user("Minh")
            tg.user_text(volunteer, "để tôi nhận", chat=desk, thread_id=topic.message_thread_id)
            await tg.wait_for_async(lambda m: m.get("text") == "đã nhận")
        finally:
            await app.updater.stop()
            await app.stop()
    [reply] = tg.sent(chat_id=desk["id"], thread_id=topic.message_thread_id)
    assert reply["is_topic_message"] is True
    assert reply["reply_to_message"]["text"] == "để tôi nhận"  # PTB quotes in groups


async def test_ptb_get_me_and_get_chat(tg: FakeTelegram) -> None:
    desk = tg.forum_group("Tổ CNS")
    async with ptb_bot(tg) as bot:
        me = await bot.get_me()
        chat = await bot.get_chat(desk["id"])
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.get_chat(-1)
    assert (me.id, me.username, me.is_bot) == (tg.bot["id"], "cns_helpdesk_bot", True)
    assert (chat.id, chat.type, chat.title, chat.is_forum) == (
        desk["id"],
        "supergroup",
        "Tổ CNS",
        True,
    )


async def test_forum_topics(tg: FakeTelegram) -> None:
    desk = tg.forum_group("Tổ CNS xã Tân Hòa")
    plain = tg.group("Nhóm thường")
    async with ptb_bot(tg) as bot:
        topic = await bot.create_forum_topic(desk["id"], "Phiếu #7")
        sent = await bot.send_message(
            desk["id"], "Có phiếu mới", message_thread_id=topic.message_thread_id
        )
        await bot.edit_forum_topic(desk["id"], topic.message_thread_id, name="Phiếu #7 (đã nhận)")
        await bot.close_forum_topic(desk["id"], topic.message_thread_id)
        with pytest.raises(BadRequest, match="Topic_not_modified"):
            await bot.close_forum_topic(desk["id"], topic.message_thread_id)
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(desk["id"], "?", message_thread_id=topic.message_thread_id + 99)
    assert (topic.name, topic.icon_color) == ("Phiếu #7", TOPIC_COLORS[0])
    assert (sent.message_thread_id, sent.is_topic_message) == (topic.message_thread_id, True)
    assert tg.topics(desk) == [
        {
            "message_thread_id": topic.message_thread_id,
            "name": "Phiếu #7 (đã nhận)",
            "icon_color": TOPIC_COLORS[0],
            "is_closed": True,
        }
    ]
    not_forum = call(tg, "createForumTopic", chat_id=plain["id"], name="x")
    assert (not_forum.status_code, not_forum.json()["description"]) == (
        400,
        "Bad Request: the chat is not a forum",
    )
    [only] = tg.sent(chat_id=desk["id"], thread_id=topic.message_thread_id)
    assert only["text"] == "Có phiếu mới"
    assert only["reply_to_message"]["forum_topic_created"]["name"] == "Phiếu #7"


def test_user_messages_in_a_topic_carry_the_thread(tg: FakeTelegram) -> None:
    desk = tg.forum_group("Tổ CNS")
    created = call(tg, "createForumTopic", chat_id=desk["id"], name="Phiếu #1").json()
    thread_id = created["result"]["message_thread_id"]
    volunteer = tg.user("Minh", username="minh_cns")
    tg.user_command(volunteer, "nhan", chat=desk, thread_id=thread_id, mention=True)
    [update] = call(tg, "getUpdates").json()["result"]
    message = update["message"]
    assert (message["message_thread_id"], message["is_topic_message"]) == (thread_id, True)
    assert message["text"] == "/nhan@cns_helpdesk_bot"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 22}]
    assert message["from"]["username"] == "minh_cns"
    call(tg, "closeForumTopic", chat_id=desk["id"], message_thread_id=thread_id)
    with pytest.raises(ValueError, match="closed"):
        tg.user_text(volunteer, "còn ai không?", chat=desk, thread_id=thread_id)


async def test_files_upload_get_file_and_download(tg: FakeTelegram) -> None:
    user = started_user(tg)
    photo = tg.user_photo(user, b"\xff\xd8 a residence form", caption="giấy tờ")
    voice_file = tg.user_voice(user, b"OggS voice")["voice"]["file_id"]
    document = tg.user_document(user, b"%PDF fake", "don-xin.pdf")["document"]
    async with ptb_bot(tg) as bot:
        file = await bot.get_file(photo["photo"][-1]["file_id"])
        downloaded = await file.download_as_bytearray()
        uploaded = await bot.send_voice(user["id"], b"OggS reply", duration=2)
        reused = await bot.send_document(user["id"], document["file_id"])
        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await bot.send_photo(user["id"], "not-a-file-id")
        with pytest.raises(BadRequest, match="Can't use file of type voice as photo"):
            await bot.send_photo(user["id"], voice_file)
    assert bytes(downloaded) == b"\xff\xd8 a residence form"
    assert file.file_path == f"{tg.base_url}/file/bot{tg.token}/photos/file_1.jpg"
    voice = tg.sent(method="sendVoice")[0]["voice"]
    assert (voice["duration"], voice["mime_type"]) == (2, "audio/ogg")
    assert uploaded.voice is not None
    assert uploaded.voice.file_id == voice["file_id"]
    assert tg.file_bytes(voice["file_id"]) == b"OggS reply"
    assert reused.document is not None
    assert (reused.document.file_name, reused.document.mime_type) == (
        "don-xin.pdf",
        "application/pdf",
    )


async def test_copy_forward_location_action_and_commands(tg: FakeTelegram) -> None:
    user = started_user(tg)
    desk = tg.forum_group("Tổ CNS")
    photo = tg.user_photo(user, caption="CCCD bị mờ")
    location = tg.user_location(user, 10.7769, 106.7009)
    async with ptb_bot(tg) as bot:
        copied = await bot.copy_message(desk["id"], user["id"], photo["message_id"])
        forwarded = await bot.forward_message(desk["id"], user["id"], location["message_id"])
        await bot.send_location(user["id"], 21.0285, 105.8542)
        await bot.send_chat_action(user["id"], "typing")
        with pytest.raises(BadRequest, match="Message to copy not found"):
            await bot.copy_message(desk["id"], user["id"], 999)
        await bot.set_my_commands([("start", "Bắt đầu"), ("xoa_du_lieu", "Xóa dữ liệu của tôi")])
        commands = await bot.get_my_commands()
    [copy] = tg.sent(chat_id=desk["id"], method="copyMessage")
    assert copy["message_id"] == copied.message_id
    assert (copy["photo"], copy["caption"]) == (photo["photo"], "CCCD bị mờ")
    assert "forward_origin" not in copy
    assert forwarded.location is not None
    assert forwarded.location.latitude == pytest.approx(10.7769)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == user["id"]  # type: ignore[attr-defined]
    assert tg.sent(chat_id=user["id"])[0]["location"] == {
        "latitude": 21.0285,
        "longitude": 105.8542,
    }
    [action] = tg.calls("sendChatAction")
    assert action["params"] == {"chat_id": user["id"], "action": "typing"}
    assert [c.command for c in commands] == ["start", "xoa_du_lieu"]


def test_callback_queries_are_answered_once(tg: FakeTelegram) -> None:
    user = started_user(tg)
    message = call(tg, "sendMessage", chat_id=user["id"], text="?", reply_markup=keyboard("ok"))
    sent = message.json()["result"]
    with pytest.raises(ValueError, match="no callback button"):
        tg.press(user, sent, data="missing")
    query = tg.press(user, sent, text="nút ok")
    [update] = call(tg, "getUpdates").json()["result"]
    assert update["callback_query"] == query
    assert (query["data"], query["message"]["message_id"]) == ("ok", sent["message_id"])
    answered = call(tg, "answerCallbackQuery", callback_query_id=query["id"], text="xong")
    assert answered.json() == {"ok": True, "result": True}
    again = call(tg, "answerCallbackQuery", callback_query_id=query["id"])
    assert (again.status_code, again.json()["description"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert [a["text"] for a in tg.answered_callbacks()] == ["xong"]


def test_edits(tg: FakeTelegram) -> None:
    user = started_user(tg)
    sent = call(tg, "sendMessage", chat_id=user["id"], text="Bước 1", reply_markup=keyboard("next"))
    key = {"chat_id": user["id"], "message_id": sent.json()["result"]["message_id"]}
    same = call(tg, "editMessageText", **key, text="Bước 1", reply_markup=keyboard("next"))
    assert same.json()["description"].startswith("Bad Request: message is not modified")
    edited = call(tg, "editMessageText", **key, text="Bước 2").json()["result"]
    assert (edited["text"], "reply_markup" in edited) == ("Bước 2", False)
    assert isinstance(edited["edit_date"], int)
    markup = call(tg, "editMessageReplyMarkup", **key, reply_markup=keyboard("x")).json()
    assert markup["result"]["reply_markup"] == keyboard("x")
    [now] = tg.sent(chat_id=user["id"])
    assert (now["text"], now["reply_markup"]) == ("Bước 2", keyboard("x"))
    missing = call(tg, "editMessageText", chat_id=user["id"], message_id=99, text="x")
    assert missing.json()["description"] == "Bad Request: message to edit not found"


def test_blocked_user(tg: FakeTelegram) -> None:
    user = started_user(tg)
    tg.block_bot(user)
    blocked = call(tg, "sendMessage", chat_id=user["id"], text="chào")
    assert (blocked.status_code, blocked.json()["description"]) == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    tg.user_text(user, "tôi quay lại")  # writing again unblocks
    assert call(tg, "sendMessage", chat_id=user["id"], text="chào").status_code == 200


async def test_injected_failures_reach_ptb(tg: FakeTelegram) -> None:
    user = started_user(tg)
    tg.fail_next("sendMessage", 502, "Bad Gateway")
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    async with ptb_bot(tg) as bot:
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(user["id"], "một")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(user["id"], "hai")
        await bot.send_message(user["id"], "ba")
    assert "Retry in 7 seconds" in str(caught.value)
    assert tg.rate_limited_count == 1
    assert [m["text"] for m in tg.sent()] == ["ba"]


def test_wait_for_reports_what_was_sent(tg: FakeTelegram) -> None:
    user = started_user(tg)
    call(tg, "sendMessage", chat_id=user["id"], text="Chào bạn")
    with pytest.raises(AssertionError, match="Chào bạn"):
        tg.wait_for(lambda m: m.get("text") == "Tạm biệt", timeout=0.1)
    assert tg.wait_for(lambda m: "Chào" in m.get("text", ""))["method"] == "sendMessage"


# --------------------------------------------------------------------------- flood limits


def test_flood_limits_per_private_chat_and_per_group() -> None:
    with FakeTelegram(enforce_limits=True) as tg:
        user = started_user(tg)
        assert call(tg, "sendMessage", chat_id=user["id"], text="1").status_code == 200
        second = call(tg, "sendMessage", chat_id=user["id"], text="2")
        assert (second.status_code, second.json()) == (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
        desk = tg.forum_group("Tổ CNS")
        topics = [
            call(tg, "createForumTopic", chat_id=desk["id"], name=f"Phiếu {n}").json()["result"]
            for n in (1, 2)
        ]
        for n in range(20):  # both topics share the group's 20 a minute
            thread_id = topics[n % 2]["message_thread_id"]
            answer = call(
                tg, "sendMessage", chat_id=desk["id"], text=str(n), message_thread_id=thread_id
            )
            assert answer.status_code == 200, answer.json()
        invalid = call(tg, "sendPhoto", chat_id=desk["id"], photo="no-such-file-id")
        assert invalid.status_code == 400  # content errors come first and do not count
        limited = call(tg, "sendMessage", chat_id=desk["id"], text="21")
        assert limited.status_code == 429
        assert 1 <= limited.json()["parameters"]["retry_after"] <= 60
        assert tg.rate_limited_count == 2
        assert len(tg.sent(chat_id=desk["id"])) == 20


async def test_flood_limit_overall_reaches_ptb_as_retry_after() -> None:
    with FakeTelegram(enforce_limits=True, limits=RateLimits(global_per_second=3)) as tg:
        users = [started_user(tg, f"Người {n}") for n in range(4)]
        async with ptb_bot(tg) as bot:
            for user in users[:3]:
                await bot.send_message(user["id"], "chào")
            with pytest.raises(RetryAfter):
                await bot.send_message(users[3]["id"], "chào")
        assert tg.rate_limited_count == 1


def test_on_send_sees_every_message_the_bot_sends() -> None:
    seen: list[tuple[str, int, str]] = []
    with FakeTelegram(
        on_send=lambda method, m: seen.append((method, m["chat"]["id"], m["text"]))
    ) as fake:
        user = started_user(fake)
        call(fake, "sendMessage", chat_id=user["id"], text="Chào bác", reply_markup=keyboard("/a"))
        call(fake, "sendMessage", chat_id=user["id"], text="")  # refused: not sent, not seen
    assert seen == [("sendMessage", user["id"], "Chào bác")]
