"""The form assistants on the action server's side: specs, answers in slots, the summary.

Each spec in ``data/forms/`` becomes a Rasa form ``<key>_form`` whose slots are
``<key>__<field>`` (generated into ``bot/domain/generated/forms.yml``). This module reads
the specs once, knows which slots belong to which form, and builds what the dialogue
actions say. It holds no dialogue logic itself.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions.settings import get_settings
from forms import FormContext, FormSpec, load_specs
from forms.answers import SKIP, display, fold, from_opener, load_city

# Slots of the form dialogue that are not fields (declared in bot/domain/forms.yml).
FORM_ID = "form_id"  # the spec being filled in or waiting for confirmation
FORM_STAGE = "form_stage"  # None, "summary", "choose_field" or "cancel_pending"
APPLICATION_KEY = "application_key"  # idempotency key of the submission
FORM_FAILURES = "form_failures"  # invalid answers in a row to the current question
REQUESTED_SLOT = "requested_slot"
FORM_PROPOSAL = "form_proposal"  # a value waiting for "Meinen Sie …?" to be confirmed


class FormRegistry:
    """Every form spec by id and by Rasa form name, and the city's reference data."""

    def __init__(self, specs: dict[str, FormSpec], city: FormContext) -> None:
        self.specs = specs
        self._city = city
        self._by_form_name = {spec.form_name: spec for spec in specs.values()}

    def by_form_name(self, name: str | None) -> FormSpec | None:
        return self._by_form_name.get(name or "")

    def context(self) -> FormContext:
        """The city data with today's date, for checking answers."""
        return replace(self._city, today=get_settings().today())

    def field_of_slot(self, slot: str | None) -> tuple[FormSpec, str] | None:
        if not slot or "__" not in slot:
            return None
        key, name = slot.split("__", 1)
        spec = self.by_form_name(f"{key}_form")
        if spec is None or name not in {item.name for item in spec.fields}:
            return None
        return spec, name


@lru_cache
def get_registry() -> FormRegistry:
    settings = get_settings()
    city = load_city(settings.city_file, settings.today())
    return FormRegistry(load_specs(settings.forms_dir), city)


def answers(spec: FormSpec, tracker: Tracker) -> dict[str, Any]:
    """The answers given so far (canonical values, as the validation action stored them)."""
    given = {}
    for item in spec.fields:
        value = tracker.get_slot(spec.slot(item.name))
        if value is not None:
            given[item.name] = value
    return given


def submission(spec: FormSpec, tracker: Tracker) -> dict[str, Any]:
    """The answers of the fields this case needs, as the backend expects them."""
    given = answers(spec, tracker)
    return {item.name: given[item.name] for item in spec.active_fields(given) if item.name in given}


def current_spec(tracker: Tracker) -> FormSpec | None:
    """The form being filled in (active loop) or waiting at its summary."""
    registry = get_registry()
    active = (tracker.active_loop or {}).get("name")
    return registry.by_form_name(active) or registry.specs.get(tracker.get_slot(FORM_ID) or "")


def clear_events(spec: FormSpec) -> list[EventType]:
    """Forget every answer of a form and the dialogue state around it."""
    return [SlotSet(spec.slot(item.name), None) for item in spec.fields] + [
        SlotSet(FORM_ID, None),
        SlotSet(FORM_STAGE, None),
        SlotSet(APPLICATION_KEY, None),
        SlotSet(FORM_FAILURES, None),
        SlotSet(FORM_PROPOSAL, None),
        SlotSet(REQUESTED_SLOT, None),
    ]


def start_events(spec: FormSpec, service: str | None, opener: str = "") -> list[EventType]:
    """Begin a form afresh; answers the service or the opening message already give are filled
    in ("Ich brauche zwei Geburtsurkunden für meine Mutter, per Post")."""
    events = clear_events(spec)
    for item in spec.fields:
        if service and service in item.prefill_from_service:
            events.append(SlotSet(spec.slot(item.name), item.prefill_from_service[service]))
        elif (value := from_opener(item, opener)) is not None:
            events.append(SlotSet(spec.slot(item.name), value))
    events += [SlotSet(FORM_ID, spec.id), FollowupAction(spec.form_name)]
    return events


def summary_text(spec: FormSpec, given: dict[str, Any]) -> str:
    """The answers of this case, grouped by section, one line each."""
    lines = [f"Bitte prüfen Sie Ihre Angaben für den Antrag „{spec.title}“:"]
    section = None
    for item in spec.active_fields(given):
        if item.section != section:
            section = item.section
            lines.append(f"— {section} —")
        value = given.get(item.name)
        lines.append(f"• {item.label}: {display(item, value if value is not None else SKIP)}")
    return "\n".join(lines)


def find_field(spec: FormSpec, text: str, given: dict[str, Any]) -> str | None:
    """The field a citizen names ("bitte die Adresse ändern"), among those of this case."""
    words = f" {fold(text)} "
    best: tuple[int, str] | None = None
    for item in spec.active_fields(given):
        for name in (item.label, *item.synonyms):
            key = fold(name)
            if key and f" {key} " in words and (best is None or len(key) > best[0]):
                best = (len(key), item.name)
    return best[1] if best else None
