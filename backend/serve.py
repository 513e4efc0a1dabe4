"""Start the backend: ``python -m backend.serve`` (host and port from the settings)."""

from __future__ import annotations

import uvicorn

from backend.app.core.config import get_settings
from backend.app.main import create_app


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
