"""The web widget in a real browser, on the backend's demo page, against the running stack.

Playwright drives Debian's chromium (``GOVBOT_CHROMIUM``, default ``/usr/bin/chromium``);
it never downloads a browser. Without one these tests fail, unless ``GOVBOT_SKIP_BROWSER=1``
says on purpose that this machine has none.

With ``GOVBOT_SCREENSHOTS=1`` the screenshot test writes docs/widget-desktop.png and
docs/widget-mobile.png.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect

from tests.integration.test_forms import REFERENCE, SCRIPTS, SPECS, SUMMARY, asked_field
from tests.stack import ROOT, Stack

pytestmark = pytest.mark.integration

WEBHOOK = "**/webhooks/rest/webhook"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
LAUNCHER = "Fragen Sie den Chat-Assistenten"
NOTICE = "Sie schreiben mit einem automatisierten Assistenten"
HOSTILE_TEXT = (
    "Hier ist ein Link: [x](javascript:alert(1)) und ein Bild <img src=x onerror=alert(1)>.\n"
    "Echte Adresse: https://www.musterstadt.example/buergerbuero und "
    "[Formular](https://service.musterstadt.example/formulare/x), "
    "Mail: mailto:buergerbuero@musterstadt.example, "
    "[Telefon](tel:+49123456789), [Daten](data:text/html,<b>x</b>), [Datei](file:///etc/passwd)"
)


@dataclass
class Widget:
    """The demo page with the widget, and what the browser reported while it was open."""

    page: Page
    url: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def launcher(self) -> Any:
        return self.page.get_by_role("button", name=LAUNCHER)

    @property
    def dialog(self) -> Any:
        return self.page.get_by_role("dialog", name="Chat mit dem digitalen Assistenten der Stadt")

    @property
    def log(self) -> Any:
        return self.page.get_by_role("log", name="Gesprächsverlauf")

    @property
    def input(self) -> Any:
        return self.page.get_by_label("Ihre Nachricht", exact=True)

    @property
    def messages(self) -> Any:
        return self.page.locator(".govbot-message")

    def open(self) -> None:
        self.launcher.click()
        expect(self.dialog).to_be_visible()
        expect(self.input).to_be_focused()

    def _answered(self, act: Any) -> list[str]:
        """Does ``act``, waits for the bot's answers to be shown, returns their texts."""
        before = self.messages.count()
        with self.page.expect_response(
            lambda r: r.url.endswith("/webhooks/rest/webhook") and r.request.method == "POST",
            timeout=60_000,
        ) as answer:
            act()
        entries = [m for m in answer.value.json() if m.get("text") or m.get("buttons")]
        expect(self.messages).to_have_count(before + 1 + len(entries), timeout=10_000)
        expect(self.page.locator(".govbot-typing")).to_be_hidden()
        return [m.get("text", "") for m in entries]

    def say(self, text: str) -> list[str]:
        def act() -> None:
            self.input.fill(text)
            self.input.press("Enter")

        replies = self._answered(act)
        expect(self.messages.nth(-1 - len(replies))).to_have_text(f"Sie: {text}")
        return replies

    def press(self, title: str) -> list[str]:
        replies = self._answered(
            lambda: self.log.get_by_role("button", name=title, exact=True).click()
        )
        expect(self.messages.nth(-1 - len(replies))).to_have_text(f"Sie: {title}")
        return replies

    def focused(self) -> str:
        """The accessible name (or text) of the focused element."""
        return str(
            self.page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.getAttribute('aria-label') || e.labels?.[0]?.textContent"
                " || e.textContent.trim(); }"
            )
        )


@pytest.fixture
def widget(browser: Browser, stack: Stack) -> Iterator[Widget]:
    context = browser.new_context(viewport=DESKTOP, locale="de-DE")  # type: ignore[arg-type]
    page = context.new_page()
    opened = Widget(page, f"{stack.backend_url}/demo")

    def on_dialog(dialog: Any) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    # A Content-Security-Policy violation shows as a console error.
    page.on(
        "console",
        lambda message: opened.errors.append(message.text) if message.type == "error" else None,
    )
    page.goto(opened.url)
    try:
        yield opened
    finally:
        context.close()


