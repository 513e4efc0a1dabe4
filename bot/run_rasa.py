"""Start the Rasa server with the settings of ``channels.settings`` and the current model.

python -m bot.run_rasa
"""

from __future__ import annotations

import os
import sys

from bot.model import ROOT, model_path
from channels.settings import get_settings


def rasa_command() -> list[str]:
    settings = get_settings()
    model = model_path()
    if not model.exists():
        raise SystemExit(f"no model {model.relative_to(ROOT)}: run `make train` first")
    command = [
        sys.executable, "-m", "rasa", "run",
        "--model", str(model),
        "--credentials", "bot/credentials.yml",
        "--endpoints", "bot/endpoints.yml",
        "--interface", settings.rasa_host,
        "--port", str(settings.rasa_port),
    ]  # fmt: skip
    if settings.rasa_cors:
        command += ["--cors", *settings.rasa_cors.split()]
    if settings.rasa_enable_api:
        # The settings refuse an enabled API without a token.
        command += ["--enable-api", "--auth-token", str(settings.rasa_token)]
    return command


def main() -> None:
    settings = get_settings()
    os.environ.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "GOVBOT_ACTION_ENDPOINT_URL": settings.action_endpoint_url,
            "GOVBOT_TRACKER_DIALECT": settings.tracker_dialect,
            "GOVBOT_TRACKER_URL": settings.tracker_url,
            "GOVBOT_TRACKER_DB": settings.tracker_db,
            # Sanic accepts 100 MB bodies by default; no chat message comes near 1 MB.
            "SANIC_REQUEST_MAX_SIZE": str(1_000_000),
        }
    )
    # Rasa's SQL tracker store opens a pool of 50 + 100 connections on PostgreSQL unless
    # told otherwise; 5 + 10 fit the connection budget of README.md ("Running on
    # PostgreSQL"). An operator's own values win.
    os.environ.setdefault("SQL_POOL_SIZE", "5")
    os.environ.setdefault("SQL_MAX_OVERFLOW", "10")
    # TensorFlow runs DIET on thread pools as large as the machine by default; for one short
    # message the hand-over costs more than it gains (docs/benchmarks.md: 18 % less CPU per
    # parsed message with one thread each). Read by Rasa itself; an operator's own values win.
    os.environ.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
    os.environ.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
    if settings.tracker_dialect == "sqlite":
        os.makedirs(os.path.dirname(settings.tracker_db) or ".", exist_ok=True)
    os.chdir(ROOT)
    command = rasa_command()
    os.execv(command[0], command)  # noqa: S606 - replaces this launcher with Rasa


if __name__ == "__main__":
    main()
