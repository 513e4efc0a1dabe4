"""The form assistant's actions with real trackers, the real domain and the real specs.

The backend is a stand-in (httpx.MockTransport) that records what was submitted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_client import BackendClient
from actions.form_dialogue import ActionFormAskCancel, ActionFormStep, ActionShowSummary
from actions.form_validation import VALIDATION_ACTIONS
from actions.forms import get_registry, start_events
from actions.knowledge import ActionServiceKnowledge
from actions.settings import get_settings
from forms import InvalidAnswer, normalize
from tests.bot.conftest import backend_stub, render

FORM = "bewohnerparkausweis_form"
SELF_HELD = {
    "vorname": "Anna",
    "nachname": "Schmidt",
    "strasse": "Lindenallee 12",
    "postleitzahl": "12345",
    "wohnsitz": "hauptwohnsitz",
    "kennzeichen": "MU-AB 123",
    "halter": "selbst",
    "gueltig_ab": "2026-12-07",
    "email": "anna@example.org",
    "telefon": "",
}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ACTIONS_FIXED_NOW", "2026-12-02T10:00:00+01:00")
    get_settings.cache_clear()
    get_registry.cache_clear()
    yield
    get_settings.cache_clear()
    get_registry.cache_clear()


def slot(field: str) -> str:
    return f"bewohnerparkausweis__{field}"


def filled(**answers: Any) -> dict[str, Any]:
    return {slot(name): value for name, value in answers.items()}


def tracker(
    text: str = "",
    intent: str = "inform",
    confidence: float = 0.9,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = FORM,
    after_user: list[dict[str, Any]] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
    }
    events = [
        {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"},
        {"event": "action", "name": "action_listen"},
        *(after_user or []),
    ]
    return Tracker.from_dict(
        {
            "sender_id": "citizen-1",
            "slots": {"form_id": "bewohnerparkausweis", **(slots or {})},
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def validator() -> Any:
    action = next(a for a in VALIDATION_ACTIONS if a.spec_id == "bewohnerparkausweis")
    return action()


async def validate(t: Tracker, domain: dict[str, Any]) -> tuple[list[Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await validator().run(dispatcher, t, domain)
    return events, [render(message, domain) for message in dispatcher.messages]


def test_every_spec_has_a_validation_action_in_the_domain(domain: dict[str, Any]) -> None:
    names = {action().name() for action in VALIDATION_ACTIONS}
    assert names == {f"validate_{spec.form_name}" for spec in get_registry().specs.values()}
    declared = {
        name
        for entry in domain["actions"]
        for name in ([entry] if isinstance(entry, str) else list(entry))
    }
    assert names <= declared


async def test_an_answer_is_normalized_and_the_next_question_follows(
    domain: dict[str, Any],
) -> None:
    t = tracker("ich heiße Anna-Lena", slots={"requested_slot": slot("vorname")})
    events, messages = await validate(t, domain)
    assert SlotSet(slot("vorname"), "Anna-Lena") in events
    assert events[-1] == SlotSet("requested_slot", slot("nachname"))
    assert messages == []


async def test_an_invalid_answer_gets_a_hint_and_the_question_again(
    domain: dict[str, Any],
) -> None:
    t = tracker("Elmstreet 3", slots={"requested_slot": slot("strasse")})
    events, messages = await validate(t, domain)
    assert SlotSet(slot("strasse"), None) in events
    assert SlotSet("form_failures", 1) in events
    assert events[-1] == SlotSet("requested_slot", slot("vorname"))  # first one still missing
    assert messages == [
        "Die Straße „Elmstreet“ finde ich in Musterstadt nicht. Bitte prüfen Sie die "
        "Schreibweise und nennen Sie Straße und Hausnummer, zum Beispiel „Rathausplatz 1“."
    ]


async def test_repeated_invalid_answers_offer_a_person_but_keep_the_form(
    domain: dict[str, Any],
) -> None:
    t = tracker(
        "0815",
        slots={**filled(vorname="Anna"), "requested_slot": slot("nachname"), "form_failures": 2},
    )
    events, messages = await validate(t, domain)
    # No answer ends the form or hands it over: the question comes again, with the offer.
    assert ActiveLoop(None) not in events
    assert SlotSet("form_failures", 3) in events
    assert SlotSet(slot("vorname"), None) not in events  # earlier answers stay
    assert events[-1] == SlotSet("requested_slot", slot("nachname"))
    assert "Mensch aus dem" in messages[-1]


async def test_the_offered_button_leaves_even_a_free_question(domain: dict[str, Any]) -> None:
    t = tracker(
        "/request_human",
        intent="request_human",
        confidence=1.0,
        slots={**filled(vorname="Anna"), "requested_slot": slot("nachname")},
    )
    events, messages = await validate(t, domain)
    assert events == []  # the form rejects; the rule hands over with the answers kept
    assert messages == []


async def test_a_question_in_between_is_not_taken_as_an_answer(domain: dict[str, Any]) -> None:
    t = tracker(
        "Was kostet der Ausweis eigentlich?",
        intent="ask_fees",
        confidence=0.95,
        slots={**filled(vorname="Anna"), "requested_slot": slot("nachname")},
    )
    events, messages = await validate(t, domain)
    assert events == []  # the form rejects, the rules answer the question
    assert messages == []


async def test_a_plain_answer_wins_over_a_doubtful_intent(domain: dict[str, Any]) -> None:
    t = tracker(
        "Hauptwohnsitz",
        intent="ask_location",
        confidence=0.8,
        slots={"requested_slot": slot("wohnsitz")},
    )
    events, _ = await validate(t, domain)
    assert SlotSet(slot("wohnsitz"), "hauptwohnsitz") in events


async def test_after_an_interruption_the_old_message_is_not_taken_again(
    domain: dict[str, Any],
) -> None:
    t = tracker(
        "Was kostet das?",
        intent="ask_fees",
        slots={"requested_slot": slot("nachname"), **filled(vorname="Anna")},
        after_user=[
            {"event": "action_execution_rejected", "name": FORM},
            {"event": "action", "name": "action_service_knowledge"},
            {"event": "action", "name": FORM},
        ],
    )
    events, _ = await validate(t, domain)
    assert events == [SlotSet("requested_slot", slot("nachname"))]


async def test_only_the_fields_of_this_case_are_asked(domain: dict[str, Any]) -> None:
    before = {k: v for k, v in SELF_HELD.items() if k not in ("halter", "gueltig_ab", "email")}
    del before["telefon"]
    t = tracker("auf mich selbst", slots={**filled(**before), "requested_slot": slot("halter")})
    events, _ = await validate(t, domain)
    # Held by the applicant: no holder's name, no proof of use.
    assert events[-1] == SlotSet("requested_slot", slot("gueltig_ab"))

    t = tracker("meine Frau", slots={**filled(**before), "requested_slot": slot("halter")})
    events, _ = await validate(t, domain)
    assert events[-1] == SlotSet("requested_slot", slot("halter_name"))


async def test_a_changed_answer_drops_answers_no_longer_needed(domain: dict[str, Any]) -> None:
    answers = {**SELF_HELD, "halter_name": "Max Schmidt", "nutzungsnachweis": True}
    answers.pop("halter")
    t = tracker("ich selbst", slots={**filled(**answers), "requested_slot": slot("halter")})
    events, _ = await validate(t, domain)
    assert SlotSet(slot("halter_name"), None) in events
    assert SlotSet(slot("nutzungsnachweis"), None) in events
    assert events[-1] == SlotSet("requested_slot", None)  # complete: the summary follows


async def test_the_summary_shows_the_answers_of_this_case(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker("", slots=filled(**SELF_HELD), active_loop=None)
    events = await ActionShowSummary().run(dispatcher, t, domain)
    summary = render(dispatcher.messages[0], domain)
    assert "• Straße und Hausnummer: Lindenallee 12" in summary
    assert "• Gültig ab: Montag, 7. Dezember 2026" in summary
    assert "• Telefon für Rückfragen: keine Angabe" in summary
    assert "Halterin, des Halters" not in summary  # not asked in this case
    assert dispatcher.messages[1]["response"] == "utter_form_confirm_submit"
    assert SlotSet("form_stage", "summary") in events
    assert any(isinstance(e, dict) and e.get("name") == "application_key" for e in events)


def submission_backend(
    status: int = 201, body: dict[str, Any] | None = None
) -> tuple[BackendClient, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if status in (200, 201):
            return httpx.Response(
                status,
                json=body
                or {
                    "reference": "BPA-2026-483920",
                    "form": "bewohnerparkausweis",
                    "title": "Bewohnerparkausweis",
                    "status": "received",
                    "created_at": "2026-12-02T09:00:00Z",
                    "deliveries": [
                        {
                            "department": "strassenverkehrsamt",
                            "department_name": "Straßenverkehrsamt",
                            "purpose": "Ausstellung",
                            "next_steps": "Das Straßenverkehrsamt prüft Ihren Antrag.",
                            "status": "pending",
                        }
                    ],
                },
            )
        return httpx.Response(status, json=body or {"detail": "down"})

    return BackendClient("http://backend.test", transport=httpx.MockTransport(handle)), requests


async def step(
    t: Tracker, domain: dict[str, Any], client: BackendClient | None = None
) -> tuple[list[Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ActionFormStep(client).run(dispatcher, t, domain)
    return events, [render(message, domain) for message in dispatcher.messages]


@pytest.mark.parametrize(
    ("service", "sent"),
    # The service comes from the form, not from the topic of the last question.
    [("bewohnerparkausweis", "bewohnerparkausweis"), ("sperrmuell", "bewohnerparkausweis")],
)
async def test_yes_at_the_summary_submits_once_with_the_key(
    domain: dict[str, Any], service: str, sent: str | None
) -> None:
    client, requests = submission_backend()
    slots = {
        **filled(**SELF_HELD),
        "form_stage": "summary",
        "application_key": "k" * 32,
        "service": service,  # a question in between may have been about another service
    }
    events, messages = await step(
        tracker("ja", "affirm", slots=slots, active_loop=None), domain, client
    )
    assert len(requests) == 1
    assert requests[0].headers["Idempotency-Key"] == "k" * 32
    body = json.loads(requests[0].content)
    assert body["form"] == "bewohnerparkausweis"
    assert body["answers"] == SELF_HELD
    assert body["channel"] == "rest"
    assert body["service"] == sent
    assert "Ihre Vorgangsnummer lautet BPA-2026-483920" in messages[0]
    assert "• Straßenverkehrsamt: Das Straßenverkehrsamt prüft Ihren Antrag." in messages[1]
    assert SlotSet(slot("vorname"), None) in events
    assert SlotSet("form_stage", None) in events


async def test_an_unreachable_backend_keeps_the_answers_and_the_key(domain: dict[str, Any]) -> None:
    client, requests = submission_backend(status=503)
    slots = {**filled(**SELF_HELD), "form_stage": "summary", "application_key": "k" * 32}
    events, messages = await step(
        tracker("ja", "affirm", slots=slots, active_loop=None), domain, client
    )
    assert len(requests) == 1
    assert "Ihre Angaben sind nicht verloren" in messages[0]
    assert events == [SlotSet("application_key", "k" * 32)]


async def test_answers_the_backend_refuses_are_asked_again(domain: dict[str, Any]) -> None:
    client, _ = submission_backend(
        status=422,
        body={"detail": {"message": "x", "errors": {"gueltig_ab": "Das Datum ist zu spät."}}},
    )
    slots = {**filled(**SELF_HELD), "form_stage": "summary", "application_key": "k" * 32}
    events, messages = await step(
        tracker("ja", "affirm", slots=slots, active_loop=None), domain, client
    )
    assert "• Gültig ab: Das Datum ist zu spät." in messages[0]
    assert SlotSet(slot("gueltig_ab"), None) in events
    assert events[-1] == FollowupAction(FORM)


async def test_a_named_field_is_changed_and_the_summary_returns(domain: dict[str, Any]) -> None:
    slots = {**filled(**SELF_HELD), "form_stage": "summary", "application_key": "k" * 32}
    t = tracker("bitte die Adresse ändern", "correct_field", slots=slots, active_loop=None)
    events, messages = await step(t, domain)
    assert messages == ["Gern, dann ändern wir „Straße und Hausnummer“."]
    assert SlotSet(slot("strasse"), None) in events
    assert SlotSet("application_key", None) in events  # changed answers: a new submission
    assert events[-1] == FollowupAction(FORM)


async def test_no_at_the_summary_asks_which_field(domain: dict[str, Any]) -> None:
    slots = {**filled(**SELF_HELD), "form_stage": "summary"}
    dispatcher = CollectingDispatcher()
    t = tracker("nein", "deny", slots=slots, active_loop=None)
    events = await ActionFormStep().run(dispatcher, t, domain)
    assert events == [SlotSet("form_stage", "choose_field")]
    titles = [button["title"] for button in dispatcher.messages[0]["buttons"]]
    assert titles[:2] == ["Vorname", "Nachname"]
    assert "Name der Halterin, des Halters oder der Firma" not in titles

    picked = tracker(
        "/correct_field",
        "correct_field",
        slots={**slots, "form_stage": "choose_field"},
        active_loop=None,
        entities=[{"entity": "form_field", "value": "kennzeichen"}],
    )
    events, _ = await step(picked, domain)
    assert SlotSet(slot("kennzeichen"), None) in events


async def test_stopping_in_the_middle_asks_first(domain: dict[str, Any]) -> None:
    t = tracker(
        "abbrechen", "cancel", slots={**filled(vorname="Anna"), "requested_slot": slot("nachname")}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionFormAskCancel().run(dispatcher, t, domain)
    messages = [render(message, domain) for message in dispatcher.messages]
    assert "Möchten Sie den Antrag „Bewohnerparkausweis“ wirklich abbrechen?" in messages[0]
    assert SlotSet("form_stage", "cancel_pending") in events
    assert ActiveLoop(None) in events

    pending = {**filled(vorname="Anna"), "form_stage": "cancel_pending"}
    events, messages = await step(tracker("ja", "affirm", slots=pending, active_loop=None), domain)
    assert "ich habe den Antrag abgebrochen und Ihre Angaben gelöscht" in messages[0]
    assert SlotSet(slot("vorname"), None) in events

    events, messages = await step(tracker("nein", "deny", slots=pending, active_loop=None), domain)
    assert messages == ["Gut, dann machen wir weiter."]
    assert events[-1] == FollowupAction(FORM)
    assert SlotSet(slot("vorname"), None) not in events


async def test_only_an_explicit_yes_deletes_the_answers(domain: dict[str, Any]) -> None:
    pending = {**filled(vorname="Anna"), "form_stage": "cancel_pending"}
    # A surname given again at the prompt, whatever the NLU makes of it: nothing is deleted,
    # the question comes again.
    for text, intent in (("Koch", "cancel"), ("Ende", "affirm"), ("Lange", "cancel")):
        t = tracker(text, intent, slots=pending, active_loop=None)
        events, messages = await step(t, domain)
        assert SlotSet(slot("vorname"), None) not in events, text
        assert "wirklich abbrechen?" in messages[0]
    # The button, a yes or a stop word do delete.
    for text, intent in (("/affirm", "affirm"), ("ja bitte", "affirm"), ("abbrechen!", "cancel")):
        t = tracker(text, intent, slots=pending, active_loop=None)
        events, messages = await step(t, domain)
        assert SlotSet(slot("vorname"), None) in events, text
    # "Ja, aber nein" is no yes.
    t = tracker("ja, aber nicht löschen", "affirm", slots=pending, active_loop=None)
    events, _ = await step(t, domain)
    assert SlotSet(slot("vorname"), None) not in events


async def test_a_name_that_looks_like_stopping_is_a_name(domain: dict[str, Any]) -> None:
    asked = {**filled(vorname="Anna"), "requested_slot": slot("nachname")}
    events, messages = await validate(tracker("Ende", "cancel", 0.8, slots=asked), domain)
    assert SlotSet(slot("nachname"), "Ende") in events
    assert messages == []
    # Saying so in words still stops: the form lets go, the rules ask whether to cancel.
    for text in ("abbrechen bitte", "das will ich nicht mehr ausfüllen"):
        events, _ = await validate(tracker(text, "cancel", 0.8, slots=asked), domain)
        assert events == [], text


async def test_nothing_to_cancel_outside_a_form(domain: dict[str, Any]) -> None:
    t = tracker("abbrechen", "cancel", slots={"form_id": None}, active_loop=None)
    events, messages = await step(t, domain)
    assert events == []
    assert messages[0].startswith("Gerade ist kein Antrag offen")


async def test_a_bare_statement_outside_a_form_gets_the_out_of_scope_answer(
    domain: dict[str, Any],
) -> None:
    t = tracker(
        "Mein Drucker druckt nur leere Seiten", "inform", slots={"form_id": None}, active_loop=None
    )
    events, messages = await step(t, domain)
    assert events == []
    assert messages[0].startswith("Dabei kann ich Ihnen leider nicht helfen")


SERVICE = {
    "slug": "bewohnerparkausweis",
    "name": "Bewohnerparkausweis",
    "description": "…",
    "eligibility": None,
    "fees": None,
    "documents": [],
    "processing_time": None,
    "legal_basis": None,
    "department": {"slug": "strassenverkehrsamt", "name": "Straßenverkehrsamt"},
    "online_form": "bewohnerparkausweis",
    "online_form_url": None,
}
# The same service with its fees, for questions about them in the middle of the form.
PARKING_SERVICE = {**SERVICE, "fees": "30,70 € pro Jahr"}


async def test_applying_for_a_service_with_a_form_starts_it(domain: dict[str, Any]) -> None:
    service = {
        "slug": "bewohnerparkausweis",
        "name": "Bewohnerparkausweis",
        "description": "…",
        "eligibility": None,
        "fees": None,
        "documents": [],
        "processing_time": None,
        "legal_basis": None,
        "department": {"slug": "strassenverkehrsamt", "name": "Straßenverkehrsamt"},
        "online_form": "bewohnerparkausweis",
        "online_form_url": None,
    }
    client, _ = backend_stub({"/api/v1/services/bewohnerparkausweis": service})
    t = tracker(
        "Ich möchte einen Bewohnerparkausweis beantragen",
        "ask_apply",
        slots={"form_id": None},
        active_loop=None,
        entities=[{"entity": "service", "value": "bewohnerparkausweis"}],
    )
    dispatcher = CollectingDispatcher()
    events = await ActionServiceKnowledge(client).run(dispatcher, t, domain)
    assert dispatcher.messages[0]["response"] == "utter_intro_bewohnerparkausweis"
    assert SlotSet("form_id", "bewohnerparkausweis") in events
    assert events[-1] == FollowupAction(FORM)


async def test_a_question_in_a_form_is_about_the_forms_service(domain: dict[str, Any]) -> None:
    client, seen = backend_stub({"/api/v1/services/bewohnerparkausweis": PARKING_SERVICE})
    t = tracker(
        "Was kostet die Bewerbung?",
        "ask_fees",
        slots={"service": "bewohnerparkausweis", "requested_slot": slot("nachname")},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionServiceKnowledge(client).run(dispatcher, t, domain)
    assert render(dispatcher.messages[0], domain) == (
        "Bewohnerparkausweis – Gebühren: 30,70 € pro Jahr"
    )
    assert seen == ["/api/v1/services/bewohnerparkausweis"]  # no search for other services
    assert not any(isinstance(e, dict) and e.get("event") == "followup" for e in events)


def ambiguous(text: str, second: str, gap: float, slots: dict[str, Any]) -> Tracker:
    t = tracker(text, "out_of_scope", 0.5, slots=slots)
    t.latest_message["intent_ranking"] = [
        {"name": "out_of_scope", "confidence": 0.5},
        {"name": second, "confidence": 0.5 - gap},
        {"name": "greet", "confidence": 0.01},
    ]
    return t


async def test_a_question_between_off_topic_and_the_service_is_about_the_form(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, seen = backend_stub({"/api/v1/services/bewohnerparkausweis": PARKING_SERVICE})
    monkeypatch.setattr("actions.knowledge.shared_client", lambda: client)
    slots = {
        **filled(vorname="Anna"),
        "service": "bewohnerparkausweis",
        "requested_slot": slot("nachname"),
    }
    # Off-topic or a fee question about the form's service: the form's topic decides.
    events, messages = await validate(
        ambiguous("Was kostet so ein Ding?", "ask_fees", 0.05, slots), domain
    )
    assert messages[0] == "Bewohnerparkausweis – Gebühren: 30,70 € pro Jahr"
    assert seen == ["/api/v1/services/bewohnerparkausweis"]
    # Not taken as the surname, no failure counted; the same question comes again. The
    # requested slot is set to nothing: without a slot event Rasa rejects the form's turn.
    assert SlotSet(slot("nachname"), None) in events
    assert not any(isinstance(e, dict) and e.get("name") == "form_failures" for e in events)
    assert events[-1] == SlotSet("requested_slot", slot("nachname"))

    # Clearly off-topic, or not a question: no answer about the service.
    for t in (
        ambiguous("Was kostet so ein Ding?", "ask_fees", 0.3, slots),
        ambiguous("so ein Ding kostet was", "ask_fees", 0.05, slots),
        ambiguous("Wo ist so ein Ding?", "ask_location", 0.05, slots),
    ):
        seen.clear()
        events, messages = await validate(t, domain)
        assert seen == []
        assert not any("Gebühren" in m for m in messages)


async def test_an_end_date_before_the_start_is_asked_again(domain: dict[str, Any]) -> None:
    action = next(a for a in VALIDATION_ACTIONS if a.spec_id == "sondernutzungserlaubnis")()
    t = tracker(
        "14.12.2026",
        slots={
            "form_id": "sondernutzungserlaubnis",
            "sondernutzungserlaubnis__von": "2026-12-15",
            "requested_slot": "sondernutzungserlaubnis__bis",
        },
        active_loop="sondernutzungserlaubnis_form",
    )
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, domain)
    assert SlotSet("sondernutzungserlaubnis__bis", None) in events
    assert dispatcher.messages[0]["text"] == (
        "Das Datum darf nicht vor „Beginn“ liegen (15. Dezember 2026)."
    )


@pytest.mark.parametrize(
    ("spec_id", "field", "text", "intent", "stored"),
    [
        # An option of a choice is an answer, whatever the NLU makes of it.
        ("wohnbaugrundstueck", "wohnsituation", "zur Miete", "correct_field", "miete"),
        # A description is an answer unless it asks something.
        (
            "hilfe-zum-lebensunterhalt",
            "grund_erwerbsminderung",
            "Nach einer Operation bin ich sechs Monate krankgeschrieben.",
            "bot_challenge",
            "Nach einer Operation bin ich sechs Monate krankgeschrieben.",
        ),
        # A company name is no request, however sure the NLU is.
        (
            "handwerkerparkausweis",
            "firma",
            "Malerbetrieb Schulz",
            "ask_apply",
            "Malerbetrieb Schulz",
        ),
        # A "correction" that names no field of the form is an answer.
        ("bewohnerparkausweis", "vorname", "Anders", "correct_field", "Anders"),
    ],
)
async def test_answers_that_look_like_something_else_are_answers(
    domain: dict[str, Any], spec_id: str, field: str, text: str, intent: str, stored: Any
) -> None:
    action = next(a for a in VALIDATION_ACTIONS if a.spec_id == spec_id)()
    key = spec_id.replace("-", "_")
    t = tracker(
        text,
        intent,
        confidence=0.98,
        slots={"form_id": spec_id, "requested_slot": f"{key}__{field}"},
        active_loop=f"{key}_form",
    )
    events = await action.run(CollectingDispatcher(), t, domain)
    assert SlotSet(f"{key}__{field}", stored) in events


def test_a_number_does_not_pick_an_option_by_position() -> None:
    spec = get_registry().specs["handwerkerparkausweis"]
    with pytest.raises(InvalidAnswer):
        normalize(spec.field("geltungsdauer"), "1", get_registry().context())


@pytest.mark.parametrize("text", ["Ja, aber kein regelmäßiges", "ja klar, warum nicht"])
def test_a_yes_with_a_but_is_asked_again(text: str) -> None:
    spec = get_registry().specs["hilfe-zum-lebensunterhalt"]
    with pytest.raises(InvalidAnswer):
        normalize(spec.field("einkommen"), text, get_registry().context())


async def test_a_question_is_no_yes_or_no(domain: dict[str, Any]) -> None:
    action = next(a for a in VALIDATION_ACTIONS if a.spec_id == "hundeanmeldung")()
    t = tracker(
        "Was ist, wenn ich keinen Hund mehr habe?",
        "ask_service_info",
        confidence=0.6,
        slots={"form_id": "hundeanmeldung", "requested_slot": "hundeanmeldung__weiterer_hund"},
        active_loop="hundeanmeldung_form",
    )
    assert await action.run(CollectingDispatcher(), t, domain) == []


async def test_a_button_payload_is_no_free_answer(domain: dict[str, Any]) -> None:
    t = tracker("/correct_field", "correct_field", slots={"requested_slot": slot("vorname")})
    events, messages = await validate(t, domain)
    assert SlotSet(slot("vorname"), None) in events
    assert messages == ["Bitte nennen Sie Ihren Vornamen, zum Beispiel „Anna“."]


async def test_apply_at_the_summary_shows_it_again(domain: dict[str, Any]) -> None:
    client, _ = backend_stub({"/api/v1/services/bewohnerparkausweis": SERVICE})
    t = tracker(
        "Ja, den Antrag bitte stellen",
        "ask_apply",
        slots={**filled(**SELF_HELD), "form_stage": "summary"},
        active_loop=None,
        entities=[{"entity": "service", "value": "bewohnerparkausweis"}],
    )
    events = await ActionServiceKnowledge(client).run(CollectingDispatcher(), t, domain)
    assert events == [FollowupAction("action_show_summary")]


async def test_a_whole_address_answers_the_postal_code_too(domain: dict[str, Any]) -> None:
    t = tracker(
        "ich wohne in der Lindenallee 12, 12345 Musterstadt",
        slots={**filled(vorname="Anna", nachname="Schmidt"), "requested_slot": slot("strasse")},
    )
    events, messages = await validate(t, domain)
    assert SlotSet(slot("strasse"), "Lindenallee 12") in events
    assert SlotSet(slot("postleitzahl"), "12345") in events
    assert events[-1] == SlotSet("requested_slot", slot("wohnsitz"))
    assert messages == []


async def test_a_near_miss_of_an_option_is_proposed_and_stored_only_after_yes(
    domain: dict[str, Any],
) -> None:
    before = {**filled(**{k: SELF_HELD[k] for k in ("vorname", "nachname", "strasse")})}
    before[slot("postleitzahl")] = "12345"
    t = tracker("Hauptwonsitz", slots={**before, "requested_slot": slot("wohnsitz")})
    events, messages = await validate(t, domain)
    assert SlotSet(slot("wohnsitz"), "hauptwohnsitz") not in events
    assert SlotSet("form_proposal", {"field": "wohnsitz", "value": "hauptwohnsitz", "turn": 1}) in (
        events
    )
    assert messages[0].startswith("Meinen Sie „Hauptwohnsitz“?")
    assert events[-1] == SlotSet("requested_slot", slot("wohnsitz"))

    # The next message answers it (the proposal was made at the turn before).
    proposed = {"field": "wohnsitz", "value": "hauptwohnsitz", "turn": 0}
    t = tracker(
        "ja",
        intent="affirm",
        slots={**before, "form_proposal": proposed, "requested_slot": slot("wohnsitz")},
    )
    events, messages = await validate(t, domain)
    assert SlotSet(slot("wohnsitz"), "hauptwohnsitz") in events
    assert SlotSet("form_proposal", None) in events
    assert events[-1] == SlotSet("requested_slot", slot("kennzeichen"))

    t = tracker(
        "nein",
        intent="deny",
        slots={**before, "form_proposal": proposed, "requested_slot": slot("wohnsitz")},
    )
    events, messages = await validate(t, domain)
    assert SlotSet(slot("wohnsitz"), "hauptwohnsitz") not in events
    assert messages[0].startswith("Dann nennen Sie mir bitte die richtige Angabe. Möglich sind")
    assert not any(e.get("name") == "form_failures" and e.get("value") for e in events)

    # "Nein, Nebenwohnsitz" is a new answer, not a no to the proposal.
    t = tracker(
        "Nein, Nebenwohnsitz",
        intent="deny",
        slots={**before, "form_proposal": proposed, "requested_slot": slot("wohnsitz")},
    )
    events, _ = await validate(t, domain)
    assert SlotSet(slot("wohnsitz"), "nebenwohnsitz") in events

    # Stopping, a person or a question: the form lets the rules answer (nothing is taken).
    leaving = [
        ("abbrechen", "cancel"),
        ("Was kostet das?", "ask_fees"),
        ("ich möchte mit einem Mitarbeiter sprechen", "request_human"),
    ]
    for text, intent in leaving:
        t = tracker(
            text,
            intent=intent,
            confidence=0.95,
            slots={**before, "form_proposal": proposed, "requested_slot": slot("wohnsitz")},
        )
        events, _ = await validate(t, domain)
        assert events == [], text


async def test_a_truthful_no_to_a_precondition_ends_the_form_with_a_referral(
    domain: dict[str, Any],
) -> None:
    answers = {k: v for k, v in SELF_HELD.items() if k not in ("gueltig_ab", "email", "telefon")}
    answers["halter"] = "andere_person"
    answers["halter_name"] = "Peter Schmidt"
    t = tracker(
        "nein, so eine Bestätigung habe ich nicht",
        intent="deny",
        slots={**filled(**answers), "requested_slot": slot("nutzungsnachweis")},
    )
    events, messages = await validate(t, domain)
    assert "Straßenverkehrsamt den Ausweis nicht ausstellen" in messages[0]
    assert "Antrag deshalb beendet" in messages[1]
    assert ActiveLoop(None) in events and FollowupAction("action_listen") in events
    assert SlotSet(slot("vorname"), None) in events and SlotSet("form_id", None) in events


async def test_a_free_answer_leaves_the_form_only_when_it_asks_for_a_person(
    domain: dict[str, Any],
) -> None:
    # A company's name the NLU takes for asking for a person is the answer.
    t = tracker(
        "Personal Service GmbH",
        intent="request_human",
        confidence=0.95,
        slots={
            **filled(**{k: SELF_HELD[k] for k in ("vorname", "nachname", "strasse")}),
            "bewohnerparkausweis__postleitzahl": "12345",
            "bewohnerparkausweis__wohnsitz": "hauptwohnsitz",
            "bewohnerparkausweis__kennzeichen": "MU-AB 123",
            "bewohnerparkausweis__halter": "firma",
            "requested_slot": slot("halter_name"),
        },
    )
    events, _ = await validate(t, domain)
    assert SlotSet(slot("halter_name"), "Personal Service GmbH") in events
    # Asked in words, it leaves the form (the rules hand over).
    t = tracker(
        "ich möchte mit einem Mitarbeiter sprechen",
        intent="request_human",
        confidence=0.95,
        slots={"requested_slot": slot("halter_name")},
    )
    events, _ = await validate(t, domain)
    assert events == []  # not taken: the form rejects the message and the rules hand over


def test_what_the_opener_says_is_taken_as_the_first_answers() -> None:
    spec = get_registry().specs["urkundenbestellung"]
    opener = "Ich brauche zwei Exemplare der Geburtsurkunde meiner Mutter, bitte per Post"
    events = start_events(spec, "geburtsurkunde", opener)
    filled_in = {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["value"]}
    assert filled_in[spec.slot("urkundenart")] == "geburtsurkunde"
    # Whose certificate is asked: "meine Mutter hat gesagt …" would name her too.
    assert spec.slot("beziehung") not in filled_in
    assert filled_in[spec.slot("anzahl")] == 2
    assert filled_in[spec.slot("versand")] == "post"
    assert spec.slot("ausfuehrung") not in filled_in  # not said: asked
    events = start_events(spec, "geburtsurkunde", "eine Geburtsurkunde, aber nicht per Post")
    assert all(e.get("name") != spec.slot("versand") or e["value"] is None for e in events)
    # A plain request fills in only what the service gives.
    events = start_events(spec, "geburtsurkunde", "Ich brauche eine Geburtsurkunde")
    assert [e["name"] for e in events if e.get("event") == "slot" and e["value"]] == [
        spec.slot("urkundenart"),
        "form_id",
    ]


async def test_a_whole_name_at_the_first_name_is_taken_as_both(domain: dict[str, Any]) -> None:
    # "Markus" is a known first name, "Vogel" no first name here (forms/names.py).
    t = tracker("Markus Vogel", slots={"requested_slot": slot("vorname")})
    events, messages = await validate(t, domain)
    assert messages == []
    assert SlotSet(slot("vorname"), "Markus") in events
    assert SlotSet(slot("nachname"), "Vogel") in events
    assert events[-1] == SlotSet("requested_slot", slot("strasse"))


async def test_a_doubtful_whole_name_is_proposed_as_both(domain: dict[str, Any]) -> None:
    # "Peter" is a first name here too: two first names, or first name and surname?
    t = tracker("Hans Peter", slots={"requested_slot": slot("vorname")})
    events, messages = await validate(t, domain)
    assert messages[0] == "Dann ist der Vorname „Hans“ und der Nachname „Peter“ – richtig?"
    assert SlotSet(slot("vorname"), "Hans Peter") not in events
    proposed = next(e["value"] for e in events if e.get("name") == "form_proposal")
    assert proposed == {
        "field": "vorname",
        "value": "Hans",
        "turn": 1,
        "also": {"nachname": "Peter"},
        "otherwise": "Hans Peter",
    }
    slots = {"form_proposal": {**proposed, "turn": 0}, "requested_slot": slot("vorname")}
    events, _ = await validate(tracker("ja", intent="affirm", slots=slots), domain)
    assert SlotSet(slot("vorname"), "Hans") in events
    assert SlotSet(slot("nachname"), "Peter") in events
    assert events[-1] == SlotSet("requested_slot", slot("strasse"))
    # "Nein": it is one first name of two words.
    events, _ = await validate(tracker("nein", intent="deny", slots=slots), domain)
    assert SlotSet(slot("vorname"), "Hans Peter") in events
    assert events[-1] == SlotSet("requested_slot", slot("nachname"))
