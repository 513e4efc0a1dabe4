"""The citizen's right to have their conversation deleted ("Bitte löschen Sie unseren Chat").

After the citizen confirms, ``action_delete_conversation`` asks the backend to delete what
it keeps of the conversation (handoff tickets and their transcripts), sends the marker
``{"govbot": {"delete_conversation": true}}`` (the input channels then delete the tracker's
stored events and the widget its local transcript) and restarts the conversation, so no
slot or earlier message is used again. Submitted applications are not deleted: the
responsible office keeps them for the statutory periods, and the citizen is told so.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    NotFound,
    TooManyAttempts,
    shared_client,
)
from actions.handoff import channel_of

logger = logging.getLogger(__name__)

DELETE_MARKER = {"govbot": {"delete_conversation": True}}


class ActionDeleteConversation(Action):
    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_delete_conversation"

    @property
    def client(self) -> BackendClient:
        return self._client or shared_client()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            await self.client.delete_conversation(tracker.sender_id)
        except (BackendUnavailable, NotFound, TooManyAttempts) as error:
            # The path names the conversation: only the kind of failure is logged.
            logger.warning("conversation not deleted: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_delete_conversation_failed")
            return []
        # The marker first: the widget clears its transcript, then shows the confirmation.
        dispatcher.utter_message(json_message=DELETE_MARKER)
        dispatcher.utter_message(response="utter_conversation_deleted")
        if channel_of(tracker) == "telegram":
            dispatcher.utter_message(response="utter_conversation_deleted_telegram")
        # Every slot and earlier message forgotten; Rasa starts a new session after it.
        return [Restarted()]
