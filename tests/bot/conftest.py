"""Fixtures for action tests: the real domain, real trackers, a stand-in backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker

from actions.backend_client import BackendClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return Domain.load(str(ROOT / "bot" / "domain")).as_dict()


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    ranking: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker as the Rasa server sends it to the action server."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    return Tracker.from_dict(
        {
            "sender_id": "citizen-1",
            "slots": {"department": None, **(slots or {})},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def render(message: dict[str, Any], domain: dict[str, Any]) -> str:
    """The text a citizen sees for a dispatched message, filled in from the domain."""
    if message.get("text"):
        return str(message["text"])
    if message.get("custom") and not message.get("response"):
        # A marker for the channels (e.g. the live handoff), not shown as text.
        return json.dumps(message["custom"])
    template = domain["responses"][message["response"]][0]["text"]
    return str(template.format(**message))


def backend_stub(routes: dict[str, Any]) -> tuple[BackendClient, list[str]]:
    """A BackendClient whose transport answers ``routes[path]`` (JSON, or a status code).

    Like the real backend, a search that no route names finds nothing; any other path
    that no route names is a 404.
    """
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        key = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        seen.append(key)
        answer = routes.get(key, [] if "?q=" in key else 404)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer, json={"detail": "stub"})
        return httpx.Response(200, content=json.dumps(answer).encode())

    client = BackendClient("http://backend.test", transport=httpx.MockTransport(handle))
    return client, seen
