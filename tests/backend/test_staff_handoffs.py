"""The service center's pages: queue, transcript, takeover, reply and hand-back via the relay."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from backend.app import handoffs
from backend.app.models import HandoffMessage, HandoffTicket, StaffAccount
from tests.backend import staff_support
from tests.backend.conftest import ManualClock
from tests.backend.staff_support import (
    RecordingRelay,
    add_account,
    browser,
    open_ticket,
    post,
    session_for,
)

staff_settings, relay, staff_app = (
    staff_support.staff_settings,
    staff_support.relay,
    staff_support.staff_app,
)

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture
async def web(staff_app: FastAPI) -> httpx.AsyncClient:
    add_account(staff_app, "erika", "service_center", display_name="Erika Mustermann")
    add_account(staff_app, "max", "service_center", display_name="Max Koch")
    client = browser(staff_app)
    session_for(staff_app, client, "erika")
    return client


def ticket_of(app: FastAPI, ticket_id: int) -> HandoffTicket:
    with app.state.session_factory() as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert ticket is not None
        ticket.messages  # noqa: B018 - loaded for use after the session
        return ticket


async def test_the_queue_shows_open_tickets_with_waiting_time_and_closed_ones(
    staff_app: FastAPI, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    live = open_ticket(staff_app, sender_id="web-1", channel="rest", minutes_ago=4)
    telegram = open_ticket(
        staff_app, sender_id="tg-1", channel="telegram", reason="fallback", minutes_ago=65
    )
    callback = open_ticket(staff_app, sender_id="web-2", reason="form_failures", minutes_ago=1)
    closed = open_ticket(staff_app, sender_id="web-3", minutes_ago=30)
    old = open_ticket(staff_app, sender_id="web-4", minutes_ago=60 * 24 * 10)
    with staff_app.state.session_factory() as session:
        ticket = session.get(HandoffTicket, callback)
        assert ticket is not None
        ticket.kind = "callback"
        ticket.contact = "0151 2345678"
        ticket.next_opening_at = clock.now() + timedelta(hours=22)
        for number, days in ((closed, 0), (old, 9)):
            done = session.get(HandoffTicket, number)
            assert done is not None
            done.status, done.closed_at = "closed", clock.now() - timedelta(days=days)
        session.commit()

    page = (await web.get("/intern/uebergaben")).text
    open_part, closed_part = page.split("Geschlossen in den letzten")
    assert "wartet seit 4 Min." in open_part and "wartet seit 1 Std. 5 Min." in open_part
    assert "Website" in open_part and "Telegram" in open_part
    assert "Wunsch nach einer Person" in open_part
    assert "Der Assistent hat mehrmals nicht verstanden" in open_part
    assert "Rückrufwunsch" in open_part and "Live-Chat" in open_part
    assert "Kontakt: 0151 2345678" in open_part
    assert "gewünscht ab 03.12.2026, 08:00 Uhr" in open_part
    assert "noch nicht übernommen" in open_part
    # The longest waiting first.
    assert open_part.index(f"Übergabe {telegram}<") < open_part.index(f"Übergabe {live}<")
    assert f"Übergabe {closed}<" in closed_part and f"Übergabe {closed}<" not in open_part
    assert f"Übergabe {old}<" not in page


async def test_the_transcript_shows_every_message_and_the_unfinished_form(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    ticket_id = open_ticket(
        staff_app,
        transcript=[("citizen", "Ich will einen Parkausweis."), ("bot", "Wie heißen Sie?")],
        form={
            "form_id": "bewohnerparkausweis",
            "title": "Bewohnerparkausweis",
            "fields": [{"name": "vorname", "label": "Vorname", "value": "Anna"}],
        },
    )
    page = await web.get(f"/intern/uebergaben/{ticket_id}")
    assert page.status_code == 200
    text = page.text
    assert "Bürgerin/Bürger · 09:56" in text and "Ich will einen Parkausweis." in text
    assert "Assistent · 09:56" in text and "Wie heißen Sie?" in text
    assert "Unvollständiges Formular: Bewohnerparkausweis" in text
    assert '<th scope="row">Vorname</th><td class="citizen-text">Anna</td>' in text
    assert ">Übernehmen<" in text and "Schließen und an den Bot zurückgeben" in text
    assert 'href="/intern/uebergaben/' in text and ">Aktualisieren<" in text
    # No reply box before taking over.
    assert "/antworten" not in text


async def test_takeover_reply_and_close_go_through_the_relay(
    staff_app: FastAPI, web: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    ticket_id = open_ticket(staff_app, sender_id="tg-42", channel="telegram")
    base = f"/intern/uebergaben/{ticket_id}"

    response = await post(staff_app, web, f"{base}/uebernehmen")
    assert response.status_code == 303
    assert response.headers["location"] == f"{base}?hinweis=uebernommen#verlauf"
    assert relay.sent[-1].kind == "message" and relay.sent[-1].sender_id == "tg-42"
    assert relay.sent[-1].channel == "telegram"
    assert "Erika Mustermann" in relay.sent[-1].text
    page = (await web.get(response.headers["location"])).text
    assert "Sie haben das Gespräch übernommen." in page
    assert "Ihre Antwort an die Bürgerin oder den Bürger" in page
    assert "im Telegram-Chat" in page

    response = await post(staff_app, web, f"{base}/antworten", {"text": "  Guten Tag!  "})
    assert response.headers["location"].endswith("hinweis=gesendet#verlauf")
    assert (relay.sent[-1].kind, relay.sent[-1].text) == ("message", "Guten Tag!")
    page = (await web.get(base)).text
    assert "Servicecenter (Erika Mustermann)" in page and "Guten Tag!" in page

    response = await post(staff_app, web, f"{base}/schliessen")
    assert response.headers["location"].endswith("hinweis=geschlossen#verlauf")
    assert (relay.sent[-1].kind, relay.sent[-1].text) == ("close", handoffs.HANDED_BACK_TEXT)
    ticket = ticket_of(staff_app, ticket_id)
    assert ticket.status == "closed" and ticket.closed_at is not None
    assert [m.role for m in ticket.messages][-3:] == ["system", "staff", "system"]
    page = (await web.get(base)).text
    assert ">Übernehmen<" not in page and "/schliessen" not in page
    assert len(relay.sent) == 3


async def test_an_undelivered_message_is_stored_and_the_page_says_so(
    staff_app: FastAPI, web: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    ticket_id = open_ticket(staff_app)
    base = f"/intern/uebergaben/{ticket_id}"
    relay.delivers = False
    response = await post(staff_app, web, f"{base}/uebernehmen")
    assert "hinweis=uebernahme_nicht_zugestellt" in response.headers["location"]
    response = await post(staff_app, web, f"{base}/antworten", {"text": "Sind Sie noch da?"})
    assert "hinweis=nicht_zugestellt" in response.headers["location"]
    page = (await web.get(response.headers["location"])).text
    assert "konnte der Bürgerin oder dem Bürger nicht zugestellt werden" in page
    assert "Sind Sie noch da?" in page and "nicht zugestellt</strong>" in page
    stored = ticket_of(staff_app, ticket_id).messages[-1]
    assert (stored.role, stored.text, stored.delivered) == ("staff", "Sind Sie noch da?", False)

    # A hand-back that does not reach the chat server leaves the ticket open for another try:
    # otherwise the assistant would stay silent in a conversation nobody sees any more.
    response = await post(staff_app, web, f"{base}/schliessen")
    assert "hinweis=schliessen_nicht_zugestellt" in response.headers["location"]
    page = (await web.get(response.headers["location"])).text
    assert "Es bleibt offen; bitte versuchen Sie es gleich noch einmal." in page
    assert ticket_of(staff_app, ticket_id).status == "active"
    relay.delivers = True
    response = await post(staff_app, web, f"{base}/schliessen")
    assert "hinweis=geschlossen" in response.headers["location"]
    assert ticket_of(staff_app, ticket_id).status == "closed"


async def test_conflicts_are_explained_and_change_nothing(
    staff_app: FastAPI, web: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    ticket_id = open_ticket(staff_app)
    base = f"/intern/uebergaben/{ticket_id}"
    # Replying before taking over.
    response = await post(staff_app, web, f"{base}/antworten", {"text": "Hallo"})
    assert "hinweis=konflikt_nicht_ihres" in response.headers["location"]
    page = (await web.get(response.headers["location"])).text
    assert "Bitte übernehmen Sie es zuerst." in page
    # A colleague takes it over first.
    async with browser(staff_app) as colleague:
        session_for(staff_app, colleague, "max")
        await post(staff_app, colleague, f"{base}/uebernehmen")
    response = await post(staff_app, web, f"{base}/uebernehmen")
    assert "hinweis=konflikt_vergeben" in response.headers["location"]
    page = (await web.get(base)).text
    assert "Dieses Gespräch bearbeitet Max Koch." in page and "/antworten" not in page
    response = await post(staff_app, web, f"{base}/antworten", {"text": "Hallo"})
    assert "hinweis=konflikt_nicht_ihres" in response.headers["location"]
    # An empty reply is not sent.
    response = await post(staff_app, web, f"{base}/antworten", {"text": "   "})
    assert "hinweis=leer" in response.headers["location"]
    # Closed: nothing more.
    await post(staff_app, web, f"{base}/schliessen")
    response = await post(staff_app, web, f"{base}/schliessen")
    assert "hinweis=konflikt_geschlossen" in response.headers["location"]
    response = await post(staff_app, web, f"{base}/uebernehmen")
    assert "hinweis=konflikt_geschlossen" in response.headers["location"]
    assert [sent.kind for sent in relay.sent] == ["message", "close"]
    assert ticket_of(staff_app, ticket_id).assigned_to_id is not None


async def test_a_callback_ticket_is_closed_as_done_without_the_relay(
    staff_app: FastAPI, web: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    ticket_id = open_ticket(staff_app)
    with staff_app.state.session_factory() as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert ticket is not None
        ticket.kind = "callback"
        session.commit()
    base = f"/intern/uebergaben/{ticket_id}"
    assert "Rückrufwunsch als erledigt schließen" in (await web.get(base)).text
    response = await post(staff_app, web, f"{base}/uebernehmen")
    assert "hinweis=uebernommen" in response.headers["location"]
    assert "/antworten" not in (await web.get(base)).text  # a callback is a phone call
    response = await post(staff_app, web, f"{base}/schliessen")
    assert "hinweis=erledigt" in response.headers["location"]
    assert relay.sent == []


async def test_new_messages_arrive_as_json_after_a_given_id(
    staff_app: FastAPI, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    ticket_id = open_ticket(staff_app)
    first = ticket_of(staff_app, ticket_id).messages[-1].id
    with staff_app.state.session_factory() as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert ticket is not None
        handoffs.add_citizen_message(session, ticket, "Hallo? <b>Bitte</b>", clock.now())
    response = await web.get(f"/intern/uebergaben/{ticket_id}/nachrichten?nach={first}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["status"] == "waiting" and data["status_label"] == "wartet"
    assert [(m["role"], m["text"], m["time"]) for m in data["messages"]] == [
        ("citizen", "Hallo? <b>Bitte</b>", "10:00")
    ]
    later = data["messages"][0]["id"]
    empty = await web.get(f"/intern/uebergaben/{ticket_id}/nachrichten?nach={later}")
    assert empty.json()["messages"] == []


async def test_citizens_markup_in_a_transcript_is_escaped(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    ticket_id = open_ticket(
        staff_app,
        transcript=[("citizen", HOSTILE[0]), ("citizen", HOSTILE[1]), ("bot", "Gern.")],
        form={
            "form_id": "x",
            "title": HOSTILE[0],
            "fields": [{"name": "vorname", "label": HOSTILE[1], "value": HOSTILE[1]}],
        },
    )
    with staff_app.state.session_factory() as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert ticket is not None
        ticket.contact = HOSTILE[1]
        session.add(
            HandoffMessage(
                ticket_id=ticket_id, role="citizen", text=HOSTILE[0], at=ticket.created_at
            )
        )
        session.commit()
    for path in (f"/intern/uebergaben/{ticket_id}", "/intern/uebergaben"):
        page = (await web.get(path)).text
        for hostile in HOSTILE:
            assert hostile not in page
        assert "<script>" not in page and "<img" not in page
    page = (await web.get(f"/intern/uebergaben/{ticket_id}")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # The live update hands the text over as JSON data, for textContent.
    raw = (await web.get(f"/intern/uebergaben/{ticket_id}/nachrichten")).text
    assert json.loads(raw)["messages"][0]["text"] == HOSTILE[0]


async def test_the_script_builds_messages_with_text_content_only(staff_app: FastAPI) -> None:
    async with browser(staff_app) as web:
        script = (await web.get("/intern/static/staff.js")).text
    assert "textContent" in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "eval(" not in script and "document.write" not in script


async def test_of_two_staff_taking_over_at_once_exactly_one_gets_the_conversation(
    staff_app: FastAPI, relay: RecordingRelay
) -> None:
    ticket_id = open_ticket(staff_app)
    first_id = add_account(staff_app, "anna", "service_center")
    second_id = add_account(staff_app, "ben", "service_center")
    factory = staff_app.state.session_factory
    now = staff_app.state.clock.now()
    # Both pages were loaded while the ticket was waiting: both see it free.
    with factory() as first_session, factory() as second_session:
        first_ticket = first_session.get(HandoffTicket, ticket_id)
        second_ticket = second_session.get(HandoffTicket, ticket_id)
        assert first_ticket.status == second_ticket.status == "waiting"
        first = first_session.get(StaffAccount, first_id)
        second = second_session.get(StaffAccount, second_id)
        assert await handoffs.take_over(first_session, relay, first_ticket, first, now)
        with pytest.raises(handoffs.TicketConflict):
            await handoffs.take_over(second_session, relay, second_ticket, second, now)
    assert ticket_of(staff_app, ticket_id).assigned_to_id == first_id
    # The citizen was told once, about the one who has the conversation.
    assert [sent.text for sent in relay.sent] == [handoffs.taken_over_text(first)]
