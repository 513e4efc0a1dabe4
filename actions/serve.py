"""Start the action server: ``python -m actions.serve`` (host and port from the settings)."""

from __future__ import annotations

import logging
import os

from rasa_sdk import endpoint

from actions.settings import get_settings
from forms.names import is_first_name
from forms.privacy import install_log_redaction


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Before Sanic sets up its own loggers: the record factory covers those too.
    install_log_redaction()
    # rasa-sdk reads the interface from SANIC_HOST (default 0.0.0.0: too open).
    os.environ["SANIC_HOST"] = settings.host
    # The first-name lexicon loads now (0.4 s), not while a citizen waits for an answer.
    is_first_name("Anna")
    endpoint.run("actions", port=settings.port, cors_origins=None)


if __name__ == "__main__":
    main()
