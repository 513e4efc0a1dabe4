"""The authorization matrix: every /intern route for every kind of visitor.

The matrix must name each route the app has below /intern, so that a new route cannot be
added without saying who may use it. Least privilege: the service center sees handoffs,
clerks the applications of their own departments (another department's is 404, exactly as
one that does not exist), administrators accounts and the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from tests.backend import staff_support
from tests.backend.staff_support import (
    add_account,
    add_matrix_accounts,
    browser,
    csrf_of,
    open_ticket,
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

ANON, SC, CLERK_A, CLERK_B, ADMIN = "anonymous", "sc", "clerk_a", "clerk_b", "admin"
VISITORS = (ANON, SC, CLERK_A, CLERK_B, ADMIN)
STAFF = (SC, CLERK_A, CLERK_B, ADMIN)


def only(*allowed: str, ok: int = 200, others: int = 403, anonymous: int = 303) -> dict[str, int]:
    """Pages of one role: anonymous visitors go to the sign-in page, other roles get 403."""
    return {
        visitor: anonymous if visitor == ANON else ok if visitor in allowed else others
        for visitor in VISITORS
    }


def clerk_a_only(ok: int) -> dict[str, int]:
    """An application routed to department A: clerk B gets 404, as if it did not exist."""
    return {**only(CLERK_A, CLERK_B, ok=ok), CLERK_B: 404}


def everyone(code: int) -> dict[str, int]:
    return dict.fromkeys(VISITORS, code)


@dataclass
class Case:
    url: str
    expected: dict[str, int]
    data: dict[str, object] = field(default_factory=dict)


# (method, route path) -> the requests made of it. {ticket}: a ticket; {a}: an application
# of department A (buergerbuero); {b}: one of B (strassenverkehrsamt); {account}: an account.
MATRIX: dict[tuple[str, str], list[Case]] = {
    ("GET", "/intern"): [Case("/intern", everyone(303))],
    ("GET", "/intern/static"): [Case("/intern/static/staff.css", everyone(200))],
    ("GET", "/intern/anmelden"): [Case("/intern/anmelden", everyone(200))],
    # Without the sign-in form's token nobody gets in, signed in or not.
    ("POST", "/intern/anmelden"): [
        Case("/intern/anmelden", everyone(403), {"username": "admin", "password": "x" * 12})
    ],
    ("POST", "/intern/abmelden"): [Case("/intern/abmelden", only(*STAFF, ok=303))],
    # Service center
    ("GET", "/intern/uebergaben"): [Case("/intern/uebergaben", only(SC))],
    ("GET", "/intern/uebergaben/{ticket_id}"): [
        Case("/intern/uebergaben/{ticket}", only(SC)),
        Case("/intern/uebergaben/999999", only(SC, ok=404)),
    ],
    ("GET", "/intern/uebergaben/{ticket_id}/nachrichten"): [
        Case("/intern/uebergaben/{ticket}/nachrichten?nach=0", only(SC, anonymous=401)),
        Case("/intern/uebergaben/999999/nachrichten", only(SC, ok=404, anonymous=401)),
    ],
    ("POST", "/intern/uebergaben/{ticket_id}/uebernehmen"): [
        Case("/intern/uebergaben/{ticket}/uebernehmen", only(SC, ok=303)),
        Case("/intern/uebergaben/999999/uebernehmen", only(SC, ok=404)),
    ],
    ("POST", "/intern/uebergaben/{ticket_id}/antworten"): [
        Case("/intern/uebergaben/{ticket}/antworten", only(SC, ok=303), {"text": "Hallo"}),
        Case("/intern/uebergaben/999999/antworten", only(SC, ok=404), {"text": "Hallo"}),
    ],
    ("POST", "/intern/uebergaben/{ticket_id}/schliessen"): [
        Case("/intern/uebergaben/{ticket}/schliessen", only(SC, ok=303)),
        Case("/intern/uebergaben/999999/schliessen", only(SC, ok=404)),
    ],
    # Clerks
    ("GET", "/intern/antraege"): [Case("/intern/antraege", only(CLERK_A, CLERK_B))],
    ("GET", "/intern/antraege/{application_id}"): [
        Case("/intern/antraege/{a}", clerk_a_only(200)),
        Case("/intern/antraege/{b}", {**clerk_a_only(200), CLERK_A: 404, CLERK_B: 200}),
        Case("/intern/antraege/999999", only(CLERK_A, CLERK_B, ok=404)),
    ],
    ("GET", "/intern/antraege/{application_id}/pdf/{department}"): [
        Case("/intern/antraege/{a}/pdf/buergerbuero", clerk_a_only(200)),
        # Not routed to this department, or not the clerk's department: 404 as well.
        Case("/intern/antraege/{a}/pdf/strassenverkehrsamt", clerk_a_only(404)),
        Case(
            "/intern/antraege/{b}/pdf/strassenverkehrsamt",
            {**clerk_a_only(200), CLERK_A: 404, CLERK_B: 200},
        ),
        Case("/intern/antraege/999999/pdf/buergerbuero", only(CLERK_A, CLERK_B, ok=404)),
    ],
    ("POST", "/intern/antraege/{application_id}/status"): [
        Case("/intern/antraege/{a}/status", clerk_a_only(303), {"status": "in_progress"}),
        Case(
            "/intern/antraege/{b}/status",
            {**clerk_a_only(303), CLERK_A: 404, CLERK_B: 303},
            {"status": "in_progress"},
        ),
    ],
    # Administrators
    ("GET", "/intern/konten"): [Case("/intern/konten", only(ADMIN))],
    ("POST", "/intern/konten"): [
        Case(
            "/intern/konten",
            only(ADMIN, ok=303),
            {
                "username": "neu",
                "display_name": "Neue Kollegin",
                "role": "service_center",
                "password": "ein langes Passwort",
            },
        )
    ],
    ("GET", "/intern/konten/{account_id}"): [
        Case("/intern/konten/{account}", only(ADMIN)),
        Case("/intern/konten/999999", only(ADMIN, ok=404)),
    ],
    ("POST", "/intern/konten/{account_id}"): [
        Case(
            "/intern/konten/{account}",
            only(ADMIN, ok=303),
            {"display_name": "Ziel", "role": "clerk", "departments": "schulamt"},
        )
    ],
    ("POST", "/intern/konten/{account_id}/deaktivieren"): [
        Case("/intern/konten/{account}/deaktivieren", only(ADMIN, ok=303))
    ],
    ("POST", "/intern/konten/{account_id}/aktivieren"): [
        Case("/intern/konten/{account}/aktivieren", only(ADMIN, ok=303))
    ],
    ("POST", "/intern/konten/{account_id}/passwort"): [
        Case("/intern/konten/{account}/passwort", only(ADMIN, ok=303), {"password": "y" * 16})
    ],
    ("GET", "/intern/protokoll"): [Case("/intern/protokoll", only(ADMIN))],
}


def intern_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route below /intern, included routers resolved.

    FastAPI >= 0.16x keeps included routers as such in ``app.routes``;
    ``iter_route_contexts`` resolves them to the routes with their prefixed paths.
    """
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: list[Any] = list(contexts(app.routes)) if contexts else list(app.routes)
    found = set()
    for route in routes:
        path = getattr(route, "path", None) or ""
        if not (path == "/intern" or path.startswith("/intern/")):
            continue
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            found.add(("GET", path))
        else:
            found.update((method, path) for method in route.methods or ())
    return found


