"""The citizen's side of the human handoff, for every input channel.

After Rasa has handled a message (``on_new_message`` returned), the REST and Telegram
channels call ``CitizenHandoff.after_message``. If the conversation is with the service
center (the tracker is paused by ``action_handoff``), Rasa has only logged the message; it
goes on to the backend's ticket (``channels.backend``) and the citizen gets the backend's
``reply``. When the backend has no open ticket any more (404), the conversation is resumed
so that the bot answers again. The same step deletes the conversation's stored events when
the bot's answer carries the ``delete_conversation`` marker.

The staff's side is the relay, ``channels.handoff``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from channels import conversations
from channels.backend import HandoffBackend, NoOpenTicket, PassedOn

logger = logging.getLogger(__name__)

# What the citizen is told when their message cannot reach the service center.
NOT_PASSED_ON = (
    "Ihre Nachricht konnte ich gerade leider nicht an das Servicecenter weitergeben. Bitte "
    "versuchen Sie es in einigen Minuten noch einmal."
)
HANDOFF_OVER = (
    "Das Gespräch mit dem Servicecenter ist bereits beendet. Sie schreiben wieder mit dem "
    "automatisierten Assistenten der Stadt. Bitte stellen Sie Ihre Frage noch einmal."
)
NOT_DELETED = (
    "Entschuldigung, ich muss mich korrigieren: Der Chatverlauf konnte gerade nicht vollständig "
    "gelöscht werden. Bitte versuchen Sie es später noch einmal oder wenden Sie sich an das "
    "Servicecenter der Stadt."
)
TEXT_ONLY = (
    "Diese Nachricht kann ich nicht an das Servicecenter weitergeben. Bitte schreiben Sie Ihr "
    "Anliegen als Text mit höchstens {limit} Zeichen."
)

# The backend's limit for a citizen's message (backend/app/api/routes/internal.py).
MAX_PASSED_ON_LENGTH = 4000


@dataclass
class AfterMessage:
    """What a channel does after Rasa has handled a message."""

    texts: list[str] = field(default_factory=list)  # sent to the citizen
    resumed: bool = False  # the handoff turned out to be over: the bot answers again
    deleted: bool = False  # the conversation's stored events are gone


class CitizenHandoff:
    """The step every citizen channel takes after ``on_new_message`` returned."""

    def __init__(self, backend: HandoffBackend | None = None, max_message_length: int = 0):
        self.backend = backend or HandoffBackend()
        self.max_length = min(max_message_length or MAX_PASSED_ON_LENGTH, MAX_PASSED_ON_LENGTH)

    def passable(self, text: str) -> bool:
        """Citizen's text, not a channel signal, intent payload or command."""
        return bool(text) and not text.startswith("/") and len(text) <= self.max_length

    async def after_message(
        self,
        agent: Any,
        sender_id: str,
        text: str,
        deletion_requested: bool = False,
        answered: bool = False,
    ) -> AfterMessage:
        """Pass a message written during a handoff on; delete a conversation if asked to.

        ``text`` is what the channel gave Rasa; ``deletion_requested`` says that the bot's
        answer carried the delete marker. The channel sees that in its output: the stored
        tracker cannot tell, because the action's ``Restarted`` makes Rasa start a new
        session at once, and the store returns only the newest session. ``answered``: the
        bot sent at least one message. Rasa answers nothing in a paused conversation (its
        processor only logs the message), so an answered message was not written during a
        handoff, and the stored conversation need not be read again: that read is the
        most expensive part of this step, and most messages are answered. Never raises:
        the citizen has their answer.
        """
        if answered and not deletion_requested:
            return AfterMessage()
        try:
            tracker = await conversations.retrieve(agent, sender_id)
            if tracker is None:
                return AfterMessage()
            if deletion_requested:
                try:
                    deleted = await conversations.delete_conversation(agent, sender_id)
                except Exception:
                    logger.exception("conversation could not be deleted")
                    deleted = False
                # The bot has already confirmed; if the store could not, the citizen hears so.
                return AfterMessage([] if deleted else [NOT_DELETED], deleted=deleted)
            if not conversations.waiting_for_staff(tracker):
                return AfterMessage()
        except Exception:
            logger.exception("conversation state after a message could not be read")
            return AfterMessage()
        if not self.passable(text):
            return AfterMessage([TEXT_ONLY.format(limit=self.max_length)])
        outcome = await self.backend.pass_on(sender_id, text)
        if isinstance(outcome, PassedOn):
            return AfterMessage([outcome.reply] if outcome.reply else [])
        if isinstance(outcome, NoOpenTicket):
            try:
                await conversations.resume(agent, sender_id)
            except Exception:
                logger.exception("conversation could not be resumed")
                return AfterMessage([NOT_PASSED_ON])
            return AfterMessage([HANDOFF_OVER], resumed=True)
        return AfterMessage([NOT_PASSED_ON])
