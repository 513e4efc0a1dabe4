"""Tell a citizen the status of an application, given reference number and postal code.

The status form asks for both; this action asks the backend. Every unsuccessful answer is
the same, so guessing reveals nothing, and the backend slows guessing down.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    NotFound,
    TooManyAttempts,
    shared_client,
)

logger = logging.getLogger(__name__)

STATUS_TEXTS = {
    "received": "ist eingegangen und wartet auf die Bearbeitung",
    "in_progress": "wird gerade bearbeitet",
    "needs_information": "braucht noch Angaben oder Unterlagen von Ihnen",
    "completed": "ist abgeschlossen",
    "rejected": "wurde abgelehnt; die Begründung erhalten Sie schriftlich",
}
CLEARED = [SlotSet("reference_number", None), SlotSet("status_postal_code", None)]


class ActionCheckStatus(Action):
    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        client = self._client or shared_client()
        reference = str(tracker.get_slot("reference_number") or "").strip()
        postal_code = str(tracker.get_slot("status_postal_code") or "").strip()
        if not reference or not postal_code:
            dispatcher.utter_message(response="utter_status_no_match")
            return CLEARED
        try:
            status = await client.application_status(reference, postal_code, tracker.sender_id)
        except NotFound:
            dispatcher.utter_message(response="utter_status_no_match")
            return CLEARED
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_status_too_many_attempts")
            return CLEARED
        except BackendUnavailable as error:
            logger.warning("status not available: %s", error)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return CLEARED
        dispatcher.utter_message(
            response="utter_status",
            reference=status.reference,
            service=f" ({status.service.name})" if status.service else "",
            status=STATUS_TEXTS.get(status.status, status.status),
            note=f"\nHinweis der Sachbearbeitung: {status.status_note}"
            if status.status_note
            else "",
        )
        return CLEARED
