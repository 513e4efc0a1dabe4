"""The internal handoff API the action server and the input channels call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.app.handoffs import WAITING_REPLY
from backend.app.main import create_app
from backend.app.models import HandoffMessage, HandoffTicket
from tests.backend.conftest import BERLIN, ManualClock, make_settings

HANDOFFS = "/api/v1/internal/handoffs"


def ticket_body(sender: str = "web-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sender_id": sender,
        "channel": "rest",
        "reason": "requested",
        "topic": "bewohnerparkausweis",
        "transcript": [
            {"role": "citizen", "text": "Hallo", "at": "2026-12-02T09:58:00+01:00"},
            {"role": "bot", "text": "Guten Tag!", "at": "2026-12-02T09:58:01+01:00"},
            {
                "role": "citizen",
                "text": "Ich will einen Menschen",
                "at": "2026-12-02T09:59:00+01:00",
            },
        ],
        "form": {
            "form_id": "bewohnerparkausweis",
            "title": "Bewohnerparkausweis",
            "fields": [{"name": "kennzeichen", "label": "Kennzeichen", "value": "MU-AB 123"}],
        },
    }
    body.update(overrides)
    return body


def count(app: FastAPI, model: type) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_ticket_holds_the_transcript_and_is_live_while_the_service_center_is_open(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(HANDOFFS, json=ticket_body())
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert (ticket["kind"], ticket["status"], ticket["staffed"]) == ("live", "waiting", True)
    with app.state.session_factory() as session:
        stored = session.get(HandoffTicket, ticket["ticket_id"])
        assert stored is not None
        assert [(m.role, m.text) for m in stored.messages] == [
            ("citizen", "Hallo"),
            ("bot", "Guten Tag!"),
            ("citizen", "Ich will einen Menschen"),
            ("system", "An das Servicecenter übergeben: Wunsch nach einer Person."),
        ]
        assert stored.messages[0].at == datetime(2026, 12, 2, 9, 58, tzinfo=BERLIN)
        assert stored.form is not None and stored.form["fields"][0]["value"] == "MU-AB 123"

    # The same conversation asking again gets its open ticket, not a second one.
    again = await client.post(HANDOFFS, json=ticket_body())
    assert again.status_code == 200 and again.json()["ticket_id"] == ticket["ticket_id"]
    assert count(app, HandoffTicket) == 1


async def test_outside_the_hours_it_is_a_callback_request_with_the_next_opening(
    tmp_path: Path,
) -> None:
    # Wednesday 20:00: the Bürgerbüro opens again on Thursday at 8:00.
    evening = ManualClock(datetime(2026, 12, 2, 20, 0, tzinfo=BERLIN))
    settings = make_settings(tmp_path, fixed_now=evening.current)
    app = create_app(settings, evening)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {settings.internal_token_value}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://backend.test", headers=headers
        ) as client:
            ticket = (await client.post(HANDOFFS, json=ticket_body())).json()
            assert (ticket["kind"], ticket["staffed"]) == ("callback", False)
            assert ticket["next_opening_at"].startswith("2026-12-03T08:00:00")
            # The citizen's contact is recorded; only for their own conversation.
            wrong = await client.put(
                f"{HANDOFFS}/{ticket['ticket_id']}/contact",
                json={"sender_id": "web-2", "contact": "0170 1234567"},
            )
            assert wrong.status_code == 404
            right = await client.put(
                f"{HANDOFFS}/{ticket['ticket_id']}/contact",
                json={"sender_id": "web-1", "contact": "0170 1234567"},
            )
            assert right.status_code == 204
            # A callback request is no live chat: the channels do not route messages to it.
            message = await client.post(
                f"{HANDOFFS}/messages", json={"sender_id": "web-1", "text": "Hallo?"}
            )
            assert message.status_code == 404
        with app.state.session_factory() as session:
            stored = session.get(HandoffTicket, ticket["ticket_id"])
            assert stored is not None and stored.contact == "0170 1234567"


async def test_citizen_messages_reach_the_ticket_and_the_first_is_acknowledged(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.post(HANDOFFS, json=ticket_body())
    first = await client.post(
        f"{HANDOFFS}/messages", json={"sender_id": "web-1", "text": "Es geht um meinen Antrag"}
    )
    assert first.status_code == 200 and first.json()["reply"] == WAITING_REPLY
    second = await client.post(
        f"{HANDOFFS}/messages", json={"sender_id": "web-1", "text": "Sind Sie da?"}
    )
    assert second.status_code == 200 and second.json()["reply"] is None
    unknown = await client.post(
        f"{HANDOFFS}/messages", json={"sender_id": "web-9", "text": "Hallo"}
    )
    assert unknown.status_code == 404
    assert count(app, HandoffMessage) == 6


async def test_deleting_a_conversation_deletes_its_tickets_and_nothing_else(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.post(HANDOFFS, json=ticket_body("web-1"))
    await client.post(HANDOFFS, json=ticket_body("web-2"))
    response = await client.delete("/api/v1/internal/conversations/web-1")
    assert response.status_code == 204
    with app.state.session_factory() as session:
        senders = session.scalars(select(HandoffTicket.sender_id)).all()
        assert senders == ["web-2"]
        assert session.scalar(select(func.count()).select_from(HandoffMessage)) == 4


@pytest.mark.parametrize(
    "change",
    [
        {"channel": "socketio"},
        {"reason": "bored"},
        {"sender_id": ""},
        {"sender_id": "x" * 201},
        {"unexpected": 1},
        {"transcript": [{"role": "staff", "text": "x", "at": "2026-12-02T10:00:00+01:00"}]},
        {
            "transcript": [
                {"role": "citizen", "text": "x" * 4001, "at": "2026-12-02T10:00:00+01:00"}
            ]
        },
        {"transcript": [{"role": "citizen", "text": "x", "at": "gestern"}]},
    ],
)
async def test_bad_bodies_are_refused_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    response = await client.post(HANDOFFS, json=ticket_body(**change))
    assert response.status_code == 422
    assert count(app, HandoffTicket) == 0


async def test_every_internal_route_needs_the_token(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        async with httpx.AsyncClient(
            transport=transport, base_url="http://backend.test", headers=headers
        ) as client:
            calls = [
                client.post(HANDOFFS, json=ticket_body()),
                client.post(f"{HANDOFFS}/messages", json={"sender_id": "a", "text": "b"}),
                client.put(f"{HANDOFFS}/1/contact", json={"sender_id": "a", "contact": "abc"}),
                client.delete("/api/v1/internal/conversations/web-1"),
                client.get("/api/v1/applications/BPA-2026-000001"),
                client.post(
                    "/api/v1/applications/status",
                    json={"reference": "BPA-2026-000001", "postal_code": "12345"},
                ),
            ]
            for call in calls:
                response = await call
                assert response.status_code == 401, response.request.url
    assert count(app, HandoffTicket) == 0
