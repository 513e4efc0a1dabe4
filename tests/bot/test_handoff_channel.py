"""The channels' side of the human handoff, and deleting a conversation.

The REST, Telegram and relay channels run in a real Sanic server on loopback, mounted the
way Rasa mounts input channels. The agent is a stand-in with Rasa's real tracker stores
(in memory, or SQL on a temporary SQLite file) and lock store: it logs each message like
Rasa's processor, stays silent while the conversation is paused, and otherwise answers
from a script (``Mensch`` hands over, ``Löschen`` asks for deletion). The backend's internal
API is an ``httpx.MockTransport``; Telegram is the Bot API stand-in of tests/telegram_api.py.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from pydantic import ValidationError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.channel import register as register_channels
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Restarted,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from channels import conversations
from channels.backend import MESSAGES_PATH, HandoffBackend
from channels.citizen_handoff import HANDOFF_OVER, NOT_DELETED, NOT_PASSED_ON, TEXT_ONLY
from channels.handoff import HandoffRelayInput
from channels.rest import CitizenRestInput
from channels.settings import DEVELOPMENT_INTERNAL_TOKEN, ChannelSettings, TelegramSettings
from channels.telegram import SECRET_HEADER, TelegramInput
from tests.telegram_api import BotApi, application

TOKEN = "test-internal-token-0123456789abcdef"
TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cr3t-webhook_token-0123456789"
CHAT = 987654321
WAITING = "Ihre Nachricht ist angekommen."
HANDED_BACK = "Sie schreiben jetzt wieder mit dem automatisierten Assistenten der Stadt."

LIVE = {"govbot": {"handoff": "live", "ticket": 7}}
DELETE = {"govbot": {"delete_conversation": True}}


# --- the backend's internal API ------------------------------------------------------------


@dataclass
class Backend:
    """Answers POST /api/v1/internal/handoffs/messages; records what it got."""

    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    status: int = 200
    down: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.url.path == MESSAGES_PATH
        self.authorizations.append(request.headers.get("Authorization", ""))
        body = json.loads(request.content)
        self.received.append(body)
        if self.status != 200:
            return httpx.Response(self.status, json={"detail": "stub"})
        reply = WAITING if len(self.received) == 1 else None
        return httpx.Response(200, json={"ticket_id": 7, "status": "waiting", "reply": reply})


# --- the agent stand-in ------------------------------------------------------------------


@dataclass
class Agent:
    """Rasa's agent as the channels see it: tracker store, lock store, handle_message."""

    tracker_store: TrackerStore
    lock_store: InMemoryLockStore = field(default_factory=InMemoryLockStore)

    async def handle_message(self, message: UserMessage) -> None:
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            text = message.text or ""
            tracker.update(
                UserUttered(text, {"name": "x", "confidence": 1.0}, input_channel="test")
            )
            if not tracker.is_paused():  # like rasa.core.processor: paused, nothing predicted
                await self.answer(tracker, message)
            await self.tracker_store.save(tracker)

    async def answer(self, tracker: DialogueStateTracker, message: UserMessage) -> None:
        text = message.text or ""
        answers: list[dict[str, Any]]
        if text == "Mensch":
            answers = [{"text": "Ich verbinde Sie mit dem Servicecenter."}, {"custom": LIVE}]
        elif text == "Löschen":
            answers = [{"text": "Ihr Gespräch ist gelöscht."}, {"custom": DELETE}]
        else:
            answers = [{"text": f"Echo: {text}"}]
        tracker.update(ActionExecuted("action_answer"))
        for answer in answers:
            data = {"custom": answer["custom"]} if "custom" in answer else None
            tracker.update(BotUttered(answer.get("text"), data=data))
            await message.output_channel.send_response(message.sender_id, dict(answer))
        if text == "Mensch":
            tracker.update(ConversationPaused())
        elif text == "Löschen":
            # As rasa.core.processor does after an action's Restarted: a new session at once,
            # so that the store's retrieve() no longer returns the marker's turn.
            tracker.update(Restarted())
            tracker.update(ActionExecuted(ACTION_SESSION_START_NAME))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        else:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def memory_store() -> TrackerStore:
    return FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))


