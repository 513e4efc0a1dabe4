"""The German "Meinten Sie ...?" step of the two-stage fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultAskAffirmation
from tests.bot.conftest import make_tracker, render


async def test_asks_for_the_likeliest_intent_with_buttons(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="offen standesamt?",
        intent="nlu_fallback",
        entities=[{"entity": "department", "value": "standesamt"}],
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.55},
            {"name": "ask_opening_hours", "confidence": 0.5},
            {"name": "greet", "confidence": 0.2},
        ],
    )
    dispatcher = CollectingDispatcher()
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert render(message, domain) == (
        "Ich bin mir nicht sicher, ob ich Sie richtig verstanden habe: "
        "Sie fragen nach Öffnungszeiten?"
    )
    assert message["buttons"] == [
        {"title": "Ja, genau", "payload": '/ask_opening_hours{"department": "standesamt"}'},
        {"title": "Nein, etwas anderes", "payload": "/out_of_scope"},
    ]


async def test_out_of_scope_guess_asks_to_rephrase_instead(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        intent="nlu_fallback",
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.55},
            {"name": "out_of_scope", "confidence": 0.4},
        ],
    )
    dispatcher = CollectingDispatcher()
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]
