"""Untrusted input over the REST channel: a polite answer or a 4xx, never a 5xx or a crash."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.stack import Stack

pytestmark = pytest.mark.integration


def post(stack: Stack, content: bytes) -> httpx.Response:
    return httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        content=content,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def test_empty_message_gets_a_polite_answer(stack: Stack) -> None:
    assert stack.texts("bad-empty", "") == [
        "Ihre Nachricht war leer. Bitte schreiben Sie mir Ihre Frage als Text."
    ]


def test_100_kb_message_gets_a_polite_answer(stack: Stack) -> None:
    [text] = stack.texts("bad-long", "Öffnungszeiten " * 7000)
    assert "zu lang" in text


def test_control_characters_are_ignored(stack: Stack) -> None:
    [text] = stack.texts("bad-control", "Hal\u0000lo\u0007\u001b")
    assert text.startswith("Guten Tag!")


@pytest.mark.parametrize(
    "content",
    [
        b'{"sender": "bad-utf8", "message": "\xff\xfe Hallo"}',
        b"not json at all",
        json.dumps({"message": "Hallo"}).encode(),
        json.dumps({"sender": None, "message": "Hallo"}).encode(),
        json.dumps({"sender": "bad-type", "message": {"text": "Hallo"}}).encode(),
        b"",
    ],
    ids=["invalid-utf8", "not-json", "missing-sender", "null-sender", "message-object", "no-body"],
)
def test_malformed_requests_get_a_400(stack: Stack, content: bytes) -> None:
    response = post(stack, content)
    assert response.status_code == 400
    assert response.json()["error"]


def test_bad_input_does_not_disturb_other_conversations(stack: Stack) -> None:
    # A burst of bad requests interleaved with real conversations, all at once.
    bad = [b"\xff" * 1000, b"{", json.dumps({"message": "x"}).encode()] * 5

    def real(i: int) -> list[str]:
        return stack.texts(f"parallel-{i}", "Guten Tag")

    with ThreadPoolExecutor(max_workers=8) as pool:
        bad_results = list(pool.map(lambda c: post(stack, c).status_code, bad))
        good_results = list(pool.map(real, range(6)))
    assert set(bad_results) == {400}
    assert all(texts and texts[0].startswith("Guten Tag!") for texts in good_results)
    # The same conversation goes on after its own bad message.
    stack.texts("bad-empty", "")
    assert stack.texts("bad-empty", "Hallo")[0].startswith("Guten Tag!")
