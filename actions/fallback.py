"""German affirmation step of the two-stage fallback ("Meinten Sie ...?")."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

# What the citizen may have meant, in words they recognise. Intents missing here are not
# offered for affirmation; the citizen is asked to rephrase instead.
INTENT_DESCRIPTIONS = {
    "greet": "Sie möchten mich begrüßen",
    "goodbye": "Sie möchten sich verabschieden",
    "thank": "Sie möchten sich bedanken",
    "help": "Sie möchten wissen, wobei ich helfen kann",
    "bot_challenge": "Sie möchten wissen, ob Sie mit einem Menschen schreiben",
    "ask_opening_hours": "Sie fragen nach Öffnungszeiten",
    "ask_apply": "Sie möchten etwas beantragen",
    "ask_fees": "Sie fragen, was etwas kostet",
    "ask_documents": "Sie fragen, welche Unterlagen Sie brauchen",
    "ask_location": "Sie fragen, wo Sie ein Amt finden",
    "ask_responsible_office": "Sie fragen, wer zuständig ist",
    "ask_processing_time": "Sie fragen, wie lange die Bearbeitung dauert",
    "ask_service_info": "Sie möchten wissen, was eine Leistung ist und wer sie bekommt",
    "ask_status": "Sie fragen nach dem Stand Ihres Antrags",
    "request_human": "Sie möchten mit einem Menschen sprechen",
    "delete_conversation": "Sie möchten, dass ich unser Gespräch lösche",
}


class ActionDefaultAskAffirmation(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        candidates = [r.get("name") for r in ranking if r.get("name") != "nlu_fallback"]
        intent = candidates[0] if candidates else None
        if intent not in INTENT_DESCRIPTIONS:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []

        # Keep what the citizen already said (e.g. which office) in the button's payload.
        entities = {
            e["entity"]: e["value"]
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") in domain.get("entities", [])
        }
        payload = f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")
        dispatcher.utter_message(
            response="utter_ask_affirmation",
            description=INTENT_DESCRIPTIONS[intent],
            buttons=[
                {"title": "Ja, genau", "payload": payload},
                {"title": "Nein, etwas anderes", "payload": "/out_of_scope"},
            ],
        )
        return []
