"""The staff intranet and the web widget in real browsers, against the running stack.

A citizen in the widget writes something hostile, then asks for a person. A member of
staff signs in, finds the conversation in the queue, sees the hostile text as inert text,
takes the conversation over, replies, and hands it back; the widget shows the reply and
the hand-back, and the bot answers again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.test_handoff import ASK_FOR_A_PERSON, PASSWORD, create_account
from tests.integration.test_widget import (  # noqa: F401 - widget is a fixture
    DESKTOP,
    Widget,
    widget,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration

HOSTILE = "<script>alert('xss')</script> und <img src=x onerror=alert('img')> bitte"


@pytest.fixture
def staff_page(browser: Browser, stack: Stack) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport=DESKTOP, locale="de-DE")  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    try:
        yield page, problems
    finally:
        context.close()


def sign_in(page: Page, stack: Stack) -> None:
    username = f"browser-{uuid.uuid4().hex[:6]}"
    create_account(stack, username, "service_center")
    page.goto(f"{stack.backend_url}/intern/anmelden")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übergaben", exact=False).first).to_be_visible()


def test_staff_take_over_a_widget_conversation_reply_and_hand_it_back(
    widget: Widget,  # noqa: F811
    staff_page: tuple[Page, list[str]],
    stack: Stack,
) -> None:
    page, problems = staff_page
    marker = uuid.uuid4().hex[:8]
    widget.open()
    widget.say(f"{HOSTILE} {marker}")
    replies = widget.say(ASK_FOR_A_PERSON)
    assert any("Servicecenter" in reply for reply in replies), replies

    sign_in(page, stack)
    page.goto(f"{stack.backend_url}/intern/uebergaben")
    # Open this conversation's ticket from the queue: the one whose transcript has the marker.
    links = page.get_by_role("link", name=re.compile(r"^Übergabe \d+$"))
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for target in targets:
        page.goto(f"{stack.backend_url}{target}")
        if marker in page.locator("main").inner_text():
            break
    transcript = page.locator("main")
    expect(transcript).to_contain_text(f"{HOSTILE} {marker}")
    # Shown as text: no script ran, no image element was made from the citizen's text.
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("main script").count() == 0

    page.get_by_role("button", name="Übernehmen").click()
    expect(widget.log).to_contain_text("vom Servicecenter", timeout=20_000)

    page.get_by_label("Ihre Antwort").fill("Guten Tag, hier ist das Servicecenter.")
    page.get_by_role("button", name="Antwort senden").click()
    expect(widget.log).to_contain_text("Guten Tag, hier ist das Servicecenter.", timeout=20_000)

    page.get_by_role("button", name="Schließen und an den Bot zurückgeben").click()
    expect(widget.log).to_contain_text("wieder mit dem automatisierten Assistenten", timeout=20_000)
    replies = widget.say("Wann hat das Bürgerbüro geöffnet?")
    assert any("Öffnungszeiten" in reply for reply in replies), replies

    assert problems == []
    assert widget.dialogs == []
