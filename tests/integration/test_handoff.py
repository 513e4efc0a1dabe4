"""Human handoff over the running stack, in both channels, with a member of staff.

A citizen asks for a person; the bot opens a ticket with the transcript and falls silent;
the citizen's next message reaches the ticket; a member of staff signs in to the intranet,
takes the conversation over and replies; the reply reaches the citizen in their own
channel (the web widget's inbox, or Telegram through the Bot API stand-in); the member of
staff closes the ticket and the bot answers again. The backend's clock says Wednesday,
10:00, when the service center is open.
"""

from __future__ import annotations

import html
import os
import re
import sqlite3
import subprocess
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.test_telegram import CHAT, Chat, _message
from tests.stack import BACKEND_PYTHON, ROOT, Stack
from tests.telegram_api import ThreadedBotApi

pytestmark = pytest.mark.integration

PASSWORD = "Servicecenter-Passwort-2026"
ASK_FOR_A_PERSON = "Ich möchte bitte mit einem Menschen sprechen"
CSRF = re.compile(r'name="csrf"\s+value="([^"]+)"')


def create_account(stack: Stack, username: str, role: str, *departments: str) -> None:
    command = [
        str(BACKEND_PYTHON), "-m", "backend.staff", "create-account",
        "--username", username, "--name", f"Test {username}", "--role", role,
    ]  # fmt: skip
    for department in departments:
        command += ["--department", department]
    env = {
        **os.environ,
        "GOVBOT_ENV": "test",
        "BACKEND_DATABASE_URL": f"sqlite:///{stack.state / 'backend.sqlite3'}",
        "GOVBOT_STAFF_PASSWORD": PASSWORD,
    }
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


