"""The channels' client of the backend's internal handoff API.

While a conversation is with the service center, the input channels pass the citizen's
messages on: ``POST {CHANNELS_BACKEND_URL}/api/v1/internal/handoffs/messages`` with
``{"sender_id", "text"}`` and ``Authorization: Bearer <GOVBOT_INTERNAL_TOKEN>``; the backend
answers ``{"ticket_id", "status", "reply"}``, or 404 when the conversation has no open
ticket any more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from channels.settings import ChannelSettings, get_settings

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/api/v1/internal/handoffs/messages"


@dataclass(frozen=True)
class PassedOn:
    """The ticket has the message; ``reply`` is what the citizen is told, if anything."""

    reply: str | None


@dataclass(frozen=True)
class NoOpenTicket:
    """The handoff is over: the backend knows no open ticket of the conversation."""


@dataclass(frozen=True)
class Unreachable:
    """The backend could not take the message (down, timeout, refused)."""


Outcome = PassedOn | NoOpenTicket | Unreachable


class HandoffBackend:
    """Passes a citizen's messages during a handoff to the backend."""

    def __init__(
        self,
        settings: ChannelSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings = settings or get_settings()
        self._url = settings.backend_url.rstrip("/") + MESSAGES_PATH
        self._token = settings.internal_token_value
        self._timeout = settings.backend_timeout
        self._transport = transport

    async def pass_on(self, sender_id: str, text: str) -> Outcome:
        """Hand the citizen's message to the conversation's open ticket."""
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(
                    self._url,
                    json={"sender_id": sender_id, "text": text},
                    headers={"Authorization": f"Bearer {self._token}"},
                )
        except httpx.HTTPError as error:
            # No message text in the log: it is the citizen's.
            logger.warning("handoff message not passed on: %s", type(error).__name__)
            return Unreachable()
        if response.status_code == 404:
            return NoOpenTicket()
        if response.status_code != 200:
            logger.warning("handoff message not passed on: backend said %s", response.status_code)
            return Unreachable()
        try:
            body = response.json()
        except ValueError:
            logger.warning("handoff message passed on, but the backend's answer is no JSON")
            return PassedOn(reply=None)
        reply = body.get("reply") if isinstance(body, dict) else None
        return PassedOn(reply=reply if isinstance(reply, str) and reply.strip() else None)
