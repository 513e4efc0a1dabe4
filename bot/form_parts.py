"""The Rasa parts of the form assistants, generated from the specs in ``data/forms/``.

For each spec: a slot per field (filled only by the spec-driven validation action), the
form with its fields in order (the validation action asks only those the case needs), the
question of each field (with buttons for choices and yes/no), the validation action's
name, and the rules around the form: the summary when it is complete, and what happens
when the citizen asks something, asks for help or for a person, wants to change an answer,
to stop in the middle of it or to delete the conversation. ``python -m bot.generate``
writes them; a test checks they are in sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from forms import FormSpec, load_specs

# Questions about services in the middle of a form: answered, then the form goes on.
KNOWLEDGE_INTENTS = (
    "ask_apply",
    "ask_fees",
    "ask_documents",
    "ask_location",
    "ask_responsible_office",
    "ask_processing_time",
    "ask_service_info",
    "ask_opening_hours",
)


def _buttons(spec: FormSpec, name: str) -> list[dict[str, str]]:
    item = spec.field(name)
    if item.type == "boolean":
        return [{"title": "Ja", "payload": "Ja"}, {"title": "Nein", "payload": "Nein"}]
    if item.type == "choice":
        return [{"title": option.label, "payload": option.label} for option in item.options]
    return []


def domain(specs: dict[str, FormSpec]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    forms: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    actions: list[Any] = []
    for spec in specs.values():
        for item in spec.fields:
            slot = spec.slot(item.name)
            slots[slot] = {
                "type": "any",
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            }
            response: dict[str, Any] = {"text": item.question}
            buttons = _buttons(spec, item.name)
            if buttons:
                response["buttons"] = buttons
            responses[f"utter_ask_{slot}"] = [response]
        forms[spec.form_name] = {"required_slots": [spec.slot(item.name) for item in spec.fields]}
        responses[f"utter_intro_{spec.key}"] = [{"text": spec.intro}]
        # The validation actions take everything from their spec; without this Rasa would
        # send them the whole domain with every answer (bot/endpoints.yml: selective domain).
        actions.append({f"validate_{spec.form_name}": {"send_domain": False}})
    return {
        "version": "3.1",
        "slots": slots,
        "forms": forms,
        "actions": actions,
        "responses": responses,
    }


def _or_intents(intents: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"or": [{"intent": intent} for intent in intents]}


def rules(specs: dict[str, FormSpec]) -> dict[str, Any]:
    generated: list[dict[str, Any]] = []
    for spec in specs.values():
        form = spec.form_name
        during = [{"active_loop": form}]
        back_to_form = [{"action": form}, {"active_loop": form}]
        generated += [
            {
                "rule": f"{spec.title}: the summary once every needed answer is given",
                "condition": during,
                "steps": [
                    {"action": form},
                    {"active_loop": None},
                    {"slot_was_set": [{"requested_slot": None}]},
                    {"action": "action_show_summary"},
                ],
            },
            {
                "rule": f"{spec.title}: a question about services in between",
                "condition": during,
                "steps": [
                    _or_intents(KNOWLEDGE_INTENTS),
                    {"action": "action_service_knowledge"},
                    *back_to_form,
                ],
            },
            {
                "rule": f"{spec.title}: help in between",
                "condition": during,
                "steps": [{"intent": "help"}, {"action": "utter_form_help"}, *back_to_form],
            },
            {
                "rule": f"{spec.title}: are you a bot? in between",
                "condition": during,
                "steps": [
                    {"intent": "bot_challenge"},
                    {"action": "utter_iamabot"},
                    *back_to_form,
                ],
            },
            {
                "rule": f"{spec.title}: a status question in between",
                "condition": during,
                "steps": [
                    {"intent": "ask_status"},
                    {"action": "utter_form_status_later"},
                    *back_to_form,
                ],
            },
            {
                "rule": f"{spec.title}: change an earlier answer in between",
                "condition": during,
                "steps": [
                    {"intent": "correct_field"},
                    {"action": "action_form_step"},
                    *back_to_form,
                ],
            },
            {
                "rule": f"{spec.title}: asking for a person in between hands over",
                "condition": during,
                "steps": [{"intent": "request_human"}, {"action": "action_handoff"}],
            },
            {
                "rule": f"{spec.title}: deleting the conversation in between asks first",
                "condition": during,
                "steps": [
                    {"intent": "delete_conversation"},
                    {"action": "action_deactivate_loop"},
                    {"active_loop": None},
                    {"action": "utter_ask_delete_conversation"},
                ],
            },
            {
                "rule": f"{spec.title}: stopping in between asks for confirmation",
                "condition": during,
                "steps": [
                    _or_intents(["cancel", "goodbye"]),
                    {"action": "action_form_ask_cancel"},
                    {"active_loop": None},
                ],
            },
        ]
    return {"version": "3.1", "rules": generated}


HEADER = (
    "# Generated by `make generate` from data/forms/*.yml; do not edit.\n"
    "# Change the form specs instead and run `make generate`.\n"
)


class _Dumper(yaml.SafeDumper):
    """Writes repeated parts out in full: the files are read by people, not only by Rasa."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _render(data: dict[str, Any]) -> str:
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return HEADER + text


def outputs(root: Path) -> dict[Path, str]:
    source = root / "data" / "forms"
    specs = load_specs(source) if source.exists() else {}
    if not specs:
        return {}
    return {
        root / "bot" / "domain" / "generated" / "forms.yml": _render(domain(specs)),
        root / "data" / "rules" / "generated" / "forms.yml": _render(rules(specs)),
    }
