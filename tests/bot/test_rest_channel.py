"""What the REST channel lets through to the assistant, and what it refuses with a 4xx."""

from __future__ import annotations

import json

import pytest
from sanic.response import HTTPResponse

from channels.rest import EMPTY_MESSAGE, MESSAGE_TOO_LONG, CitizenRestInput
from channels.text import clean_message


@pytest.fixture
def channel() -> CitizenRestInput:
    return CitizenRestInput(max_message_length=2000)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_normal_message_passes(channel: CitizenRestInput) -> None:
    assert channel.parse(body(sender="abc-1", message=" Hallo ")) == ("abc-1", "Hallo")


def test_telegram_conversations_cannot_be_reached_over_rest(channel: CitizenRestInput) -> None:
    refused = channel.parse(body(sender="telegram-987654321", message="abbrechen"))
    assert isinstance(refused, HTTPResponse)
    assert refused.status == 400


def test_numeric_sender_ids_are_accepted(channel: CitizenRestInput) -> None:
    assert channel.parse(body(sender=4711, message="Hallo")) == ("4711", "Hallo")


@pytest.mark.parametrize("message", ["", "   ", "\u0000\u0007", None])
def test_empty_messages_become_the_empty_signal(channel: CitizenRestInput, message) -> None:  # type: ignore[no-untyped-def]
    assert channel.parse(body(sender="a", message=message)) == ("a", EMPTY_MESSAGE)


def test_a_missing_message_is_an_empty_one(channel: CitizenRestInput) -> None:
    assert channel.parse(body(sender="a")) == ("a", EMPTY_MESSAGE)


def test_an_overlong_message_becomes_the_too_long_signal(channel: CitizenRestInput) -> None:
    assert channel.parse(body(sender="a", message="x" * 100_000)) == ("a", MESSAGE_TOO_LONG)


def test_control_characters_and_lone_surrogates_are_removed() -> None:
    assert clean_message("Hal\u0000lo\u001b[31m\ud800 Welt\u200b") == "Hallo[31m Welt\u200b"
    assert clean_message("Zeile 1\nZeile\t2") == "Zeile 1\nZeile 2"
    # Decomposed umlauts are composed, so "Bürgerbüro" matches whatever the keyboard sent.
    assert clean_message("Bu\u0308rgerbu\u0308ro") == "Bürgerbüro"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\xff\xfe{not utf-8", "invalid_json"),
        (b"{broken json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (body(message="Hallo"), "invalid_sender"),
        (body(sender="", message="Hallo"), "invalid_sender"),
        (body(sender="a b", message="Hallo"), "invalid_sender"),
        (body(sender="x" * 129, message="Hallo"), "invalid_sender"),
        (body(sender={"id": 1}, message="Hallo"), "invalid_sender"),
        (body(sender=True, message="Hallo"), "invalid_sender"),
        (body(sender="a\u0000b", message="Hallo"), "invalid_sender"),
        (body(sender="a\u202eb", message="Hallo"), "invalid_sender"),
        (body(sender="a\u200bb", message="Hallo"), "invalid_sender"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (body(sender="a", message=["Hallo"]), "invalid_message"),
    ],
)
def test_malformed_requests_get_a_400(channel: CitizenRestInput, raw: bytes, code: str) -> None:
    result = channel.parse(raw)
    assert isinstance(result, HTTPResponse)
    assert result.status == 400
    assert json.loads(result.body)["error"] == code
