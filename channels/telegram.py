"""Telegram input channel: ``POST /webhooks/telegram/webhook``, answers through the Bot API.

Telegram delivers each update to the webhook with the secret set at registration in the
header ``X-Telegram-Bot-Api-Secret-Token``; anything without it is refused with a 403.
Text messages reach the assistant cleaned and length-checked like REST messages
(``channels.text``); the conversation id is the chat id. Answers go out as plain text
(no parse mode, so nothing the assistant repeats from a citizen can become markup), split
at Telegram's 4096-character limit, with buttons as an inline keyboard.

Commands: ``/start`` sends the intent ``/greet``, ``/hilfe`` ``/help``, ``/abbrechen``
``/cancel``. Every other text starting with ``/`` is answered with the list of commands:
citizens cannot send Rasa intents or entities directly. Edited messages, attachments and
group chats get a short German answer without the assistant. The channel is off (its
webhook answers 404) until ``CHANNELS_TELEGRAM_BOT_TOKEN`` is set.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from channels import conversations
from channels.backend import HandoffBackend
from channels.citizen_handoff import CitizenHandoff
from channels.settings import TelegramSettings, get_settings, get_telegram_settings
from channels.text import clean_message, text_for_assistant

logger = logging.getLogger(__name__)
# httpx logs each request's URL at INFO, and Bot API URLs contain the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# The updates the channel handles; registration and polling ask Telegram for these only.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_TEXT_LENGTH = 4096  # Telegram's limit per message, in UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes

# Commands shown in Telegram's menu, and the intent each one sends to the assistant.
COMMANDS = {
    "start": ("/greet", "Begrüßung und Beispiele"),
    "hilfe": ("/help", "Was ich für Sie tun kann"),
    "abbrechen": ("/cancel", "Einen begonnenen Antrag abbrechen"),
}
COMMAND_ALIASES = {"help": "hilfe"}

TEXT_ONLY = "Ich kann leider nur Textnachrichten lesen. Bitte schreiben Sie mir Ihre Frage."
EDITED = (
    "Bearbeitete Nachrichten kann ich leider nicht berücksichtigen. Bitte schicken Sie mir "
    "Ihre Korrektur als neue Nachricht."
)
UNKNOWN_COMMAND = (
    "Diesen Befehl kenne ich nicht. Sie können mir Ihre Frage einfach schreiben oder "
    "/start, /hilfe oder /abbrechen verwenden."
)
PRIVATE_ONLY = (
    "Bitte schreiben Sie mir in einem privaten Chat: Anliegen an die Stadt gehören nicht in "
    "eine Gruppe."
)
STALE_BUTTON = "Diese Auswahl gilt nicht mehr. Bitte schreiben Sie mir Ihre Antwort."
APOLOGY = "Entschuldigung, da ist bei mir etwas schiefgegangen. Bitte versuchen Sie es noch einmal."
CHOOSE = "Bitte wählen Sie:"


def make_bot(settings: TelegramSettings) -> Bot:
    """A Bot API client for the configured token and API URL."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    return Bot(
        token,
        base_url=settings.api_base_url,
        request=HTTPXRequest(connection_pool_size=64, read_timeout=10.0),
    )


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit into ``limit`` UTF-16 code units."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """``text`` in parts Telegram accepts, cut at paragraphs, else lines, else words."""
    parts = []
    rest = text.strip()
    while _utf16_length(rest) > limit:
        window = rest[: _fitting_prefix(rest, limit)]
        cut = len(window)
        # A boundary early in the window would leave a needlessly short part.
        for boundary in ("\n\n", "\n", " "):
            position = window.rfind(boundary)
            if position > len(window) // 3:
                cut = position
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


class CallbackPayloads:
    """Button payloads longer than Telegram's 64 bytes of ``callback_data``, by a short key.

    The key is a hash of the payload, so every instance gives a payload the same key; the
    table lives in memory. A key this process does not know (after a restart, or on
    another Rasa instance) is answered with the button's title instead, which the
    assistant understands as text.
    """

    PREFIX = "#"

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def data_for(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_DATA and not payload.startswith(self.PREFIX):
            return payload
        digest = hashlib.sha256(payload.encode()).digest()[:18]
        key = self.PREFIX + base64.urlsafe_b64encode(digest).decode()
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    def payload_for(self, data: str) -> str | None:
        if not data.startswith(self.PREFIX):
            return data
        return self._payloads.get(data)


# Conversations from Telegram have their own namespace of sender ids, so that nobody can
# reach a Telegram citizen's conversation by posting its (not secret) chat id to another
# channel; the REST channel refuses ids with this prefix.
SENDER_PREFIX = "telegram-"


def sender_of(chat_id: str) -> str:
    """The conversation id of a Telegram chat."""
    return f"{SENDER_PREFIX}{chat_id}"


def chat_of(recipient_id: str) -> str:
    """The Telegram chat of a conversation id (or a bare chat id)."""
    return recipient_id.removeprefix(SENDER_PREFIX)


class TelegramOutput(OutputChannel):
    """Sends the assistant's messages to a Telegram chat through the Bot API.

    Failures are logged and swallowed: an undeliverable answer (the citizen blocked the
    bot, Telegram is down) must not stop Rasa from saving the conversation.
    """

    def __init__(self, bot: Bot, payloads: CallbackPayloads) -> None:
        self.bot = bot
        self.payloads = payloads
        # The bot's answer asked the channel to delete the conversation (its marker).
        self.deletion_requested = False
        # Rasa gave this output at least one message (answered or not by Telegram).
        self.answered = False

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.answered = True
        await super().send_response(recipient_id, message)

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def call_api(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> bool:
        """Call the Bot API; whether Telegram took the call."""
        for attempt in range(2):
            try:
                await method(**kwargs)
                return True
            except RetryAfter as error:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    delay = error.retry_after
                seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
                if attempt or seconds > 5:
                    logger.warning("Telegram rate limit: answer dropped (retry after %ss)", delay)
                    return False
                await asyncio.sleep(seconds)
            except Forbidden:
                logger.info("Telegram chat does not accept messages from the bot")
                return False
            except TelegramError as error:
                logger.warning("Telegram refused %s: %s", method.__name__, type(error).__name__)
                return False
        return False

    async def _send_text(
        self, chat_id: str, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        parts = split_text(text) or [CHOOSE if reply_markup else ""]
        delivered = True
        for index, part in enumerate(parts):
            if not part:
                continue
            last = index == len(parts) - 1
            delivered = (
                await self.call_api(
                    self.bot.send_message,
                    chat_id=chat_of(chat_id),
                    text=part,
                    reply_markup=reply_markup if last else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                and delivered
            )
        return delivered

    async def deliver_text(self, recipient_id: str, text: str) -> bool:
        """Send plain text (no parse mode); whether every part reached Telegram."""
        return bool(split_text(text)) and await self._send_text(recipient_id, text)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_text(recipient_id, text)

    def keyboard(self, buttons: list[dict[str, Any]]) -> InlineKeyboardMarkup:
        """One button per row: German titles are long, and phones are narrow."""
        rows = []
        for button in buttons:
            title = str(button.get("title") or button.get("payload") or "")[:256]
            if button.get("url"):
                rows.append([InlineKeyboardButton(title, url=str(button["url"]))])
            else:
                data = self.payloads.data_for(str(button.get("payload") or title))
                rows.append([InlineKeyboardButton(title, callback_data=data)])
        return InlineKeyboardMarkup(rows)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send_text(recipient_id, text or CHOOSE, self.keyboard(buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.call_api(self.bot.send_photo, chat_id=chat_of(recipient_id), photo=image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self._send_text(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Custom payloads with a ``text`` (and ``buttons``) are sent; others are not for us."""
        text = json_message.get("text")
        if conversations.govbot_marker({"custom": json_message}).get("delete_conversation"):
            self.deletion_requested = True
        if not isinstance(text, str):
            # The actions' markers ({"govbot": ...}) are for the channels, not for citizens.
            if "govbot" not in json_message:
                logger.info("custom message without text is not sent to Telegram")
            return
        buttons = json_message.get("buttons")
        markup = self.keyboard(buttons) if isinstance(buttons, list) and buttons else None
        await self._send_text(recipient_id, text, markup)