def test_the_widget_says_it_is_automated_and_answers_a_question(widget: Widget) -> None:
    expect(widget.dialog).to_be_hidden()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    widget.open()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    notice = widget.dialog.locator(".govbot-notice")
    expect(notice).to_contain_text(NOTICE)
    expect(notice.get_by_role("link", name="Hinweise zum Datenschutz")).to_have_attribute(
        "href", "/datenschutz"
    )
    expect(widget.log).to_have_attribute("aria-live", "polite")

    replies = widget.say("Wann hat das Bürgerbüro geöffnet?")
    assert any("Öffnungszeiten" in reply for reply in replies), replies
    hours = widget.log.locator(".govbot-bot", has_text="Öffnungszeiten").first
    expect(hours).to_be_visible()
    # Multi-line answers keep their line breaks.
    assert "\n" in hours.locator(".govbot-text").inner_text()
    assert widget.errors == []


def test_a_form_through_the_widget_and_the_history_after_a_reload(widget: Widget) -> None:
    script = SCRIPTS[0]
    spec = SPECS[script.form]
    widget.open()
    replies = widget.say(script.start)
    for _ in range(3 * len(spec.fields)):
        name = asked_field(spec, replies)
        if name is None:
            break
        replies = widget.say(script.typed[name])
    assert replies[-1] == SUMMARY, replies
    expect(widget.log.get_by_role("button", name="Ja, abschicken")).to_be_visible()

    replies = widget.press("Ja, abschicken")
    [reference] = [m.group(1) for m in map(REFERENCE.search, replies) if m]
    expect(widget.log).to_contain_text(reference)
    # The buttons of an answered question are gone.
    expect(widget.log.get_by_role("button", name="Ja, abschicken")).to_have_count(0)
    shown = widget.messages.count()

    # After a reload the conversation is still there (and the widget still open).
    widget.page.reload()
    expect(widget.dialog).to_be_visible()
    expect(widget.messages).to_have_count(shown)
    expect(widget.log).to_contain_text(script.start)
    expect(widget.log).to_contain_text(reference)
    sender = widget.page.evaluate("() => localStorage.getItem('govbot.sender')")

    # "Neues Gespräch" starts afresh: another sender id, an empty transcript.
    widget.dialog.get_by_role("button", name="Neues Gespräch").click()
    expect(widget.messages).to_have_count(0)
    expect(widget.input).to_be_focused()
    assert widget.page.evaluate("() => localStorage.getItem('govbot.sender')") != sender
    widget.page.reload()
    expect(widget.messages).to_have_count(0)
    expect(widget.dialog.locator(".govbot-notice")).to_contain_text(NOTICE)
    assert widget.errors == []


def test_a_conversation_with_the_keyboard_alone(widget: Widget) -> None:
    page = widget.page
    for _ in range(40):
        page.keyboard.press("Tab")
        if widget.focused() == LAUNCHER:
            break
    assert widget.focused() == LAUNCHER
    page.keyboard.press("Enter")
    expect(widget.dialog).to_be_visible()
    expect(widget.input).to_be_focused()

    def typed() -> None:
        page.keyboard.type("Was kostet ein Reisepass?")
        page.keyboard.press("Enter")

    replies = widget._answered(typed)
    assert replies, replies
    expect(widget.input).to_be_focused()

    # Tab order: header buttons, privacy link, links and buttons of the log, input, send.
    widget.dialog.get_by_role("button", name="Neues Gespräch").focus()
    order = [widget.focused()]
    for _ in range(30):
        page.keyboard.press("Tab")
        order.append(widget.focused())
        if order[-1] == "Senden":
            break
    assert order[:3] == ["Neues Gespräch", "Chat schließen", "Hinweise zum Datenschutz"], order
    assert order[-2:] == ["Ihre Nachricht", "Senden"], order
    # Focus is visible.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    # Escape closes the dialog and gives the focus back to the launcher.
    widget.input.focus()
    page.keyboard.press("Escape")
    expect(widget.dialog).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    assert widget.errors == []


