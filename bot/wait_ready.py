"""Wait until backend, action server and Rasa server answer, then say where to find them.

Runs beside the three processes under honcho (see Procfile). If a process is not healthy
in time, it exits with an error, and honcho stops the others.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import httpx

from actions.settings import get_settings as action_settings
from channels.settings import get_settings as channel_settings

TIMEOUT_SECONDS = float(os.environ.get("GOVBOT_START_TIMEOUT", "300"))


def endpoints() -> dict[str, str]:
    backend = (
        f"http://{os.environ.get('BACKEND_HOST', '127.0.0.1')}:"
        f"{os.environ.get('BACKEND_PORT', '8000')}"
    )
    actions = action_settings()
    rasa = channel_settings()
    return {
        "backend": f"{backend}/health",
        "actions": f"http://{actions.host}:{actions.port}/health",
        "rasa": f"http://{rasa.rasa_host}:{rasa.rasa_port}/webhooks/rest/",
    }


def wait(urls: dict[str, str], timeout: float = TIMEOUT_SECONDS) -> list[str]:
    """Names of the processes that did not answer 200 within ``timeout`` seconds."""
    pending = dict(urls)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                try:
                    if client.get(url).status_code == 200:
                        print(f"    {name} is up", flush=True)
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(1.0)
    return sorted(pending)


def main() -> int:
    urls = endpoints()
    started = time.monotonic()
    print("==> waiting for backend, action server and Rasa server ...", flush=True)
    missing = wait(urls)
    if missing:
        print(f"==> not healthy after {TIMEOUT_SECONDS:.0f} s: {', '.join(missing)}", flush=True)
        return 1
    rasa = urls["rasa"].removesuffix("/webhooks/rest/")
    backend = urls["backend"].removesuffix("/health")
    print(
        f"""
==> GovBot is ready after {time.monotonic() - started:.0f} s

    Chat over REST:  curl -s -X POST {rasa}/webhooks/rest/webhook \\
                       -H 'Content-Type: application/json' \\
                       -d '{{"sender": "test", "message": "Wann hat das Bürgerbüro geöffnet?"}}'
    Web widget demo: {backend}/demo
    Backend API:     {backend}/docs
    Staff intranet:  {backend}/intern  (accounts: python -m backend.staff)

    Stop everything with Ctrl-C.
""",
        flush=True,
    )
    signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
