"""Test data for applications: valid answers, a small spec with two routes, submitting."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

APPLICATIONS = "/api/v1/applications"

# A form of our own with two departments, a conditional field, a conditional route and two
# routes to the same department, so that routing is tested independently of data/forms/.
MOVE_SPEC = """
id: umzug-test
title: Umzug mit Gewerbe (Test)
reference_prefix: UMZ
sample_data: false
intro: Ein Formular nur für Tests.
fields:
  - name: name
    type: name
    section: Person
    label: Name
    question: Wie heißen Sie?
    hint: Bitte nennen Sie Ihren Namen.
  - name: postleitzahl
    type: postal_code
    in_city: true
    section: Person
    label: Postleitzahl
    question: Wie lautet Ihre Postleitzahl?
    hint: Bitte nennen Sie die Postleitzahl Ihrer neuen Wohnung.
  - name: gewerbe
    type: boolean
    section: Gewerbe
    label: Mit Gewerbe
    question: Betreiben Sie ein Gewerbe?
    hint: Bitte antworten Sie mit ja oder nein.
  - name: taetigkeit
    type: long_text
    when: {field: gewerbe, is: true}
    max_length: 300
    section: Gewerbe
    label: Tätigkeit
    question: Was genau tun Sie?
    hint: Bitte beschreiben Sie Ihre Tätigkeit in ein paar Worten.
  - name: bemerkung
    type: text
    required: false
    section: Sonstiges
    label: Bemerkung
    question: Möchten Sie noch etwas anmerken?
    hint: Bitte schreiben Sie Ihre Bemerkung oder „keine“.
routes:
  - department: buergerbuero
    purpose: Anmeldung der neuen Wohnung
    fields: [name, postleitzahl, bemerkung]
    next_steps: Das Bürgerbüro schickt Ihnen die Meldebestätigung.
  - department: gewerbeamt
    purpose: Ummeldung des Gewerbes
    fields: [name, taetigkeit]
    next_steps: Das Gewerbeamt bestätigt die Ummeldung.
    when: {field: gewerbe, is: true}
  - department: buergerbuero
    purpose: Hinweis auf ein Gewerbe
    fields: [gewerbe]
    next_steps: Das Bürgerbüro gibt den Hinweis weiter.
"""

_keys = itertools.count(1)


def new_key() -> str:
    return f"test-key-{next(_keys):08d}"


def parking_answers(**changes: Any) -> dict[str, Any]:
    """A valid Bewohnerparkausweis for 2 December 2026, as the bot submits it."""
    answers: dict[str, Any] = {
        "vorname": "Anna",
        "nachname": "Müller-Lüdenscheidt",
        "strasse": "Lindenallee 12",
        "postleitzahl": "12345",
        "wohnsitz": "hauptwohnsitz",
        "kennzeichen": "MU-AB 123",
        "halter": "selbst",
        "gueltig_ab": "2026-12-07",
        "email": "anna@example.org",
        "telefon": "",
    }
    answers.update(changes)
    return {name: value for name, value in answers.items() if value is not None}


def move_answers(**changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "name": "Jörg Öztürk",
        "postleitzahl": "12347",
        "gewerbe": True,
        "taetigkeit": "Reparatur von Fahrrädern & Zubehör <Laden>",
        "bemerkung": "keine",
    }
    answers.update(changes)
    return {name: value for name, value in answers.items() if value is not None}


def body(form: str = "bewohnerparkausweis", answers: dict[str, Any] | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    return {
        "form": form,
        "answers": parking_answers() if answers is None else answers,
        "channel": "telegram",
        "conversation_id": "conversation-1",
        **extra,
    }


async def submit(
    client: httpx.AsyncClient, payload: dict[str, Any], key: str | None = None
) -> httpx.Response:
    return await client.post(
        APPLICATIONS, json=payload, headers={"Idempotency-Key": key or new_key()}
    )
