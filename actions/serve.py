"""Start the action server: ``python -m actions.serve`` (host and port from the settings)."""

from __future__ import annotations

import logging
import os

from rasa_sdk import endpoint

from actions.settings import get_settings


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # rasa-sdk reads the interface from SANIC_HOST (default 0.0.0.0: too open).
    os.environ["SANIC_HOST"] = settings.host
    endpoint.run("actions", port=settings.port, cors_origins=None)


if __name__ == "__main__":
    main()
