"""action_service_knowledge: real trackers and domain, the backend replaced by MockTransport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionOutOfScope, ActionServiceKnowledge
from actions.referrals import load_referrals
from actions.settings import get_settings
from tests.bot.conftest import ROOT, backend_stub, make_tracker, render

BUERGERBUERO = {
    "slug": "buergerbuero",
    "name": "Bürgerbüro",
    "sample_data": True,
    "phone": "+49 0000 0000-100",
    "email": "buergerbuero@musterstadt.example",
    "building": "Rathaus, Musterplatz 1",
    "floor": "Erdgeschoss",
    "room": "E.10",
    "directions": "Durch den Haupteingang, dann rechts.",
    "barrier_free": True,
}
HOURS = [
    {"weekday": "monday", "intervals": ["08:00-12:30", "14:00-16:00"]},
    {"weekday": "saturday", "intervals": ["09:00-12:00"]},
]
PASS = {
    "slug": "reisepass",
    "name": "Reisepass",
    "sample_data": True,
    "description": "Der Reisepass ist ein Ausweis für Reisen.",
    "eligibility": "Deutsche Staatsangehörige.",
    "fees": "70,00 €",
    "documents": ["Personalausweis", "Biometrisches Passfoto"],
    "processing_time": "Etwa drei bis vier Wochen.",
    "legal_basis": "PassG",
    "department": BUERGERBUERO,
    "online_form": None,
    "online_form_url": None,
}
PARKING = {
    **PASS,
    "slug": "bewohnerparkausweis",
    "name": "Bewohnerparkausweis",
    "fees": "30,70 € pro Jahr",
    "online_form": "bewohnerparkausweis",
    "online_form_url": "https://service.musterstadt.example/formulare/bewohnerparkausweis",
}
PASS_URL = "/api/v1/services/reisepass"
HOURS_URL = "/api/v1/departments/buergerbuero/opening-hours"


def hours(**overrides: Any) -> dict[str, Any]:
    body = {
        "department": BUERGERBUERO,
        "timezone": "Europe/Berlin",
        "now": "2026-11-30T09:15:00+01:00",
        "open_now": True,
        "closes_at": "2026-11-30T12:30:00+01:00",
        "next_opening": {
            "opens_at": "2026-11-30T14:00:00+01:00",
            "closes_at": "2026-11-30T16:00:00+01:00",
        },
        "closed_today_reason": None,
        "regular_hours": HOURS,
        "upcoming_closures": [],
    }
    body.update(overrides)
    return body


CLOSED_ON_CHRISTMAS = hours(
    now="2026-12-25T10:00:00+01:00",
    open_now=False,
    closes_at=None,
    closed_today_reason="Feiertag (Erster Weihnachtstag)",
    next_opening={
        "opens_at": "2026-12-28T08:00:00+01:00",
        "closes_at": "2026-12-28T12:30:00+01:00",
    },
)


async def run(routes: dict[str, Any], domain: dict[str, Any], **tracker: Any):  # type: ignore[no-untyped-def]
    client, seen = backend_stub({"/api/v1/departments/buergerbuero": BUERGERBUERO, **routes})
    dispatcher = CollectingDispatcher()
    events = await ActionServiceKnowledge(client).run(dispatcher, make_tracker(**tracker), domain)
    return [render(m, domain) for m in dispatcher.messages], events, dispatcher.messages, seen


def dept(value: str) -> list[dict[str, Any]]:
    return [{"entity": "department", "value": value}]


def service(value: str) -> list[dict[str, Any]]:
    return [{"entity": "service", "value": value}]


async def test_hours_of_a_named_office_while_open(domain: dict[str, Any]) -> None:
    texts, events, _, _ = await run(
        {HOURS_URL: hours()}, domain, intent="ask_opening_hours", entities=dept("buergerbuero")
    )
    assert "Öffnungszeiten Bürgerbüro:" in texts[0]
    assert "Montag: 8:00–12:30 und 14:00–16:00 Uhr" in texts[0]
    assert "Gerade ist geöffnet, heute bis 12:30 Uhr." in texts[0]
    assert "Beispieldaten" in texts[-1]
    assert SlotSet("department", "buergerbuero") in events


async def test_closed_on_a_holiday_says_when_and_offers_help(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {HOURS_URL: CLOSED_ON_CHRISTMAS}, domain, intent="ask_opening_hours",
        entities=dept("buergerbuero"),
    )  # fmt: skip
    assert "Heute ist geschlossen: Feiertag (Erster Weihnachtstag)." in texts[0]
    assert "Geöffnet ist wieder am Montag, 28. Dezember, um 8:00 Uhr." in texts[0]
    assert texts[1].startswith("Auch jetzt helfe ich Ihnen gern weiter")


async def test_closed_in_the_evening_opens_tomorrow(domain: dict[str, Any]) -> None:
    body = hours(
        now="2026-11-30T19:00:00+01:00", open_now=False, closes_at=None,
        next_opening={"opens_at": "2026-12-01T08:00:00+01:00",
                      "closes_at": "2026-12-01T12:30:00+01:00"},
    )  # fmt: skip
    texts, _, _, _ = await run({HOURS_URL: body}, domain, intent="ask_opening_hours")
    assert "Gerade ist geschlossen. Geöffnet ist wieder morgen um 8:00 Uhr." in texts[0]


async def test_hours_without_office_or_service_are_the_default_office(
    domain: dict[str, Any],
) -> None:
    texts, _, _, seen = await run(
        {HOURS_URL: hours(), "/api/v1/services?q=Wann+haben+Sie+offen%3F": []},
        domain, intent="ask_opening_hours", text="Wann haben Sie offen?",
    )  # fmt: skip
    assert HOURS_URL in seen
    assert "Öffnungszeiten Bürgerbüro:" in texts[0]


async def test_hours_for_a_service_are_its_offices_and_link_the_online_form(
    domain: dict[str, Any],
) -> None:
    texts, events, _, _ = await run(
        {"/api/v1/services/bewohnerparkausweis": PARKING, HOURS_URL: CLOSED_ON_CHRISTMAS},
        domain, intent="ask_opening_hours", entities=service("bewohnerparkausweis"),
    )  # fmt: skip
    assert "Öffnungszeiten Bürgerbüro:" in texts[0]
    assert any(t.endswith("formulare/bewohnerparkausweis") for t in texts)
    assert SlotSet("service", "bewohnerparkausweis") in events


async def test_fees_of_a_named_service(domain: dict[str, Any]) -> None:
    texts, events, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="ask_fees", entities=service("reisepass")
    )
    assert texts[0] == "Reisepass – Gebühren: 70,00 €"
    assert "Beispieldaten" in texts[-1]
    assert SlotSet("service", "reisepass") in events
    assert SlotSet("department", "buergerbuero") in events


async def test_follow_up_keeps_the_service(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="ask_documents", text="und was muss ich mitbringen?",
        slots={"service": "reisepass"},
    )  # fmt: skip
    assert (
        texts[0]
        == "Reisepass – bitte bringen Sie mit:\n• Personalausweis\n• Biometrisches Passfoto"
    )


async def test_location_of_a_service_is_its_office(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="ask_location", entities=service("reisepass")
    )
    assert texts[0].startswith("Bürgerbüro: Rathaus, Musterplatz 1, Erdgeschoss, Raum E.10")
    assert "Durch den Haupteingang" in texts[0]
    assert "Der Zugang ist barrierefrei." in texts[0]


async def test_responsible_office_with_contact(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="ask_responsible_office", entities=service("reisepass")
    )
    assert texts[0].startswith("Reisepass – Zuständig ist: Bürgerbüro (Rathaus")
    assert "Telefon +49 0000 0000-100, E-Mail buergerbuero@musterstadt.example" in texts[0]


async def test_words_the_nlu_did_not_map_are_searched(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {
            "/api/v1/services/son%20ne%20parkkarte": 404,
            "/api/v1/services?q=son+ne+parkkarte": [PARKING],
        },
        domain, intent="ask_fees", entities=service("son ne parkkarte"),
    )  # fmt: skip
    assert texts[0] == "Bewohnerparkausweis – Gebühren: 30,70 € pro Jahr"
    assert texts[1] == (
        "Diese Leistung können Sie auch online beantragen: "
        "https://service.musterstadt.example/formulare/bewohnerparkausweis"
    )


async def test_ambiguous_request_asks_which_service_with_buttons(domain: dict[str, Any]) -> None:
    texts, events, messages, _ = await run(
        {"/api/v1/services?q=Was+kostet+ein+Pass+oder+Ausweis%3F": [PASS, PARKING]},
        domain, intent="ask_fees", text="Was kostet ein Pass oder Ausweis?",
    )  # fmt: skip
    assert texts[0].startswith("Welche Leistung meinen Sie?")
    assert messages[0]["buttons"] == [
        {"title": "Reisepass", "payload": '/choose_service{"service": "reisepass"}'},
        {
            "title": "Bewohnerparkausweis",
            "payload": '/choose_service{"service": "bewohnerparkausweis"}',
        },
    ]
    assert SlotSet("pending_aspect", "fees") in events


async def test_the_chosen_service_answers_the_pending_question(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="choose_service", entities=service("reisepass"),
        slots={"pending_aspect": "fees"},
    )  # fmt: skip
    assert texts[0] == "Reisepass – Gebühren: 70,00 €"


async def test_unknown_service(domain: dict[str, Any]) -> None:
    texts, events, _, _ = await run(
        {
            "/api/v1/services/mondlandung": 404,
            "/api/v1/services?q=mondlandung": [],
            "/api/v1/services?q=Was+kostet+eine+Mondlandung%3F": [],
        },
        domain, intent="ask_fees", entities=service("mondlandung"),
        text="Was kostet eine Mondlandung?",
    )  # fmt: skip
    assert texts[0].startswith("Zu „mondlandung“ habe ich leider keine Informationen.")
    assert SlotSet("pending_aspect", "fees") in events


async def test_unknown_office_lists_the_known_ones(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {
            "/api/v1/departments?q=Finanzamt": [],
            "/api/v1/departments": [BUERGERBUERO, {**BUERGERBUERO, "name": "Standesamt"}],
        },
        domain, intent="ask_opening_hours", entities=dept("Finanzamt"),
    )  # fmt: skip
    assert texts == [
        "Zu „Finanzamt“ habe ich leider keine Angaben. Ich kenne diese Dienststellen: "
        "Bürgerbüro und Standesamt."
    ]


async def test_backend_down_or_broken_gets_an_apology(domain: dict[str, Any]) -> None:
    for answer in (httpx.ConnectError("refused"), 500, {"unexpected": "shape"}):
        texts, events, _, _ = await run(
            {PASS_URL: answer}, domain, intent="ask_fees", entities=service("reisepass")
        )
        assert texts == [
            "Entschuldigung, diese Auskunft kann ich gerade nicht abrufen. Bitte versuchen Sie "
            "es in ein paar Minuten noch einmal."
        ]
        assert events == []


async def test_a_service_only_the_backend_knows_wins_over_the_topic_so_far(
    domain: dict[str, Any],
) -> None:
    texts, events, _, _ = await run(
        {"/api/v1/services?q=Und+ein+Anwohnerparkausweis%3F": [PARKING]},
        domain, intent="ask_fees", text="Und ein Anwohnerparkausweis?",
        slots={"service": "reisepass"},
    )  # fmt: skip
    assert texts[0] == "Bewohnerparkausweis – Gebühren: 30,70 € pro Jahr"
    assert SlotSet("service", "bewohnerparkausweis") in events


async def test_an_office_the_nlu_missed_is_found_in_the_words(domain: dict[str, Any]) -> None:
    standesamt = {**BUERGERBUERO, "slug": "standesamt", "name": "Standesamt"}
    texts, events, _, _ = await run(
        {
            "/api/v1/departments?q=Wann+hat+das+Standesamt+offen%3F": [standesamt],
            "/api/v1/departments/standesamt": standesamt,
            "/api/v1/departments/standesamt/opening-hours": hours(department=standesamt),
        },
        domain, intent="ask_opening_hours", text="Wann hat das Standesamt offen?",
    )  # fmt: skip
    assert texts[0].startswith("Öffnungszeiten Standesamt:")
    assert SlotSet("department", "standesamt") in events


async def test_a_service_named_in_the_citizens_words_wins_over_the_nlus_guess(
    domain: dict[str, Any],
) -> None:
    # The NLU was trained before "Baumfällgenehmigung" came into the catalogue and guesses
    # the service it knows that looks most alike.
    building = {**PASS, "slug": "baugenehmigung", "name": "Baugenehmigung", "fees": "ab 1.000 €"}
    trees = {**PASS, "slug": "baumfaellgenehmigung", "name": "Baumfällgenehmigung",
             "fees": "ab 40,00 €"}  # fmt: skip
    text = "Was kostet eine Baumfällgenehmigung?"
    client, seen = backend_stub(
        {
            "/api/v1/services/baugenehmigung": building,
            f"/api/v1/services?{httpx.QueryParams({'q': text})}": [trees],
        }
    )
    guessed = [{"entity": "service", "value": "baugenehmigung", "extractor": "ServiceClassifier"}]
    dispatcher = CollectingDispatcher()
    events = await ActionServiceKnowledge(client).run(
        dispatcher, make_tracker(text, "ask_fees", entities=guessed), domain
    )
    assert render(dispatcher.messages[0], domain).startswith("Baumfällgenehmigung – Gebühren")
    assert SlotSet("service", "baumfaellgenehmigung") in events

    # The guessed service's own name in the message: no search, the guess stands.
    client, seen = backend_stub({"/api/v1/services/baugenehmigung": building})
    dispatcher = CollectingDispatcher()
    await ActionServiceKnowledge(client).run(
        dispatcher, make_tracker("Was kostet die Baugenehmigung?", "ask_fees", entities=guessed),
        domain,
    )  # fmt: skip
    assert render(dispatcher.messages[0], domain).startswith("Baugenehmigung – Gebühren")
    assert seen == ["/api/v1/services/baugenehmigung"]


async def test_plausible_services_are_offered_not_answered(domain: dict[str, Any]) -> None:
    client, _ = backend_stub({PASS_URL: PASS, "/api/v1/services/bewohnerparkausweis": PARKING})
    t = make_tracker("ich brauch da so ein papier vom amt, was kostet das", "ask_fees")
    t.latest_message["service_candidates"] = [
        {"value": "reisepass", "confidence": 0.3},
        {"value": "gibt-es-nicht", "confidence": 0.2},  # not in the catalogue (any more)
        {"value": "bewohnerparkausweis", "confidence": 0.15},
    ]
    dispatcher = CollectingDispatcher()
    events = await ActionServiceKnowledge(client).run(dispatcher, t, domain)
    [asked] = dispatcher.messages
    assert asked["response"] == "utter_ask_which_service"
    assert [b["title"] for b in asked["buttons"]] == ["Reisepass", "Bewohnerparkausweis"]
    assert SlotSet("pending_aspect", "fees") in events

    # A topic of the conversation so far is kept for a follow-up, as before.
    t = make_tracker("und was kostet das", "ask_fees", slots={"service": "reisepass"})
    t.latest_message["service_candidates"] = [{"value": "bewohnerparkausweis", "confidence": 0.2}]
    dispatcher = CollectingDispatcher()
    await ActionServiceKnowledge(client).run(dispatcher, t, domain)
    assert render(dispatcher.messages[0], domain).startswith("Reisepass – Gebühren")


async def test_another_authoritys_matter_gets_who_is_responsible(domain: dict[str, Any]) -> None:
    # No city service named; the citizen's own word names the Familienkasse's matter.
    client, seen = backend_stub({PASS_URL: PASS})
    t = make_tracker("Wie beantrage ich Kindergeld für mein Baby?", "ask_apply")
    t.latest_message["service_candidates"] = [{"value": "reisepass", "confidence": 0.2}]
    dispatcher = CollectingDispatcher()
    await ActionServiceKnowledge(client).run(dispatcher, t, domain)
    assert render(dispatcher.messages[0], domain) == (
        "Für „Kindergeld“ ist nicht die Stadt Musterstadt zuständig, sondern die Familienkasse "
        "der Bundesagentur für Arbeit. Bei Anliegen rund um die Stadtverwaltung helfe ich Ihnen "
        "gern."
    )
    assert dispatcher.messages[1]["response"] == "utter_sample_data_notice"
    assert seen == ["/api/v1/services?q=Wie+beantrage+ich+Kindergeld+f%C3%BCr+mein+Baby%3F"]

    # A question about a city service that mentions another authority is about the service.
    trade = {**PASS, "slug": "gewerbeanmeldung", "name": "Gewerbeanmeldung"}
    client, _ = backend_stub({"/api/v1/services/gewerbeanmeldung": trade})
    named = [{"entity": "service", "value": "gewerbeanmeldung"}]
    text = "Brauche ich eine Steuernummer für die Gewerbeanmeldung?"
    dispatcher = CollectingDispatcher()
    await ActionServiceKnowledge(client).run(
        dispatcher, make_tracker(text, "ask_documents", entities=named), domain
    )
    assert render(dispatcher.messages[0], domain).startswith("Gewerbeanmeldung")

    # The city's own taxes are no Finanzamt matter.
    hund = {**PASS, "slug": "hundeanmeldung", "name": "Hundeanmeldung (Hundesteuer)"}
    client, _ = backend_stub({"/api/v1/services/hundeanmeldung": hund})
    guessed = [{"entity": "service", "value": "hundeanmeldung"}]
    t = make_tracker("Was kostet die Hundesteuer?", "ask_fees", entities=guessed)
    dispatcher = CollectingDispatcher()
    await ActionServiceKnowledge(client).run(dispatcher, t, domain)
    assert render(dispatcher.messages[0], domain).startswith("Hundeanmeldung (Hundesteuer) – Geb")


async def test_an_off_topic_message_naming_another_authority_gets_a_referral(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    t = make_tracker("wie viele punkte hab ich in flensburg", "out_of_scope")
    await ActionOutOfScope().run(dispatcher, t, domain)
    assert "sondern das Kraftfahrt-Bundesamt in Flensburg" in render(dispatcher.messages[0], domain)
    dispatcher = CollectingDispatcher()
    await ActionOutOfScope().run(
        dispatcher, make_tracker("Wie wird das Wetter?", "out_of_scope"), domain
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Wie beantrage ich Elterngeld für meine Tochter?", "Elterngeld"),
        ("wo stell ich den rentenantrag", "Rente"),
        ("brauche einen angelschein für den see", "Jagd- und Fischereischein"),
        ("Meine Kfz-Steuer wurde falsch berechnet", "Kfz-Steuer"),
    ],
)
def test_the_sample_referrals_cover_the_authorities_citizens_ask_for(text: str, topic: str) -> None:
    found = load_referrals(ROOT / "data" / "referrals.yml").find(text)
    assert found is not None and found.topic == topic
    # A card is no visa, a city service named in words no referral.
    referrals = load_referrals(ROOT / "data" / "referrals.yml")
    assert referrals.find("Kann ich mit Visa bezahlen?") is None
    assert referrals.find("Ich möchte mein Auto anmelden") is None


def test_a_broken_referrals_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "referrals.yml"
    path.write_text("referrals:\n  - topic: Kindergeld\n    responsible: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no words"):
        load_referrals(path)
    assert load_referrals(tmp_path / "none.yml").entries == ()
    assert load_referrals(ROOT / "data" / "referrals.yml").sample_data


async def test_a_question_about_a_day_gets_that_day_first(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_FIXED_NOW", "2026-11-30T09:15:00+01:00")  # a Monday
    get_settings.cache_clear()
    sunday = {
        "date": "2026-12-06",
        "intervals": [],
        "closed_reason": None,
        "next_opening": {
            "opens_at": "2026-12-07T08:00:00+01:00",
            "closes_at": "2026-12-07T12:30:00+01:00",
        },
    }
    saturday = {"date": "2026-12-05", "intervals": ["09:00-12:00"], "closed_reason": None,
                "next_opening": None}  # fmt: skip
    routes = {
        f"{HOURS_URL}?day=2026-12-06": hours(day=sunday),
        f"{HOURS_URL}?day=2026-12-05": hours(day=saturday),
    }
    try:
        texts, _, _, _ = await run(
            routes, domain, intent="ask_opening_hours", entities=dept("buergerbuero"),
            text="Hat das Bürgerbüro am Sonntag offen?",
        )  # fmt: skip
        assert texts[0] == (
            "Bürgerbüro am Sonntag, 6. Dezember: geschlossen. Geöffnet ist wieder "
            "am Montag, 7. Dezember, um 8:00 Uhr."
        )
        assert "Öffnungszeiten Bürgerbüro:" in texts[1]
        texts, _, _, _ = await run(
            routes, domain, intent="ask_opening_hours", entities=dept("buergerbuero"),
            text="und samstags?",
        )  # fmt: skip
        assert texts[0] == "Bürgerbüro am Samstag, 5. Dezember: geöffnet 9:00–12:00 Uhr."
    finally:
        get_settings.cache_clear()


async def test_a_two_part_question_gets_both_parts(domain: dict[str, Any]) -> None:
    texts, _, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="ask_documents", entities=service("reisepass"),
        text="Was brauche ich für den Reisepass und was kostet der?",
    )  # fmt: skip
    assert any("Biometrisches Passfoto" in text for text in texts), texts
    assert any("70,00 €" in text for text in texts), texts
    # One part only: one answer.
    texts, _, _, _ = await run(
        {PASS_URL: PASS}, domain, intent="ask_fees", entities=service("reisepass"),
        text="Was kostet der Reisepass?",
    )  # fmt: skip
    assert not any("Biometrisches Passfoto" in text for text in texts), texts


async def test_a_complaint_about_an_existing_case_starts_no_application(
    domain: dict[str, Any],
) -> None:
    parking_url = "/api/v1/services/bewohnerparkausweis"
    texts, events, _, _ = await run(
        {parking_url: PARKING}, domain, intent="ask_apply",
        entities=service("bewohnerparkausweis"),
        text="Ich habe trotz Verlängerung vom Bewohnerparkausweis ein Knöllchen bekommen",
    )  # fmt: skip
    assert texts[0].startswith("Das klingt nach einem Anliegen zu einem bestehenden Vorgang")
    assert "Telefon +49 0000 0000-100" in texts[0]
    assert all(e.get("event") != "followup" and e.get("name") != "form_id" for e in events)
