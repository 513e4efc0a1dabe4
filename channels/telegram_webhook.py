"""Register the Telegram webhook: ``python -m channels.telegram_webhook`` (make telegram-webhook).

Tells Telegram to deliver updates to ``CHANNELS_TELEGRAM_WEBHOOK_URL`` (the public https
address of ``/webhooks/telegram/webhook``) with ``CHANNELS_TELEGRAM_WEBHOOK_SECRET`` in
every request, and sets the command menu. ``--delete`` removes the webhook again (needed
before ``python -m channels.telegram_polling`` can fetch updates itself).
"""

from __future__ import annotations

import argparse
import asyncio

from channels.settings import TelegramSettings, get_telegram_settings
from channels.telegram import ALLOWED_UPDATES, bot_commands, make_bot

WEBHOOK_PATH = "/webhooks/telegram/webhook"


async def register(settings: TelegramSettings) -> str:
    """Register the webhook and the command menu; returns what Telegram now has."""
    if not settings.enabled or settings.webhook_secret is None:
        raise SystemExit("set CHANNELS_TELEGRAM_BOT_TOKEN and CHANNELS_TELEGRAM_WEBHOOK_SECRET")
    url = settings.webhook_url
    if not url.startswith("https://") or not url.rstrip("/").endswith(WEBHOOK_PATH):
        raise SystemExit(
            f"CHANNELS_TELEGRAM_WEBHOOK_URL must be the public https URL of {WEBHOOK_PATH}"
        )
    bot = make_bot(settings)
    try:
        await bot.set_webhook(
            url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
        await bot.set_my_commands(bot_commands())
        info = await bot.get_webhook_info()
    finally:
        await bot.shutdown()
    return f"webhook: {info.url} ({info.pending_update_count} updates waiting)"


async def delete(settings: TelegramSettings) -> str:
    if not settings.enabled:
        raise SystemExit("set CHANNELS_TELEGRAM_BOT_TOKEN")
    bot = make_bot(settings)
    try:
        await bot.delete_webhook()
    finally:
        await bot.shutdown()
    return "webhook deleted"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delete", action="store_true", help="remove the webhook")
    args = parser.parse_args(argv)
    settings = get_telegram_settings()
    print(asyncio.run(delete(settings) if args.delete else register(settings)))


if __name__ == "__main__":
    main()