def sql_store(path: Path) -> TrackerStore:
    return FailSafeTrackerStore(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)))


# --- the Rasa server stand-in ------------------------------------------------------------


def channel_settings(**values: Any) -> ChannelSettings:
    return ChannelSettings(_env_file=None, **{"internal_token": TOKEN, **values})


@pytest.fixture
async def telegram_api() -> AsyncIterator[BotApi]:
    api = BotApi()
    runner = web.AppRunner(application(api))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    api.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/bot"
    yield api
    await runner.cleanup()


@dataclass
class Rasa:
    url: str
    agent: Agent
    backend: Backend
    telegram_api: BotApi
    client: httpx.AsyncClient

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        answer = await self.client.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    async def texts(self, sender: str, message: str) -> list[str]:
        return [m["text"] for m in await self.say(sender, message) if "text" in m]

    async def telegram(self, text: str) -> None:
        update = {
            "update_id": int(uuid.uuid4().int % 1_000_000_000),
            "message": {
                "message_id": 4711,
                "from": {"id": CHAT, "is_bot": False, "first_name": "Erika"},
                "chat": {"id": CHAT, "first_name": "Erika", "type": "private"},
                "date": 1764669600,
                "text": text,
            },
        }
        answer = await self.client.post(
            f"{self.url}/webhooks/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET}
        )
        assert answer.status_code == 200

    async def relay(
        self, body: Any, token: str | None = TOKEN, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return await self.client.post(
            f"{self.url}/webhooks/handoff/relay",
            content=raw if raw is not None else json.dumps(body).encode(),
            headers={**headers, "Content-Type": "application/json"},
        )

    async def inbox(self, sender: str, after: float | str = 0) -> httpx.Response:
        return await self.client.get(
            f"{self.url}/webhooks/rest/inbox", params={"sender": sender, "after": after}
        )

    async def tracker(self, sender: str) -> DialogueStateTracker | None:
        return await self.agent.tracker_store.retrieve(sender)


async def start_rasa(store: TrackerStore, telegram_api: BotApi) -> AsyncIterator[Rasa]:
    backend = Backend()
    transport = httpx.MockTransport(backend.handle)
    settings = channel_settings()
    telegram = TelegramSettings(
        _env_file=None,
        bot_token=TELEGRAM_TOKEN,
        webhook_secret=SECRET,
        api_base_url=telegram_api.base_url,
    )
    channels = [
        CitizenRestInput(2000, backend=HandoffBackend(settings, transport)),
        TelegramInput(telegram, 2000, backend=HandoffBackend(settings, transport)),
        HandoffRelayInput(settings, telegram),
    ]
    Sanic.test_mode = True
    app = Sanic(f"govbot_handoff_{uuid.uuid4().hex[:8]}")
    agent = Agent(store)
    app.ctx.agent = agent
    register_channels(channels, app, "/webhooks/")  # type: ignore[arg-type]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.after_start()
    async with httpx.AsyncClient(timeout=10) as client:
        yield Rasa(
            f"http://127.0.0.1:{sock.getsockname()[1]}", agent, backend, telegram_api, client
        )
    await server.before_stop()
    await server.close()
    await server.after_stop()


@pytest.fixture
async def rasa(telegram_api: BotApi) -> AsyncIterator[Rasa]:
    async for server in start_rasa(memory_store(), telegram_api):
        yield server


@pytest.fixture
async def sql_rasa(tmp_path: Path, telegram_api: BotApi) -> AsyncIterator[Rasa]:
    async for server in start_rasa(sql_store(tmp_path / "tracker.sqlite3"), telegram_api):
        yield server


def relay_body(sender: str, kind: str = "message", text: str = "Guten Tag!") -> dict[str, str]:
    channel = "telegram" if sender.startswith("telegram-") else "rest"
    return {"sender_id": sender, "channel": channel, "kind": kind, "text": text}


async def handed_over(rasa: Rasa, sender: str) -> None:
    answer = await rasa.say(sender, "Mensch")
    assert {"recipient_id": sender, "custom": LIVE} in answer
    assert rasa.backend.received == []  # the request itself is in the ticket already


# --- the relay's door ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", [None, "wrong", TOKEN[:-1], TOKEN + "x", DEVELOPMENT_INTERNAL_TOKEN]
)
async def test_the_relay_refuses_callers_without_the_token(rasa: Rasa, token: str | None) -> None:
    await handed_over(rasa, "web-1")
    answer = await rasa.relay(relay_body("web-1"), token=token)
    assert answer.status_code == 401
    assert (await rasa.inbox("web-1")).json()["messages"] == []


