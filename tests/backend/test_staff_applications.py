"""The clerks' pages: applications of their departments only, their fields, PDF and status."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader
from sqlalchemy import select

from backend.app.models import Application, ApplicationEvent
from tests.backend import staff_support
from tests.backend.conftest import ManualClock
from tests.backend.staff_support import (
    add_account,
    browser,
    post,
    session_for,
    submit_move,
    submit_parking,
)

staff_settings, relay, staff_app, api = (
    staff_support.staff_settings,
    staff_support.relay,
    staff_support.staff_app,
    staff_support.api,
)

LINK = re.compile(r'href="/intern/antraege/(\d+)"')


@pytest.fixture
def accounts(staff_app: FastAPI) -> None:
    add_account(staff_app, "gewerbe", "clerk", ["gewerbeamt"])
    add_account(staff_app, "buerger", "clerk", ["buergerbuero"])
    add_account(staff_app, "beide", "clerk", ["buergerbuero", "strassenverkehrsamt"])


def as_clerk(app: FastAPI, username: str) -> httpx.AsyncClient:
    client = browser(app)
    session_for(app, client, username)
    return client


def listed(page: str) -> list[int]:
    return [int(number) for number in LINK.findall(page)]


async def ask_status(api: httpx.AsyncClient, reference: str, postal_code: str) -> httpx.Response:
    return await api.post(
        "/api/v1/applications/status",
        json={"reference": reference, "postal_code": postal_code, "conversation": "c-1"},
    )


async def test_the_list_holds_only_the_clerks_departments_newest_first(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None, clock: ManualClock
) -> None:
    move = await submit_move(staff_app, api)  # buergerbuero and gewerbeamt
    clock.advance(minutes=5)
    plain_move = await submit_move(staff_app, api, gewerbe=False, taetigkeit=None)
    clock.advance(minutes=5)
    parking = await submit_parking(staff_app, api)  # strassenverkehrsamt

    async with as_clerk(staff_app, "gewerbe") as web:
        assert listed((await web.get("/intern/antraege")).text) == [move.id]
    async with as_clerk(staff_app, "buerger") as web:
        page = (await web.get("/intern/antraege")).text
        assert listed(page) == [plain_move.id, move.id]
        assert move.reference in page and "Umzug mit Gewerbe (Test)" in page
        assert parking.reference not in page
    async with as_clerk(staff_app, "beide") as web:
        assert listed((await web.get("/intern/antraege")).text) == [
            parking.id,
            plain_move.id,
            move.id,
        ]
        by_form = await web.get("/intern/antraege?formular=bewohnerparkausweis")
        assert listed(by_form.text) == [parking.id]
        by_department = await web.get("/intern/antraege?abteilung=buergerbuero")
        assert listed(by_department.text) == [plain_move.id, move.id]
        await post(staff_app, web, f"/intern/antraege/{move.id}/status", {"status": "in_progress"})
        by_status = await web.get("/intern/antraege?status=in_progress")
        assert listed(by_status.text) == [move.id]
        # A department that is not the clerk's is ignored, not shown.
        other = await web.get("/intern/antraege?abteilung=gewerbeamt")
        assert listed(other.text) == [parking.id, plain_move.id, move.id]


async def test_the_list_is_paginated(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None, clock: ManualClock
) -> None:
    ids = []
    for _ in range(27):
        clock.advance(minutes=1)
        ids.append((await submit_move(staff_app, api, gewerbe=False, taetigkeit=None)).id)
    async with as_clerk(staff_app, "buerger") as web:
        first = (await web.get("/intern/antraege")).text
        assert "27 Anträge" in first and "Seite 1 von 2" in first
        assert listed(first) == list(reversed(ids))[:25]
        assert 'href="?seite=2"' in first
        second = (await web.get("/intern/antraege?seite=2")).text
        assert listed(second) == list(reversed(ids))[25:]
        filtered = (await web.get("/intern/antraege?status=received")).text
        assert 'href="?status=received&amp;seite=2"' in filtered


async def test_the_detail_shows_only_the_fields_the_department_receives(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None
) -> None:
    move = await submit_move(staff_app, api)
    async with as_clerk(staff_app, "gewerbe") as web:
        page = (await web.get(f"/intern/antraege/{move.id}")).text
    assert move.reference in page and "Umzug mit Gewerbe (Test)" in page
    assert "02.12.2026, 10:00 Uhr" in page
    assert "Für Gewerbeamt" in page and "Ummeldung des Gewerbes" in page
    assert ">Tätigkeit<" in page and ">Name<" in page
    # Escaped, as everything the citizen typed.
    assert "Reparatur von Fahrrädern &amp; Zubehör &lt;Laden&gt;" in page
    # The Bürgerbüro's fields are not the Gewerbeamt's business.
    assert "Postleitzahl" not in page and "12347" not in page
    assert "Bemerkung" not in page and "Mit Gewerbe" not in page
    assert "Für Bürgerbüro" not in page
    assert f"/intern/antraege/{move.id}/pdf/gewerbeamt" in page
    assert "/pdf/buergerbuero" not in page
    assert "wartet auf Zustellung" in page

    async with as_clerk(staff_app, "buerger") as web:
        page = (await web.get(f"/intern/antraege/{move.id}")).text
    assert ">Postleitzahl<" in page and "12347" in page and ">Mit Gewerbe<" in page
    assert "Tätigkeit" not in page and "Reparatur" not in page


async def test_the_pdf_is_the_departments_part(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None
) -> None:
    move = await submit_move(staff_app, api)
    async with as_clerk(staff_app, "gewerbe") as web:
        response = await web.get(f"/intern/antraege/{move.id}/pdf/gewerbeamt")
        assert (await web.get(f"/intern/antraege/{move.id}/pdf/buergerbuero")).status_code == 404
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{move.reference}-gewerbeamt.pdf"'
    )
    assert response.headers["cache-control"] == "no-store"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert move.reference in text and "Gewerbeamt" in text and "Reparatur" in text
    assert "12347" not in text


async def test_a_status_change_is_what_the_citizen_is_told(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None, clock: ManualClock
) -> None:
    move = await submit_move(staff_app, api, gewerbe=False, taetigkeit=None)
    before = (await ask_status(api, move.reference, "12347")).json()
    assert before["status"] == "received" and before["status_note"] is None

    async with as_clerk(staff_app, "buerger") as web:
        clock.advance(minutes=10)
        response = await post(
            staff_app,
            web,
            f"/intern/antraege/{move.id}/status",
            {"status": "needs_information", "note": "Bitte reichen Sie den Mietvertrag nach."},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/intern/antraege/{move.id}?hinweis=status#status"
        page = (await web.get(response.headers["location"])).text
        assert "Der Status ist geändert." in page
        assert "Rückfrage (Angaben oder Unterlagen fehlen)" in page
        assert "Bitte reichen Sie den Mietvertrag nach." in page

        after = (await ask_status(api, move.reference, "12347")).json()
        assert after["status"] == "needs_information"
        assert after["status_note"] == "Bitte reichen Sie den Mietvertrag nach."

        clock.advance(minutes=20)
        await post(staff_app, web, f"/intern/antraege/{move.id}/status", {"status": "completed"})
        final = (await ask_status(api, move.reference, "12347")).json()
        assert final["status"] == "completed" and final["status_note"] is None

        invalid = await post(
            staff_app, web, f"/intern/antraege/{move.id}/status", {"status": "approved!"}
        )
        assert invalid.headers["location"].endswith("hinweis=ungueltig#status")

    with staff_app.state.session_factory() as session:
        stored = session.get(Application, move.id)
        assert stored is not None
        assert stored.status == "completed" and stored.closed_at == clock.now()
        events = session.scalars(select(ApplicationEvent).order_by(ApplicationEvent.id)).all()
        assert [(e.status, e.department_slug, e.actor) for e in events] == [
            ("needs_information", "buergerbuero", "buerger"),
            ("completed", "buergerbuero", "buerger"),
        ]


async def test_reopening_clears_the_closing_time(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None
) -> None:
    move = await submit_move(staff_app, api, gewerbe=False, taetigkeit=None)
    async with as_clerk(staff_app, "buerger") as web:
        url = f"/intern/antraege/{move.id}/status"
        await post(staff_app, web, url, {"status": "rejected"})
        await post(staff_app, web, url, {"status": "in_progress"})
    with staff_app.state.session_factory() as session:
        stored = session.get(Application, move.id)
        assert stored is not None and stored.closed_at is None


async def test_an_application_is_decided_only_when_every_receiving_department_decided(
    staff_app: FastAPI, api: httpx.AsyncClient, accounts: None, clock: ManualClock
) -> None:
    move = await submit_move(staff_app, api)  # Bürgerbüro and Gewerbeamt

    def closed_at() -> object:
        with staff_app.state.session_factory() as session:
            stored = session.get(Application, move.id)
            assert stored is not None
            return stored.closed_at

    async with as_clerk(staff_app, "buerger") as web:
        await post(staff_app, web, f"/intern/antraege/{move.id}/status", {"status": "completed"})
    # The Gewerbeamt still works on its part: retention must not start counting.
    assert closed_at() is None
    clock.advance(days=3)
    async with as_clerk(staff_app, "gewerbe") as web:
        await post(staff_app, web, f"/intern/antraege/{move.id}/status", {"status": "rejected"})
    assert closed_at() == clock.now()
