"""Human handoff: the conversation goes to a person of the service center.

Four things hand a conversation over (issue #6): the citizen asks for a person
(``action_handoff``), the two-stage fallback gives up (``action_default_fallback``), a form
question is answered invalidly three times in a row (``actions/form_validation.py``), and
topics configured as always-human in ``data/handoff.yml`` (``actions/knowledge.py``). All
of them call ``hand_off``: it opens a ticket in the backend with the transcript, the
channel, the reason, the topic and the answers of an unfinished form, and tells the citizen
what happens next.

- ``live`` (the service center is staffed): a person joins this chat. The bot says so, sends
  the marker ``{"govbot": {"handoff": "live", "ticket": <id>}}`` (the widget then polls for
  staff messages) and pauses the conversation (``ConversationPaused``): the Rasa server stays
  silent, the input channels pass the citizen's messages to the backend until staff hand the
  conversation back.
- ``callback`` (outside the service center's hours): the bot says when it opens again, asks
  for a phone number or e-mail address (``handoff_contact_form``, see
  ``actions/handoff_contact.py``) and keeps answering.
- backend unreachable: an apology and the service center's phone and e-mail address.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActiveLoop,
    ConversationPaused,
    EventType,
    FollowupAction,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

from actions import german
from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    HandoffTicket,
    NotFound,
    TooManyAttempts,
    shared_client,
)
from actions.forms import REQUESTED_SLOT, answers, current_spec
from actions.settings import get_settings
from forms import FormSpec
from forms.answers import display

logger = logging.getLogger(__name__)

REASONS = ("requested", "fallback", "topic")
# Slots of the handoff (bot/domain/handoff.yml).
HANDOFF_TICKET = "handoff_ticket"  # the ticket a callback contact belongs to
HANDOFF_CONTACT = "handoff_contact"  # phone number or e-mail address, or NO_CONTACT
NO_CONTACT = False  # the citizen does not want to be called back
CONTACT_FORM = "handoff_contact_form"

# Limits of the backend's internal API (backend/app/api/routes/internal.py).
MAX_MESSAGES = 500
MAX_TEXT = 4000
MAX_FIELD_VALUE = 2000
MAX_LABEL = 200
# Bot messages written by the relay while staff had the conversation (channels/).
STAFF_PREFIX = {"staff": "Servicecenter: ", "system": "Hinweis: "}

_UNREACHABLE = (BackendUnavailable, NotFound, TooManyAttempts)


# --- what the ticket carries -------------------------------------------------------------


def _iso(timestamp: Any) -> str:
    try:
        moment = datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        moment = datetime.now(timezone.utc)
    return moment.isoformat()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _button_title(payload: str, offered: Iterable[Mapping[str, Any]]) -> str | None:
    for button in offered:
        if isinstance(button, Mapping) and button.get("payload") == payload:
            title = button.get("title")
            return str(title) if title else None
    return None


def transcript(events: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The citizen's and the bot's messages since the latest restart, oldest first.

    A pressed button appears as its title; other ``/intent`` payloads (channel signals such
    as ``/empty_message``) are left out. At most the latest 500 messages, each cut to 4000
    characters, as the backend accepts them.
    """
    entries: list[dict[str, str]] = []
    buttons: list[Mapping[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            entries, buttons = [], []
        elif kind == "user":
            text = str(event.get("text") or "").strip()
            if text.startswith("/"):
                title = _button_title(text, buttons)
                if title is None:
                    continue
                text = title
            if text:
                at = _iso(event.get("timestamp"))
                entries.append({"role": "citizen", "text": _clip(text, MAX_TEXT), "at": at})
        elif kind == "bot":
            data = event.get("data") or {}
            offered = data.get("buttons") if isinstance(data, Mapping) else None
            buttons = list(offered or [])
            text = str(event.get("text") or "").strip()
            if not text:
                continue
            metadata = event.get("metadata") or {}
            sender = metadata.get("handoff") if isinstance(metadata, Mapping) else None
            text = STAFF_PREFIX.get(str(sender), "") + text
            if buttons:
                titles = " | ".join(str(b.get("title")) for b in buttons if b.get("title"))
                text += f"\n[Auswahl: {titles}]" if titles else ""
            at = _iso(event.get("timestamp"))
            entries.append({"role": "bot", "text": _clip(text, MAX_TEXT), "at": at})
    return entries[-MAX_MESSAGES:]


def unfinished_form(spec: FormSpec | None, tracker: Tracker) -> dict[str, Any] | None:
    """The form being filled in, with the answers given so far as the citizen saw them."""
    if spec is None:
        return None
    given = answers(spec, tracker)
    fields = [
        {
            "name": item.name,
            "label": _clip(item.label, MAX_LABEL),
            "value": _clip(display(item, given[item.name]), MAX_FIELD_VALUE),
        }
        for item in spec.active_fields(given)
        if item.name in given
    ]
    return {"form_id": spec.id, "title": spec.title, "fields": fields}


def channel_of(tracker: Tracker) -> str:
    return "telegram" if tracker.get_latest_input_channel() == "telegram" else "rest"


# --- always-human topics (data/handoff.yml) ----------------------------------------------


class HandoffConfigError(ValueError):
    """data/handoff.yml names something the assistant does not know."""


@dataclass(frozen=True)
class AlwaysHuman:
    """Services and questions that a person answers instead of the bot."""

    # service slug -> the aspects (see actions/knowledge.py ASPECTS) the bot still answers
    services: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # question intents that always go to a person, whatever the service
    intents: frozenset[str] = frozenset()

    def applies(self, intent: str | None, service: str | None, aspect: str) -> bool:
        if intent in self.intents:
            return True
        kept = self.services.get(service or "")
        return kept is not None and aspect not in kept


def load_always_human(path: Path, services_file: Path, aspects: Mapping[str, str]) -> AlwaysHuman:
    """Read and check data/handoff.yml; ``aspects`` maps question intents to aspects."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        catalogue = yaml.safe_load(services_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise HandoffConfigError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise HandoffConfigError(f"{path}: expected a mapping")
    unknown_keys = set(data) - {"sample_data", "services", "intents"}
    if unknown_keys:
        raise HandoffConfigError(f"{path}: unknown keys {sorted(unknown_keys)}")
    known_services = {str(entry.get("slug")) for entry in catalogue.get("services") or []}
    known_aspects = set(aspects.values())
    services: dict[str, frozenset[str]] = {}
    for entry in data.get("services") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
            raise HandoffConfigError(f"{path}: each service needs a slug: {entry!r}")
        slug = entry["slug"]
        if slug not in known_services:
            raise HandoffConfigError(
                f"{path}: unknown service {slug!r}; use a slug of {services_file}"
            )
        kept = entry.get("except") or []
        bad = sorted(set(map(str, kept)) - known_aspects)
        if bad or not isinstance(kept, list):
            raise HandoffConfigError(
                f"{path}: {slug}: unknown aspects {bad or kept!r}; known: {sorted(known_aspects)}"
            )
        if set(entry) - {"slug", "except", "why"}:
            raise HandoffConfigError(f"{path}: {slug}: unknown keys {sorted(set(entry))}")
        services[slug] = frozenset(map(str, kept))
    intents = [str(intent) for intent in data.get("intents") or []]
    bad_intents = sorted(set(intents) - set(aspects))
    if bad_intents:
        raise HandoffConfigError(
            f"{path}: unknown intents {bad_intents}; only questions about services can be "
            f"configured: {sorted(aspects)}"
        )
    return AlwaysHuman(services=services, intents=frozenset(intents))


# --- handing over ------------------------------------------------------------------------


@dataclass
class Handoff:
    """What ``hand_off`` did: the ticket (None when the backend was unreachable) and the
    events the calling action returns."""

    ticket: HandoffTicket | None
    events: list[EventType]


def _leave_loop(tracker: Tracker) -> list[EventType]:
    """Stop a running form (its answers stay in the slots and in the ticket)."""
    if (tracker.active_loop or {}).get("name"):
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return []


async def department_contact(client: BackendClient) -> tuple[str, str] | None:
    """The service center's name and how to reach it, from the backend's catalogue."""
    slug = get_settings().handoff_department
    try:
        department = await client.department(slug)
    except _UNREACHABLE as error:
        logger.warning("no contact for the service center %s: %s", slug, error)
        return None
    contact = german.contact(department)
    return department.name, contact or german.place(department) or "persönlich im Rathaus"


async def tell_how_to_reach(dispatcher: CollectingDispatcher, client: BackendClient) -> None:
    found = await department_contact(client)
    if found is None:
        dispatcher.utter_message(response="utter_handoff_contact_general")
    else:
        dispatcher.utter_message(
            response="utter_handoff_contact_department", department=found[0], contact=found[1]
        )


def next_opening_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    local = moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)
    return german.when(local, settings.today())


def _intro(dispatcher: CollectingDispatcher, reason: str, topic_name: str | None) -> None:
    if reason == "fallback":
        dispatcher.utter_message(response="utter_default")
    elif reason == "topic":
        if topic_name:
            dispatcher.utter_message(response="utter_handoff_intro_topic", service=topic_name)
        else:
            dispatcher.utter_message(response="utter_handoff_intro_topic_general")
    else:
        dispatcher.utter_message(response=f"utter_handoff_intro_{reason}")


async def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    *,
    topic: str | None = None,
    topic_name: str | None = None,
    client: BackendClient | None = None,
) -> Handoff:
    """Open a ticket for this conversation and tell the citizen what happens next."""
    assert reason in REASONS, reason
    client = client or shared_client()
    spec = current_spec(tracker)
    form = unfinished_form(spec, tracker)
    topic = topic or tracker.get_slot("service")
    _intro(dispatcher, reason, topic_name)
    try:
        ticket = await client.open_handoff(
            sender_id=tracker.sender_id,
            channel=channel_of(tracker),
            reason=reason,
            topic=str(topic)[:64] if topic else None,
            transcript=transcript(tracker.events),
            form=form,
        )
    except _UNREACHABLE as error:
        logger.warning("handoff failed: %s", error)
        dispatcher.utter_message(response="utter_handoff_unavailable")
        await tell_how_to_reach(dispatcher, client)
        form_name = (tracker.active_loop or {}).get("name") or ""
        # A form that was interrupted to ask for a person asks its question again.
        again = [FollowupAction(form_name)] if form_name.endswith("_form") else []
        return Handoff(ticket=None, events=again)

    events: list[EventType] = [SlotSet(HANDOFF_TICKET, ticket.ticket_id)]
    if ticket.kind == "live":
        dispatcher.utter_message(response="utter_handoff_live")
        if form is not None:
            dispatcher.utter_message(response="utter_handoff_form_kept", title=form["title"])
        # The widget starts polling for staff messages; Telegram shows nothing for it.
        dispatcher.utter_message(
            json_message={"govbot": {"handoff": "live", "ticket": ticket.ticket_id}}
        )
        # Paused last: the Rasa server predicts nothing more until staff hand it back.
        return Handoff(ticket, [*events, *_leave_loop(tracker), ConversationPaused()])

    when = next_opening_text(ticket.next_opening_at)
    if when:
        dispatcher.utter_message(response="utter_handoff_callback", next_opening=when)
    else:
        dispatcher.utter_message(response="utter_handoff_callback_unknown_opening")
    if form is not None:
        dispatcher.utter_message(response="utter_handoff_form_kept", title=form["title"])
    return Handoff(
        ticket,
        [
            *events,
            SlotSet(HANDOFF_CONTACT, None),
            *_leave_loop(tracker),
            FollowupAction(CONTACT_FORM),
        ],
    )


class ActionHandoff(Action):
    """The citizen asks for a person ("Ich möchte mit einem Menschen sprechen")."""

    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        done = await hand_off(dispatcher, tracker, "requested", client=self._client)
        return done.events


class ActionDefaultFallback(Action):
    """The two-stage fallback gives up: a person takes over.

    Like Rasa's own ``action_default_fallback`` the message that was not understood is
    reverted, so it does not shape the next prediction (it stays in the transcript).
    """

    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        done = await hand_off(dispatcher, tracker, "fallback", client=self._client)
        # Reverted first: a pause or follow-up after the reverted message would be undone.
        return [UserUtteranceReverted(), *done.events]
