"""The Telegram channel between a stand-in of the Bot API and a stand-in of the assistant.

The channel's blueprint runs in a real Sanic server on loopback, mounted the way Rasa
mounts input channels; its ``telegram.Bot`` sends real HTTP requests to a small aiohttp
server that answers like the Bot API and records each call. Rasa is not started: the
agent is a stub that records what reaches it and answers through the output channel.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from pydantic import SecretStr, ValidationError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.channel import register as register_channels
from sanic import Sanic
from telegram import Update

from channels.settings import TelegramSettings
from channels.telegram import (
    EDITED,
    MAX_CALLBACK_DATA,
    SECRET_HEADER,
    STALE_BUTTON,
    TEXT_ONLY,
    UNKNOWN_COMMAND,
    CallbackPayloads,
    TelegramInput,
    split_text,
)
from channels.telegram_polling import UpdateForwarder, local_webhook_url
from channels.telegram_webhook import register as register_webhook
from channels.text import EMPTY_MESSAGE, MESSAGE_TOO_LONG
from tests.telegram_api import BotApi, application, photo

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cr3t-webhook_token-0123456789"
CHAT = 987654321
WEBHOOK = "/webhooks/telegram/webhook"


# --- the Bot API stand-in ---------------------------------------------------------------


@pytest.fixture
async def bot_api() -> AsyncIterator[BotApi]:
    api = BotApi()
    runner = web.AppRunner(application(api))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api.base_url = f"http://127.0.0.1:{port}/bot"
    yield api
    await runner.cleanup()


# --- the assistant stand-in and the Rasa server ------------------------------------------


LONG_PAYLOAD = '/choose_service{"service": "bewohnerparkausweis-fuer-anwohnerinnen-und-anwohner"}'


@dataclass
class Assistant:
    """Records what reaches Rasa; answers some texts with canned bot messages."""

    received: list[UserMessage] = field(default_factory=list)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail: bool = False

    @property
    def texts(self) -> list[str]:
        return [message.text or "" for message in self.received]

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("the assistant is down")
        for answer in self.answers.get(message.text or "", [{"text": f"Echo: {message.text}"}]):
            await message.output_channel.send_response(message.sender_id, dict(answer))


def telegram_settings(**values: Any) -> TelegramSettings:
    values = {"bot_token": TOKEN, "webhook_secret": SECRET, **values}
    return TelegramSettings(_env_file=None, **values)


@dataclass
class Server:
    url: str
    channel: TelegramInput
    assistant: Assistant
    client: httpx.AsyncClient

    async def post(self, update: Any, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        content = update if isinstance(update, bytes) else json.dumps(update).encode()
        return await self.client.post(
            self.url + WEBHOOK,
            content=content,
            headers={**headers, "Content-Type": "application/json"},
        )


async def start_rasa_stand_in(channel: TelegramInput, assistant: Assistant) -> Any:
    Sanic.test_mode = True
    app = Sanic(f"govbot_telegram_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = assistant
    register_channels([channel], app, "/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True)
    await server.startup()
    await server.after_start()
    return server, sock.getsockname()[1]


@pytest.fixture
async def rasa(bot_api: BotApi) -> AsyncIterator[Server]:
    channel = TelegramInput(
        telegram_settings(api_base_url=bot_api.base_url), max_message_length=2000
    )
    assistant = Assistant()
    server, port = await start_rasa_stand_in(channel, assistant)
    async with httpx.AsyncClient(timeout=10) as client:
        yield Server(f"http://127.0.0.1:{port}", channel, assistant, client)
    await server.before_stop()
    await server.close()
    await server.after_stop()


# --- realistic updates, as Telegram sends them ------------------------------------------

_next_update = iter(range(500_000_000, 600_000_000))


def user() -> dict[str, Any]:
    return {"id": CHAT, "is_bot": False, "first_name": "Erika", "language_code": "de"}


def chat(kind: str = "private") -> dict[str, Any]:
    if kind == "private":
        return {"id": CHAT, "first_name": "Erika", "type": "private"}
    return {"id": -1001234567890, "title": "Nachbarschaft", "type": kind}


def message(chat_kind: str = "private", **content: Any) -> dict[str, Any]:
    return {
        "message_id": 4711,
        "from": user(),
        "chat": chat(chat_kind),
        "date": 1764669600,
        **content,
    }


def text_update(text: str, chat_kind: str = "private") -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        length = len(text.split()[0])
        content["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return {"update_id": next(_next_update), "message": message(chat_kind, **content)}


def callback_update(data: str, keyboard: list[list[dict[str, Any]]]) -> dict[str, Any]:
    bot_message = {
        "message_id": 4712,
        "from": {"id": 123456, "is_bot": True, "first_name": "GovBot", "username": "govbot"},
        "chat": chat(),
        "date": 1764669600,
        "text": "Welche Leistung meinen Sie?",
        "reply_markup": {"inline_keyboard": keyboard},
    }
    return {
        "update_id": next(_next_update),
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": user(),
            "message": bot_message,
            "chat_instance": "-7306157563465487213",
            "data": data,
        },
    }


# --- the webhook's door -------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-0123456789", SECRET + "x", SECRET[:-1]])
async def test_updates_without_the_secret_are_refused(
    rasa: Server, bot_api: BotApi, secret
) -> None:  # type: ignore[no-untyped-def]
    answer = await rasa.post(text_update("Hallo"), secret=secret)
    assert answer.status_code == 403
    assert rasa.assistant.received == []
    assert bot_api.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"{broken json",
        b"\xff\xfe not utf-8",
        b"[1, 2]",
        b'{"update_id": "1"}',
        b'{"message": {"text": "Hallo"}}',
        b'{"update_id": 1, "message": "Hallo"}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
async def test_bodies_that_are_no_update_get_a_400(rasa: Server, body: bytes) -> None:
    answer = await rasa.post(body)
    assert answer.status_code == 400
    assert rasa.assistant.received == []


async def test_the_channel_is_off_without_a_token(bot_api: BotApi) -> None:
    channel = TelegramInput(TelegramSettings(_env_file=None), max_message_length=2000)
    assistant = Assistant()
    server, port = await start_rasa_stand_in(channel, assistant)
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"http://127.0.0.1:{port}{WEBHOOK}",
                json=text_update("Hallo"),
                headers={SECRET_HEADER: SECRET},
            )
            health = await client.get(f"http://127.0.0.1:{port}/webhooks/telegram/")
    finally:
        await server.close()
    assert answer.status_code == 404
    assert health.json() == {"status": "off"}
    assert channel.get_output_channel() is None


@pytest.mark.parametrize(
    "secret", [None, "", "kurz", "x" * 15, "leer zeichen-0123456789", "ü" * 20]
)
def test_a_token_without_a_usable_secret_stops_the_start(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="CHANNELS_TELEGRAM_WEBHOOK_SECRET"):
        TelegramSettings(_env_file=None, bot_token=TOKEN, webhook_secret=secret)


def test_production_talks_to_the_bot_api_over_https_only() -> None:
    with pytest.raises(ValidationError, match="https"):
        telegram_settings(environment="production", api_base_url="http://127.0.0.1:8081/bot")
    assert telegram_settings(environment="production").enabled


def test_credentials_register_the_channel_with_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa.core.run import _create_single_channel

    from channels import settings

    credentials = yaml.safe_load((ROOT / "bot" / "credentials.yml").read_text())
    assert "channels.telegram.TelegramInput" in credentials
    assert not credentials["channels.telegram.TelegramInput"]  # no secrets in the file
    monkeypatch.setenv("CHANNELS_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CHANNELS_TELEGRAM_WEBHOOK_SECRET", SECRET)
    settings.get_telegram_settings.cache_clear()
    try:
        channel = _create_single_channel("channels.telegram.TelegramInput", None)
        assert isinstance(channel, TelegramInput)
        assert channel.settings.enabled
        assert channel.url_prefix() == "telegram"
        monkeypatch.setenv("CHANNELS_TELEGRAM_WEBHOOK_SECRET", "zu-kurz")
        settings.get_telegram_settings.cache_clear()
        with pytest.raises(ValidationError):
            _create_single_channel("channels.telegram.TelegramInput", None)
    finally:
        settings.get_telegram_settings.cache_clear()


# --- text messages --------------------------------------------------------------------------


async def test_a_text_message_reaches_the_assistant_and_the_answer_the_chat(
    rasa: Server, bot_api: BotApi
) -> None:
    answer = await rasa.post(text_update("  Wann hat das Bürgerbüro geöffnet?  "))
    assert answer.status_code == 200
    [received] = rasa.assistant.received
    assert received.text == "Wann hat das Bürgerbüro geöffnet?"
    assert received.sender_id == f"telegram-{CHAT}"  # a namespace of its own
    assert received.input_channel == "telegram"
    [sent] = bot_api.sent()
    assert sent["chat_id"] == str(CHAT)
    assert sent["text"] == "Echo: Wann hat das Bürgerbüro geöffnet?"
    assert "parse_mode" not in sent
    assert "reply_markup" not in sent
    assert bot_api.tokens == {TOKEN}


async def test_answers_are_plain_text_so_markup_in_them_stays_text(
    rasa: Server, bot_api: BotApi
) -> None:
    # Answers may repeat what a citizen typed (a form's summary): no parse mode at all.
    hostile = "<b>fett</b> & Co_KG *stern* [x](javascript:alert(1)) `code` \\ _kursiv_"
    await rasa.post(text_update(hostile))
    [sent] = bot_api.sent()
    assert sent["text"] == f"Echo: {hostile}"
    assert "parse_mode" not in sent
    assert "entities" not in sent


async def test_text_is_cleaned_and_limited_like_rest_messages(
    rasa: Server, bot_api: BotApi
) -> None:
    await rasa.post(text_update("Hal\u0000lo\u001b Bu\u0308rgerbu\u0308ro"))
    await rasa.post(text_update("\u0007\u0000"))
    await rasa.post(text_update("x" * 2001))
    assert rasa.assistant.texts == ["Hallo Bürgerbüro", EMPTY_MESSAGE, MESSAGE_TOO_LONG]


@pytest.mark.parametrize(
    ("command", "intent"),
    [
        ("/start", "/greet"),
        ("/start website-fusszeile", "/greet"),
        ("/start@govbot", "/greet"),
        ("/hilfe", "/help"),
        ("/HILFE", "/help"),
        ("/help", "/help"),
        ("/abbrechen", "/cancel"),
        ("/abbrechen@govbot bitte", "/cancel"),
    ],
)
async def test_commands_send_their_intent(rasa: Server, command: str, intent: str) -> None:
    await rasa.post(text_update(command))
    assert rasa.assistant.texts == [intent]


@pytest.mark.parametrize(
    "text", ["/affirm", '/inform{"service": "hundesteuer"}', "/empty_message", " /greet", "/"]
)
async def test_other_slash_texts_cannot_send_intents(
    rasa: Server, bot_api: BotApi, text: str
) -> None:
    await rasa.post(text_update(text))
    assert rasa.assistant.received == []
    assert bot_api.texts() == [UNKNOWN_COMMAND]


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"file_id": "CAACAgIAAxkBAAIBZ2", "file_unique_id": "AgADWQ", "type": "regular",
                     "width": 512, "height": 512, "is_animated": False, "is_video": False,
                     "emoji": "👍"}},
        {"photo": [photo("a"), photo("b")], "caption": "Mein Ausweis, geht der noch?"},
        {"voice": {"file_id": "AwACAgIAAxkB", "file_unique_id": "AgADd", "duration": 4,
                   "mime_type": "audio/ogg"}},
        {"document": {"file_id": "BQACAgIAAxkB", "file_unique_id": "AgADe",
                      "file_name": "antrag.pdf", "mime_type": "application/pdf"}},
        {"location": {"latitude": 51.5136, "longitude": 7.4653}},
    ],
    ids=["sticker", "photo", "voice", "document", "location"],
)  # fmt: skip
async def test_non_text_messages_get_a_polite_answer_without_the_assistant(
    rasa: Server, bot_api: BotApi, content: dict[str, Any]
) -> None:
    update = {"update_id": next(_next_update), "message": message(**content)}
    assert (await rasa.post(update)).status_code == 200
    assert rasa.assistant.received == []
    assert bot_api.texts() == [TEXT_ONLY]
    assert bot_api.sent()[0]["chat_id"] == str(CHAT)


async def test_edited_messages_are_answered_not_processed(rasa: Server, bot_api: BotApi) -> None:
    edited = {**message(text="Personalausweis"), "edit_date": 1764669700}
    await rasa.post({"update_id": next(_next_update), "edited_message": edited})
    assert rasa.assistant.received == []
    assert bot_api.texts() == [EDITED]


async def test_group_chats_are_not_conversations(rasa: Server, bot_api: BotApi) -> None:
    await rasa.post(text_update("Meine Adresse ist Lindenallee 12", chat_kind="supergroup"))
    await rasa.post(text_update("/start", chat_kind="group"))
    assert rasa.assistant.received == []
    assert len(bot_api.texts()) == 1  # only the command is answered, with a hint


async def test_an_update_sent_again_is_handled_once(rasa: Server) -> None:
    update = text_update("Hallo")
    assert (await rasa.post(update)).status_code == 200
    assert (await rasa.post(update)).status_code == 200
    assert rasa.assistant.texts == ["Hallo"]


async def test_other_update_kinds_are_accepted_and_ignored(rasa: Server, bot_api: BotApi) -> None:
    member = {
        "chat": chat(),
        "from": user(),
        "date": 1764669600,
        "old_chat_member": {"status": "member", "user": user()},
        "new_chat_member": {"status": "kicked", "user": user(), "until_date": 0},
    }
    answer = await rasa.post({"update_id": next(_next_update), "my_chat_member": member})
    assert answer.status_code == 200
    assert rasa.assistant.received == []
    assert bot_api.calls == []


# --- answers ------------------------------------------------------------------------------


async def test_buttons_become_an_inline_keyboard(rasa: Server, bot_api: BotApi) -> None:
    rasa.assistant.answers["Parkausweis"] = [
        {
            "text": "Welche Leistung meinen Sie?",
            "buttons": [
                {"title": "Bewohnerparkausweis", "payload": LONG_PAYLOAD},
                {"title": "Ja, genau", "payload": "/affirm"},
                {"title": "Online-Formular", "url": "https://service.musterstadt.example/f"},
            ],
        }
    ]
    await rasa.post(text_update("Parkausweis"))
    [sent] = bot_api.sent()
    assert sent["text"] == "Welche Leistung meinen Sie?"
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in rows] == [
        "Bewohnerparkausweis",
        "Ja, genau",
        "Online-Formular",
    ]
    assert rows[1][0]["callback_data"] == "/affirm"
    assert rows[2][0]["url"] == "https://service.musterstadt.example/f"
    long_data = rows[0][0]["callback_data"]
    assert len(long_data.encode()) <= MAX_CALLBACK_DATA < len(LONG_PAYLOAD.encode())

    # The citizen presses the button: Telegram sends the message with its keyboard back.
    await rasa.post(callback_update(long_data, rows))
    assert bot_api.sent("answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9"}]
    assert rasa.assistant.received[-1].text == LONG_PAYLOAD
    assert rasa.assistant.received[-1].sender_id == f"telegram-{CHAT}"


async def test_a_pressed_button_sends_its_payload(rasa: Server, bot_api: BotApi) -> None:
    keyboard = [[{"text": "Ja, genau", "callback_data": "/affirm"}]]
    assert (await rasa.post(callback_update("/affirm", keyboard))).status_code == 200
    assert rasa.assistant.texts == ["/affirm"]
    assert len(bot_api.sent("answerCallbackQuery")) == 1
    assert bot_api.texts() == ["Echo: /affirm"]


async def test_callback_data_that_no_button_carries_is_refused(
    rasa: Server, bot_api: BotApi
) -> None:
    # A modified client can send any callback data; only the message's own buttons count.
    keyboard = [[{"text": "Ja, genau", "callback_data": "/affirm"}]]
    await rasa.post(callback_update('/inform{"postal_code": "12345"}', keyboard))
    assert rasa.assistant.received == []
    assert len(bot_api.sent("answerCallbackQuery")) == 1
    assert bot_api.texts() == [STALE_BUTTON]


async def test_an_unknown_long_payload_key_sends_the_button_title(
    rasa: Server, bot_api: BotApi
) -> None:
    # After a restart, or on another Rasa instance, the table does not know the key.
    key = CallbackPayloads().data_for(LONG_PAYLOAD)
    keyboard = [[{"text": "Bewohnerparkausweis", "callback_data": key}]]
    await rasa.post(callback_update(key, keyboard))
    assert rasa.assistant.texts == ["Bewohnerparkausweis"]


def test_long_payloads_get_short_stable_keys() -> None:
    table = CallbackPayloads(capacity=2)
    assert table.data_for("/affirm") == "/affirm"
    umlauts = "/inform" + "ä" * 30  # 67 bytes in 37 characters
    key = table.data_for(umlauts)
    assert key.startswith("#") and len(key.encode()) <= 64
    assert key == CallbackPayloads().data_for(umlauts)
    assert table.payload_for(key) == umlauts
    assert table.payload_for(table.data_for("#kurz")) == "#kurz"
    table.data_for("/x" + "y" * 70)
    assert table.payload_for(key) is None  # the oldest entry made room
    assert table.payload_for("#unbekannt") is None


async def test_a_long_answer_is_sent_in_two_messages(rasa: Server, bot_api: BotApi) -> None:
    words = " ".join(f"Wort{i:04d}" for i in range(555))  # 4994 characters
    long_text = words[:2000] + "\n\n" + words[2000:]
    rasa.assistant.answers["lang"] = [
        {"text": long_text, "buttons": [{"title": "Weiter", "payload": "/affirm"}]}
    ]
    await rasa.post(text_update("lang"))
    first, second = bot_api.sent()
    assert len(first["text"]) <= 4096 and len(second["text"]) <= 4096
    assert first["text"] == words[:2000]
    assert second["text"] == words[2000:].strip()
    assert "reply_markup" not in first
    assert second["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/affirm"


def test_texts_are_split_at_paragraphs_lines_and_words() -> None:
    assert split_text("kurz") == ["kurz"]
    paragraphs = "a" * 30 + "\n\n" + "b" * 30 + "\n" + "c" * 30
    assert split_text(paragraphs, limit=70) == ["a" * 30, "b" * 30 + "\n" + "c" * 30]
    lines = "a" * 50 + "\n" + "b" * 30 + " " + "c" * 10
    assert split_text(lines, limit=70) == ["a" * 50, "b" * 30 + " " + "c" * 10]
    assert split_text("wort " * 20, limit=22) == ["wort wort wort wort"] * 5
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    # Telegram counts UTF-16 code units: an emoji is two.
    parts = split_text("😀" * 3000)
    assert [len(part) for part in parts] == [2048, 952]


async def test_images_and_custom_messages(rasa: Server, bot_api: BotApi) -> None:
    rasa.assistant.answers["Plan"] = [
        {"image": "https://www.musterstadt.example/lageplan.png"},
        {"custom": {"text": "Hier ist der Lageplan."}},
        {"custom": {"widget": "map"}},
    ]
    await rasa.post(text_update("Plan"))
    assert bot_api.sent("sendPhoto")[0]["photo"] == "https://www.musterstadt.example/lageplan.png"
    assert bot_api.texts() == ["Hier ist der Lageplan."]


async def test_failures_never_reach_telegram_as_errors(rasa: Server, bot_api: BotApi) -> None:
    rasa.assistant.fail = True
    assert (await rasa.post(text_update("Hallo"))).status_code == 200
    assert bot_api.texts() == ["Entschuldigung, da ist bei mir etwas schiefgegangen. "
                               "Bitte versuchen Sie es noch einmal."]  # fmt: skip
    rasa.assistant.fail = False
    bot_api.failing.add("sendMessage")  # e.g. the citizen deleted the chat
    assert (await rasa.post(text_update("Hallo"))).status_code == 200
    assert rasa.assistant.texts == ["Hallo", "Hallo"]


async def test_the_output_channel_serves_rasas_api(rasa: Server, bot_api: BotApi) -> None:
    # Rasa's /conversations/<id>/trigger_intent?output_channel=telegram answers through it.
    output = rasa.channel.get_output_channel()
    assert output is not None and output.name() == "telegram"
    await output.send_text_message(str(CHAT), "Ihr Antrag ist eingegangen.")
    assert bot_api.texts() == ["Ihr Antrag ist eingegangen."]


# --- polling and registration ------------------------------------------------------------


async def test_polling_forwards_updates_to_the_local_webhook(rasa: Server, bot_api: BotApi) -> None:
    # What PTB's getUpdates hands the forwarder, parsed from Telegram's JSON.
    update = Update.de_json(text_update("Hat das Standesamt offen?"), None)
    async with httpx.AsyncClient() as client:
        await UpdateForwarder(rasa.url + WEBHOOK, SECRET, client)(update)
        await UpdateForwarder(rasa.url + WEBHOOK, "falsch-0123456789", client)(update)
    assert rasa.assistant.texts == ["Hat das Standesamt offen?"]
    assert bot_api.texts() == ["Echo: Hat das Standesamt offen?"]


def test_polling_reaches_rasa_on_loopback() -> None:
    from channels.settings import ChannelSettings

    assert local_webhook_url(ChannelSettings(_env_file=None)) == (
        "http://127.0.0.1:5005/webhooks/telegram/webhook"
    )
    everywhere = ChannelSettings(_env_file=None, rasa_host="0.0.0.0", rasa_port=5006)  # noqa: S104
    assert local_webhook_url(everywhere) == "http://127.0.0.1:5006/webhooks/telegram/webhook"


async def test_the_webhook_is_registered_with_its_secret(bot_api: BotApi) -> None:
    url = "https://chat.musterstadt.example/webhooks/telegram/webhook"
    settings = telegram_settings(api_base_url=bot_api.base_url, webhook_url=url)
    assert url in await register_webhook(settings)
    [registered] = bot_api.sent("setWebhook")
    assert registered["url"] == url
    assert registered["secret_token"] == SECRET
    assert registered["allowed_updates"] == ["message", "edited_message", "callback_query"]
    [commands] = bot_api.sent("setMyCommands")
    assert [c["command"] for c in commands["commands"]] == ["start", "hilfe", "abbrechen"]


@pytest.mark.parametrize(
    "url", ["", "http://chat.musterstadt.example/webhooks/telegram/webhook", "https://x.example/"]
)
async def test_registration_needs_the_public_https_webhook_url(bot_api: BotApi, url: str) -> None:
    settings = telegram_settings(api_base_url=bot_api.base_url, webhook_url=url)
    with pytest.raises(SystemExit):
        await register_webhook(settings)
    assert bot_api.calls == []


def test_secrets_do_not_show_in_the_settings() -> None:
    settings = telegram_settings()
    assert TOKEN not in repr(settings) and SECRET not in repr(settings)
    assert isinstance(settings.bot_token, SecretStr)


def test_the_polling_application_uses_the_configured_bot_api(bot_api: BotApi) -> None:
    from telegram.ext import TypeHandler

    from channels.telegram_polling import build_application

    forwarder = UpdateForwarder(WEBHOOK, SECRET, httpx.AsyncClient())
    application = build_application(telegram_settings(api_base_url=bot_api.base_url), forwarder)
    assert application.bot.base_url == bot_api.base_url + TOKEN
    [handler] = application.handlers[0]
    assert isinstance(handler, TypeHandler) and handler.callback is forwarder
