"""A stand-in of the Telegram Bot API on loopback, for the channel's tests.

It answers Bot API methods the way Telegram does and records every call, so tests can
assert on the requests that python-telegram-bot really sends (``Bot(token,
base_url=...)``). ``BotApi.handle`` is an aiohttp handler; ``ThreadedBotApi`` runs it in
a thread of its own for tests that are not async (the integration tests).
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import web

CHAT = 987654321


def photo(file_id: str) -> dict[str, Any]:
    return {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 90, "height": 67}


class BotApi:
    """Answers Bot API methods like Telegram and records (method, parameters)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.tokens: set[str] = set()
        self.failing: set[str] = set()
        self.base_url = ""

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def texts(self) -> list[str]:
        return [params["text"] for params in self.sent()]

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.tokens.add(request.match_info["token"])
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            assert isinstance(value, str)
            # PTB sends objects (reply_markup, ...) as JSON strings in a form.
            params[key] = json.loads(value) if value[:1] in "[{" else value
        self.calls.append((method, params))
        if method in self.failing:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                status=400,
            )
        return web.json_response({"ok": True, "result": self.result(method, params)})

    def result(self, method: str, params: dict[str, Any]) -> Any:
        message = {
            "message_id": len(self.calls),
            "from": {"id": 123456, "is_bot": True, "first_name": "GovBot", "username": "govbot"},
            "chat": {"id": int(params.get("chat_id", CHAT)), "type": "private"},
            "date": 1764669600,
        }
        if method == "sendMessage":
            return {**message, "text": params["text"]}
        if method == "sendPhoto":
            return {**message, "photo": [photo("p1")]}
        if method == "getWebhookInfo":
            url = next((p["url"] for m, p in self.calls if m == "setWebhook"), "")
            return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        if method == "getMe":
            return message["from"]
        return True  # answerCallbackQuery, setWebhook, setMyCommands, deleteWebhook


def application(api: BotApi) -> web.Application:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    return app


class ThreadedBotApi(BotApi):
    """The stand-in on its own event loop in a daemon thread."""

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        async def serve() -> None:
            self._runner = web.AppRunner(application(self))
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = self._runner.addresses[0][1]
            self.base_url = f"http://127.0.0.1:{port}/bot"
            started.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the Bot API stand-in did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
