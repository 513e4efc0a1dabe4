"""Telegram without a public URL, for development: ``python -m channels.telegram_polling``.

Fetches updates from Telegram by long polling (PTB's ``Application.run_polling``, which
removes a registered webhook first) and posts each one, with the webhook secret, to the
Telegram webhook of the Rasa server on loopback. Rasa then handles it exactly as an update
Telegram had delivered itself, and answers through the Bot API; only the way in differs.
Updates are forwarded one at a time, in order.
"""

from __future__ import annotations

import logging

import httpx
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from channels.settings import ChannelSettings, TelegramSettings, get_settings, get_telegram_settings
from channels.telegram import ALLOWED_UPDATES, SECRET_HEADER, bot_commands

logger = logging.getLogger(__name__)


def local_webhook_url(settings: ChannelSettings) -> str:
    host = settings.rasa_host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - listening everywhere, reachable on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.rasa_port}/webhooks/telegram/webhook"


class UpdateForwarder:
    """Posts updates to the Rasa server's Telegram webhook."""

    def __init__(self, url: str, secret: str, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.secret = secret
        # Rasa answers after the assistant has: allow for a slow action server.
        self.client = client or httpx.AsyncClient(timeout=60.0)

    async def __call__(self, update: Update, _: ContextTypes.DEFAULT_TYPE | None = None) -> None:
        """Forward one update; a failure is logged and the update skipped."""
        try:
            answer = await self.client.post(
                self.url, json=update.to_dict(), headers={SECRET_HEADER: self.secret}
            )
        except httpx.HTTPError as error:
            logger.warning("update %s not forwarded: %s", update.update_id, type(error).__name__)
            return
        if answer.status_code != 200:
            logger.warning("update %s refused by Rasa: %s", update.update_id, answer.status_code)


def build_application(settings: TelegramSettings, forwarder: UpdateForwarder) -> Application:
    async def set_commands(application: Application) -> None:
        await application.bot.set_my_commands(bot_commands())

    async def close_client(_: Application) -> None:
        await forwarder.client.aclose()

    assert settings.bot_token is not None
    application = (
        Application.builder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.api_base_url)
        .post_init(set_commands)
        .post_shutdown(close_client)
        .build()
    )
    application.add_handler(TypeHandler(Update, forwarder))
    return application


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_telegram_settings()
    if not settings.enabled or settings.webhook_secret is None:
        raise SystemExit("set CHANNELS_TELEGRAM_BOT_TOKEN and CHANNELS_TELEGRAM_WEBHOOK_SECRET")
    url = local_webhook_url(get_settings())
    forwarder = UpdateForwarder(url, settings.webhook_secret.get_secret_value())
    logger.info("forwarding Telegram updates to %s", url)
    build_application(settings, forwarder).run_polling(allowed_updates=ALLOWED_UPDATES)


if __name__ == "__main__":
    main()
