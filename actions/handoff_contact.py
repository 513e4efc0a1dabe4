"""The callback request outside the service center's hours: a phone number or e-mail address.

``hand_off`` starts ``handoff_contact_form`` when nobody can join the chat. Its one slot
takes a phone number or an e-mail address, understood by the same normalizers as the form
assistants' phone and e-mail fields (``forms/answers.py``); "nein" means no callback.
``action_handoff_contact`` then stores the contact with the ticket and confirms, or tells
the citizen how to reach the service center themselves.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    NotFound,
    TooManyAttempts,
    shared_client,
)
from actions.form_validation import is_fresh_answer, looks_like_question
from actions.forms import REQUESTED_SLOT, get_registry
from actions.handoff import (
    CONTACT_FORM,
    HANDOFF_CONTACT,
    HANDOFF_TICKET,
    NO_CONTACT,
    tell_how_to_reach,
)
from actions.knowledge import ASPECTS
from forms import Field, InvalidAnswer, normalize
from forms.answers import display, fold

logger = logging.getLogger(__name__)

HINT = (
    "Das habe ich nicht als Telefonnummer oder E-Mail-Adresse erkannt. Bitte schreiben Sie "
    "zum Beispiel „0521 123456“ oder „name@example.org“ – oder „nein“, wenn Sie keinen "
    "Rückruf möchten."
)
PHONE = Field(name="telefon", type="phone", label="Telefon", question="", hint=HINT)
EMAIL = Field(name="email", type="email", label="E-Mail", question="", hint=HINT)
NO_WORDS = frozenset(
    {"nein", "nee", "ne", "no", "nein danke", "lieber nicht", "kein rueckruf", "keinen"}
)
_EMAIL_IN_TEXT = re.compile(r"[^\s<>(),;:]+@[^\s<>(),;:]+")
_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d\s/()\-]{4,}\d")
SEPARATOR = " oder "
DECLINING_INTENTS = frozenset({"deny", "cancel", "goodbye"})
CONFIDENT = 0.5
QUESTION_CONFIDENCE = 0.8


def parse_contact(text: str) -> str | None:
    """The phone numbers and e-mail addresses in the answer, canonical, or None.

    They may stand in a sentence ("meine Nummer ist 0521 123456"); several are kept
    ("+49521123456 oder anna@example.org").
    """
    context = get_registry().context()
    candidates = [(EMAIL, found) for found in _EMAIL_IN_TEXT.findall(text)]
    candidates += [(PHONE, found) for found in _PHONE_IN_TEXT.findall(text)]
    found: list[str] = []
    for item, candidate in candidates:
        try:
            value = str(normalize(item, candidate.strip(" .,;:"), context))
        except InvalidAnswer:
            continue
        if value not in found:
            found.append(value)
    return SEPARATOR.join(found) if found else None


def shown(contact: str) -> str:
    """The contact as the citizen reads it back (phone numbers grouped)."""
    return SEPARATOR.join(
        part if "@" in part else display(PHONE, part) for part in contact.split(SEPARATOR)
    )


class ValidateHandoffContactForm(FormValidationAction):
    """Takes the citizen's contact, a "nein", or leaves a question to the rules."""

    def name(self) -> str:
        return f"validate_{CONTACT_FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        fresh = tracker.get_slot(REQUESTED_SLOT) == HANDOFF_CONTACT and is_fresh_answer(
            tracker, CONTACT_FORM
        )
        if not fresh:
            done = tracker.get_slot(HANDOFF_CONTACT) is not None
            return [SlotSet(REQUESTED_SLOT, None if done else HANDOFF_CONTACT)]
        message = tracker.latest_message
        text = str(message.get("text") or "").strip()
        intent = message.get("intent") or {}
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        found = None if text.startswith("/") else parse_contact(text)
        if found is not None:
            return [SlotSet(HANDOFF_CONTACT, found), SlotSet(REQUESTED_SLOT, None)]
        declined = fold(text).strip(" .!") in NO_WORDS or (
            name in DECLINING_INTENTS and confidence >= CONFIDENT
        )
        if declined:
            return [SlotSet(HANDOFF_CONTACT, NO_CONTACT), SlotSet(REQUESTED_SLOT, None)]
        question = text.endswith("?") or (
            looks_like_question(text) and confidence >= QUESTION_CONFIDENCE
        )
        if name in ASPECTS and question:
            # Not an answer: the form rejects, the rules answer, and the question comes again.
            return []
        dispatcher.utter_message(text=HINT)
        return [SlotSet(HANDOFF_CONTACT, None), SlotSet(REQUESTED_SLOT, HANDOFF_CONTACT)]


class ActionHandoffContact(Action):
    """Store the callback contact with the ticket, or say how to reach the service center."""

    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_handoff_contact"

    @property
    def client(self) -> BackendClient:
        return self._client or shared_client()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        contact = tracker.get_slot(HANDOFF_CONTACT)
        ticket = tracker.get_slot(HANDOFF_TICKET)
        done: list[EventType] = [SlotSet(HANDOFF_CONTACT, None)]
        if not contact or ticket is None:
            dispatcher.utter_message(response="utter_handoff_no_callback")
            await tell_how_to_reach(dispatcher, self.client)
            return done
        try:
            await self.client.set_handoff_contact(int(ticket), tracker.sender_id, str(contact))
        except (BackendUnavailable, NotFound, TooManyAttempts, ValueError) as error:
            logger.warning("callback contact for ticket %s not stored: %s", ticket, error)
            dispatcher.utter_message(response="utter_handoff_contact_failed")
            await tell_how_to_reach(dispatcher, self.client)
            return done
        dispatcher.utter_message(
            response="utter_handoff_callback_confirmed", contact=shown(contact)
        )
        return done
