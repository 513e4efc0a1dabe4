"""The dialogue around a form assistant: summary, correction, stopping and submitting.

``action_show_summary`` runs when a form has every answer its case needs. After that, and
whenever the citizen says yes, no, names a field to change or wants to stop,
``action_form_step`` decides what it means from the stage the dialogue is in:

- at the summary: "ja" submits, "nein" or "die Adresse ändern" changes one answer and
  returns to the summary, "abbrechen" asks for confirmation;
- choosing which answer to change: the field named (or picked from the buttons);
- confirming a cancel: "ja" deletes the answers, "nein" goes on where the form stopped;
- in the middle of a form: a correction clears that answer so the form asks it again
  (only if the citizen names it). Stopping in the middle asks for confirmation first
  (``action_form_ask_cancel``, which leaves the form while the citizen decides).

The backend checks every submission again; a refused answer is asked again, an unreachable
backend keeps the answers so that "ja" retries with the same idempotency key.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    NotFound,
    SubmissionRejected,
    shared_client,
)
from actions.forms import (
    APPLICATION_KEY,
    FORM_FAILURES,
    FORM_ID,
    FORM_STAGE,
    REQUESTED_SLOT,
    answers,
    clear_events,
    current_spec,
    find_field,
    submission,
    summary_text,
)
from forms import FormSpec
from forms.answers import fold, parse_yes_no

logger = logging.getLogger(__name__)

SUMMARY = "summary"
CHOOSE_FIELD = "choose_field"
CANCEL_PENDING = "cancel_pending"


def service_of(spec: FormSpec, tracker: Tracker) -> str | None:
    """The service an application is for, from its answers, never from the topic of the
    last question: a repeated submission must be the same request (idempotency)."""
    if len(spec.services) == 1:
        return spec.services[0]
    given = answers(spec, tracker)
    for service in spec.services:
        prefills = [item for item in spec.fields if service in item.prefill_from_service]
        if prefills and all(
            given.get(item.name) == item.prefill_from_service[service] for item in prefills
        ):
            return service
    return None


def _intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


# Words that say "stop" outright, besides a plain yes (forms.answers.parse_yes_no).
CANCEL_WORDS = frozenset({"abbrechen", "abbruch", "stopp", "stop", "beenden", "loeschen"})
NEGATIONS = frozenset({"nicht", "nein", "kein", "keine", "nee", "ne", "noe"})


def confirms_cancel(tracker: Tracker) -> bool:
    """Whether the citizen said an explicit yes to deleting the answers.

    The NLU's intent alone is not enough: a surname given again ("Koch") may look like a
    yes or a stop to it, and deleting the answers cannot be undone. The button's payload, a
    yes ("ja", "ja bitte") or a stop word ("abbrechen") without a no count.
    """
    text = str(tracker.latest_message.get("text") or "").strip()
    if text.startswith("/affirm"):
        return True
    said = parse_yes_no(text)
    if said is not None:
        return said
    words = set(fold(text).split())
    return bool(words & CANCEL_WORDS) and not words & NEGATIONS


def _named_field(spec: FormSpec, tracker: Tracker) -> str | None:
    given = answers(spec, tracker)
    needed = {item.name for item in spec.active_fields(given)}
    for entity in tracker.latest_message.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") == "form_field" and isinstance(value, str) and value in needed:
            return str(entity["value"])
    return find_field(spec, str(tracker.latest_message.get("text") or ""), given)


def _ask_cancel(dispatcher: CollectingDispatcher, spec: FormSpec) -> list[EventType]:
    dispatcher.utter_message(response="utter_form_confirm_cancel", title=spec.title)
    return [SlotSet(FORM_ID, spec.id), SlotSet(FORM_STAGE, CANCEL_PENDING)]


class ActionFormAskCancel(Action):
    """ "abbrechen" in the middle of a form: leave the form while the citizen confirms."""

    def name(self) -> str:
        return "action_form_ask_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        spec = current_spec(tracker)
        if spec is None:
            dispatcher.utter_message(response="utter_form_nothing_to_cancel")
            return [ActiveLoop(None)]
        # "nein" starts the form again; it asks the question it was at.
        return [*_ask_cancel(dispatcher, spec), SlotSet(REQUESTED_SLOT, None), ActiveLoop(None)]


class ActionShowSummary(Action):
    def name(self) -> str:
        return "action_show_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        spec = current_spec(tracker)
        if spec is None:
            dispatcher.utter_message(response="utter_form_nothing_pending")
            return []
        dispatcher.utter_message(text=summary_text(spec, answers(spec, tracker)))
        dispatcher.utter_message(response="utter_form_confirm_submit")
        key = tracker.get_slot(APPLICATION_KEY) or uuid.uuid4().hex
        return [
            SlotSet(FORM_ID, spec.id),
            SlotSet(FORM_STAGE, SUMMARY),
            SlotSet(APPLICATION_KEY, key),
            SlotSet(FORM_FAILURES, None),
        ]


class ActionFormStep(Action):
    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_form_step"

    @property
    def client(self) -> BackendClient:
        return self._client or shared_client()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = _intent(tracker)
        spec = current_spec(tracker)
        if spec is None:
            if intent == "cancel":
                dispatcher.utter_message(response="utter_form_nothing_to_cancel")
            elif intent == "inform":
                # A bare statement no question of the bot asked for: the NLU's catch-all
                # for free text, so the honest answer is the out-of-scope one.
                dispatcher.utter_message(response="utter_out_of_scope")
            else:
                dispatcher.utter_message(response="utter_form_nothing_pending")
            return []
        if tracker.active_loop.get("name") == spec.form_name:
            return self._during_form(dispatcher, tracker, spec, intent)
        stage = tracker.get_slot(FORM_STAGE)
        if stage == CANCEL_PENDING:
            return self._confirming_cancel(dispatcher, tracker, spec, intent)
        if intent in ("cancel", "goodbye"):
            return self._ask_cancel(dispatcher, spec)
        if stage == CHOOSE_FIELD:
            return self._change(dispatcher, tracker, spec)
        if stage == SUMMARY:
            if intent == "affirm":
                return await self._submit(dispatcher, tracker, spec)
            if intent in ("deny", "correct_field"):
                return self._change(dispatcher, tracker, spec)
            dispatcher.utter_message(response="utter_form_answer_summary")
            return []
        # A form left without a summary: it goes on, and shows the summary once complete.
        return [FollowupAction(spec.form_name)]

    def _during_form(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, spec: FormSpec, intent: str
    ) -> list[EventType]:
        if intent == "correct_field":
            name = _named_field(spec, tracker)
            if name is None:
                dispatcher.utter_message(response="utter_form_correct_later")
                return []
            dispatcher.utter_message(
                response="utter_form_change_field", label=spec.field(name).label
            )
            return [SlotSet(spec.slot(name), None), SlotSet(REQUESTED_SLOT, None)]
        events = self._ask_cancel(dispatcher, spec)
        # Out of the form while the citizen decides; "nein" starts it again where it was.
        return [*events, SlotSet(REQUESTED_SLOT, None), ActiveLoop(None)]

    def _ask_cancel(self, dispatcher: CollectingDispatcher, spec: FormSpec) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_confirm_cancel", title=spec.title)
        return [SlotSet(FORM_ID, spec.id), SlotSet(FORM_STAGE, CANCEL_PENDING)]

    def _confirming_cancel(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, spec: FormSpec, intent: str
    ) -> list[EventType]:
        if intent in ("affirm", "cancel") and confirms_cancel(tracker):
            dispatcher.utter_message(response="utter_form_cancelled")
            return clear_events(spec)
        if intent == "deny":
            dispatcher.utter_message(response="utter_form_resume")
            return [SlotSet(FORM_STAGE, None), FollowupAction(spec.form_name)]
        dispatcher.utter_message(response="utter_form_confirm_cancel", title=spec.title)
        return []

    def _change(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, spec: FormSpec
    ) -> list[EventType]:
        name = _named_field(spec, tracker)
        if name is None:
            given = answers(spec, tracker)
            buttons = [
                {
                    "title": item.label,
                    "payload": f'/correct_field{{"form_field": "{item.name}"}}',
                }
                for item in spec.active_fields(given)
            ]
            dispatcher.utter_message(response="utter_form_which_field", buttons=buttons)
            return [SlotSet(FORM_STAGE, CHOOSE_FIELD)]
        dispatcher.utter_message(response="utter_form_change_field", label=spec.field(name).label)
        return [
            SlotSet(spec.slot(name), None),
            SlotSet(FORM_STAGE, None),
            # The answers change, so the next submission is a new one.
            SlotSet(APPLICATION_KEY, None),
            SlotSet(REQUESTED_SLOT, None),
            FollowupAction(spec.form_name),
        ]

    async def _submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, spec: FormSpec
    ) -> list[EventType]:
        key = tracker.get_slot(APPLICATION_KEY) or uuid.uuid4().hex
        channel = tracker.get_latest_input_channel()
        try:
            result = await self.client.submit_application(
                spec.id,
                submission(spec, tracker),
                key,
                service=service_of(spec, tracker),
                channel=channel,
                conversation=tracker.sender_id,
            )
        except SubmissionRejected as rejected:
            return self._rejected(dispatcher, spec, rejected.errors)
        except (BackendUnavailable, NotFound) as error:
            logger.warning("submission of %s failed: %s", spec.id, error)
            dispatcher.utter_message(response="utter_form_submit_failed")
            return [SlotSet(APPLICATION_KEY, key)]
        dispatcher.utter_message(
            response="utter_form_submitted", title=spec.title, reference=result.reference
        )
        steps = "\n".join(
            f"• {delivery.department_name}: {delivery.next_steps}" for delivery in result.deliveries
        )
        if steps:
            dispatcher.utter_message(response="utter_form_next_steps", steps=steps)
        if spec.sample_data:
            dispatcher.utter_message(response="utter_form_sample_notice")
        return clear_events(spec)

    def _rejected(
        self, dispatcher: CollectingDispatcher, spec: FormSpec, errors: dict[str, str]
    ) -> list[EventType]:
        known = {item.name for item in spec.fields}
        fields = [name for name in errors if name in known]
        if not fields:
            # Nothing the citizen can answer again: the spec and the backend disagree.
            logger.error("backend refused %s for unknown fields: %s", spec.id, sorted(errors))
            dispatcher.utter_message(response="utter_form_submit_failed")
            return []
        problems = "\n".join(f"• {spec.field(name).label}: {errors[name]}" for name in fields)
        dispatcher.utter_message(response="utter_form_rejected", problems=problems)
        return [
            *(SlotSet(spec.slot(name), None) for name in fields),
            SlotSet(FORM_STAGE, None),
            SlotSet(APPLICATION_KEY, None),
            SlotSet(REQUESTED_SLOT, None),
            FollowupAction(spec.form_name),
        ]
