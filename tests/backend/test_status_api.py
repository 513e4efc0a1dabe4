"""Application status: the right combination answers, every wrong one gets the same 404,
and guessing is refused after a few failures."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from backend.app.models import Application

NO_MATCH = "Zu dieser Vorgangsnummer und Postleitzahl ist kein Antrag bekannt."


@pytest.fixture
async def application(app: FastAPI) -> Application:
    with app.state.session_factory() as session:
        row = Application(
            reference="BPA-2026-000123",
            service_slug="bewohnerparkausweis",
            form_id="bewohnerparkausweis",
            postal_code="33098",
            status="in_progress",
            status_note="Wir prüfen den Nachweis der Fahrzeugnutzung.",
        )
        session.add(row)
        session.commit()
        return row


async def ask(
    client: httpx.AsyncClient, reference: str, postal_code: str, conversation: str = "c1"
):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/applications/status",
        json={"reference": reference, "postal_code": postal_code, "conversation": conversation},
    )


async def test_the_right_combination_tells_the_status(
    client: httpx.AsyncClient, application: Application
) -> None:
    response = await ask(client, " bpa-2026-000123 ", "33098")
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == "BPA-2026-000123"
    assert body["status"] == "in_progress"
    assert body["service"]["name"] == "Bewohnerparkausweis"
    assert "Nachweis" in body["status_note"]


@pytest.mark.parametrize(
    ("reference", "postal_code"),
    [
        ("BPA-2026-000123", "33100"),  # another postal code
        ("BPA-2026-999999", "33098"),  # unknown reference
        ("bitte schnell", "33098"),  # malformed reference
        ("BPA-2026-000123", "abcde"),  # malformed postal code
        ("'; DROP TABLE application; --", "33098"),
    ],
)
async def test_every_wrong_combination_gets_the_same_answer(
    client: httpx.AsyncClient, application: Application, reference: str, postal_code: str
) -> None:
    response = await ask(client, reference, postal_code)
    assert response.status_code == 404
    assert response.json() == {"detail": NO_MATCH}


async def test_guessing_from_one_conversation_is_refused(
    client: httpx.AsyncClient, application: Application
) -> None:
    for serial in range(5):
        assert (await ask(client, f"BPA-2026-00000{serial}", "33098", "guesser")).status_code == 404
    refused = await ask(client, "BPA-2026-000123", "33098", "guesser")
    assert refused.status_code == 429
    # Other conversations are not affected.
    assert (await ask(client, "BPA-2026-000123", "33098", "someone-else")).status_code == 200


async def test_guessing_one_reference_from_many_conversations_is_refused(
    client: httpx.AsyncClient, application: Application
) -> None:
    for i in range(5):
        response = await ask(client, "BPA-2026-000123", f"{33100 + i}", f"conversation-{i}")
        assert response.status_code == 404
    assert (await ask(client, "BPA-2026-000123", "33098", "fresh")).status_code == 429


async def test_missing_fields_are_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/applications/status", json={"reference": "x"})
    assert response.status_code == 422


async def test_new_conversation_ids_do_not_reset_the_count_per_postal_code(
    client: httpx.AsyncClient, application: Application
) -> None:
    for serial in range(20):
        guess = await ask(client, f"BPA-2026-1{serial:05d}", "33098", f"fresh-{serial}")
        assert guess.status_code == 404
    refused = await ask(client, "BPA-2026-000123", "33098", "yet-another")
    assert refused.status_code == 429