async def test_the_relay_wants_the_bearer_scheme(rasa: Rasa) -> None:
    answer = await rasa.client.post(
        f"{rasa.url}/webhooks/handoff/relay",
        json=relay_body("web-1"),
        headers={"Authorization": TOKEN},
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{broken", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[1]", "invalid_body"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        ({"sender_id": "web-1", "channel": "rest", "kind": "message"}, "invalid_body"),
        ({**relay_body("web-1"), "parse_mode": "HTML"}, "invalid_body"),
        ({**relay_body("web-1"), "channel": "socketio"}, "invalid_channel"),
        ({**relay_body("web-1"), "kind": "restart"}, "invalid_kind"),
        ({**relay_body("web-1"), "sender_id": ""}, "invalid_sender"),
        ({**relay_body("web-1"), "sender_id": 42}, "invalid_sender"),
        ({**relay_body("web-1"), "sender_id": "web 1"}, "invalid_sender"),
        ({**relay_body("web-1"), "sender_id": "telegram-987654321"}, "invalid_sender"),
        ({**relay_body("telegram-987654321"), "sender_id": "web-1"}, "invalid_sender"),
        ({**relay_body("telegram-987654321"), "sender_id": "telegram-abc"}, "invalid_sender"),
        ({**relay_body("web-1"), "text": ""}, "invalid_text"),
        ({**relay_body("web-1"), "text": " \u0000 "}, "invalid_text"),
        ({**relay_body("web-1"), "text": ["Hallo"]}, "invalid_text"),
        ({**relay_body("web-1"), "text": "x" * 4001}, "invalid_text"),
    ],
)
async def test_bad_relay_bodies_get_a_400(rasa: Rasa, body: Any, error: str) -> None:
    if isinstance(body, bytes):
        answer = await rasa.relay(None, raw=body)
    else:
        answer = await rasa.relay(body)
    assert answer.status_code == 400
    assert answer.json()["error"] == error


async def test_the_relay_does_not_invent_conversations(rasa: Rasa) -> None:
    answer = await rasa.relay(relay_body("web-unknown"))
    assert answer.status_code == 404
    assert await rasa.tracker("web-unknown") is None


# --- a widget conversation with the service center ---------------------------------------


async def test_a_widget_conversation_goes_to_staff_and_back_to_the_bot(rasa: Rasa) -> None:
    sender = "web-0123abcd"
    assert await rasa.texts(sender, "Hallo") == ["Echo: Hallo"]
    await handed_over(rasa, sender)
    assert (await rasa.inbox(sender)).json() == {"messages": [], "handoff": "live"}

    # The bot is silent; the message goes to the ticket, with the token.
    assert await rasa.texts(sender, "Mein Ausweis ist weg") == [WAITING]
    assert await rasa.texts(sender, "Hallo?") == []
    assert rasa.backend.received == [
        {"sender_id": sender, "text": "Mein Ausweis ist weg"},
        {"sender_id": sender, "text": "Hallo?"},
    ]
    assert set(rasa.backend.authorizations) == {f"Bearer {TOKEN}"}

    answer = await rasa.relay(relay_body(sender, text="Guten Tag, ich sehe nach."))
    assert answer.status_code == 200
    assert answer.json() == {"delivered": True}
    inbox = (await rasa.inbox(sender)).json()
    assert inbox["handoff"] == "live"
    assert [(m["text"], m["from"]) for m in inbox["messages"]] == [
        ("Guten Tag, ich sehe nach.", "staff")
    ]
    seen = inbox["messages"][0]["at"]
    assert (await rasa.inbox(sender, after=seen)).json()["messages"] == []

    assert (await rasa.relay(relay_body(sender, "close", HANDED_BACK))).status_code == 200
    inbox = (await rasa.inbox(sender, after=seen)).json()
    assert inbox == {
        "messages": [{"text": HANDED_BACK, "at": inbox["messages"][0]["at"], "from": "system"}],
        "handoff": "closed",
    }
    tracker = await rasa.tracker(sender)
    assert tracker is not None and not tracker.is_paused()
    staff = [e for e in tracker.events if isinstance(e, BotUttered) and e.metadata]
    assert [(e.text, e.metadata) for e in staff] == [
        ("Guten Tag, ich sehe nach.", {"handoff": "staff"}),
        (HANDED_BACK, {"handoff": "system"}),
    ]
    assert staff[1].data["custom"] == {"govbot": {"handoff": "closed"}}
    assert isinstance(tracker.events[-2], ConversationResumed)
    assert tracker.latest_action_name == ACTION_LISTEN_NAME

    # The bot answers again, and nothing more goes to the ticket.
    assert await rasa.texts(sender, "Danke") == ["Echo: Danke"]
    assert len(rasa.backend.received) == 2


