"""The departments API as the action server and the OpenAPI docs see it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backend.app.main import create_app
from tests.backend.conftest import make_settings


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_lists_the_catalogue_departments(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/departments")
    assert response.status_code == 200
    slugs = {d["slug"] for d in response.json()}
    assert {"buergerbuero", "standesamt", "ordnungsamt", "strassenverkehrsamt"} <= slugs
    assert all(d["sample_data"] for d in response.json())


@pytest.mark.parametrize("query", ["Bürgeramt", "buergeramt", "EINWOHNERMELDEAMT", "bürger büro"])
async def test_finds_a_department_by_the_words_citizens_use(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.get("/api/v1/departments", params={"q": query})
    assert [d["slug"] for d in response.json()] == ["buergerbuero"]


async def test_unknown_words_find_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/departments", params={"q": "Bundesagentur für Arbeit"})
    assert response.status_code == 200
    assert response.json() == []


async def test_opening_hours_while_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/departments/buergerbuero/opening-hours")
    assert response.status_code == 200
    body = response.json()
    assert body["department"]["name"] == "Bürgerbüro"
    assert body["open_now"] is True
    assert body["closes_at"] == "2026-12-02T12:30:00+01:00"
    assert body["next_opening"]["opens_at"] == "2026-12-03T08:00:00+01:00"
    assert {"weekday": "monday", "intervals": ["08:00-12:30", "14:00-16:00"]} in body[
        "regular_hours"
    ]
    assert [c["reason"] for c in body["upcoming_closures"]] == ["Heiligabend", "Silvester"]


async def test_opening_hours_on_a_public_holiday(tmp_path: Path) -> None:
    # Christmas Day 2026 is a Friday, a regular opening day of the Bürgerbüro.
    settings = make_settings(tmp_path, fixed_now="2026-12-25T10:00:00+01:00")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get("/api/v1/departments/buergerbuero/opening-hours")).json()
    assert body["open_now"] is False
    assert body["closed_today_reason"] == "Feiertag (Erster Weihnachtstag)"
    # 26 December is a holiday too, 27 December a Sunday: next is Monday the 28th.
    assert body["next_opening"]["opens_at"] == "2026-12-28T08:00:00+01:00"


async def test_unknown_department_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/departments/bundesagentur/opening-hours")
    assert response.status_code == 404
    assert "bundesagentur" in response.json()["detail"]


async def test_overlong_query_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/departments", params={"q": "x" * 5000})
    assert response.status_code == 422


async def test_openapi_documents_the_opening_hours(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/departments/{slug}/opening-hours" in schema["paths"]
    assert "OpeningHoursOut" in schema["components"]["schemas"]


async def test_department_detail_has_the_way_there(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/departments/standesamt")).json()
    assert body["building"] == "Rathaus, Musterplatz 1"
    assert body["room"] == "1.05"
    assert body["barrier_free"] is True
    assert "Aufzug" in body["directions"]


@pytest.mark.parametrize(
    ("day", "intervals", "reason", "next_opening"),
    [
        # Thursday: open, with the long afternoon.
        ("2026-12-03", ["08:00-12:30", "14:00-18:00"], None, None),
        # Saturday morning only; Sunday: no hours at all, Monday is next.
        ("2026-12-05", ["09:00-12:00"], None, None),
        ("2026-12-06", [], None, "2026-12-07T08:00:00+01:00"),
        # Christmas Day, a Friday: a holiday; the 26th too, then a Sunday.
        ("2026-12-25", [], "Feiertag (Erster Weihnachtstag)", "2026-12-28T08:00:00+01:00"),
        # Heiligabend is a special closure of the catalogue.
        ("2026-12-24", [], "Heiligabend", "2026-12-28T08:00:00+01:00"),
    ],
)
async def test_the_hours_of_a_day_asked_for(
    client: httpx.AsyncClient,
    day: str,
    intervals: list[str],
    reason: str | None,
    next_opening: str | None,
) -> None:
    body = (
        await client.get("/api/v1/departments/buergerbuero/opening-hours", params={"day": day})
    ).json()
    assert body["day"]["date"] == day
    assert body["day"]["intervals"] == intervals
    assert body["day"]["closed_reason"] == reason
    opening = body["day"]["next_opening"]
    assert (opening["opens_at"] if opening else None) == next_opening


async def test_a_day_that_is_no_date_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/departments/buergerbuero/opening-hours", params={"day": "Samstag"}
    )
    assert response.status_code == 422


async def test_a_day_far_away_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/departments/buergerbuero/opening-hours", params={"day": "9999-12-31"}
    )
    assert response.status_code == 422
