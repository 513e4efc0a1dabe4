"""The authenticated internal path from the staff intranet to the citizen's channel.

Staff replies and hand-backs are posted to the Rasa server's relay endpoint
(``POST /webhooks/handoff/relay``, ``channels/handoff.py``) with the internal token. The
relay delivers the text in the conversation's own channel (widget or Telegram), writes it
into the conversation's tracker, and on ``close`` lets the bot answer again.
"""

from __future__ import annotations

import logging
from typing import Literal, Protocol

import httpx

from backend.app.core.config import Settings
from backend.app.models import HandoffTicket

logger = logging.getLogger("govbot.backend.relay")

RelayKind = Literal["message", "close"]


class Relay(Protocol):
    async def send(self, ticket: HandoffTicket, kind: RelayKind, text: str) -> bool:
        """Deliver ``text`` to the ticket's conversation; whether it got there."""
        ...


class RasaRelay:
    """The relay on the Rasa server, reached over HTTP."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self._url = settings.rasa_internal_url.rstrip("/") + "/webhooks/handoff/relay"
        self._token = settings.internal_token_value
        self._timeout = settings.relay_timeout_seconds
        self._transport = transport

    async def send(self, ticket: HandoffTicket, kind: RelayKind, text: str) -> bool:
        body = {
            "sender_id": ticket.sender_id,
            "channel": ticket.channel,
            "kind": kind,
            "text": text,
        }
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(
                    self._url, json=body, headers={"Authorization": f"Bearer {self._token}"}
                )
        except httpx.HTTPError as error:
            logger.warning("relay to ticket %s failed: %s", ticket.id, type(error).__name__)
            return False
        if kind == "close" and response.status_code == 404:
            # The conversation is gone (deleted by the citizen, or by the retention job):
            # nothing is left to hand back, and a ticket kept open for it could never close.
            logger.info("hand-back of ticket %s: the conversation no longer exists", ticket.id)
            return True
        if response.status_code != 200:
            logger.warning("relay to ticket %s answered %s", ticket.id, response.status_code)
            return False
        return True
