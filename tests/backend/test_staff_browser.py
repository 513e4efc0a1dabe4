"""The staff intranet in a real browser: the backend served by uvicorn on loopback.

Playwright drives Debian's chromium (``GOVBOT_CHROMIUM``, default ``/usr/bin/chromium``);
it never downloads a browser. Without one this test fails, unless ``GOVBOT_SKIP_BROWSER=1``
says on purpose that this machine has none. The relay is the recording stand-in, so only
the backend runs; tests/integration/test_staff_browser.py does the same over the whole stack.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Page, expect, sync_playwright

from backend.app import handoffs
from backend.app.main import create_app
from backend.app.models import HandoffTicket
from tests.backend.builders import MOVE_SPEC
from tests.backend.conftest import ManualClock, forms_dir, make_settings
from tests.backend.staff_support import PASSWORD, RecordingRelay, add_account, open_ticket

CHROMIUM = os.environ.get("GOVBOT_CHROMIUM", "/usr/bin/chromium")
HOSTILE = "<script>alert('xss')</script> und <img src=x onerror=alert('img')>"
LATER = "Noch da? <img src=y onerror=alert('live')>"


@dataclass
class Served:
    app: FastAPI
    url: str
    relay: RecordingRelay


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, clock: ManualClock) -> Iterator[Served]:
    if os.environ.get("GOVBOT_SKIP_BROWSER") == "1":
        pytest.skip("GOVBOT_SKIP_BROWSER=1: the browser tests are skipped")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's package or set GOVBOT_CHROMIUM; "
            "without a browser set GOVBOT_SKIP_BROWSER=1 to skip this test on purpose."
        )
    settings = make_settings(
        tmp_path,
        forms_dir=forms_dir(tmp_path, ("umzug-test.yml", MOVE_SPEC)),
        # Plain http on loopback, as in development.
        staff_cookie_secure=False,
    )
    relay = RecordingRelay()
    app = create_app(settings, clock, relay)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the backend did not start"
        time.sleep(0.05)
    try:
        yield Served(app, f"http://127.0.0.1:{port}", relay)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def axe_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']}"
        for violation in results.response.get("violations", [])
    ]


def test_staff_sign_in_take_over_reply_see_live_messages_and_close(served: Served) -> None:
    add_account(served.app, "erika", "service_center", display_name="Erika Mustermann")
    ticket_id = open_ticket(
        served.app,
        transcript=[("citizen", HOSTILE), ("bot", "Ich verbinde Sie mit dem Servicecenter.")],
        form={
            "form_id": "bewohnerparkausweis",
            "title": "Bewohnerparkausweis",
            "fields": [{"name": "vorname", "label": "Vorname", "value": HOSTILE}],
        },
    )
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(locale="de-DE")

            def on_dialog(dialog: Any) -> None:
                problems.append(f"dialog: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )

            page.goto(f"{served.url}/intern")
            expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
            assert axe_violations(page) == []
            page.get_by_label("Benutzername").fill("erika")
            page.get_by_label("Passwort").fill(PASSWORD)
            page.get_by_role("button", name="Anmelden").click()
            expect(page.get_by_role("heading", name="Übergaben", exact=False)).to_be_visible()
            assert axe_violations(page) == []

            page.get_by_role("link", name=f"Übergabe {ticket_id}").click()
            main = page.locator("main")
            expect(main).to_contain_text(HOSTILE)
            assert page.locator("img[src='x']").count() == 0
            assert page.locator("main script").count() == 0
            # With the script, the page updates itself; the reload link is hidden.
            expect(page.locator("#refresh-link")).to_be_hidden()

            page.get_by_role("button", name="Übernehmen").click()
            expect(page.get_by_role("status").first).to_contain_text("übernommen")
            assert [sent.kind for sent in served.relay.sent] == ["message"]
            assert axe_violations(page) == []

            # The citizen writes meanwhile: it appears without a reload, as text.
            with served.app.state.session_factory() as session:
                ticket = session.get(HandoffTicket, ticket_id)
                assert ticket is not None
                handoffs.add_citizen_message(session, ticket, LATER, served.app.state.clock.now())
            expect(page.locator("#transcript")).to_contain_text(LATER, timeout=15_000)
            assert page.locator("img[src='y']").count() == 0

            page.get_by_label("Ihre Antwort").fill("Guten Tag, hier ist das Servicecenter.")
            page.get_by_role("button", name="Antwort senden").click()
            expect(main).to_contain_text("Ihre Antwort wurde zugestellt.")
            assert served.relay.sent[-1].text == "Guten Tag, hier ist das Servicecenter."

            page.get_by_role("button", name="Schließen und an den Bot zurückgeben").click()
            expect(main).to_contain_text("wieder beim Assistenten")
            assert served.relay.sent[-1].kind == "close"

            # Keyboard: on a freshly loaded page, the first Tab reaches the skip link. (Right
            # after the click the focus starts from wherever the button was, and on a busy
            # machine the page may still be settling.)
            page.reload(wait_until="load")
            expect(main).to_contain_text("wieder beim Assistenten")
            page.keyboard.press("Tab")
            expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()

            page.get_by_role("button", name="Abmelden").click()
            expect(page.get_by_text("Sie haben sich abgemeldet.")).to_be_visible()
        finally:
            browser.close()
    assert problems == []
