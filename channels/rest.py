"""REST input channel for citizens: ``POST /webhooks/rest/webhook``, ``GET /webhooks/rest/inbox``.

Rasa's own RestInput trusts the body. This one answers malformed requests with a 4xx and
never hands the assistant text it cannot process: empty and over-long messages become
the channel signals ``/empty_message`` and ``/message_too_long``, which the assistant
answers politely (rules in data/rules/channel.yml), and control characters are removed.

During a human handoff the citizen's messages go on to the service center
(``channels.handoff``), and the web widget fetches the staff's replies from the inbox:
``GET /webhooks/rest/inbox?sender=<id>&after=<unix time>`` answers
``{"messages": [{"text", "at", "from": "staff"|"system"}], "handoff": "live"|"closed"|"none"}``.
The sender id, random per browser, is what lets a client read its conversation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import conversations
from channels.backend import HandoffBackend
from channels.citizen_handoff import CitizenHandoff
from channels.settings import get_settings
from channels.text import EMPTY_MESSAGE, MESSAGE_TOO_LONG, text_for_assistant, valid_sender

__all__ = ["EMPTY_MESSAGE", "MESSAGE_TOO_LONG", "CitizenRestInput"]

logger = logging.getLogger(__name__)

# Sender ids of other channels' conversations; a REST client may not use them.
FOREIGN_SENDER_PREFIXES = ("telegram-",)


def _problem(status: int, code: str, detail: str) -> HTTPResponse:
    return response.json({"error": code, "detail": detail}, status=status)


class CitizenRestInput(InputChannel):
    """Synchronous REST channel: one request, the bot's answers in the response."""

    def __init__(
        self, max_message_length: int | None = None, backend: HandoffBackend | None = None
    ) -> None:
        settings = get_settings()
        self.max_message_length = max_message_length or settings.max_message_length
        self.max_sender_length = settings.max_sender_length
        self.handoff = CitizenHandoff(backend, self.max_message_length)

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(max_message_length=credentials.get("max_message_length"))

    def sender(self, value: object) -> str | None:
        """A usable sender id of a REST conversation, or None."""
        sender = valid_sender(value, self.max_sender_length)
        if sender is not None and sender.startswith(FOREIGN_SENDER_PREFIXES):
            # Another channel's conversation (see channels/telegram.py): not reachable here.
            return None
        return sender

    def parse(self, body: bytes) -> tuple[str, str] | HTTPResponse:
        """(sender, text for the assistant), or the 4xx response for a bad body."""
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _problem(400, "invalid_json", "Der Inhalt ist kein gültiges UTF-8-JSON.")
        if not isinstance(payload, dict):
            return _problem(400, "invalid_json", "Erwartet wird ein JSON-Objekt.")
        sender = self.sender(payload.get("sender"))
        if sender is None:
            return _problem(
                400,
                "invalid_sender",
                f"'sender' fehlt oder ist ungültig (1 bis {self.max_sender_length} Zeichen, "
                "ohne Leer- und Steuerzeichen).",
            )
        message = payload.get("message")
        if message is None:
            message = ""
        if not isinstance(message, str):
            return _problem(400, "invalid_message", "'message' muss ein Text sein.")
        return sender, text_for_assistant(message, self.max_message_length)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("citizen_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = self.parse(request.body or b"")
            if isinstance(parsed, HTTPResponse):
                return parsed
            sender, text = parsed
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name())
                )
            except Exception:
                # The conversation state is kept by Rasa; the citizen gets an apology
                # instead of a 500, and the error is logged without the message text.
                logger.exception("message of a REST conversation could not be processed")
                return response.json(
                    [
                        {
                            "recipient_id": sender,
                            "text": "Entschuldigung, da ist bei mir etwas schiefgegangen. "
                            "Bitte versuchen Sie es noch einmal.",
                        }
                    ]
                )
            deletion_requested = any(
                conversations.govbot_marker(m).get("delete_conversation") is True
                for m in collector.messages
            )
            after = await self.handoff.after_message(
                request.app.ctx.agent,
                sender,
                text,
                deletion_requested=deletion_requested,
                answered=bool(collector.messages),
            )
            messages = collector.messages
            messages += [{"recipient_id": sender, "text": reply} for reply in after.texts]
            if after.resumed:
                # The widget stops waiting for the service center.
                messages.append(
                    {"recipient_id": sender, "custom": {"govbot": {"handoff": "closed"}}}
                )
            return response.json(messages)

        @webhook.route("/inbox", methods=["GET"])
        async def inbox(request: Request) -> HTTPResponse:
            sender = self.sender(request.args.get("sender"))
            if sender is None:
                return _problem(400, "invalid_sender", "'sender' fehlt oder ist ungültig.")
            after = conversations.parse_after(request.args.get("after"))
            if after is None:
                return _problem(400, "invalid_after", "'after' muss eine Zahl sein.")
            try:
                tracker = await conversations.retrieve(request.app.ctx.agent, sender)
            except Exception:
                logger.exception("inbox of a REST conversation could not be read")
                return _problem(503, "unavailable", "Bitte versuchen Sie es gleich noch einmal.")
            return response.json(conversations.inbox(tracker, after))

        return webhook