async def test_an_answered_message_costs_no_second_read_of_the_conversation(
    rasa: Rasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa answers nothing while staff have a conversation, so an answer means no handoff."""
    reads: list[str] = []
    store = rasa.agent.tracker_store
    retrieve = store.retrieve

    async def counted(sender_id: str) -> DialogueStateTracker | None:
        reads.append(sender_id)
        return await retrieve(sender_id)

    monkeypatch.setattr(store, "retrieve", counted)
    assert await rasa.texts("web-9", "Hallo") == ["Echo: Hallo"]
    await rasa.telegram("Hallo")
    assert rasa.telegram_api.texts() == ["Echo: Hallo"]
    assert reads == ["web-9", f"telegram-{CHAT}"]  # the agent's own read of each message

    # Unanswered (the conversation is with staff): the channel reads it to pass it on.
    await handed_over(rasa, "web-9")
    reads.clear()
    assert await rasa.texts("web-9", "Hallo?") == [WAITING]
    assert reads == ["web-9", "web-9"]


async def test_commands_and_button_payloads_are_not_passed_on(rasa: Rasa) -> None:
    await handed_over(rasa, "web-2")
    assert await rasa.texts(sender := "web-2", '/choose_service{"service": "x"}') == [
        TEXT_ONLY.format(limit=2000)
    ]
    assert await rasa.texts(sender, "") == [TEXT_ONLY.format(limit=2000)]
    assert rasa.backend.received == []


async def test_when_the_ticket_is_gone_the_bot_answers_again(rasa: Rasa) -> None:
    await handed_over(rasa, "web-3")
    rasa.backend.status = 404
    answer = await rasa.say("web-3", "Ist da jemand?")
    assert answer == [
        {"recipient_id": "web-3", "text": HANDOFF_OVER},
        {"recipient_id": "web-3", "custom": {"govbot": {"handoff": "closed"}}},
    ]
    tracker = await rasa.tracker("web-3")
    assert tracker is not None and not tracker.is_paused()
    assert (await rasa.inbox("web-3")).json()["handoff"] == "none"
    assert await rasa.texts("web-3", "Ist da jemand?") == ["Echo: Ist da jemand?"]


@pytest.mark.parametrize("failure", ["down", 500, 401, 422])
async def test_when_the_backend_fails_the_citizen_is_told_politely(
    rasa: Rasa, failure: str | int
) -> None:
    await handed_over(rasa, "web-4")
    if failure == "down":
        rasa.backend.down = True
    else:
        rasa.backend.status = int(failure)
    assert await rasa.texts("web-4", "Hallo?") == [NOT_PASSED_ON]
    tracker = await rasa.tracker("web-4")
    assert tracker is not None and tracker.is_paused()  # still with the service center


# --- the widget's inbox --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "invalid_sender"),
        ({"sender": ""}, "invalid_sender"),
        ({"sender": "a b"}, "invalid_sender"),
        ({"sender": "x" * 129}, "invalid_sender"),
        ({"sender": "telegram-987654321"}, "invalid_sender"),
        ({"sender": "web-1", "after": "gestern"}, "invalid_after"),
        ({"sender": "web-1", "after": "nan"}, "invalid_after"),
        ({"sender": "web-1", "after": "inf"}, "invalid_after"),
        ({"sender": "web-1", "after": "1" * 40}, "invalid_after"),
    ],
)
async def test_bad_inbox_requests_get_a_400(rasa: Rasa, params: dict[str, str], error: str) -> None:
    answer = await rasa.client.get(f"{rasa.url}/webhooks/rest/inbox", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"] == error


async def test_the_inbox_of_an_unknown_or_plain_conversation_is_empty(rasa: Rasa) -> None:
    assert (await rasa.inbox("web-new")).json() == {"messages": [], "handoff": "none"}
    await rasa.say("web-plain", "Hallo")
    assert (await rasa.inbox("web-plain")).json() == {"messages": [], "handoff": "none"}


async def test_the_inbox_answers_in_portions(rasa: Rasa) -> None:
    await handed_over(rasa, "web-5")
    for number in range(60):
        assert (
            await rasa.relay(relay_body("web-5", text=f"Nachricht {number}"))
        ).status_code == 200
    first = (await rasa.inbox("web-5")).json()["messages"]
    assert [m["text"] for m in first] == [f"Nachricht {n}" for n in range(50)]
    rest = (await rasa.inbox("web-5", after=first[-1]["at"])).json()["messages"]
    assert [m["text"] for m in rest] == [f"Nachricht {n}" for n in range(50, 60)]


# --- Telegram ------------------------------------------------------------------------------


async def test_a_telegram_conversation_goes_to_staff_and_gets_their_reply(rasa: Rasa) -> None:
    sender = f"telegram-{CHAT}"
    await rasa.telegram("Mensch")
    assert rasa.telegram_api.texts() == ["Ich verbinde Sie mit dem Servicecenter."]
    await rasa.telegram("Mein Ausweis ist weg")
    assert rasa.backend.received == [{"sender_id": sender, "text": "Mein Ausweis ist weg"}]
    assert rasa.telegram_api.texts()[-1] == WAITING
    await rasa.telegram("/start")  # a command is no message for the service center
    assert rasa.telegram_api.texts()[-1] == TEXT_ONLY.format(limit=2000)
    assert len(rasa.backend.received) == 1

    before = len(rasa.telegram_api.sent())
    reply = "Hallo aus dem Servicecenter! <b>nicht fett</b>"
    answer = await rasa.relay(relay_body(sender, text=reply))
    assert answer.status_code == 200
    sent = rasa.telegram_api.sent()[before:]
    assert [(m["text"], str(m["chat_id"])) for m in sent] == [(reply, str(CHAT))]
    assert "parse_mode" not in sent[0]

    assert (await rasa.relay(relay_body(sender, "close", HANDED_BACK))).status_code == 200
    assert rasa.telegram_api.texts()[-1] == HANDED_BACK
    await rasa.telegram("Danke")
    assert rasa.telegram_api.texts()[-1] == "Echo: Danke"


async def test_a_reply_telegram_refuses_is_a_502_and_not_in_the_transcript(rasa: Rasa) -> None:
    sender = f"telegram-{CHAT}"
    await rasa.telegram("Mensch")
    rasa.telegram_api.failing.add("sendMessage")
    answer = await rasa.relay(relay_body(sender, text="Hallo?"))
    assert answer.status_code == 502
    assert answer.json()["delivered"] is False
    tracker = await rasa.tracker(sender)
    assert tracker is not None and tracker.is_paused()
    assert not [e for e in tracker.events if isinstance(e, BotUttered) and e.metadata]

    # The hand-back happens even so: the bot must not stay silent for good. It answers 200,
    # so that the backend closes the ticket (a chat that blocked the bot would keep it open
    # for good otherwise); "delivered" says that the notice did not reach the chat.
    answer = await rasa.relay(relay_body(sender, "close", HANDED_BACK))
    assert answer.status_code == 200
    assert answer.json()["delivered"] is False
    tracker = await rasa.tracker(sender)
    assert tracker is not None and not tracker.is_paused()


@pytest.mark.parametrize("sender", ["web-5", f"telegram-{CHAT}"])
async def test_a_reply_to_a_conversation_the_bot_has_again_is_refused(
    rasa: Rasa, sender: str
) -> None:
    # A conversation that is not (any more) with the service center, e.g. after a restart
    # or a new session: nobody reads the inbox, the citizen's answers go to the bot.
    if sender.startswith("telegram-"):
        await rasa.telegram("Hallo")
    else:
        await rasa.say(sender, "Hallo")
    before = len(rasa.telegram_api.sent())
    answer = await rasa.relay(relay_body(sender, text="Sind Sie noch da?"))
    assert answer.status_code == 409
    assert answer.json()["delivered"] is False
    assert len(rasa.telegram_api.sent()) == before
    tracker = await rasa.tracker(sender)
    assert tracker is not None
    assert not [e for e in tracker.events if isinstance(e, BotUttered) and e.metadata]
    # The hand-back still goes through, so that staff can close the ticket.
    assert (await rasa.relay(relay_body(sender, "close", HANDED_BACK))).status_code == 200


# --- deleting a conversation ---------------------------------------------------------------


def rows(path: Path, sender: str) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM events WHERE sender_id = ?", (sender,)
        ).fetchone()
    return int(count)


async def test_a_deleted_conversation_leaves_no_rows_in_the_sql_store(
    sql_rasa: Rasa, tmp_path: Path
) -> None:
    database = tmp_path / "tracker.sqlite3"
    await sql_rasa.say("web-keep", "Hallo")
    await sql_rasa.say("web-gone", "Ich heiße Erika Mustermann")
    assert rows(database, "web-gone") > 0
    answer = await sql_rasa.say("web-gone", "Löschen")
    # The widget gets the bot's confirmation and the marker.
    assert answer == [
        {"recipient_id": "web-gone", "text": "Ihr Gespräch ist gelöscht."},
        {"recipient_id": "web-gone", "custom": DELETE},
    ]
    assert rows(database, "web-gone") == 0
    assert await sql_rasa.tracker("web-gone") is None
    assert rows(database, "web-keep") > 0
    # A new message starts a new conversation.
    assert await sql_rasa.texts("web-gone", "Hallo") == ["Echo: Hallo"]


async def test_a_deleted_conversation_is_gone_from_the_memory_store(rasa: Rasa) -> None:
    await rasa.say("web-gone", "Ich heiße Erika Mustermann")
    await rasa.say("web-keep", "Hallo")
    await rasa.say("web-gone", "Löschen")
    assert await rasa.tracker("web-gone") is None
    assert await rasa.tracker("web-keep") is not None


async def test_telegram_deletes_without_sending_the_marker(sql_rasa: Rasa, tmp_path: Path) -> None:
    await sql_rasa.telegram("Löschen")
    assert sql_rasa.telegram_api.texts() == ["Ihr Gespräch ist gelöscht."]
    assert rows(tmp_path / "tracker.sqlite3", f"telegram-{CHAT}") == 0


async def test_a_store_that_cannot_delete_makes_the_channel_correct_the_confirmation(
    rasa: Rasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cannot_delete(agent: Any, sender_id: str) -> bool:
        return False

    monkeypatch.setattr(conversations, "delete_conversation", cannot_delete)
    await rasa.say("web-stays", "Hallo")
    answer = await rasa.say("web-stays", "Löschen")
    assert [m.get("text") for m in answer if "text" in m] == [
        "Ihr Gespräch ist gelöscht.",
        NOT_DELETED,
    ]
    assert await rasa.tracker("web-stays") is not None


# --- settings ------------------------------------------------------------------------------


def test_outside_production_the_development_token_stands_in() -> None:
    assert ChannelSettings(_env_file=None).internal_token_value == DEVELOPMENT_INTERNAL_TOKEN
    assert channel_settings().internal_token_value == TOKEN


@pytest.mark.parametrize("token", [None, "", "kurz", DEVELOPMENT_INTERNAL_TOKEN])
def test_production_refuses_a_missing_or_weak_internal_token(token: str | None) -> None:
    with pytest.raises(ValidationError, match="GOVBOT_INTERNAL_TOKEN"):
        ChannelSettings(_env_file=None, environment="production", internal_token=token)
    assert (
        ChannelSettings(
            _env_file=None, environment="production", internal_token="x" * 32
        ).internal_token_value
        == "x" * 32
    )
