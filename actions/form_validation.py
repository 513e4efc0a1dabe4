"""One spec-driven validation action for every form assistant.

For each spec a ``validate_<key>_form`` action is made from ``SpecFormValidation``. It
takes the citizen's answer to the question just asked, checks it with the spec's
normalizer (the backend checks again with the same code), re-asks with a hint when it
does not fit, and decides the next question from the conditions: only the fields this case
needs are asked, and answers that a changed answer made unnecessary are dropped.

A message that is not an answer but a question or a wish to stop ("Was kostet das?",
"abbrechen") is left alone: the form then rejects it, the rules answer it, and the form
asks its question again. After three invalid answers in a row the conversation goes to a
person of the service center, with the answers given so far (``actions/handoff.py``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.forms import (
    FORM_FAILURES,
    FORM_PROPOSAL,
    REQUESTED_SLOT,
    answers,
    clear_events,
    find_field,
    get_registry,
)
from actions.knowledge import ASPECTS, ActionServiceKnowledge
from forms import Field, FormContext, FormSpec, InvalidAnswer, normalize
from forms.answers import (
    NotEligible,
    Proposal,
    Understood,
    check_against,
    fold,
    parse_yes_no,
    understand_answer,
)

logger = logging.getLogger(__name__)

# Intents that are not an answer when the NLU is confident: questions about services,
# the status of another application, help, "are you a bot?", a correction, stopping.
INTERRUPTIONS = frozenset(ASPECTS) | {
    "ask_status",
    "help",
    "bot_challenge",
    "correct_field",
    "cancel",
    "goodbye",
}
# Asking for a person or to delete the conversation leaves the form whatever the question
# (a free answer included) when the NLU is fairly sure.
LEAVING_INTENTS = frozenset({"request_human", "delete_conversation"})
INTERRUPTIONS |= LEAVING_INTENTS
STOP_WORDS = frozenset({"abbrechen", "abbruch", "stopp", "stop", "beenden", "cancel"})
LEAVING_WORDS = frozenset(
    {
        "mitarbeiter", "mitarbeiterin", "mitarbeitenden", "menschen", "person", "berater",
        "beraterin", "sachbearbeiter", "sachbearbeiterin", "jemandem", "jemand", "telefon",
        "anrufen", "rueckruf", "persoenlich", "echten", "echter", "servicecenter", "loeschen",
        "loesche", "vergessen", "daten", "mensch",
    }
)  # fmt: skip
STRUCTURED_CONFIDENCE = 0.5
# A free answer starting like a question ("Wie in der Skizze: ...") without a question mark
# interrupts only when the NLU is fairly sure.
QUESTION_CONFIDENCE = 0.8
# Free answers (names, descriptions) look like anything to the NLU: they interrupt the form
# only when they are phrased as a question, or are one of these words.
QUESTION_WORDS = frozenset(
    {
        "was", "wie", "wo", "wann", "wer", "wen", "wem", "welche", "welcher", "welches",
        "warum", "wieso", "weshalb", "wozu", "wieviel", "woher", "wohin", "kann", "koennen",
        "muss", "muessen", "darf", "gibt", "brauche", "braucht", "bist", "sind", "seid",
        "ist", "habt", "haben", "hat",
    }
)  # fmt: skip
OTHER_THAN_ANSWERS = frozenset(
    {"hilfe", "help", "tschuess", "tschuss", "auf wiedersehen", "bye", "ciao", "bist du ein bot"}
)
# After this many invalid answers in a row, the hint comes with the offer of a person of the
# service center (a button); the form goes on until the citizen takes it.
FAILURES_BEFORE_OFFER = 3
# Actions that may run between the citizen's answer and its validation.
_BETWEEN = {"action_listen", "action_session_start", "action_extract_slots"}


# In a form, a question that the NLU finds about as likely off-topic as a question about a
# service ("Was kostet ein Essen?" while registering a child for school lunch) is taken as
# one about the form's service: the citizen is on that topic. "About as likely": the
# aspect's confidence is within this much of the out-of-scope one.
AMBIGUITY = 0.1
# The aspects answered for the form's service itself (an office's hours or place are not
# guessed from an off-topic-sounding question).
SERVICE_ASPECTS = frozenset({"fees", "documents", "processing_time", "info"})


def question_about_the_service(message: dict[str, Any]) -> str | None:
    """The aspect of the form's service that an ambiguous question asks about, if any."""
    text = str(message.get("text") or "")
    ranking = message.get("intent_ranking") or []
    if not text.rstrip().endswith("?") or not ranking:
        return None
    top = ranking[0]
    if top.get("name") != "out_of_scope":
        return None
    for other in ranking[1:]:
        aspect = ASPECTS.get(str(other.get("name")))
        if aspect is not None:
            close = float(top.get("confidence") or 0) - float(other.get("confidence") or 0)
            return aspect if aspect in SERVICE_ASPECTS and close < AMBIGUITY else None
    return None