def test_hostile_texts_render_inert(widget: Widget) -> None:
    widget.open()
    attack = "<img src=x onerror=alert(1)>"
    widget.say(attack)
    mine = widget.log.locator(".govbot-user").last
    expect(mine.locator(".govbot-text")).to_have_text(attack)

    # A bot text with a javascript: link and markup, answered by a stand-in for this request.
    def hostile(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
            body=json.dumps([{"recipient_id": "x", "text": HOSTILE_TEXT}]),
        )

    widget.page.route(WEBHOOK, hostile)
    widget.say("Zeig mir einen Link")
    widget.page.unroute(WEBHOOK)
    answer = widget.log.locator(".govbot-bot").last
    expect(answer).to_contain_text("[x](javascript:alert(1))")
    expect(answer).to_contain_text("<img src=x onerror=alert(1)>")
    expect(answer).to_contain_text("[Daten](data:text/html,<b>x</b>)")
    expect(answer).to_contain_text("[Datei](file:///etc/passwd)")
    links = answer.get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == [
        "https://www.musterstadt.example/buergerbuero",
        "https://service.musterstadt.example/formulare/x",
        "mailto:buergerbuero@musterstadt.example",
        "tel:+49123456789",
    ]
    for i in range(links.count()):
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer")
        expect(links.nth(i)).to_have_attribute("target", "_blank")
    widget.page.wait_for_timeout(500)  # an injected image would have failed to load by now
    assert widget.page.locator(".govbot-widget img, .govbot-widget b").count() == 0
    assert widget.page.locator("[href^='javascript:' i], [src^='javascript:' i]").count() == 0
    assert widget.dialogs == []
    assert widget.errors == []


def test_when_rasa_cannot_be_reached_the_typed_text_stays(widget: Widget) -> None:
    widget.open()
    widget.page.route(WEBHOOK, lambda route: route.abort())
    widget.input.fill("Wann hat das Standesamt geöffnet?")
    widget.input.press("Enter")
    alert = widget.dialog.get_by_role("alert")
    expect(alert).to_contain_text("nicht erreichbar")
    expect(alert).to_contain_text("Ihre Nachricht steht noch im Eingabefeld")
    expect(widget.input).to_have_value("Wann hat das Standesamt geöffnet?")
    expect(widget.messages).to_have_count(0)

    widget.page.unroute(WEBHOOK)
    replies = widget.say("Wann hat das Standesamt geöffnet?")
    assert any("Öffnungszeiten" in reply for reply in replies), replies
    expect(alert).to_have_text("")


def axe_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})"
        for v in results.response["violations"]
    ]


def test_no_accessibility_violations_with_the_widget_open(widget: Widget) -> None:
    assert axe_violations(widget.page) == []
    widget.open()
    assert axe_violations(widget.page) == []
    widget.say("Ich möchte einen Bewohnerparkausweis beantragen")
    widget.say("Anna")
    assert axe_violations(widget.page) == []


def test_phones_get_a_full_screen_chat_and_screenshots(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    folder = ROOT / "docs" if os.environ.get("GOVBOT_SCREENSHOTS") == "1" else tmp_path
    for name, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
        context = browser.new_context(viewport=viewport, locale="de-DE")  # type: ignore[arg-type]
        try:
            widget = Widget(context.new_page(), f"{stack.backend_url}/demo")
            widget.page.goto(widget.url)
            widget.open()
            widget.say("Wann hat das Bürgerbüro geöffnet?")
            widget.say("Ich möchte einen Bewohnerparkausweis beantragen")
            box = widget.dialog.bounding_box()
            assert box is not None
            if name == "mobile":
                assert (box["width"], box["height"]) == (MOBILE["width"], MOBILE["height"])
                expect(widget.launcher).to_be_hidden()
                # The page behind is covered: Tab goes round inside the chat.
                widget.dialog.get_by_role("button", name="Senden").focus()
                widget.page.keyboard.press("Tab")
                assert widget.focused() == "Neues Gespräch"
                widget.page.keyboard.press("Shift+Tab")
                assert widget.focused() == "Senden"
            else:
                assert box["width"] < DESKTOP["width"] / 2
            widget.page.screenshot(path=str(folder / f"widget-{name}.png"))
        finally:
            context.close()


def test_the_demo_page_is_a_marked_sample(widget: Widget) -> None:
    heading = widget.page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Stadt Musterstadt – Digitales Serviceportal (Demo)")
    expect(widget.page.locator("body")).to_contain_text("Beispielseite")
    scripts = widget.page.locator("script")
    expect(scripts).to_have_count(1)
    assert re.search(r"/widget/govbot-widget\.js$", scripts.get_attribute("src") or "")
