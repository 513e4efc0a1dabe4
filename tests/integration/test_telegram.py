"""Telegram over the running stack: real update JSON to the Rasa server's webhook, answers
through python-telegram-bot to a stand-in of the Bot API on loopback.

A whole Bewohnerparkausweis is applied for over Telegram, the summary's inline keyboard
is pressed, and the backend then holds the application with the Telegram chat as its
conversation.
"""

from __future__ import annotations

import sqlite3
from itertools import count
from typing import Any

import httpx
import pytest

from tests.integration.conftest import TELEGRAM_SECRET
from tests.integration.test_forms import REFERENCE, SCRIPTS, SPECS, asked_field
from tests.stack import Stack
from tests.telegram_api import ThreadedBotApi

pytestmark = pytest.mark.integration

CHAT = 55501234
_update_ids = count(700_000_000)


def _message(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "from": {"id": CHAT, "is_bot": False, "first_name": "Erika", "language_code": "de"},
            "chat": {"id": CHAT, "first_name": "Erika", "type": "private"},
            "date": 1764669600,
            **content,
        },
    }


def _press(data: str, keyboard: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": {"id": CHAT, "is_bot": False, "first_name": "Erika"},
            "message": {
                "message_id": next(_update_ids),
                "from": {"id": 123456, "is_bot": True, "first_name": "GovBot"},
                "chat": {"id": CHAT, "first_name": "Erika", "type": "private"},
                "date": 1764669600,
                "text": "Soll ich den Antrag so abschicken?",
                "reply_markup": {"inline_keyboard": keyboard},
            },
            "chat_instance": "-7306157563465487213",
            "data": data,
        },
    }


class Chat:
    """One citizen's Telegram chat with the running assistant."""

    def __init__(self, stack: Stack, api: ThreadedBotApi) -> None:
        self.url = f"{stack.rasa_url}/webhooks/telegram/webhook"
        self.api = api

    def post(self, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> list[dict]:  # type: ignore[type-arg]
        before = len(self.api.sent())
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        response = httpx.post(self.url, json=update, headers=headers, timeout=60)
        if secret != TELEGRAM_SECRET:
            assert response.status_code == 403
            return []
        assert response.status_code == 200, response.text
        sent = self.api.sent()[before:]
        assert all(int(m["chat_id"]) == CHAT for m in sent), sent
        return sent

    def say(self, text: str) -> list[str]:
        return [m["text"] for m in self.post(_message(text))]


def test_a_forged_update_is_refused(stack: Stack, telegram_api: ThreadedBotApi) -> None:
    chat = Chat(stack, telegram_api)
    before = len(telegram_api.sent())
    chat.post(_message("Hallo"), secret=None)
    chat.post(_message("Hallo"), secret="wrong-secret-0123456789")
    assert len(telegram_api.sent()) == before


def test_a_form_over_telegram(stack: Stack, telegram_api: ThreadedBotApi) -> None:
    script = SCRIPTS[0]
    spec = SPECS[script.form]
    chat = Chat(stack, telegram_api)
    [greeting] = chat.say("/start")
    assert "automatisiertes Programm" in greeting

    replies = chat.say(script.start)
    for _ in range(3 * len(spec.fields)):
        name = asked_field(spec, replies)
        if name is None:
            break
        replies = chat.say(script.typed[name])
    # The summary comes with the inline keyboard of its buttons.
    sent = telegram_api.sent()[-1]
    assert sent["text"] == "Soll ich den Antrag so abschicken?"
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Ja, abschicken", "Angabe ändern", "Abbrechen"]
    assert "parse_mode" not in sent  # plain text: nothing in an answer is read as markup

    answers = chat.post(_press(keyboard[0][0]["callback_data"], keyboard))
    assert telegram_api.sent("answerCallbackQuery")
    found = [REFERENCE.search(message["text"]) for message in answers]
    [reference] = [match.group(1) for match in found if match]

    with sqlite3.connect(stack.state / "backend.sqlite3") as db:
        rows = db.execute(
            "SELECT reference, channel FROM application WHERE conversation_id = ?",
            (f"telegram-{CHAT}",),
        ).fetchall()
    assert rows == [(reference, "telegram")]
