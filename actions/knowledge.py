"""Answer what citizens ask about a service or an office, from the backend's catalogue.

One action serves every aspect: what it is and who may apply, how to apply, fees,
documents, processing time, the responsible office, where it is, and its opening hours.
The service comes from the message (entity, or the backend's search over the citizen's
own words) or from the conversation so far, so "und was kostet das?" keeps the topic.
Questions that ``data/handoff.yml`` reserves for a person are handed over instead of
answered (``actions/handoff.py``).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import german
from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    Department,
    NotFound,
    Service,
    TooManyAttempts,
    shared_client,
)
from actions.forms import get_registry, start_events
from actions.handoff import AlwaysHuman, hand_off, load_always_human
from actions.opening_hours import asked_day, day_text, opening_status_text
from actions.referrals import Referral, referrals
from actions.settings import get_settings
from forms.answers import fold

logger = logging.getLogger(__name__)

# Intent → aspect of the answer.
ASPECTS = {
    "ask_apply": "apply",
    "ask_fees": "fees",
    "ask_documents": "documents",
    "ask_location": "location",
    "ask_responsible_office": "responsible_office",
    "ask_processing_time": "processing_time",
    "ask_service_info": "info",
    "ask_opening_hours": "hours",
}
# Aspects an office can answer without a service.
OFFICE_ASPECTS = {"location", "responsible_office", "hours"}
MAX_CHOICES = 5


@lru_cache
def always_human() -> AlwaysHuman:
    """data/handoff.yml, read and checked once (the action server refuses to start on errors)."""
    settings = get_settings()
    return load_always_human(settings.handoff_file, settings.services_file, ASPECTS)


# Words that ask for an aspect of a service, to answer every part of a two-part question.
_ASPECT_CUES = {
    "fees": re.compile(r"\b(?:kost\w*|gebuehr\w*|teuer|preis\w*|bezahlen)\b"),
    "documents": re.compile(
        r"\b(?:unterlagen|dokument\w*|papiere|nachweis\w*|mitbringen|mitnehmen|vorlegen|"
        r"was brauch\w* (?:ich|man))\b"
    ),
    "processing_time": re.compile(r"\b(?:wie lange|dauert|dauer|bearbeitungszeit)\b"),
}


# A complaint or an objection about a case that exists already, not a new application.
_EXISTING_CASE = re.compile(
    r"\b(?:trotz|beschwer\w*|reklamation|widerspruch|einspruch|knoellchen|strafzettel|"
    r"bussgeld\w*|verwarn\w*|falsch (?:berechnet|ausgestellt|eingetragen)|abgelehnt|"
    r"immer noch nicht|noch immer nicht)\b"
)


def about_an_existing_case(text: str) -> bool:
    return bool(_EXISTING_CASE.search(fold(text)))


def further_aspects(text: str, aspect: str) -> list[str]:
    """The other aspects a question asks for besides ``aspect``, in the order it names them:
    only when it names ``aspect`` too, so one word alone never adds an answer."""
    folded = fold(text)
    found = {name: cue.search(folded) for name, cue in _ASPECT_CUES.items()}
    if aspect not in found or found[aspect] is None:
        return []
    others = [(match.start(), name) for name, match in found.items() if match and name != aspect]
    return [name for _, name in sorted(others)]


def _entity(tracker: Tracker, name: str) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def refer(dispatcher: CollectingDispatcher, referral: Referral) -> None:
    dispatcher.utter_message(
        response="utter_referral", topic=referral.topic, responsible=referral.responsible
    )
    if referrals().sample_data:
        dispatcher.utter_message(response="utter_sample_data_notice")


class ActionOutOfScope(Action):
    """The out-of-scope answer, or who is responsible for another authority's matter."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        referral = referrals().find(str(tracker.latest_message.get("text") or ""))
        if referral is not None:
            refer(dispatcher, referral)
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionServiceKnowledge(Action):
    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client
        self._always_human = always_human()

    def name(self) -> str:
        return "action_service_knowledge"

    @property
    def client(self) -> BackendClient:
        return self._client or shared_client()

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        aspect = ASPECTS.get(intent or "") or tracker.get_slot("pending_aspect") or "info"
        if intent in self._always_human.intents:
            service = _entity(tracker, "service") or tracker.get_slot("service")
            done = await hand_off(dispatcher, tracker, "topic", topic=service, client=self.client)
            return [SlotSet("pending_aspect", None), *done.events]
        try:
            return await self._answer(dispatcher, tracker, aspect)
        except (BackendUnavailable, NotFound, TooManyAttempts) as error:
            logger.warning("catalogue not available: %s", error)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []

    async def _answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, aspect: str
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        department_named = _entity(tracker, "department")
        service_named = _entity(tracker, "service")

        # An office named without a service: answer for the office itself.
        if department_named and not service_named and aspect in OFFICE_ASPECTS:
            department = await self._department(department_named)
            if department is None:
                return await self._unknown_department(dispatcher, department_named)
            await self._office_answer(dispatcher, aspect, department, service=None, text=text)
            return [SlotSet("department", department.slug), SlotSet("service", None)]

        # A service named in this message wins; a message that names none (as far as the
        # NLU and the backend's search can tell) is a follow-up about the service so far.
        if service_named:
            candidates = await self._services(service_named, text)
            if len(candidates) == 1 and text:
                candidates = [await self._named_in_words(text, candidates[0])]
        elif tracker.active_loop and tracker.get_slot("service"):
            # "Was kostet die Bewerbung?" while filling in a form is about that form.
            candidates = await self._services(str(tracker.get_slot("service")), "")
        else:
            candidates = await self.client.find_services(text) if text else []
            if not candidates and tracker.get_slot("service"):
                candidates = await self._services(str(tracker.get_slot("service")), "")
            elif not candidates:
                # No city service named: another authority's matter in the citizen's words
                # ("Kindergeld") gets who is responsible. (A question that also names a city
                # service, "Brauche ich die Steuernummer für die Gewerbeanmeldung?", is
                # about that service.)
                referral = referrals().find(text)
                if referral is not None:
                    refer(dispatcher, referral)
                    return [SlotSet("pending_aspect", None)]
                # Not sure enough to answer: the services the NLU found plausible are
                # offered ("Welche Leistung meinen Sie?"), never answered.
                plausible = await self._plausible(tracker)
                if plausible:
                    return self._ask_which(dispatcher, aspect, plausible)

        if len(candidates) == 1:
            service = candidates[0]
            topic = [
                SlotSet("service", service.slug),
                SlotSet("department", service.department.slug),
                SlotSet("pending_aspect", None),
            ]
            if self._always_human.applies(None, service.slug, aspect):
                done = await hand_off(
                    dispatcher,
                    tracker,
                    "topic",
                    topic=service.slug,
                    topic_name=service.name,
                    client=self.client,
                )
                return [*topic, *done.events]
            spec = get_registry().specs.get(service.online_form or "")
            pending = tracker.get_slot("form_id") == getattr(spec, "id", None)
            if aspect == "apply" and pending and tracker.get_slot("form_stage"):
                # "Ja, den Antrag bitte stellen" at the summary must not start afresh.
                return [FollowupAction("action_show_summary")]
            if aspect == "apply" and about_an_existing_case(text):
                # "Trotz Verlängerung ein Knöllchen": no new application, but who handles it.
                dispatcher.utter_message(
                    response="utter_existing_case",
                    service=service.name,
                    department=service.department.name,
                    contact=german.contact(service.department),
                )
                return topic
            if aspect == "apply" and spec is not None and not tracker.active_loop:
                # The application is filled in right here, in the conversation.
                dispatcher.utter_message(response=f"utter_intro_{spec.key}")
                if spec.sample_data:
                    dispatcher.utter_message(response="utter_form_sample_notice")
                return [*topic, *start_events(spec, service.slug, text)]
            await self._service_answer(dispatcher, aspect, service, text)
            for more in further_aspects(text, aspect):
                # "Was brauche ich und was kostet das?": both parts are answered.
                await self._service_answer(dispatcher, more, service, text)
            return topic
        if len(candidates) > 1:
            return self._ask_which(dispatcher, aspect, candidates)

        if aspect in OFFICE_ASPECTS and not service_named:
            # An office the NLU did not tag may still be named in the citizen's words.
            in_text = await self.client.find_departments(text) if text else []
            wanted = (
                (in_text[0].slug if len(in_text) == 1 else None)
                or tracker.get_slot("department")
                or get_settings().default_department
            )
            department = await self._department(str(wanted))
            if department is not None:
                await self._office_answer(dispatcher, aspect, department, service=None, text=text)
                return [SlotSet("department", department.slug)]
        if service_named:
            dispatcher.utter_message(response="utter_service_unknown", service=service_named)
            return [SlotSet("service", None), SlotSet("pending_aspect", aspect)]
        dispatcher.utter_message(response="utter_ask_which_service")
        return [SlotSet("pending_aspect", aspect)]

    async def answer_about(
        self, dispatcher: CollectingDispatcher, slug: str, aspect: str
    ) -> list[EventType]:
        """Answers ``aspect`` of the service ``slug`` (a question in the middle of its form)."""
        try:
            service = await self.client.service(slug)
        except (BackendUnavailable, NotFound, TooManyAttempts) as error:
            logger.warning("catalogue not available: %s", error)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        await self._service_answer(dispatcher, aspect, service)
        return []

    async def _plausible(self, tracker: Tracker) -> list[Service]:
        """The services of the NLU's ``service_candidates`` that the catalogue has."""
        found = []
        for candidate in tracker.latest_message.get("service_candidates") or []:
            try:
                found.append(await self.client.service(str(candidate.get("value"))))
            except NotFound:
                continue
        return found

    async def _named_in_words(self, text: str, guessed: Service) -> Service:
        """The service whose official name the citizen wrote, over the NLU's guess.

        The NLU knows the services of its training data; the backend's catalogue may have
        more ("Baumfällgenehmigung", added without retraining, is not "Baugenehmigung").
        When the citizen writes a service's official name and not the guessed one's, the
        written name wins.
        """
        words = f" {fold(text)} "
        if f" {fold(guessed.name)} " in words:
            return guessed
        try:
            found = await self.client.find_services(text)
        except (BackendUnavailable, NotFound, TooManyAttempts) as error:
            logger.warning("search not available, the NLU's service stands: %s", error)
            return guessed
        if found and found[0].slug != guessed.slug and f" {fold(found[0].name)} " in words:
            return found[0]
        return guessed

    async def _services(self, named: str, text: str) -> list[Service]:
        """The service the NLU named (a slug after synonym mapping, or the citizen's words)."""
        try:
            return [await self.client.service(named)]
        except NotFound:
            pass
        found = await self.client.find_services(named)
        if not found and text:
            found = await self.client.find_services(text)
        return found

    async def _department(self, named: str) -> Department | None:
        try:
            return await self.client.department(named)
        except NotFound:
            found = await self.client.find_departments(named)
            return found[0] if len(found) == 1 else None

    async def _unknown_department(
        self, dispatcher: CollectingDispatcher, named: str
    ) -> list[EventType]:
        known = await self.client.find_departments()
        dispatcher.utter_message(
            response="utter_department_unknown",
            department=named,
            known=german.join([d.name for d in known]),
        )
        return [SlotSet("department", None)]

    def _ask_which(
        self, dispatcher: CollectingDispatcher, aspect: str, services: list[Service]
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_ask_which_service",
            buttons=[
                {"title": s.name, "payload": f'/choose_service{{"service": "{s.slug}"}}'}
                for s in services[:MAX_CHOICES]
            ],
        )
        return [SlotSet("pending_aspect", aspect), SlotSet("service", None)]

    async def _service_answer(
        self, dispatcher: CollectingDispatcher, aspect: str, service: Service, text: str = ""
    ) -> None:
        if aspect in OFFICE_ASPECTS:
            await self._office_answer(dispatcher, aspect, service.department, service, text)
            return
        if aspect == "fees":
            dispatcher.utter_message(
                response="utter_service_fees",
                service=service.name,
                fees=service.fees or "Dazu liegen mir keine Angaben vor.",
            )
        elif aspect == "documents":
            if service.documents:
                dispatcher.utter_message(
                    response="utter_service_documents",
                    service=service.name,
                    documents=german.bullets(service.documents),
                )
            else:
                dispatcher.utter_message(
                    response="utter_service_no_documents", service=service.name
                )
        elif aspect == "processing_time":
            dispatcher.utter_message(
                response="utter_service_processing_time",
                service=service.name,
                processing_time=service.processing_time or "Dazu liegen mir keine Angaben vor.",
            )
        elif aspect == "apply":
            dispatcher.utter_message(
                response="utter_service_apply",
                service=service.name,
                department=service.department.name,
                place=german.place(service.department),
                documents=german.bullets(service.documents) or "–",
            )
        else:
            dispatcher.utter_message(
                response="utter_service_info",
                service=service.name,
                description=service.description,
                eligibility=service.eligibility or "Dazu liegen mir keine Angaben vor.",
            )
        if service.online_form_url:
            dispatcher.utter_message(response="utter_service_online", url=service.online_form_url)
        if service.sample_data:
            dispatcher.utter_message(response="utter_sample_data_notice")

    async def _office_answer(
        self,
        dispatcher: CollectingDispatcher,
        aspect: str,
        department: Department,
        service: Service | None,
        text: str = "",
    ) -> None:
        """The office's hours (and of the day asked about), place, or responsibility."""
        topic = f"{service.name} – " if service else ""
        if aspect == "hours":
            today = get_settings().today()
            day = asked_day(text, today) if text else None
            hours = await self.client.opening_hours(department.slug, day if day != today else None)
            if hours.day is not None and hours.day.date != hours.now.date():
                # A direct answer to "am Samstag?" first, then the week.
                dispatcher.utter_message(text=day_text(department.name, hours.day, today))
            dispatcher.utter_message(
                response="utter_opening_hours",
                department=department.name,
                hours=german.weekly_hours([(r.weekday, r.intervals) for r in hours.regular_hours]),
                status=opening_status_text(hours),
            )
            if not hours.open_now:
                dispatcher.utter_message(response="utter_closed_offer")
                if service is not None and service.online_form_url:
                    dispatcher.utter_message(
                        response="utter_service_online", url=service.online_form_url
                    )
        elif aspect == "location":
            dispatcher.utter_message(
                response="utter_office_location",
                department=department.name,
                place=german.place(department),
                directions=department.directions or "",
                access=german.access(department),
            )
        else:
            dispatcher.utter_message(
                response="utter_office_responsible",
                topic=topic,
                department=department.name,
                place=german.place(department),
                contact=german.contact(department),
            )
        if department.sample_data:
            dispatcher.utter_message(response="utter_sample_data_notice")