async def test_the_matrix_names_every_intern_route(staff_app: FastAPI) -> None:
    assert intern_routes(staff_app) == set(MATRIX)
    for cases in MATRIX.values():
        for case in cases:
            assert set(case.expected) == set(VISITORS), case.url


@pytest.fixture
async def ids(staff_app: FastAPI, api: httpx.AsyncClient) -> dict[str, int]:
    add_matrix_accounts(staff_app)
    target = add_account(staff_app, "ziel", "clerk", ["schulamt"])
    a = await submit_move(staff_app, api, gewerbe=False, taetigkeit=None)  # buergerbuero
    b = await submit_parking(staff_app, api)  # strassenverkehrsamt only
    assert [d.department_slug for d in a.deliveries] == ["buergerbuero"]
    assert [d.department_slug for d in b.deliveries] == ["strassenverkehrsamt"]
    return {"ticket": open_ticket(staff_app), "a": a.id, "b": b.id, "account": target}


@pytest.mark.parametrize("visitor", VISITORS)
async def test_each_route_answers_each_visitor_as_the_matrix_says(
    staff_app: FastAPI, ids: dict[str, int], visitor: str
) -> None:
    failures = []
    for (method, _path), cases in MATRIX.items():
        for case in cases:
            url = case.url.format(**ids)
            # A fresh session for every request: a POST (sign-out) may end it.
            async with browser(staff_app) as web:
                data: dict[str, object] = dict(case.data)
                if visitor != ANON:
                    session_for(staff_app, web, visitor)
                    if method == "POST" and url != "/intern/anmelden":
                        data["csrf"] = csrf_of(staff_app, web)
                if method == "GET":
                    response = await web.get(url)
                else:
                    response = await web.post(url, data=data)  # type: ignore[arg-type]
            expected = case.expected[visitor]
            if response.status_code != expected:
                failures.append(f"{method} {url}: {response.status_code}, expected {expected}")
            if response.status_code == 303 and visitor == ANON and url != "/intern":
                assert response.headers["location"] == "/intern/anmelden"
    assert not failures, "\n".join(failures)


async def test_a_clerk_cannot_reach_another_departments_application_by_filter(
    staff_app: FastAPI, ids: dict[str, int]
) -> None:
    async with browser(staff_app) as web:
        session_for(staff_app, web, CLERK_A)
        page = await web.get("/intern/antraege?abteilung=strassenverkehrsamt")
        assert page.status_code == 200
        assert f"/intern/antraege/{ids['b']}" not in page.text
        assert f"/intern/antraege/{ids['a']}" in page.text
