"""action_check_status: the backend's answer in German, one answer for every failure."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.status import ActionCheckStatus
from tests.bot.conftest import backend_stub, make_tracker, render

URL = "/api/v1/applications/status"
SLOTS = {"reference_number": "BPA-2026-000123", "status_postal_code": " 33098 "}


async def run(answer: Any, domain: dict[str, Any]) -> tuple[list[str], list[Any]]:
    client, _ = backend_stub({URL: answer})
    dispatcher = CollectingDispatcher()
    events = await ActionCheckStatus(client).run(dispatcher, make_tracker(slots=SLOTS), domain)
    return [render(m, domain) for m in dispatcher.messages], events


async def test_status_with_the_clerks_note(domain: dict[str, Any]) -> None:
    texts, events = await run(
        {
            "reference": "BPA-2026-000123",
            "service": {"slug": "bewohnerparkausweis", "name": "Bewohnerparkausweis"},
            "status": "needs_information",
            "status_note": "Bitte reichen Sie den Fahrzeugschein nach.",
            "updated_at": "2026-12-01T09:00:00+01:00",
        },
        domain,
    )
    assert texts == [
        "Ihr Antrag BPA-2026-000123 (Bewohnerparkausweis) braucht noch Angaben oder Unterlagen "
        "von Ihnen.\nHinweis der Sachbearbeitung: Bitte reichen Sie den Fahrzeugschein nach."
    ]
    assert SlotSet("reference_number", None) in events


async def test_no_match_is_one_uniform_answer(domain: dict[str, Any]) -> None:
    texts, _ = await run(404, domain)
    assert texts[0].startswith("Zu dieser Kombination aus Vorgangsnummer und Postleitzahl")


async def test_too_many_attempts(domain: dict[str, Any]) -> None:
    texts, _ = await run(429, domain)
    assert texts[0].startswith("Es gab zu viele erfolglose Versuche.")


async def test_empty_answers_get_the_uniform_answer_without_asking(domain: dict[str, Any]) -> None:
    client, seen = backend_stub({})
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"reference_number": " ", "status_postal_code": "33098"})
    await ActionCheckStatus(client).run(dispatcher, tracker, domain)
    assert render(dispatcher.messages[0], domain).startswith("Zu dieser Kombination")
    assert seen == []
