"""German conversations with the running stack over the REST channel."""

from __future__ import annotations

import httpx
import pytest

from tests.stack import Stack

pytestmark = pytest.mark.integration


def test_greeting_is_german_and_says_it_is_automated(stack: Stack) -> None:
    [text] = stack.texts("greet-1", "Hallo")
    assert text.startswith("Guten Tag!")
    assert "automatisiertes Programm" in text


def test_bot_challenge_is_answered_truthfully(stack: Stack) -> None:
    texts = stack.texts("challenge-1", "Bin ich hier mit einem Menschen verbunden?")
    assert any("kein Mensch" in t for t in texts)


def test_opening_hours_come_from_the_running_backend(stack: Stack) -> None:
    texts = stack.texts("hours-1", "Wann hat das Bürgerbüro geöffnet?")
    # Rasa's channels send each paragraph of an answer as a message of its own.
    answer = "\n\n".join(texts)
    assert answer.startswith("Öffnungszeiten Bürgerbüro:")
    assert "Montag: 8:00–12:30 und 14:00–16:00 Uhr" in answer
    # The backend's clock is fixed to Wednesday 10:00; on Wednesdays it closes at 12:30.
    assert "Gerade ist geöffnet, heute bis 12:30 Uhr." in answer
    assert "Hinweis: Dies sind Beispieldaten" in texts[-1]

    backend = httpx.get(f"{stack.backend_url}/api/v1/departments/buergerbuero/opening-hours")
    assert backend.json()["closes_at"] == "2026-12-02T12:30:00+01:00"


def test_a_synonym_reaches_the_right_office(stack: Stack) -> None:
    texts = stack.texts("hours-2", "wann hat die zulassungsstelle auf")
    assert texts[0].startswith("Öffnungszeiten Straßenverkehrsamt:")


def test_unclear_messages_rephrase_once_then_go_to_a_person(stack: Stack) -> None:
    # "/nlu_fallback" is what the NLU yields for a message it cannot classify confidently.
    first = stack.texts("fallback-1", "/nlu_fallback")
    assert first == [
        "Entschuldigung, das habe ich nicht verstanden. Könnten Sie Ihre Frage bitte mit "
        "anderen Worten stellen?"
    ]
    # The second time a person takes over (the service center is open on Wednesday 10:00).
    second = stack.say("fallback-1", "/nlu_fallback")
    texts = [m.get("text", "") for m in second]
    assert texts[0].startswith("Das habe ich leider auch diesmal nicht verstanden."), second
    assert any("Servicecenter" in text for text in texts), second
    assert any(
        (m.get("custom") or {}).get("govbot", {}).get("handoff") == "live" for m in second
    ), second
    # The bot stays silent now: the next message goes to the service center's ticket.
    waiting = stack.texts("fallback-1", "Hallo")
    assert waiting and "angekommen" in waiting[0], waiting
