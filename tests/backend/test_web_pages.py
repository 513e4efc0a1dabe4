"""The demo portal, the privacy placeholder and the widget's files, served by the backend."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from backend.app.core.config import Settings
from backend.app.main import create_app
from tests.backend.conftest import make_settings


async def get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend.test") as http:
        return await http.get(path)


async def test_the_demo_page_embeds_the_widget_with_one_script_tag(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/demo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Stadt Musterstadt – Digitales Serviceportal (Demo)" in page
    assert "Beispiel" in page
    assert page.count("<script") == 1
    assert (
        '<script src="/widget/govbot-widget.js" data-rasa-url="http://127.0.0.1:5005" '
        'data-privacy-url="/datenschutz" defer></script>'
    ) in page
    assert "<style" not in page and " style=" not in page and "onclick" not in page


async def test_the_pages_forbid_inline_script_and_allow_only_the_rasa_server(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, public_rasa_url="https://portal.example:8443/govbot/")
    for path in ("/demo", "/datenschutz"):
        response = await get(settings, path)
        policy = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["default-src"] == "'none'"
        assert directives["connect-src"] == "'self' https://portal.example:8443"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    page = (await get(settings, "/demo")).text
    assert 'data-rasa-url="https://portal.example:8443/govbot"' in page


async def test_the_rasa_url_is_escaped_in_the_page(tmp_path: Path) -> None:
    # The settings refuse quotes; were one to slip through, autoescaping keeps it an attribute.
    settings = make_settings(tmp_path).model_copy(
        update={"public_rasa_url": 'http://x/"><script>alert(1)</script>'}
    )
    page = (await get(settings, "/demo")).text
    assert "<script>alert(1)" not in page
    assert 'data-rasa-url="http://x/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://rasa.example",
        'http://rasa.example/"onload="x',
        "http://rasa.example; script-src *",
        "http://rasa.example/a b",
        "http://user:pw@rasa.example",
        "http://rasa.example/?q=1",
        "http:///nohost",
    ],
)
def test_a_public_rasa_url_that_is_not_a_plain_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="BACKEND_PUBLIC_RASA_URL"):
        Settings(public_rasa_url=url, _env_file=None)  # type: ignore[call-arg]


async def test_the_privacy_placeholder_is_marked_as_sample_text(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/datenschutz")
    assert response.status_code == 200
    assert "Beispieltext" in response.text


async def test_the_widget_files_are_served_with_their_types(client: httpx.AsyncClient) -> None:
    script = await client.get("/widget/govbot-widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in {
        "text/javascript",
        "application/javascript",
    }
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "webhooks/rest/webhook" in script.text
    style = await client.get("/widget/govbot-widget.css")
    assert style.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/portal.css")).status_code == 200
    assert (await client.get("/widget/../backend/app/main.py")).status_code == 404


def test_the_widget_never_parses_text_as_html() -> None:
    source = (Path(__file__).resolve().parents[2] / "channels/widget/govbot-widget.js").read_text()
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert unsafe not in source