def looks_like_question(text: str) -> bool:
    words = fold(text).split()
    return text.rstrip().endswith("?") or (bool(words) and words[0] in QUESTION_WORDS)


class DeclinedProposal(Exception):
    """ "Nein" to "Meinen Sie …?": the question is asked again, no failure counted."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


def _user_turns(tracker: Tracker) -> int:
    return sum(1 for event in tracker.events if event.get("event") == "user")


def _confirmed(item: Field, proposed: Any, text: str, turn: int) -> Understood | None:
    """The proposed value when the citizen says a plain yes to "Meinen Sie …?".

    Only the message right after the proposal answers it, and only a bare yes or no: "nein,
    Nebenwohnsitz" or "Nebenwohnsitz, ja" are new answers (None), as is anything else.
    """
    if not isinstance(proposed, dict) or proposed.get("field") != item.name:
        return None
    words = fold(text).split()
    bare = all(
        parse_yes_no(word) is not None or word in {"bitte", "danke", "doch"} for word in words
    )
    if proposed.get("turn") not in (None, turn - 1) or not words or not bare:
        return None
    said = parse_yes_no(text)
    if said is True:
        return Understood(proposed.get("value"), dict(proposed.get("also") or {}))
    if said is False and proposed.get("otherwise") is not None:
        return Understood(proposed["otherwise"])  # "Hans Peter": both are first names
    if said is False:
        options = "" if item.other else ", ".join(f"„{o.label}“" for o in item.options)
        raise DeclinedProposal(
            f"Dann nennen Sie mir bitte die richtige Angabe. Möglich sind: {options}."
            if options
            else f"Dann nennen Sie mir bitte die richtige Angabe. {item.hint}"
        )
    return None


def _leaves(item: Field, message: dict[str, Any]) -> bool:
    """Whether a message after "Meinen Sie …?" stops, leaves or asks something instead."""
    text = str(message.get("text") or "")
    words = set(fold(text).split())
    intent = message.get("intent") or {}
    leaving = intent.get("name") in LEAVING_INTENTS and float(intent.get("confidence") or 0) >= (
        QUESTION_CONFIDENCE
    )
    return (
        bool(words & STOP_WORDS)
        or (leaving and bool(words & LEAVING_WORDS))
        or (text.rstrip().endswith("?"))
    )


class Interruption(Exception):
    """The message is not an answer to the question."""


def understand(
    spec: FormSpec,
    item: Field,
    message: dict[str, Any],
    context: FormContext,
    names_a_field: bool = False,
) -> Understood:
    """The canonical answer (and what else it answered), ``InvalidAnswer``, or ``Interruption``.

    An answer that fits the question is taken whatever the NLU thinks of it ("zur Miete" is
    an answer even when it looks like a correction). A free answer (a name, a description)
    fits almost anything, so it counts as a question only when it is one: it ends with a
    question mark, or the NLU is very sure. A correction must name a field of the form.
    """
    text = str(message.get("text") or "")
    intent = message.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    free = item.type in ("text", "long_text", "name", "town") or (
        item.type == "choice" and item.other
    )
    if fold(text) in STOP_WORDS:
        raise Interruption
    # A surname such as "Ende" or "Lange" may look like stopping to the NLU: a free answer of
    # one or two words stops the form only when it says so in a word of STOP_WORDS.
    words = fold(text).split()
    says_stop = not free or len(words) > 2 or bool(set(words) & STOP_WORDS)
    if name == "cancel" and confidence >= STRUCTURED_CONFIDENCE and says_stop:
        raise Interruption
    if (
        name in LEAVING_INTENTS
        and confidence >= QUESTION_CONFIDENCE
        and (not free or text.startswith("/") or bool(set(words) & LEAVING_WORDS))
    ):
        # A free answer ("Mensch", a company's name) leaves the form only when it asks in
        # words for a person or for deleting, or by a button.
        raise Interruption
    interrupting = name in INTERRUPTIONS and (name != "correct_field" or names_a_field)
    if text.startswith("/"):
        # A button of an earlier message or a typed intent is never an answer.
        raise InvalidAnswer(item.hint)
    question = text.rstrip().endswith("?") or (
        looks_like_question(text) and confidence >= QUESTION_CONFIDENCE
    )
    if interrupting and text.rstrip().endswith("?"):
        # "Was ist, wenn ich keinen Hund mehr habe?" is no "nein".
        raise Interruption
    if item.type == "choice" and item.other:
        # An option named is an answer; anything else is a free answer.
        try:
            return Understood(normalize(replace(item, other=False), text, context))
        except Proposal:
            if not interrupting:
                raise  # "Labrdor": "Meinen Sie „Labrador“?"
        except InvalidAnswer:
            pass
    if free:
        # "Malerbetrieb Schulz" may look like a request to the NLU; a question does not.
        if interrupting and (question or fold(text) in OTHER_THAN_ANSWERS):
            raise Interruption
        return understand_answer(spec, item, text, context)
    try:
        return understand_answer(spec, item, text, context)
    except NotEligible:
        if interrupting and question:
            raise Interruption from None
        raise
    except InvalidAnswer:
        if interrupting and (question or confidence >= STRUCTURED_CONFIDENCE):
            raise Interruption from None
        raise


def is_fresh_answer(tracker: Tracker, form_name: str) -> bool:
    """Whether the latest user message is waiting to be taken as an answer.

    After an interruption (the form rejected the message and another action answered it),
    or when the form starts from another action, the message was not an answer.
    """
    after_user: list[dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        after_user.append(event)
    else:
        return False
    for event in after_user:
        if event.get("event") == "action_execution_rejected":
            return False
        if event.get("event") == "action" and event.get("name") not in _BETWEEN | {form_name}:
            return False
    return True


class SpecFormValidation(FormValidationAction, ABC):
    """Validation of one form, entirely from its spec."""

    @property
    @abstractmethod
    def spec_id(self) -> str:
        """The id of the spec in data/forms/."""

    def spec(self) -> FormSpec:
        return get_registry().specs[self.spec_id]

    def name(self) -> str:
        return f"validate_{self.spec().form_name}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        spec = self.spec()
        registry = get_registry()
        given = answers(spec, tracker)
        events: list[EventType] = []
        requested = registry.field_of_slot(tracker.get_slot(REQUESTED_SLOT))
        fresh = (
            requested is not None
            and requested[0].id == spec.id
            and is_fresh_answer(tracker, spec.form_name)
        )
        aspect = question_about_the_service(tracker.latest_message) if fresh else None
        if aspect and tracker.get_slot("service"):
            # Answered here; the same question comes again below, no failure counted. The
            # requested slot is set (to nothing), or Rasa would reject the form's turn and
            # drop this answer.
            service = str(tracker.get_slot("service"))
            await ActionServiceKnowledge().answer_about(dispatcher, service, aspect)
            events.append(SlotSet(str(tracker.get_slot(REQUESTED_SLOT)), None))
        elif requested and fresh:
            item = spec.field(requested[1])
            proposed = tracker.get_slot(FORM_PROPOSAL)
            turn = _user_turns(tracker)
            try:
                text = str(tracker.latest_message.get("text") or "")
                if proposed and _leaves(item, tracker.latest_message):
                    # "abbrechen", a person, a question: the form rejects the message and
                    # the rules take it; the proposal is not answered by it.
                    raise Interruption
                if proposed:
                    events.append(SlotSet(FORM_PROPOSAL, None))
                understood = _confirmed(item, proposed, text, turn) or understand(
                    spec,
                    item,
                    tracker.latest_message,
                    registry.context(),
                    names_a_field=find_field(spec, text, given) is not None,
                )
                check_against(spec, item, understood.value, given)
            except Interruption:
                return []
            except DeclinedProposal as declined:
                dispatcher.utter_message(text=declined.hint)
                events.append(SlotSet(spec.slot(item.name), None))
            except NotEligible as refusal:
                # A truthful "no" to a precondition: where to go instead, and the form ends.
                dispatcher.utter_message(text=refusal.hint)
                dispatcher.utter_message(response="utter_form_ended_not_eligible")
                return [*clear_events(spec), ActiveLoop(None), FollowupAction("action_listen")]
            except Proposal as proposal:
                # Nothing is stored before the citizen confirms; no failure is counted.
                dispatcher.utter_message(
                    text=proposal.hint,
                    buttons=[
                        {"title": "Ja", "payload": "Ja"},
                        {"title": "Nein", "payload": "Nein"},
                    ],
                )
                pending = {"field": item.name, "value": proposal.value, "turn": turn}
                if proposal.also:
                    pending["also"] = proposal.also
                if proposal.otherwise is not None:
                    pending["otherwise"] = proposal.otherwise
                events += [SlotSet(FORM_PROPOSAL, pending), SlotSet(spec.slot(item.name), None)]
            except InvalidAnswer as invalid:
                failures = int(tracker.get_slot(FORM_FAILURES) or 0) + 1
                dispatcher.utter_message(text=invalid.hint)
                if failures >= FAILURES_BEFORE_OFFER:
                    # The form stays open: a person takes over only when the citizen asks
                    # (the button sends an explicit request_human).
                    dispatcher.utter_message(response="utter_form_offer_person")
                events += [
                    SlotSet(spec.slot(item.name), None),
                    SlotSet(FORM_FAILURES, failures),
                ]
            else:
                given[item.name] = understood.value
                events += [
                    SlotSet(spec.slot(item.name), understood.value),
                    SlotSet(FORM_FAILURES, 0),
                ]
                for name, value in understood.also.items():
                    # The postal code and town of a whole address, the surname of a whole
                    # name: said in this message, so they replace what was there.
                    given[name] = value
                    events.append(SlotSet(spec.slot(name), value))
        # A changed answer can make other fields unnecessary: their answers are dropped.
        needed = spec.active_fields(given)
        needed_names = {item.name for item in needed}
        for item in spec.fields:
            if item.name not in needed_names and item.name in given:
                del given[item.name]
                events.append(SlotSet(spec.slot(item.name), None))
        missing = next((item for item in needed if given.get(item.name) is None), None)
        events.append(SlotSet(REQUESTED_SLOT, spec.slot(missing.name) if missing else None))
        return events


def _make_validation_actions() -> list[type[SpecFormValidation]]:
    made = []
    for spec in get_registry().specs.values():
        class_name = "Validate" + "".join(part.title() for part in spec.key.split("_")) + "Form"
        made.append(type(class_name, (SpecFormValidation,), {"spec_id": spec.id}))
    return made


VALIDATION_ACTIONS = _make_validation_actions()
