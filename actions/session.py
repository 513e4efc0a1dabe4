"""A new session keeps a conversation that is with the service center silent.

Rasa starts a new session after ``session_expiration_time`` without messages, and a new
session forgets that the conversation was paused. A citizen who waits longer than that for
a person would then suddenly be answered by the bot again, while the ticket is still open
in the intranet. This action starts the session as Rasa's own does (no slots are carried
over, see bot/domain/_shared.yml) and pauses it again when it was paused.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        if tracker.is_paused():
            # Staff still have the conversation; they hand it back from the intranet.
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events
