"""Start the backend: ``python -m backend.serve`` (host and port from the settings)."""

from __future__ import annotations

import logging

import uvicorn

from backend.app.core.config import get_settings
from backend.app.main import create_app
from forms.privacy import install_log_redaction

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class AccessLogWithoutQuery(logging.Filter):
    """Uvicorn's access log without query strings: a search (``?q=``) is what a citizen typed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn: (client address, method, path with query, HTTP version, status code)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, separator, _query = args[2].partition("?")
            if separator:
                record.args = (*args[:2], f"{path}?…", *args[3:])
        return True


def install_logging() -> None:
    """Redaction on every log record, and no query strings in the access log.

    Call after uvicorn has configured its loggers (``uvicorn.Config``), so that their
    handlers get the filter as well.
    """
    install_log_redaction(UVICORN_LOGGERS)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(item, AccessLogWithoutQuery) for item in access.filters):
        access.addFilter(AccessLogWithoutQuery())


def main() -> None:
    settings = get_settings()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )
    install_logging()
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
