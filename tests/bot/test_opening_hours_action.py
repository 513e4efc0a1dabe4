"""action_opening_hours: real trackers and domain, the backend replaced by MockTransport."""

from __future__ import annotations

from typing import Any

import httpx
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.opening_hours import ActionOpeningHours
from tests.bot.conftest import backend_stub, make_tracker, render

BUERGERBUERO = {"slug": "buergerbuero", "name": "Bürgerbüro", "sample_data": True}
HOURS = [
    {"weekday": "monday", "intervals": ["08:00-12:30", "14:00-16:00"]},
    {"weekday": "saturday", "intervals": ["09:00-12:00"]},
]


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


async def run(client, tracker, domain):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = await ActionOpeningHours(client).run(dispatcher, tracker, domain)
    return [render(m, domain) for m in dispatcher.messages], events


async def test_open_now(domain: dict[str, Any]) -> None:
    client, _ = backend_stub({"/api/v1/departments/buergerbuero/opening-hours": hours()})
    texts, events = await run(client, make_tracker(slots={"department": "buergerbuero"}), domain)
    assert "Öffnungszeiten Bürgerbüro:" in texts[0]
    assert "Montag: 8:00–12:30 und 14:00–16:00 Uhr" in texts[0]
    assert "Samstag: 9:00–12:00 Uhr" in texts[0]
    assert "Gerade ist geöffnet, heute bis 12:30 Uhr." in texts[0]
    assert "Beispieldaten" in texts[1]
    assert events == [SlotSet("department", "buergerbuero")]


async def test_closed_on_a_holiday_names_the_next_opening(domain: dict[str, Any]) -> None:
    body = hours(
        now="2026-12-25T10:00:00+01:00",
        open_now=False,
        closes_at=None,
        closed_today_reason="Feiertag (Erster Weihnachtstag)",
        next_opening={
            "opens_at": "2026-12-28T08:00:00+01:00",
            "closes_at": "2026-12-28T12:30:00+01:00",
        },
    )
    client, _ = backend_stub({"/api/v1/departments/buergerbuero/opening-hours": body})
    texts, _ = await run(client, make_tracker(slots={"department": "buergerbuero"}), domain)
    assert "Heute ist geschlossen: Feiertag (Erster Weihnachtstag)." in texts[0]
    assert "Geöffnet ist wieder am Montag, 28. Dezember, um 8:00 Uhr." in texts[0]


async def test_closed_in_the_evening_opens_tomorrow(domain: dict[str, Any]) -> None:
    body = hours(
        now="2026-11-30T19:00:00+01:00",
        open_now=False,
        closes_at=None,
        next_opening={
            "opens_at": "2026-12-01T08:00:00+01:00",
            "closes_at": "2026-12-01T12:30:00+01:00",
        },
    )
    client, _ = backend_stub({"/api/v1/departments/buergerbuero/opening-hours": body})
    texts, _ = await run(client, make_tracker(slots={"department": "buergerbuero"}), domain)
    assert "Gerade ist geschlossen. Geöffnet ist wieder morgen um 8:00 Uhr." in texts[0]


async def test_without_a_department_the_default_office_is_meant(domain: dict[str, Any]) -> None:
    client, seen = backend_stub({"/api/v1/departments/buergerbuero/opening-hours": hours()})
    texts, _ = await run(client, make_tracker(text="Wann haben Sie offen?"), domain)
    assert seen == ["/api/v1/departments/buergerbuero/opening-hours"]
    assert "Bürgerbüro" in texts[0]


async def test_a_name_the_nlu_did_not_normalise_is_looked_up(domain: dict[str, Any]) -> None:
    client, _ = backend_stub(
        {
            "/api/v1/departments?q=B%C3%BCrgeramt+im+Rathaus": [BUERGERBUERO],
            "/api/v1/departments/buergerbuero/opening-hours": hours(),
        }
    )
    tracker = make_tracker(slots={"department": "Bürgeramt im Rathaus"})
    texts, events = await run(client, tracker, domain)
    assert "Öffnungszeiten Bürgerbüro:" in texts[0]
    assert events == [SlotSet("department", "buergerbuero")]


async def test_unknown_department_lists_the_known_ones(domain: dict[str, Any]) -> None:
    client, _ = backend_stub(
        {
            "/api/v1/departments?q=Finanzamt": [],
            "/api/v1/departments": [
                BUERGERBUERO,
                {"slug": "standesamt", "name": "Standesamt", "sample_data": True},
            ],
        }
    )
    texts, events = await run(client, make_tracker(slots={"department": "Finanzamt"}), domain)
    assert texts == [
        "Zu „Finanzamt“ habe ich leider keine Öffnungszeiten. Ich kenne diese Dienststellen: "
        "Bürgerbüro und Standesamt."
    ]
    assert events == [SlotSet("department", None)]


async def test_backend_down_gets_an_apology(domain: dict[str, Any]) -> None:
    client, _ = backend_stub(
        {"/api/v1/departments/buergerbuero/opening-hours": httpx.ConnectError("connection refused")}
    )
    texts, events = await run(client, make_tracker(slots={"department": "buergerbuero"}), domain)
    assert "gerade nicht abrufen" in texts[0]
    assert events == []


async def test_backend_error_or_garbage_gets_an_apology(domain: dict[str, Any]) -> None:
    for answer in (500, {"unexpected": "shape"}):
        client, _ = backend_stub({"/api/v1/departments/buergerbuero/opening-hours": answer})
        texts, _ = await run(client, make_tracker(slots={"department": "buergerbuero"}), domain)
        assert "gerade nicht abrufen" in texts[0]
