"""Submitting applications: checked against the spec, stored once per key, routed per
department; bad input gets a clear 4xx, never a 500, and its values are not echoed."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from backend.app.core.config import Settings
from backend.app.models import Application, Delivery
from tests.backend.builders import (
    APPLICATIONS,
    MOVE_SPEC,
    body,
    move_answers,
    new_key,
    parking_answers,
    submit,
)
from tests.backend.conftest import ManualClock, forms_dir, make_settings

REFERENCE = re.compile(r"^[A-Za-z]{2,4}-20[0-9]{2}-[0-9]{4,8}$")  # the bot's EntityRuler


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, forms_dir=forms_dir(tmp_path, ("umzug-test.yml", MOVE_SPEC)))


def count(app: FastAPI, model: type[Application] | type[Delivery]) -> int:
    with app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def stored(app: FastAPI, reference: str) -> Application:
    with app.state.session_factory() as session:
        application = session.scalar(select(Application).where(Application.reference == reference))
        assert application is not None
        application.deliveries  # noqa: B018 - load them before the session closes
        return application


async def test_a_valid_application_is_stored_and_routed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await submit(client, body(answers=parking_answers(telefon="keine")))

    assert response.status_code == 201
    answer = response.json()
    assert REFERENCE.match(answer["reference"])
    assert answer["reference"].startswith("BPA-2026-")
    assert answer["form"] == "bewohnerparkausweis"
    assert answer["title"] == "Bewohnerparkausweis"
    assert answer["status"] == "received"
    assert answer["created_at"] == "2026-12-02T10:00:00+01:00"
    assert answer["deliveries"] == [
        {
            "department": "strassenverkehrsamt",
            "department_name": "Straßenverkehrsamt",
            "purpose": "Prüfung und Ausstellung des Bewohnerparkausweises",
            "next_steps": answer["deliveries"][0]["next_steps"],
            "status": "pending",
        }
    ]
    assert "Straßenverkehrsamt prüft" in answer["deliveries"][0]["next_steps"]

    application = stored(app, answer["reference"])
    assert application.form_id == "bewohnerparkausweis"
    assert application.service_slug == "bewohnerparkausweis"
    assert application.postal_code == "12345"
    assert application.channel == "telegram"
    assert application.conversation_id == "conversation-1"
    # Canonical answers; the optional phone number the citizen declined is stored as skipped.
    assert application.answers["telefon"] == ""
    assert application.answers["gueltig_ab"] == "2026-12-07"
    assert "halter_name" not in application.answers  # not asked when the car is one's own
    [delivery] = application.deliveries
    assert delivery.fields == list(application.answers)
    assert delivery.status == "pending"
    assert delivery.attempts == 0


async def test_natural_answers_are_stored_in_canonical_form(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    answers = parking_answers(
        strasse="lindenallee 12", kennzeichen="mu ab 123", gueltig_ab="ab sofort", wohnsitz="Haupt"
    )
    response = await submit(client, body(answers=answers))
    assert response.status_code == 201
    stored_answers = stored(app, response.json()["reference"]).answers
    assert stored_answers["strasse"] == "Lindenallee 12"
    assert stored_answers["kennzeichen"] == "MU-AB 123"
    assert stored_answers["gueltig_ab"] == "2026-12-02"
    assert stored_answers["wohnsitz"] == "hauptwohnsitz"


async def test_each_department_gets_only_the_fields_its_routes_name(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await submit(client, body("umzug-test", move_answers()))

    assert response.status_code == 201
    answer = response.json()
    assert answer["reference"].startswith("UMZ-2026-")
    assert [d["department"] for d in answer["deliveries"]] == ["buergerbuero", "gewerbeamt"]
    # Two routes to the Bürgerbüro make one part, with both purposes.
    assert answer["deliveries"][0]["purpose"] == (
        "Anmeldung der neuen Wohnung; Hinweis auf ein Gewerbe"
    )
    deliveries = {d.department_slug: d for d in stored(app, answer["reference"]).deliveries}
    assert deliveries["buergerbuero"].fields == ["name", "postleitzahl", "gewerbe", "bemerkung"]
    assert deliveries["gewerbeamt"].fields == ["name", "taetigkeit"]


async def test_a_route_whose_condition_fails_gets_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await submit(
        client, body("umzug-test", move_answers(gewerbe="nein", taetigkeit=None))
    )

    assert response.status_code == 201
    [delivery] = stored(app, response.json()["reference"]).deliveries
    assert delivery.department_slug == "buergerbuero"
    assert delivery.fields == ["name", "postleitzahl", "gewerbe", "bemerkung"]


INVALID_ANSWERS: list[tuple[dict[str, object], str, str]] = [
    ({"email": "anna(at)example"}, "email", "E-Mail-Adresse"),
    ({"vorname": None}, "vorname", "Diese Angabe fehlt."),
    ({"gueltig_ab": "2027-06-01"}, "gueltig_ab", "nach dem"),
    ({"halter_name": "Firma Muster GmbH"}, "halter_name", "nicht gefragt"),
    ({"lieblingsfarbe": "blau"}, "lieblingsfarbe", "gibt es im Antrag nicht"),
    ({"kennzeichen": 12345}, "kennzeichen", "Kennzeichen"),
]


async def test_invalid_answers_are_refused_per_field_and_nothing_is_stored(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for changes, field, hint in INVALID_ANSWERS:
        response = await submit(client, body(answers=parking_answers(**changes)))

        assert response.status_code == 422, changes
        detail = response.json()["detail"]
        assert detail["message"] == "Der Antrag ist unvollständig oder fehlerhaft."
        assert list(detail["errors"]) == [field]
        assert hint in detail["errors"][field]
    assert count(app, Application) == 0
    assert count(app, Delivery) == 0


async def test_errors_do_not_repeat_what_the_citizen_wrote(client: httpx.AsyncClient) -> None:
    answers = parking_answers(strasse="Geheimweg 7", postleitzahl="99999", vorname="R2D2")
    response = await submit(client, body(answers=answers))

    assert response.status_code == 422
    errors = response.json()["detail"]["errors"]
    assert set(errors) == {"strasse", "postleitzahl", "vorname"}
    for secret in ("Geheimweg", "99999", "R2D2"):
        assert secret not in response.text
    assert "Straße und Hausnummer" in errors["strasse"]  # the spec's own hint instead


async def test_an_unknown_form_is_a_404(client: httpx.AsyncClient) -> None:
    response = await submit(client, body("hundesteuer-auf-katzen"))
    assert response.status_code == 404
    assert response.json() == {"detail": "Unbekanntes Formular."}


async def test_a_service_of_another_form_is_refused(client: httpx.AsyncClient) -> None:
    response = await submit(client, body(service="hundeanmeldung"))
    assert response.status_code == 422
    assert set(response.json()["detail"]["errors"]) == {"service"}


async def test_a_missing_or_malformed_idempotency_key_is_a_400(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    bad_keys: list[str | bytes | None] = [
        None, "", "short", "has spaces in it", "ümlaut-key".encode("latin-1"), "x" * 129, "a/../..b"
    ]  # fmt: skip
    for key in bad_keys:
        headers: dict[str, Any] = {} if key is None else {"Idempotency-Key": key}
        response = await client.post(APPLICATIONS, json=body(), headers=headers)
        assert response.status_code == 400, key
        assert "Idempotency-Key" in response.json()["detail"]
    assert count(app, Application) == 0


async def test_the_same_submission_again_returns_the_same_application(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    key = new_key()
    first = await submit(client, body(answers=parking_answers(gueltig_ab="heute")), key)
    # Two days later "today" is no longer a valid start, but a repeated submission is
    # answered from what was stored when it first arrived.
    clock.advance(days=2)
    again = await submit(client, body(answers=parking_answers(gueltig_ab="heute")), key)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert count(app, Application) == 1
    assert count(app, Delivery) == 1


async def test_key_order_and_spacing_do_not_make_a_submission_different(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key = new_key()
    payload = body()
    first = await submit(client, payload, key)
    reordered = json.dumps(dict(reversed(list(payload.items()))), indent=2).encode()
    again = await client.post(
        APPLICATIONS,
        content=reordered,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]


async def test_concurrent_submissions_with_one_key_make_one_application(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key = new_key()
    responses = await asyncio.gather(*(submit(client, body(), key) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["reference"] for r in responses}) == 1
    assert count(app, Application) == 1
    assert count(app, Delivery) == 1


async def test_the_same_key_with_another_body_is_a_conflict(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key = new_key()
    assert (await submit(client, body(), key)).status_code == 201
    other = await submit(client, body(answers=parking_answers(kennzeichen="MU-XY 9")), key)
    assert other.status_code == 409
    assert count(app, Application) == 1


async def test_a_reference_number_that_is_taken_is_drawn_again(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter([111111, 111111, 222222])
    monkeypatch.setattr("backend.app.submissions.secrets.randbelow", lambda _: next(draws))
    first = await submit(client, body())
    second = await submit(client, body(answers=parking_answers(kennzeichen="MU-XY 9")))
    assert first.json()["reference"] == "BPA-2026-111111"
    assert second.json()["reference"] == "BPA-2026-222222"


async def test_a_body_larger_than_the_limit_is_a_413(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    payload = body(answers=parking_answers(vorname="A" * 70_000))
    response = await submit(client, payload)
    assert response.status_code == 413
    assert count(app, Application) == 0


async def test_an_answer_longer_than_its_spec_allows_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await submit(client, body("umzug-test", move_answers(taetigkeit="Reparatur " * 40)))
    assert response.status_code == 422
    assert "höchstens 300 Zeichen" in response.json()["detail"]["errors"]["taetigkeit"]


MALFORMED_BODIES = [
    (b"", 400),
    (b"{not json", 400),
    (b"[" * 5000, 400),
    (b'{"form": "bewohnerparkausweis", "answers": {"vorname": ' + b"9" * 5000 + b"}}", 400),
    (b'{"form": "bewohnerparkausweis"}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": []}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"vorname": {"a": 1}}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"Vor Name": "x"}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"email": NaN}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {}, "admin": true}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {}, "channel": "Tele gram!"}', 422),
    (b'{"form": 5, "answers": {}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"vorname": 1e999}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"vorname": "\\u0000\\u0007"}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"gueltig_ab": "31.02.2027"}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"gueltig_ab": 20261207}}', 422),
    (b'{"form": "bewohnerparkausweis", "answers": {"halter": true}}', 422),
]


async def test_malformed_bodies_get_a_4xx_without_echo(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for content, status in MALFORMED_BODIES:
        response = await client.post(
            APPLICATIONS,
            content=content,
            headers={"Idempotency-Key": new_key(), "Content-Type": "application/json"},
        )
        assert response.status_code == status, (content[:80], response.text)
        assert "Vor Name" not in response.text and "Tele gram" not in response.text
        if status == 422:
            assert response.json()["detail"]["errors"], content[:80]
    assert count(app, Application) == 0


async def test_the_state_of_an_application_names_no_answers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    reference = (await submit(client, body())).json()["reference"]

    response = await client.get(f"{APPLICATIONS}/{reference.lower()}")

    assert response.status_code == 200
    assert response.json() == {
        "reference": reference,
        "form": "bewohnerparkausweis",
        "status": "received",
        "created_at": "2026-12-02T10:00:00+01:00",
        "updated_at": "2026-12-02T10:00:00+01:00",
        "deliveries": [
            {
                "department": "strassenverkehrsamt",
                "department_name": "Straßenverkehrsamt",
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": "2026-12-02T10:00:00+01:00",
                "delivered_at": None,
                "last_error": None,
            }
        ],
    }
    for answer in ("Anna", "Lindenallee", "12345", "MU-AB"):
        assert answer not in response.text


@pytest.mark.parametrize("reference", ["BPA-2026-000000", "status", "x" * 300])
async def test_an_unknown_reference_is_a_404(client: httpx.AsyncClient, reference: str) -> None:
    response = await client.get(f"{APPLICATIONS}/{reference}")
    assert response.status_code == 404


async def test_a_submitted_application_answers_status_questions(
    client: httpx.AsyncClient,
) -> None:
    reference = (await submit(client, body())).json()["reference"]
    response = await client.post(
        f"{APPLICATIONS}/status", json={"reference": reference, "postal_code": "12345"}
    )
    assert response.status_code == 200
    assert response.json()["service"]["slug"] == "bewohnerparkausweis"


async def test_the_api_is_documented(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    submit_operation = schema["paths"][APPLICATIONS]["post"]
    assert submit_operation["parameters"] == [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"},
            "description": submit_operation["parameters"][0]["description"],
        }
    ]
    request = submit_operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(request["properties"]) == {
        "form",
        "answers",
        "service",
        "channel",
        "conversation_id",
    }
    assert set(submit_operation["responses"]) == {
        "200", "201", "400", "404", "409", "413", "422", "503"
    }  # fmt: skip
    assert "get" in schema["paths"][f"{APPLICATIONS}/{{reference}}"]


async def test_a_busy_database_asks_the_client_to_send_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr("backend.app.api.routes.submissions.submit", locked)
    response = await submit(client, body())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "same Idempotency-Key" in response.json()["detail"]
