"""Application status over the running stack: reference number and postal code in German."""

from __future__ import annotations

import sqlite3

import pytest

from tests.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def application(stack: Stack) -> str:
    """An application in the backend's database, as the submission API will store it."""
    with sqlite3.connect(stack.state / "backend.sqlite3") as db:
        db.execute(
            "INSERT INTO application (reference, service_slug, form_id, answers, postal_code,"
            " status, status_note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                "HUN-2026-000042",
                "hundeanmeldung",
                "hundeanmeldung",
                "{}",
                "33098",
                "in_progress",
                None,
            ),
        )
    return "HUN-2026-000042"


def test_status_after_reference_number_and_postal_code(stack: Stack, application: str) -> None:
    sender = "status-1"
    [question] = stack.texts(sender, "Wie ist der Stand meines Antrags?")
    assert "Vorgangsnummer" in question
    [question] = stack.texts(sender, application)
    assert "Postleitzahl" in question
    [status] = stack.texts(sender, "33098")
    assert (
        status
        == "Ihr Antrag HUN-2026-000042 (Hundeanmeldung (Hundesteuer)) wird gerade bearbeitet."
    )


def test_reference_number_in_the_first_message(stack: Stack, application: str) -> None:
    sender = "status-2"
    [question] = stack.texts(sender, f"Wie weit ist mein Antrag {application}?")
    assert "Postleitzahl" in question
    [status] = stack.texts(sender, "33098")
    assert "wird gerade bearbeitet" in status


@pytest.mark.parametrize(
    ("reference", "postal_code"),
    [("HUN-2026-000042", "10115"), ("HUN-2026-999999", "33098"), ("weiß ich nicht", "33098")],
    ids=["wrong-postal-code", "unknown-reference", "malformed-reference"],
)
def test_wrong_combinations_get_one_uniform_answer(
    stack: Stack, application: str, reference: str, postal_code: str
) -> None:
    sender = f"status-wrong-{abs(hash((reference, postal_code)))}"
    stack.texts(sender, "Wie ist der Stand meines Antrags?")
    stack.texts(sender, reference)
    [answer] = stack.texts(sender, postal_code)
    assert answer.startswith("Zu dieser Kombination aus Vorgangsnummer und Postleitzahl finde ich")


def test_guessing_is_slowed_down(stack: Stack, application: str) -> None:
    sender = "status-guesser"
    answers = []
    for serial in range(6):
        stack.texts(sender, "Wie ist der Stand meines Antrags?")
        stack.texts(sender, f"HUN-2026-00010{serial}")
        answers.append(stack.texts(sender, "33098")[0])
    assert all(a.startswith("Zu dieser Kombination") for a in answers[:5])
    assert answers[5].startswith("Es gab zu viele erfolglose Versuche.")
