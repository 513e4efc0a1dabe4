"""Deliver due applications to the DMS from the command line.

    python -m backend.deliver --once

One pass over the outbox with the backend's settings (the same environment variables and
``.env``): everything due is delivered or rescheduled, then it ends. Useful from cron with
``BACKEND_DELIVERY_WORKER=false``, and after a DMS outage to catch up at once. Exits with
status 1 when deliveries have failed at least ``BACKEND_DELIVERY_ALERT_AFTER_ATTEMPTS``
times, so that monitoring can tell operators to look.
"""

from __future__ import annotations

import argparse
import logging
import sys

from backend.app.core.clock import SettingsClock
from backend.app.core.config import get_settings
from backend.app.core.db import make_engine, make_session_factory, migrate, tool_pool
from backend.app.delivery.outbox import Outbox
from backend.app.delivery.sinks import make_sink
from backend.app.documents import check_fonts
from backend.app.form_specs import load_form_library
from forms.privacy import install_log_redaction


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", required=True, help="one pass, then end")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    settings = get_settings()
    library = load_form_library(settings.forms_dir, settings.city_file, settings.catalogue_dir)
    check_fonts(settings.pdf_font_dir)
    engine = make_engine(settings.database_url, tool_pool(settings))
    try:
        migrate(engine)
        outbox = Outbox(
            make_session_factory(engine),
            library,
            make_sink(settings),
            settings,
            SettingsClock(settings),
        )
        result = outbox.deliver_due()
        overdue = outbox.overdue()
    finally:
        engine.dispose()
    print(f"delivered {result.delivered}, failed {result.failed}, overdue {overdue}")
    return 1 if overdue else 0


if __name__ == "__main__":
    sys.exit(main())
