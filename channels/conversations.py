"""What the input channels read from and write into a conversation's tracker.

The human handoff and the citizen's right to have a conversation deleted need more than
Rasa's channels offer: whether the bot has handed the conversation to a person, the staff
messages written into it, resuming it, and deleting its stored events. Everything goes
through the agent's tracker store and, for writes, the conversation's lock, exactly as
Rasa's own message handling does (``Agent.handle_message``).

Markers the actions send as custom payloads (``{"govbot": {...}}``):

- ``{"handoff": "live", "ticket": <id>}``: a person takes over; the action also pauses the
  conversation (``ConversationPaused``), so Rasa logs the citizen's messages and predicts
  nothing until the relay hands it back.
- ``{"handoff": "closed"}``: written by the relay when staff hand the conversation back.
- ``{"delete_conversation": true}``: the citizen asked to delete their conversation.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# BotUttered metadata key of the messages written by the relay: "staff" or "system".
HANDOFF_METADATA = "handoff"
HANDOFF_SENDERS = ("staff", "system")
MAX_INBOX_MESSAGES = 50


def govbot_marker(data: Any) -> dict[str, Any]:
    """The ``govbot`` part of a custom payload (a bot message's ``custom``), or {}."""
    if not isinstance(data, dict):
        return {}
    custom = data.get("custom")
    marker = custom.get("govbot") if isinstance(custom, dict) else None
    return marker if isinstance(marker, dict) else {}


def _latest_turn(tracker: DialogueStateTracker) -> list[Event]:
    """The events after the citizen's latest message."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index + 1 :]
    return events


def waiting_for_staff(tracker: DialogueStateTracker) -> bool:
    """Whether the latest message was written while the conversation was with a person.

    The message that made the bot hand over is answered by the bot (and is in the ticket's
    transcript already); only the messages after the pause go to the service center.
    """
    if not tracker.is_paused():
        return False
    for event in reversed(tracker.events):
        if isinstance(event, ConversationPaused):
            return False
        if isinstance(event, UserUttered):
            return True
    return False


def _is_handoff_message(event: Event) -> bool:
    return (
        isinstance(event, BotUttered)
        and isinstance(event.metadata, dict)
        and event.metadata.get(HANDOFF_METADATA) in HANDOFF_SENDERS
        and isinstance(event.text, str)
    )


def inbox(
    tracker: DialogueStateTracker | None, after: float, limit: int = MAX_INBOX_MESSAGES
) -> dict[str, Any]:
    """The staff and system messages after ``after`` (oldest first), and the handoff state."""
    if tracker is None:
        return {"messages": [], "handoff": "none"}
    handoff_messages = [event for event in tracker.events if _is_handoff_message(event)]
    messages = [
        {"text": event.text, "at": event.timestamp, "from": event.metadata[HANDOFF_METADATA]}
        for event in handoff_messages
        if event.timestamp > after
    ][:limit]
    if tracker.is_paused():
        state = "live"
    elif handoff_messages:
        state = "closed"
    else:
        state = "none"
    return {"messages": messages, "handoff": state}


def parse_after(value: str | None) -> float | None:
    """The ``after`` query parameter as a finite number (0 when missing), or None."""
    if value is None or value == "":
        return 0.0
    if len(value) > 32:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def tracker_store_of(agent: Any) -> TrackerStore | None:
    store = getattr(agent, "tracker_store", None)
    return store if isinstance(store, TrackerStore) else None


def _innermost(store: TrackerStore) -> TrackerStore:
    """The store that holds the data, below Rasa's wrappers (FailSafe, Awaitable)."""
    for _ in range(5):
        inner = getattr(store, "_tracker_store", None)
        if not isinstance(inner, TrackerStore):
            break
        store = inner
    return store


async def retrieve(agent: Any, sender_id: str) -> DialogueStateTracker | None:
    store = tracker_store_of(agent)
    if store is None:
        return None
    return await store.retrieve(sender_id)


async def resume(agent: Any, sender_id: str) -> None:
    """Let the bot answer again: the handoff ended without the relay saying so."""
    store = tracker_store_of(agent)
    if store is None:
        return
    async with agent.lock_store.lock(sender_id):
        tracker = await store.retrieve(sender_id)
        if tracker is None or not tracker.is_paused():
            return
        tracker.update(ConversationResumed())
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await store.save(tracker)


async def delete_conversation(agent: Any, sender_id: str) -> bool:
    """Delete every stored event of the conversation; whether the store could."""
    store = tracker_store_of(agent)
    if store is None:
        return False
    inner = _innermost(store)
    async with agent.lock_store.lock(sender_id):
        if isinstance(inner, SQLTrackerStore):
            with inner.session_scope() as session:
                session.query(inner.SQLEvent).filter(inner.SQLEvent.sender_id == sender_id).delete(
                    synchronize_session=False
                )
                session.commit()
            forget = getattr(inner, "forget", None)
            if callable(forget):
                forget(sender_id)  # and from memory (channels/tracker_store.py)
            return True
        if isinstance(inner, InMemoryTrackerStore):
            inner.store.pop(sender_id, None)
            return True
    logger.warning("conversation not deleted: %s cannot delete conversations", type(inner).__name__)
    return False
