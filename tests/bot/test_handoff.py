"""Human handoff from the bot's side: real trackers and domain, the backend a MockTransport.

Covers the ticket's content (transcript with timestamps, channel, reason, topic, the
answers of an unfinished form), live (pause and marker) and callback (contact form)
answers, an unreachable backend, every trigger, the always-human configuration and
deleting a conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import (
    ActiveLoop,
    ConversationPaused,
    FollowupAction,
    Restarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_client import BackendClient
from actions.conversation_deletion import ActionDeleteConversation
from actions.form_validation import VALIDATION_ACTIONS
from actions.forms import get_registry
from actions.handoff import (
    ActionDefaultFallback,
    ActionHandoff,
    HandoffConfigError,
    load_always_human,
    transcript,
)
from actions.handoff_contact import ActionHandoffContact, ValidateHandoffContactForm
from actions.knowledge import ASPECTS, ActionServiceKnowledge, always_human
from actions.session import ActionSessionStart
from actions.settings import DEVELOPMENT_INTERNAL_TOKEN, get_settings
from tests.bot.conftest import ROOT, make_tracker, render
from tests.bot.test_knowledge_action import BUERGERBUERO, PASS

T0 = 1796202000.0  # 2026-12-02 10:00:00 Europe/Berlin (09:00 UTC)
FORM = "bewohnerparkausweis_form"
HZL = {
    **PASS,
    "slug": "hilfe-zum-lebensunterhalt",
    "name": "Hilfe zum Lebensunterhalt",
    "department": {**BUERGERBUERO, "slug": "sozialamt", "name": "Sozialamt"},
    "online_form": "hilfe-zum-lebensunterhalt",
}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ACTIONS_FIXED_NOW", "2026-12-02T10:00:00+01:00")
    monkeypatch.delenv("GOVBOT_INTERNAL_TOKEN", raising=False)
    get_settings.cache_clear()
    get_registry.cache_clear()
    yield
    get_settings.cache_clear()
    get_registry.cache_clear()


class Backend:
    """A stand-in of the backend that records each request and answers by route."""

    def __init__(self, kind: str = "live", **answers: Any) -> None:
        self.requests: list[httpx.Request] = []
        ticket = {
            "ticket_id": 17,
            "kind": kind,
            "status": "waiting",
            "staffed": kind == "live",
            "next_opening_at": None if kind == "live" else "2026-12-03T08:00:00+01:00",
        }
        self.answers: dict[tuple[str, str], Any] = {
            ("POST", "/api/v1/internal/handoffs"): (201, ticket),
            ("PUT", "/api/v1/internal/handoffs/17/contact"): (204, None),
            ("GET", "/api/v1/departments/buergerbuero"): (200, BUERGERBUERO),
            **{tuple(key.split(" ", 1)): value for key, value in answers.items()},
        }
        self.client = BackendClient("http://backend.test", transport=httpx.MockTransport(self))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        answer = self.answers.get((request.method, path), (404, {"detail": "stub"}))
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, content=json.dumps(body).encode())

    def body(self, method: str, path: str) -> Any:
        for request in self.requests:
            if request.method == method and request.url.path == path:
                return json.loads(request.content) if request.content else None
        raise AssertionError(f"no {method} {path} in {[r.url.path for r in self.requests]}")

    @property
    def ticket_body(self) -> Any:
        return self.body("POST", "/api/v1/internal/handoffs")


DOWN = httpx.ConnectError("connection refused")


def conversation(
    *turns: tuple[str, str, dict[str, Any] | None],
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    channel: str = "rest",
    intent: str = "request_human",
    confidence: float = 0.95,
) -> Tracker:
    """A tracker with ("citizen"|"bot", text, extra) turns one minute apart; the last
    citizen turn is the latest message (with ``intent``)."""
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_session_start"}]
    latest: dict[str, Any] = {}
    for minute, (role, text, extra) in enumerate(turns):
        at = T0 + 60 * minute
        if role == "citizen":
            latest = {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "entities": [],
            }
            events += [
                {"event": "action", "name": "action_listen", "timestamp": at - 1},
                {
                    "event": "user",
                    "text": text,
                    "timestamp": at,
                    "parse_data": latest,
                    "input_channel": channel,
                    **(extra or {}),
                },
            ]
        else:
            events.append({"event": "bot", "text": text, "timestamp": at, **(extra or {})})
    return Tracker.from_dict(
        {
            "sender_id": "citizen-1",
            "slots": {"service": None, "form_id": None, **(slots or {})},
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def texts(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> list[str]:
    return [
        render(message, domain)
        for message in dispatcher.messages
        if message.get("text") or message.get("response")
    ]


def markers(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


async def run(action: Any, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[Any], Any]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return events, dispatcher


# --- the ticket ---------------------------------------------------------------------------


async def test_the_ticket_carries_the_transcript_with_timestamps(domain: dict[str, Any]) -> None:
    backend = Backend()
    tracker = conversation(
        ("citizen", "Was kostet ein Reisepass?", None),
        ("bot", "Reisepass – Gebühren: 70,00 €", None),
        ("citizen", "Ich möchte mit einem Menschen sprechen", None),
        channel="telegram",
        slots={"service": "reisepass"},
    )
    await run(ActionHandoff(backend.client), tracker, domain)
    body = backend.ticket_body
    assert body["sender_id"] == "citizen-1"
    assert body["channel"] == "telegram"
    assert body["reason"] == "requested"
    assert body["topic"] == "reisepass"
    assert body["form"] is None
    assert body["transcript"] == [
        {"role": "citizen", "text": "Was kostet ein Reisepass?", "at": "2026-12-02T09:00:00+00:00"},
        {"role": "bot", "text": "Reisepass – Gebühren: 70,00 €", "at": "2026-12-02T09:01:00+00:00"},
        {
            "role": "citizen",
            "text": "Ich möchte mit einem Menschen sprechen",
            "at": "2026-12-02T09:02:00+00:00",
        },
    ]
    assert datetime.fromisoformat(body["transcript"][0]["at"]).timestamp() == T0
    request = backend.requests[0]
    assert request.headers["Authorization"] == f"Bearer {DEVELOPMENT_INTERNAL_TOKEN}"


def test_buttons_show_their_title_and_signals_are_left_out() -> None:
    buttons = [{"title": "Ja, abschicken", "payload": "/affirm"}]
    events = [
        {"event": "user", "text": "hallo", "timestamp": T0},
        {"event": "restart", "timestamp": T0 + 1},
        {"event": "bot", "text": "Soll ich?", "timestamp": T0 + 2, "data": {"buttons": buttons}},
        {"event": "user", "text": "/affirm", "timestamp": T0 + 3},
        {"event": "user", "text": "/empty_message", "timestamp": T0 + 4},
        {"event": "bot", "text": None, "data": {"custom": {"govbot": {}}}, "timestamp": T0 + 5},
        {
            "event": "bot",
            "text": "Gern helfe ich.",
            "metadata": {"handoff": "staff"},
            "timestamp": T0 + 6,
        },
        {"event": "user", "text": "x" * 5000, "timestamp": T0 + 7},
    ]
    entries = transcript(events)
    assert [(e["role"], e["text"][:40]) for e in entries] == [
        ("bot", "Soll ich?\n[Auswahl: Ja, abschicken]"),
        ("citizen", "Ja, abschicken"),
        ("bot", "Servicecenter: Gern helfe ich."),
        ("citizen", "x" * 40),
    ]
    assert len(entries[-1]["text"]) == 4000


def test_the_transcript_keeps_the_latest_500_messages() -> None:
    events = [{"event": "user", "text": f"Nachricht {i}", "timestamp": T0 + i} for i in range(600)]
    entries = transcript(events)
    assert len(entries) == 500
    assert entries[0]["text"] == "Nachricht 100"
    assert entries[-1]["text"] == "Nachricht 599"


# --- live and callback ------------------------------------------------------------------------


async def test_live_pauses_the_conversation_and_marks_it_for_the_widget(
    domain: dict[str, Any],
) -> None:
    backend = Backend("live")
    tracker = conversation(("citizen", "echte Person bitte", None))
    events, dispatcher = await run(ActionHandoff(backend.client), tracker, domain)
    said = " ".join(texts(dispatcher, domain))
    assert "Mitarbeiterin oder ein Mitarbeiter des Servicecenters" in said
    assert "antworte ich, der automatisierte Assistent, nicht mehr" in said
    assert "schon jetzt schildern" in said
    assert markers(dispatcher) == [{"govbot": {"handoff": "live", "ticket": 17}}]
    assert events[-1] == ConversationPaused()
    assert SlotSet("handoff_ticket", 17) in events


async def test_callback_says_when_the_center_opens_and_asks_for_a_contact(
    domain: dict[str, Any],
) -> None:
    backend = Backend("callback")
    tracker = conversation(("citizen", "Sachbearbeiter", None))
    events, dispatcher = await run(ActionHandoff(backend.client), tracker, domain)
    said = texts(dispatcher, domain)
    assert "nicht besetzt; es ist morgen um 8:00 Uhr wieder für Sie da" in said[1]
    assert markers(dispatcher) == []
    assert events[-1] == FollowupAction("handoff_contact_form")
    assert not any(event == ConversationPaused() for event in events)


async def test_an_unreachable_backend_gives_the_service_centers_contact(
    domain: dict[str, Any],
) -> None:
    backend = Backend(**{"POST /api/v1/internal/handoffs": DOWN})
    tracker = conversation(("citizen", "Mitarbeiter bitte", None))
    events, dispatcher = await run(ActionHandoff(backend.client), tracker, domain)
    said = texts(dispatcher, domain)
    assert "nicht mit dem Servicecenter verbinden" in said[1]
    assert said[2] == (
        "Sie erreichen das Servicecenter (Bürgerbüro) direkt: Telefon +49 0000 0000-100, "
        "E-Mail buergerbuero@musterstadt.example."
    )
    assert events == []


async def test_without_any_backend_a_general_text(domain: dict[str, Any]) -> None:
    backend = Backend(
        **{"POST /api/v1/internal/handoffs": DOWN, "GET /api/v1/departments/buergerbuero": DOWN}
    )
    _, dispatcher = await run(
        ActionHandoff(backend.client), conversation(("citizen", "x", None)), domain
    )
    assert dispatcher.messages[-1]["response"] == "utter_handoff_contact_general"


# --- the callback contact ----------------------------------------------------------------


def contact_tracker(text: str, intent: str = "inform", confidence: float = 0.9) -> Tracker:
    return conversation(
        ("citizen", text, None),
        intent=intent,
        confidence=confidence,
        active_loop="handoff_contact_form",
        slots={"requested_slot": "handoff_contact", "handoff_ticket": 17},
    )


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("0521 123456", "inform", "+49521123456"),
        ("meine Mail: Anna@Example.org", "inform", "Anna@example.org"),
        ("nein danke", "deny", False),
        ("/deny", "deny", False),
        ("lieber nicht", "inform", False),
    ],
)
async def test_the_contact_is_a_phone_number_an_email_or_no(
    text: str, intent: str, expected: Any, domain: dict[str, Any]
) -> None:
    events, dispatcher = await run(
        ValidateHandoffContactForm(), contact_tracker(text, intent), domain
    )
    assert events == [SlotSet("handoff_contact", expected), SlotSet("requested_slot", None)]
    assert dispatcher.messages == []


async def test_anything_else_is_asked_again_with_a_hint(domain: dict[str, Any]) -> None:
    events, dispatcher = await run(ValidateHandoffContactForm(), contact_tracker("hmm"), domain)
    assert events == [
        SlotSet("handoff_contact", None),
        SlotSet("requested_slot", "handoff_contact"),
    ]
    assert "Telefonnummer oder E-Mail-Adresse" in dispatcher.messages[0]["text"]


async def test_a_question_is_left_to_the_rules(domain: dict[str, Any]) -> None:
    tracker = contact_tracker("Was kostet ein Reisepass?", "ask_fees", 0.95)
    events, _ = await run(ValidateHandoffContactForm(), tracker, domain)
    assert events == []


async def test_the_contact_is_stored_with_the_ticket(domain: dict[str, Any]) -> None:
    backend = Backend("callback")
    tracker = conversation(
        ("citizen", "0521 123456", None),
        slots={"handoff_contact": "+49521123456", "handoff_ticket": 17},
    )
    events, dispatcher = await run(ActionHandoffContact(backend.client), tracker, domain)
    assert backend.body("PUT", "/api/v1/internal/handoffs/17/contact") == {
        "sender_id": "citizen-1",
        "contact": "+49521123456",
    }
    assert "meldet sich unter +49 521 123456 bei Ihnen" in texts(dispatcher, domain)[0]
    assert events == [SlotSet("handoff_contact", None)]


async def test_no_contact_tells_how_to_reach_the_center(domain: dict[str, Any]) -> None:
    backend = Backend("callback")
    tracker = conversation(
        ("citizen", "nein", None), slots={"handoff_contact": False, "handoff_ticket": 17}
    )
    _, dispatcher = await run(ActionHandoffContact(backend.client), tracker, domain)
    said = texts(dispatcher, domain)
    assert said[0] == "In Ordnung, dann ohne Rückruf."
    assert "Telefon +49 0000 0000-100" in said[1]
    assert not any(r.method == "PUT" for r in backend.requests)


async def test_a_closed_ticket_gets_the_contact_details_instead(domain: dict[str, Any]) -> None:
    backend = Backend("callback", **{"PUT /api/v1/internal/handoffs/17/contact": (404, {})})
    tracker = conversation(
        ("citizen", "a@example.org", None),
        slots={"handoff_contact": "a@example.org", "handoff_ticket": 17},
    )
    _, dispatcher = await run(ActionHandoffContact(backend.client), tracker, domain)
    said = texts(dispatcher, domain)
    assert "nicht speichern" in said[0]
    assert "buergerbuero@musterstadt.example" in said[1]


# --- the triggers ------------------------------------------------------------------------


async def test_the_fallback_reverts_the_message_and_hands_over(domain: dict[str, Any]) -> None:
    backend = Backend("live")
    tracker = conversation(
        ("citizen", "blorp", None),
        ("bot", "Entschuldigung, das habe ich nicht verstanden.", None),
        ("citizen", "wabbel", None),
        intent="nlu_fallback",
        active_loop="action_two_stage_fallback",
    )
    events, dispatcher = await run(ActionDefaultFallback(backend.client), tracker, domain)
    assert backend.ticket_body["reason"] == "fallback"
    assert [e["text"] for e in backend.ticket_body["transcript"]][-1] == "wabbel"
    assert events[0] == UserUtteranceReverted()
    assert events[-1] == ConversationPaused()
    assert dispatcher.messages[0]["response"] == "utter_default"
    assert "an einen Menschen weiter" in texts(dispatcher, domain)[0]


async def test_the_fallback_without_backend_still_reverts(domain: dict[str, Any]) -> None:
    backend = Backend(**{"POST /api/v1/internal/handoffs": DOWN})
    tracker = conversation(("citizen", "wabbel", None), intent="nlu_fallback")
    events, _ = await run(ActionDefaultFallback(backend.client), tracker, domain)
    assert events == [UserUtteranceReverted()]


def parking_form(text: str, failures: int, **more: Any) -> Tracker:
    return conversation(
        ("bot", "Wie lautet Ihr Vorname?", None),
        ("citizen", "Anna", None),
        ("bot", "Wie lautet Ihr Nachname?", None),
        ("citizen", text, None),
        intent="inform",
        active_loop=FORM,
        slots={
            "form_id": "bewohnerparkausweis",
            "bewohnerparkausweis__vorname": "Anna",
            "requested_slot": "bewohnerparkausweis__nachname",
            "form_failures": failures,
            **more,
        },
    )


def parking_validator() -> Any:
    return next(a for a in VALIDATION_ACTIONS if a.spec_id == "bewohnerparkausweis")()


async def test_the_third_invalid_answer_offers_a_person_and_opens_no_ticket(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = Backend("live")
    monkeypatch.setattr("actions.handoff.shared_client", lambda: backend.client)
    events, dispatcher = await run(parking_validator(), parking_form("0815", 2), domain)
    assert backend.requests == []  # only the citizen's own request hands over
    assert ActiveLoop(None) not in events
    assert SlotSet("form_failures", 3) in events
    assert events[-1] == SlotSet("requested_slot", "bewohnerparkausweis__nachname")
    [hint, offer] = dispatcher.messages
    assert hint["text"].startswith("Bitte nennen")  # what was wrong comes first
    assert offer["response"] == "utter_form_offer_person"
    assert [b["payload"] for b in domain["responses"]["utter_form_offer_person"][0]["buttons"]] == [
        "/request_human"
    ]


async def test_the_second_invalid_answer_only_gets_the_hint(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = Backend("live")
    monkeypatch.setattr("actions.handoff.shared_client", lambda: backend.client)
    events, dispatcher = await run(parking_validator(), parking_form("0815", 1), domain)
    assert backend.requests == []
    assert SlotSet("form_failures", 2) in events
    assert len(dispatcher.messages) == 1


async def test_asking_for_a_person_in_a_form_is_no_answer(domain: dict[str, Any]) -> None:
    tracker = parking_form("ich will mit einem menschen sprechen", 0)
    tracker.latest_message["intent"] = {"name": "request_human", "confidence": 0.9}
    events, _ = await run(parking_validator(), tracker, domain)
    assert events == []  # the form rejects; the generated rule hands over


async def test_asking_for_a_person_in_a_form_sends_its_answers(domain: dict[str, Any]) -> None:
    backend = Backend("callback")
    tracker = parking_form("Mitarbeiter bitte", 0)
    events, _ = await run(ActionHandoff(backend.client), tracker, domain)
    assert backend.ticket_body["form"]["fields"][0]["value"] == "Anna"
    assert events[-3:] == [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        FollowupAction("handoff_contact_form"),
    ]


async def test_without_backend_the_interrupted_form_asks_again(domain: dict[str, Any]) -> None:
    backend = Backend(**{"POST /api/v1/internal/handoffs": DOWN})
    events, _ = await run(ActionHandoff(backend.client), parking_form("Mensch!", 0), domain)
    assert events == [FollowupAction(FORM)]


# --- always-human topics -----------------------------------------------------------------


def knowledge_tracker(text: str, intent: str, service: str) -> Tracker:
    tracker = conversation(("citizen", text, None), intent=intent)
    tracker.latest_message["entities"] = [{"entity": "service", "value": service}]
    return tracker


async def test_an_always_human_topic_is_handed_over(domain: dict[str, Any]) -> None:
    backend = Backend("live", **{"GET /api/v1/services/hilfe-zum-lebensunterhalt": (200, HZL)})
    tracker = knowledge_tracker(
        "Habe ich Anspruch auf Sozialhilfe?", "ask_service_info", "hilfe-zum-lebensunterhalt"
    )
    events, dispatcher = await run(ActionServiceKnowledge(backend.client), tracker, domain)
    assert backend.ticket_body["reason"] == "topic"
    assert backend.ticket_body["topic"] == "hilfe-zum-lebensunterhalt"
    assert texts(dispatcher, domain)[0].startswith(
        "Bei Fragen zu „Hilfe zum Lebensunterhalt“ hilft Ihnen am besten ein Mensch"
    )
    assert events[-1] == ConversationPaused()


async def test_applying_for_it_still_starts_the_form(domain: dict[str, Any]) -> None:
    backend = Backend("live", **{"GET /api/v1/services/hilfe-zum-lebensunterhalt": (200, HZL)})
    tracker = knowledge_tracker("Sozialhilfe beantragen", "ask_apply", "hilfe-zum-lebensunterhalt")
    events, _ = await run(ActionServiceKnowledge(backend.client), tracker, domain)
    assert not any(r.url.path.startswith("/api/v1/internal") for r in backend.requests)
    assert FollowupAction("hilfe_zum_lebensunterhalt_form") in events


def test_the_sample_configuration_is_valid() -> None:
    config = always_human()
    assert config.applies("ask_service_info", "hilfe-zum-lebensunterhalt", "info")
    assert config.applies("ask_documents", "hilfe-zum-lebensunterhalt", "documents")
    assert not config.applies("ask_apply", "hilfe-zum-lebensunterhalt", "apply")
    # Plain facts, also asked in the middle of the form, stay with the bot.
    assert not config.applies("ask_processing_time", "hilfe-zum-lebensunterhalt", "processing_time")
    assert not config.applies("ask_fees", "reisepass", "fees")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("services:\n  - slug: sozialhilfe-sofort\n", "unknown service 'sozialhilfe-sofort'"),
        ("services:\n  - slug: wohngeld\n    except: [price]\n", "unknown aspects"),
        ("intents: [greet]\n", "unknown intents"),
        ("topics: []\n", "unknown keys"),
    ],
)
def test_unknown_names_are_refused(tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "handoff.yml"
    path.write_text(content, encoding="utf-8")
    services = ROOT / "data" / "catalogue" / "services.yml"
    with pytest.raises(HandoffConfigError, match=error):
        load_always_human(path, services, ASPECTS)


def test_an_intent_can_always_go_to_a_person(tmp_path: Path) -> None:
    path = tmp_path / "handoff.yml"
    path.write_text("intents: [ask_processing_time]\n", encoding="utf-8")
    config = load_always_human(path, ROOT / "data" / "catalogue" / "services.yml", ASPECTS)
    assert config.applies("ask_processing_time", None, "processing_time")


# --- deleting the conversation ----------------------------------------------------------


def delete_backend(status: int | Exception = 204) -> Backend:
    answer: Any = status if isinstance(status, Exception) else (status, None)
    return Backend(**{"DELETE /api/v1/internal/conversations/citizen-1": answer})


@pytest.mark.parametrize("channel", ["rest", "telegram"])
async def test_the_conversation_is_deleted(channel: str, domain: dict[str, Any]) -> None:
    backend = delete_backend()
    tracker = conversation(("citizen", "Ja, löschen", None), intent="affirm", channel=channel)
    events, dispatcher = await run(ActionDeleteConversation(backend.client), tracker, domain)
    assert [r.method for r in backend.requests] == ["DELETE"]
    assert dispatcher.messages[0]["custom"] == {"govbot": {"delete_conversation": True}}
    said = texts(dispatcher, domain)
    assert "Unser Gespräch ist gelöscht, ebenso Ihr Verlauf mit dem Servicecenter" in said[0]
    assert "gesetzlich vorgeschriebenen Fristen" in said[0]
    assert ("Telegram-App" in " ".join(said)) == (channel == "telegram")
    assert events == [Restarted()]


async def test_a_failed_deletion_deletes_nothing_and_says_so(domain: dict[str, Any]) -> None:
    backend = delete_backend(DOWN)
    tracker = conversation(("citizen", "ja", None), intent="affirm")
    events, dispatcher = await run(ActionDeleteConversation(backend.client), tracker, domain)
    assert events == []
    assert markers(dispatcher) == []
    assert "noch nichts gelöscht" in texts(dispatcher, domain)[0]


# --- settings -------------------------------------------------------------------------------


def test_production_refuses_a_missing_or_short_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from actions.settings import ActionSettings

    monkeypatch.delenv("ACTIONS_FIXED_NOW")
    for token in ("", "short", DEVELOPMENT_INTERNAL_TOKEN):
        monkeypatch.setenv("GOVBOT_INTERNAL_TOKEN", token)
        with pytest.raises(ValidationError, match="GOVBOT_INTERNAL_TOKEN"):
            ActionSettings(_env_file=None, environment="production")
    monkeypatch.setenv("GOVBOT_INTERNAL_TOKEN", "t" * 40)
    settings = ActionSettings(_env_file=None, environment="production")
    assert settings.internal_token_value == "t" * 40
    monkeypatch.delenv("GOVBOT_INTERNAL_TOKEN")
    assert ActionSettings(_env_file=None).internal_token_value == DEVELOPMENT_INTERNAL_TOKEN


async def test_a_phone_number_and_an_email_are_both_kept(domain: dict[str, Any]) -> None:
    tracker = contact_tracker("0176 12345678 oder a@example.org, egal")
    events, _ = await run(ValidateHandoffContactForm(), tracker, domain)
    assert events[0] == SlotSet("handoff_contact", "a@example.org oder +4917612345678")


async def test_a_new_session_keeps_a_conversation_with_staff_silent(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    paused = make_tracker("Hallo?", "greet")
    paused._paused = True  # as the Rasa server sends a paused conversation
    events = await ActionSessionStart().run(dispatcher, paused, domain)
    assert [e["event"] for e in events] == ["session_started", "pause", "action"]
    assert events[-1]["name"] == "action_listen"

    events = await ActionSessionStart().run(dispatcher, make_tracker("Hallo", "greet"), domain)
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert dispatcher.messages == []
