"""The relay for staff replies: ``POST /webhooks/handoff/relay`` (input channel "handoff").

The backend (``backend/app/relay.py``) calls it with ``Authorization: Bearer
<GOVBOT_INTERNAL_TOKEN>`` and ``{"sender_id", "channel": "rest"|"telegram",
"kind": "message"|"close", "text"}``. Under the conversation's lock the text is written into
the tracker as a bot message with ``metadata={"handoff": "staff"}`` (``"system"`` and the
``{"govbot": {"handoff": "closed"}}`` marker for the hand-back notice); ``close`` also
resumes the conversation, so the bot answers the citizen's next message. Telegram
conversations get the text through the Bot API, as plain text; the web widget fetches it
from the REST channel's inbox (``GET /webhooks/rest/inbox``).

Answers: 200 ``{"delivered": true}``; 401 without the token; 400 for a bad body; 404 when
there is no such conversation; 409 ``{"delivered": false}`` for a reply to a conversation
that is not with the service center (any more): nobody would read it, the widget has stopped
asking the inbox and the citizen's answers go to the bot; 502 ``{"delivered": false}`` when
Telegram did not take a reply (it is then not written into the tracker). A hand-back always
happens and answers 200, ``"delivered": false`` when Telegram did not show its notice (a
chat that has blocked the bot would otherwise keep the ticket open for good).

The citizen's side (messages to the service center) is ``channels.citizen_handoff``. The
reverse proxy must never publish ``/webhooks/handoff/``.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot

from channels import conversations
from channels.settings import (
    ChannelSettings,
    TelegramSettings,
    get_settings,
    get_telegram_settings,
)
from channels.telegram import SENDER_PREFIX, CallbackPayloads, TelegramOutput, make_bot
from channels.text import clean_message, valid_sender

logger = logging.getLogger(__name__)

# A staff message; Telegram splits longer ones, the widget shows them whole.
MAX_RELAY_TEXT_LENGTH = 4000
RELAY_FIELDS = {"sender_id", "channel", "kind", "text"}
_TELEGRAM_SENDER = re.compile(rf"{re.escape(SENDER_PREFIX)}[1-9][0-9]{{0,19}}")


@dataclass(frozen=True)
class RelayRequest:
    sender_id: str
    channel: str
    kind: str
    text: str


def _problem(status: int, code: str, detail: str = "") -> HTTPResponse:
    return response.json({"error": code, "detail": detail}, status=status)


def parse_relay(body: bytes, max_sender_length: int) -> RelayRequest | HTTPResponse:
    """The relay request in ``body``, or a 400 that says what is wrong."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _problem(400, "invalid_json", "expected a JSON object in UTF-8")
    if not isinstance(payload, dict) or set(payload) != RELAY_FIELDS:
        return _problem(400, "invalid_body", f"expected exactly {sorted(RELAY_FIELDS)}")
    channel, kind, text = payload["channel"], payload["kind"], payload["text"]
    if channel not in ("rest", "telegram"):
        return _problem(400, "invalid_channel", "channel must be 'rest' or 'telegram'")
    if kind not in ("message", "close"):
        return _problem(400, "invalid_kind", "kind must be 'message' or 'close'")
    sender = payload["sender_id"]
    sender = valid_sender(sender, max_sender_length) if isinstance(sender, str) else None
    if sender is not None and (channel == "telegram") != sender.startswith(SENDER_PREFIX):
        sender = None
    if sender is not None and channel == "telegram" and not _TELEGRAM_SENDER.fullmatch(sender):
        sender = None
    if sender is None:
        return _problem(400, "invalid_sender", "sender_id is no conversation of that channel")
    if not isinstance(text, str) or len(text) > 4 * MAX_RELAY_TEXT_LENGTH:
        return _problem(400, "invalid_text", "text must be a string")
    text = clean_message(text)
    if not text or len(text) > MAX_RELAY_TEXT_LENGTH:
        return _problem(400, "invalid_text", f"text must have 1 to {MAX_RELAY_TEXT_LENGTH} chars")
    return RelayRequest(sender_id=sender, channel=channel, kind=kind, text=text)


class HandoffRelayInput(InputChannel):
    """``POST /webhooks/handoff/relay``: staff replies and hand-backs, with the internal token."""

    def __init__(
        self,
        settings: ChannelSettings | None = None,
        telegram_settings: TelegramSettings | None = None,
        bot: Bot | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._token = self.settings.internal_token_value.encode()
        telegram = telegram_settings or get_telegram_settings()
        self._bot = bot or (make_bot(telegram) if telegram.enabled else None)

    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # The token comes from the environment (GOVBOT_INTERNAL_TOKEN), never from a file.
        return cls()

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        given = header.removeprefix("Bearer ").strip().encode("utf-8", "replace")
        return hmac.compare_digest(given, self._token)

    async def to_telegram(self, sender_id: str, text: str) -> bool:
        if self._bot is None:
            logger.warning("relay to a Telegram conversation, but the Telegram channel is off")
            return False
        return await TelegramOutput(self._bot, CallbackPayloads()).deliver_text(sender_id, text)

    async def relay(self, agent: Any, request: RelayRequest) -> HTTPResponse:
        store = conversations.tracker_store_of(agent)
        if store is None:
            return _problem(503, "not_ready", "the assistant is not ready")
        async with agent.lock_store.lock(request.sender_id):
            tracker = await store.retrieve(request.sender_id)
            if tracker is None:
                return _problem(404, "not_found", "no such conversation")
            if request.kind == "message" and not tracker.is_paused():
                # Restarted, or a new session began: the bot has the conversation again.
                return response.json({"delivered": False, "error": "not_in_handoff"}, status=409)
            delivered = True
            if request.channel == "telegram":
                delivered = await self.to_telegram(request.sender_id, request.text)
                if not delivered and request.kind == "message":
                    # Not written into the transcript: the citizen has not seen it.
                    return response.json({"delivered": False, "error": "telegram"}, status=502)
            if request.kind == "message":
                tracker.update(
                    BotUttered(request.text, metadata={conversations.HANDOFF_METADATA: "staff"})
                )
            else:
                # The hand-back happens even when Telegram could not show its notice.
                tracker.update(
                    BotUttered(
                        request.text,
                        data={"custom": {"govbot": {"handoff": "closed"}}},
                        metadata={conversations.HANDOFF_METADATA: "system"},
                    )
                )
                tracker.update(ConversationResumed())
                # The bot's next turn starts like any other: after listening.
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await store.save(tracker)
        if request.kind == "close":
            # Handed back whether or not Telegram showed the notice: the ticket may close.
            return response.json({"delivered": delivered})
        if not delivered:
            return response.json({"delivered": False, "error": "telegram"}, status=502)
        return response.json({"delivered": True})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        relay = Blueprint("handoff_relay", __name__)

        @relay.route("/relay", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # The token first: without it, nothing about the body or conversations is told.
            if not self.authorized(request.headers.get("Authorization")):
                return _problem(401, "unauthorized")
            parsed = parse_relay(request.body or b"", self.settings.max_sender_length)
            if isinstance(parsed, HTTPResponse):
                return parsed
            try:
                return await self.relay(getattr(request.app.ctx, "agent", None), parsed)
            except Exception:
                logger.exception("staff message could not be relayed")
                return _problem(503, "unavailable", "the conversation could not be updated")

        @relay.listener("after_server_stop")
        async def close_bot(*_: Any) -> None:
            if self._bot is not None:
                await self._bot.shutdown()

        return relay
