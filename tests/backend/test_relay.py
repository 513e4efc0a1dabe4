"""The backend's client of the Rasa server's relay (backend/app/relay.py), over a mock transport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from backend.app.models import HandoffTicket
from backend.app.relay import RasaRelay, RelayKind
from tests.backend.conftest import make_settings


def ticket() -> HandoffTicket:
    return HandoffTicket(id=7, sender_id="web-0123abcd", channel="rest")


def relay_answering(tmp_path: Path, status: int, body: object) -> tuple[RasaRelay, list[dict]]:
    seen: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(status, json=body)

    return RasaRelay(make_settings(tmp_path), httpx.MockTransport(handle)), seen


@pytest.mark.parametrize("kind", ["message", "close"])
async def test_a_relay_that_answers_200_delivered(tmp_path: Path, kind: RelayKind) -> None:
    relay, seen = relay_answering(tmp_path, 200, {"delivered": True})
    assert await relay.send(ticket(), kind, "Guten Tag") is True
    assert seen == [
        {"sender_id": "web-0123abcd", "channel": "rest", "kind": kind, "text": "Guten Tag"}
    ]


@pytest.mark.parametrize("status", [401, 409, 502, 503])
@pytest.mark.parametrize("kind", ["message", "close"])
async def test_a_relay_that_fails_did_not_deliver(
    tmp_path: Path, kind: RelayKind, status: int
) -> None:
    relay, _ = relay_answering(tmp_path, status, {"delivered": False})
    assert await relay.send(ticket(), kind, "Guten Tag") is False


async def test_a_reply_to_a_conversation_that_is_gone_is_not_delivered(tmp_path: Path) -> None:
    relay, _ = relay_answering(tmp_path, 404, {"error": "not_found"})
    assert await relay.send(ticket(), "message", "Guten Tag") is False


async def test_a_hand_back_of_a_conversation_that_is_gone_lets_the_ticket_close(
    tmp_path: Path,
) -> None:
    # Deleted by the citizen or by the retention job (tracker store): nothing is left to hand
    # back. Reporting a failure would keep the ticket open for good, and open tickets are
    # never deleted by the retention job.
    relay, _ = relay_answering(tmp_path, 404, {"error": "not_found"})
    assert await relay.send(ticket(), "close", "Das Servicecenter hat das Gespräch beendet.")


async def test_an_unreachable_relay_did_not_deliver(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    relay = RasaRelay(make_settings(tmp_path), httpx.MockTransport(refuse))
    assert await relay.send(ticket(), "close", "Tschüss") is False