class Staff:
    """A member of staff in the intranet, over HTTP, as a browser without JavaScript."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.http = httpx.Client(base_url=stack.backend_url, timeout=30, follow_redirects=True)
        page = self.http.get("/intern/anmelden")
        assert page.status_code == 200
        signed_in = self.http.post(
            "/intern/anmelden",
            data={"username": username, "password": PASSWORD, "csrf": self.csrf(page.text)},
        )
        assert signed_in.status_code == 200, signed_in.text[:500]
        self.page = signed_in.text

    @staticmethod
    def csrf(page: str) -> str:
        match = CSRF.search(page)
        assert match, "no CSRF token in the page"
        return html.unescape(match.group(1))

    def ticket_of(self, marker: str) -> int:
        """The id of the queued ticket whose transcript holds ``marker``."""
        queue = self.http.get("/intern/uebergaben").text
        for ticket in sorted(set(map(int, re.findall(r"/intern/uebergaben/(\d+)", queue)))):
            if marker in self.http.get(f"/intern/uebergaben/{ticket}").text:
                return ticket
        raise AssertionError(f"no ticket with {marker!r} in the queue")

    def post(self, path: str, **data: str) -> httpx.Response:
        page = self.http.get(path.rsplit("/", 1)[0])
        response = self.http.post(path, data={**data, "csrf": self.csrf(page.text)})
        assert response.status_code == 200, response.text[:500]
        return response

    def transcript(self, ticket: int) -> list[dict[str, Any]]:
        response = self.http.get(f"/intern/uebergaben/{ticket}/nachrichten", params={"nach": 0})
        assert response.status_code == 200
        body = response.json()
        return list(body["messages"] if isinstance(body, dict) else body)


@pytest.fixture(scope="module")
def staff(stack: Stack) -> Staff:
    create_account(stack, "servicecenter1", "service_center")
    return Staff(stack, "servicecenter1")


def inbox(stack: Stack, sender: str, after: float = 0.0) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.rasa_url}/webhooks/rest/inbox", params={"sender": sender, "after": after}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_a_citizen_in_the_widget_channel_talks_to_staff_and_back_to_the_bot(
    stack: Stack, staff: Staff
) -> None:
    sender = f"widget-{uuid.uuid4().hex}"
    marker = f"Meine Frage {uuid.uuid4().hex[:8]}"
    assert any("Öffnungszeiten" in t for t in stack.texts(sender, "Wann hat das Standesamt auf?"))

    answer = stack.say(sender, ASK_FOR_A_PERSON)
    texts = " ".join(m.get("text", "") for m in answer)
    assert "Servicecenter" in texts, answer
    assert any(
        (m.get("custom") or {}).get("govbot", {}).get("handoff") == "live" for m in answer
    ), answer

    # The bot is silent now; the citizen's message goes to the ticket and is acknowledged.
    waiting = stack.texts(sender, marker)
    assert waiting and "angekommen" in waiting[0], waiting
    ticket = staff.ticket_of(marker)
    transcript = staff.transcript(ticket)
    texts_in_ticket = [m["text"] for m in transcript]
    assert "Wann hat das Standesamt auf?" in texts_in_ticket
    assert ASK_FOR_A_PERSON in texts_in_ticket
    assert marker in texts_in_ticket
    assert any("Öffnungszeiten" in t for t in texts_in_ticket)

    staff.post(f"/intern/uebergaben/{ticket}/uebernehmen")
    staff.post(f"/intern/uebergaben/{ticket}/antworten", text="Guten Tag, ich sehe gleich nach.")
    received = wait_for(
        lambda: (
            [m["text"] for m in inbox(stack, sender)["messages"]]
            if len(inbox(stack, sender)["messages"]) >= 2
            else None
        )
    )
    assert received and "Servicecenter" in received[0] and "Test servicecenter1" in received[0]
    assert received[1] == "Guten Tag, ich sehe gleich nach."
    assert inbox(stack, sender)["handoff"] == "live"

    # While staff have it, the bot does not answer, and staff see what the citizen writes.
    assert stack.texts(sender, "Danke, ich warte.") == []
    assert "Danke, ich warte." in [m["text"] for m in staff.transcript(ticket)]

    staff.post(f"/intern/uebergaben/{ticket}/schliessen")
    closed = wait_for(lambda: inbox(stack, sender)["handoff"] != "live")
    assert closed
    assert any(
        "wieder mit dem automatisierten Assistenten" in m["text"]
        for m in inbox(stack, sender)["messages"]
    )

    answer = stack.texts(sender, "Wann hat das Bürgerbüro geöffnet?")
    assert any("Öffnungszeiten" in t for t in answer), answer


def test_a_citizen_on_telegram_gets_the_staff_reply_in_telegram(
    stack: Stack, staff: Staff, telegram_api: ThreadedBotApi
) -> None:
    chat = Chat(stack, telegram_api)
    marker = f"Frage per Telegram {uuid.uuid4().hex[:8]}"
    answered = chat.post(_message("Ich will mit einem Mitarbeiter reden"))
    assert any("Servicecenter" in m.get("text", "") for m in answered), answered

    chat.post(_message(marker))
    ticket = staff.ticket_of(marker)
    staff.post(f"/intern/uebergaben/{ticket}/uebernehmen")
    before = len(telegram_api.sent())
    staff.post(f"/intern/uebergaben/{ticket}/antworten", text="Hallo aus dem Servicecenter!")
    sent = wait_for(lambda: telegram_api.sent()[before:])
    assert [m["text"] for m in sent] == ["Hallo aus dem Servicecenter!"]
    assert str(sent[0]["chat_id"]) == str(CHAT)

    staff.post(f"/intern/uebergaben/{ticket}/schliessen")
    answered = chat.post(_message("Was kostet ein Personalausweis?"))
    assert any("€" in m.get("text", "") for m in answered), answered


def test_the_internal_paths_refuse_callers_without_the_token(stack: Stack) -> None:
    relay = httpx.post(
        f"{stack.rasa_url}/webhooks/handoff/relay",
        json={"sender_id": "x", "channel": "rest", "kind": "message", "text": "Phishing"},
    )
    assert relay.status_code == 401
    forged = httpx.post(
        f"{stack.rasa_url}/webhooks/handoff/relay",
        json={"sender_id": "x", "channel": "rest", "kind": "message", "text": "Phishing"},
        headers={"Authorization": "Bearer wrong"},
    )
    assert forged.status_code == 401
    ticket = httpx.post(f"{stack.backend_url}/api/v1/internal/handoffs", json={})
    assert ticket.status_code == 401
    application = httpx.get(f"{stack.backend_url}/api/v1/applications/BPA-2026-000001")
    assert application.status_code == 401


def test_a_citizen_deletes_the_conversation_with_its_handoff_transcript(
    stack: Stack, staff: Staff
) -> None:
    sender = f"widget-{uuid.uuid4().hex}"
    marker = f"Mein Name ist Erika {uuid.uuid4().hex[:8]}"
    stack.say(sender, ASK_FOR_A_PERSON)
    stack.texts(sender, marker)
    ticket = staff.ticket_of(marker)
    staff.post(f"/intern/uebergaben/{ticket}/uebernehmen")
    staff.post(f"/intern/uebergaben/{ticket}/schliessen")
    assert wait_for(lambda: inbox(stack, sender)["handoff"] != "live")

    asked = stack.say(sender, "Bitte löschen Sie unseren Chatverlauf")
    assert any(b["title"] == "Ja, löschen" for m in asked for b in m.get("buttons") or [])
    deleted = stack.say(sender, "/affirm")
    assert any("gelöscht" in m.get("text", "") for m in deleted), deleted
    assert any(
        (m.get("custom") or {}).get("govbot", {}).get("delete_conversation") for m in deleted
    )

    with sqlite3.connect(stack.state / "tracker.sqlite3") as tracker:
        (events,) = tracker.execute(
            "SELECT count(*) FROM events WHERE sender_id = ?", (sender,)
        ).fetchone()
    with sqlite3.connect(stack.state / "backend.sqlite3") as backend:
        (tickets,) = backend.execute(
            "SELECT count(*) FROM handoff_ticket WHERE sender_id = ?", (sender,)
        ).fetchone()
    assert (events, tickets) == (0, 0)
    assert staff.http.get(f"/intern/uebergaben/{ticket}").status_code == 404