def _buttons_of(message: Message) -> list[InlineKeyboardButton]:
    markup = message.reply_markup
    if markup is None:
        return []
    return [button for row in markup.inline_keyboard for button in row]


class TelegramInput(InputChannel):
    """Telegram bot webhook; the conversation id is the chat id."""

    def __init__(
        self,
        settings: TelegramSettings | None = None,
        max_message_length: int | None = None,
        bot: Bot | None = None,
        backend: HandoffBackend | None = None,
    ) -> None:
        self.settings = settings or get_telegram_settings()
        self.max_message_length = max_message_length or get_settings().max_message_length
        self.handoff = CitizenHandoff(backend, self.max_message_length)
        self._bot = bot or (make_bot(self.settings) if self.settings.enabled else None)
        self.payloads = CallbackPayloads()
        secret = self.settings.webhook_secret
        self._secret = secret.get_secret_value().encode() if secret else b""
        # Telegram sends an update again when the answer to it was late: each is handled once.
        self._recent_updates: OrderedDict[int, None] = OrderedDict()

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("Telegram channel is off: CHANNELS_TELEGRAM_BOT_TOKEN is not set")
        return self._bot

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Token and secret come from the environment (channels.settings), never from a file.
        credentials = credentials or {}
        return cls(max_message_length=credentials.get("max_message_length"))

    def get_output_channel(self) -> OutputChannel | None:
        return TelegramOutput(self.bot, self.payloads) if self._bot else None

    def secret_matches(self, header: str | None) -> bool:
        if not self._secret or header is None:
            return False
        return hmac.compare_digest(header.encode("utf-8", "replace"), self._secret)

    def first_time(self, update_id: int) -> bool:
        if update_id in self._recent_updates:
            return False
        self._recent_updates[update_id] = None
        if len(self._recent_updates) > 1000:
            self._recent_updates.popitem(last=False)
        return True

    def command_text(self, text: str) -> str | None:
        """The intent a ``/command`` sends, or None for an unknown command."""
        command = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
        command = command.split("@", 1)[0].lower()
        command = COMMAND_ALIASES.get(command, command)
        return COMMANDS[command][0] if command in COMMANDS else None

    async def handle_update(
        self,
        update: Update,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any = None,
    ) -> None:
        """Answer one update: to the assistant, or directly when it cannot take it.

        ``agent`` is Rasa's, for the conversation's state after the message (handoff).
        """
        output = TelegramOutput(self.bot, self.payloads)
        if update.callback_query is not None:
            await self.handle_callback(update.callback_query, output, on_new_message, agent)
            return
        if update.edited_message is not None:
            chat = update.edited_message.chat
            if chat.type == chat.PRIVATE:
                await output.send_text_message(str(chat.id), EDITED)
            return
        message = update.message
        if message is None:
            return  # updates not asked for at registration (channel posts, members, ...)
        chat_id = str(message.chat.id)
        if message.chat.type != message.chat.PRIVATE:
            if message.text is not None and message.text.startswith("/"):
                await output.send_text_message(chat_id, PRIVATE_ONLY)
            return
        if message.text is None:
            if message.effective_attachment is not None or message.caption is not None:
                await output.send_text_message(chat_id, TEXT_ONLY)
            return  # service messages
        # Telegram messages have at most 4096 characters: cleaning them is cheap.
        if clean_message(message.text).startswith("/"):
            intent = self.command_text(clean_message(message.text))
            if intent is None:
                await output.send_text_message(chat_id, UNKNOWN_COMMAND)
                return
            await self.to_assistant(intent, chat_id, output, on_new_message, agent)
            return
        text = text_for_assistant(message.text, self.max_message_length)
        await self.to_assistant(text, chat_id, output, on_new_message, agent)

    async def handle_callback(
        self,
        query: CallbackQuery,
        output: TelegramOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any = None,
    ) -> None:
        """A pressed button: its payload goes to the assistant from the button's chat."""
        message = query.message
        # The pressed button must be one of the message's own: a client can send any data.
        pressed = None
        if isinstance(message, Message) and query.data is not None:
            pressed = next((b for b in _buttons_of(message) if b.callback_data == query.data), None)
        if message is None or pressed is None or message.chat.type != message.chat.PRIVATE:
            await output.call_api(self.bot.answer_callback_query, callback_query_id=query.id)
            if isinstance(message, Message) and message.chat.type == message.chat.PRIVATE:
                await output.send_text_message(str(message.chat.id), STALE_BUTTON)
            return
        await output.call_api(self.bot.answer_callback_query, callback_query_id=query.id)
        payload = self.payloads.payload_for(str(pressed.callback_data)) or pressed.text
        text = text_for_assistant(payload, self.max_message_length)
        await self.to_assistant(text, str(message.chat.id), output, on_new_message, agent)

    async def to_assistant(
        self,
        text: str,
        chat_id: str,
        output: TelegramOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any = None,
    ) -> None:
        try:
            await on_new_message(
                UserMessage(text, output, sender_of(chat_id), input_channel=self.name())
            )
        except Exception:
            # Rasa keeps the conversation; the citizen gets an apology. No message text is
            # logged.
            logger.exception("message of a Telegram conversation could not be processed")
            await output.send_text_message(chat_id, APOLOGY)
            return
        # During a handoff the message goes on to the service center (channels.handoff).
        after = await self.handoff.after_message(
            agent,
            sender_of(chat_id),
            text,
            deletion_requested=output.deletion_requested,
            answered=output.answered,
        )
        for reply in after.texts:
            await output.send_text_message(chat_id, reply)

    def parse(self, body: bytes) -> Update | HTTPResponse:
        """The update in the body, or a 400."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return response.json({"error": "invalid_json"}, status=400)
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return response.json({"error": "invalid_update"}, status=400)
        try:
            return Update.de_json(data, self.bot)
        except Exception:  # PTB raises what the malformed part happens to cause
            return response.json({"error": "invalid_update"}, status=400)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.enabled else "off"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.enabled:
                return response.json({"error": "not_found"}, status=404)
            if not self.secret_matches(request.headers.get(SECRET_HEADER)):
                return response.json({"error": "forbidden"}, status=403)
            update = self.parse(request.body or b"")
            if isinstance(update, HTTPResponse):
                return update
            if self.first_time(update.update_id):
                try:
                    agent = getattr(request.app.ctx, "agent", None)
                    await self.handle_update(update, on_new_message, agent)
                except Exception:
                    # Telegram sends an update again after an error: answer 200 regardless.
                    logger.exception("Telegram update %s could not be handled", update.update_id)
            return response.text("ok")

        @webhook.listener("after_server_stop")
        async def close_bot(*_: Any) -> None:
            if self._bot is not None:
                await self._bot.shutdown()

        return webhook


def bot_commands() -> list[BotCommand]:
    """The command menu Telegram shows next to the input field."""
    return [BotCommand(command, description) for command, (_, description) in COMMANDS.items()]
