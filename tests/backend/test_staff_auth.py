"""Signing in to the intranet: passwords, session cookie, CSRF, limits, expiry."""

from __future__ import annotations

from pathlib import Path

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select

from backend.app.main import create_app
from backend.app.models import LoginFailure, StaffAccount, StaffSession
from tests.backend import staff_support
from tests.backend.conftest import ManualClock, make_settings
from tests.backend.staff_support import (
    LOGIN_COOKIE,
    PASSWORD,
    SESSION_COOKIE,
    add_account,
    browser,
    csrf_in,
    csrf_of,
    open_ticket,
    post,
    session_row,
    sign_in,
)

staff_settings, relay, staff_app, web = (
    staff_support.staff_settings,
    staff_support.relay,
    staff_support.staff_app,
    staff_support.web,
)

LOCKED = "Zu viele fehlgeschlagene Anmeldeversuche"
WRONG = "Benutzername oder Passwort ist falsch"


async def test_signing_in_leads_to_the_roles_start_page_and_out_again(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "service_center", display_name="Erika Mustermann")
    assert (await web.get("/intern")).headers["location"] == "/intern/anmelden"
    page = await web.get("/intern/anmelden")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text and 'autocomplete="current-password"' in page.text

    response = await sign_in(web, "Erika")  # user names are not case-sensitive
    assert response.status_code == 303
    assert response.headers["location"] == "/intern/uebergaben"
    assert (await web.get("/intern")).headers["location"] == "/intern/uebergaben"
    queue = await web.get("/intern/uebergaben")
    assert queue.status_code == 200
    assert "Angemeldet als Erika Mustermann (Servicecenter)" in queue.text

    response = await post(staff_app, web, "/intern/abmelden")
    assert response.status_code == 303
    assert response.headers["location"] == "/intern/anmelden?abgemeldet=1"
    assert SESSION_COOKIE not in web.cookies
    assert (await web.get("/intern/uebergaben")).status_code == 303
    with staff_app.state.session_factory() as session:
        assert session.scalar(select(StaffSession)) is None
    assert "Sie haben sich abgemeldet." in (await web.get("/intern/anmelden?abgemeldet=1")).text


async def test_the_session_cookie_is_secure_httponly_strict_and_host_prefixed(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    login_page = await web.get("/intern/anmelden")
    login_cookie = login_page.headers["set-cookie"]
    assert login_cookie.startswith(f"{LOGIN_COOKIE}=")
    response = await web.post(
        "/intern/anmelden",
        data={"username": "erika", "password": PASSWORD, "csrf": csrf_in(login_page.text)},
    )
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    attributes = [part.strip().lower() for part in session_cookie.split(";")]
    assert "secure" in attributes and "httponly" in attributes
    assert "samesite=strict" in attributes and "path=/" in attributes
    assert not any(a.startswith("domain") for a in attributes)
    # Only the token's hash is stored.
    token = web.cookies[SESSION_COOKIE]
    with staff_app.state.session_factory() as session:
        row = session.scalar(select(StaffSession))
        assert row is not None and token not in (row.token_hash, row.csrf_token)
    # The login form's double-submit cookie is gone once signed in.
    assert any(c.startswith(f'{LOGIN_COOKIE}=""') or "max-age=0" in c.lower() for c in cookies)


async def test_plain_http_development_uses_cookies_without_prefix(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = create_app(make_settings(tmp_path, staff_cookie_secure=False), clock)
    async with app.router.lifespan_context(app):
        add_account(app, "erika", "admin")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            response = await sign_in(http, "erika")
            assert response.status_code == 303
            cookie = response.headers["set-cookie"]
            assert "govbot_staff=" in cookie and "__Host-" not in cookie
            assert "secure" not in cookie.lower()
            assert (await http.get("/intern/konten")).status_code == 200


async def test_a_wrong_password_or_unknown_user_gets_the_same_answer(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    wrong = await sign_in(web, "erika", "falsches Passwort 123")
    unknown = await sign_in(web, "niemand", "falsches Passwort 123")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert WRONG in response.text
        assert SESSION_COOKIE not in web.cookies
    assert (await web.get("/intern/konten")).status_code == 303


async def test_a_deactivated_account_cannot_sign_in_and_its_sessions_stop(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "old", "admin", active=False)
    response = await sign_in(web, "old")
    assert response.status_code == 401 and WRONG in response.text

    account_id = add_account(staff_app, "erika", "admin")
    assert (await sign_in(web, "erika")).status_code == 303
    assert (await web.get("/intern/konten")).status_code == 200
    with staff_app.state.session_factory() as session:
        account = session.get(StaffAccount, account_id)
        assert account is not None
        account.active = False
        session.commit()
    assert (await web.get("/intern/konten")).headers["location"] == "/intern/anmelden"
    with staff_app.state.session_factory() as session:
        assert session.scalar(select(StaffSession)) is None


async def test_the_session_is_rotated_at_sign_in(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    await sign_in(web, "erika")
    first = web.cookies[SESSION_COOKIE]
    # Signing in again (also: a cookie planted by someone else) yields a new token.
    web.cookies.delete(SESSION_COOKIE)
    web.cookies.set(SESSION_COOKIE, first, domain="intern.test")
    await sign_in(web, "erika")
    second = web.cookies[SESSION_COOKIE]
    assert second != first
    with staff_app.state.session_factory() as session:
        assert len(session.scalars(select(StaffSession)).all()) == 1


async def test_an_outdated_hash_is_replaced_at_sign_in(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    account_id = add_account(staff_app, "erika", "admin")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with staff_app.state.session_factory() as session:
        account = session.get(StaffAccount, account_id)
        assert account is not None
        account.password_hash = weak
        session.commit()
    assert (await sign_in(web, "erika")).status_code == 303
    with staff_app.state.session_factory() as session:
        account = session.get(StaffAccount, account_id)
        assert account is not None
        assert account.password_hash != weak
        assert not PasswordHasher().check_needs_rehash(account.password_hash)


async def test_too_many_failures_for_a_name_lock_it_until_the_window_passes(
    staff_app: FastAPI, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    add_account(staff_app, "erika", "admin")
    limit = staff_app.state.settings.staff_login_max_failures
    for _ in range(limit):
        assert (await sign_in(web, "erika", "falsch falsch falsch")).status_code == 401
    # Now even the right password is refused, as for a name that does not exist.
    locked = await sign_in(web, "erika")
    assert locked.status_code == 429 and LOCKED in locked.text
    for _ in range(limit):
        await sign_in(web, "niemand", "falsch falsch falsch")
    assert (await sign_in(web, "niemand")).status_code == 429
    # Another name from another address is not affected.
    add_account(staff_app, "max", "admin")
    async with browser(staff_app, ("198.51.100.7", 40000)) as other:
        assert (await sign_in(other, "max")).status_code == 303

    clock.advance(minutes=staff_app.state.settings.staff_login_window_minutes)
    assert (await sign_in(web, "erika")).status_code == 303
    with staff_app.state.session_factory() as session:
        keys = set(session.scalars(select(LoginFailure.key)))
    assert "username:erika" not in keys


async def test_too_many_failures_from_one_address_lock_it_for_every_name(
    staff_app: FastAPI, clock: ManualClock
) -> None:
    add_account(staff_app, "erika", "admin")
    limit = staff_app.state.settings.staff_login_max_failures_per_address
    async with browser(staff_app, ("203.0.113.9", 1234)) as attacker:
        for number in range(limit):
            response = await sign_in(attacker, f"name{number}", "falsch falsch falsch")
            assert response.status_code == 401
        assert (await sign_in(attacker, "erika")).status_code == 429
        async with browser(staff_app, ("192.0.2.99", 1234)) as colleague:
            assert (await sign_in(colleague, "erika")).status_code == 303
        clock.advance(minutes=staff_app.state.settings.staff_login_window_minutes, seconds=1)
        assert (await sign_in(attacker, "erika")).status_code == 303


async def test_the_login_form_needs_its_double_submit_token(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    page = await web.get("/intern/anmelden")
    token = csrf_in(page.text)
    data = {"username": "erika", "password": PASSWORD}
    assert (await web.post("/intern/anmelden", data=data)).status_code == 403
    wrong = {**data, "csrf": "x" + token}
    assert (await web.post("/intern/anmelden", data=wrong)).status_code == 403
    web.cookies.delete(LOGIN_COOKIE)
    assert (await web.post("/intern/anmelden", data={**data, "csrf": token})).status_code == 403
    # Neither cookie nor field: two empty tokens are no match.
    assert (await web.post("/intern/anmelden", data={**data, "csrf": ""})).status_code == 403
    assert (await web.post("/intern/anmelden", data=data)).status_code == 403
    assert SESSION_COOKIE not in web.cookies


async def test_posts_without_the_sessions_csrf_token_are_refused(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    await sign_in(web, "erika")
    missing = await web.post("/intern/abmelden")
    wrong = await web.post("/intern/abmelden", data={"csrf": "nicht-das-token"})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert "Das Formular ist abgelaufen" in response.text
    assert session_row(staff_app, web) is not None


async def test_cross_site_posts_are_refused_even_with_the_token(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    await sign_in(web, "erika")
    token = csrf_of(staff_app, web)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        response = await web.post("/intern/abmelden", data={"csrf": token}, headers=headers)
        assert response.status_code == 403, headers
    same = await web.post(
        "/intern/abmelden",
        data={"csrf": token},
        headers={"Origin": "https://intern.test", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 303


async def test_a_session_ends_after_the_idle_time(
    staff_app: FastAPI, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    add_account(staff_app, "erika", "admin")
    await sign_in(web, "erika")
    idle = staff_app.state.settings.staff_idle_minutes
    clock.advance(minutes=idle - 1)
    assert (await web.get("/intern/konten")).status_code == 200
    clock.advance(minutes=idle - 1)  # each request counts as activity
    assert (await web.get("/intern/konten")).status_code == 200
    clock.advance(minutes=idle)
    assert (await web.get("/intern/konten")).headers["location"] == "/intern/anmelden"
    assert session_row(staff_app, web) is None


async def test_the_transcript_pages_polling_does_not_keep_a_session_alive(
    staff_app: FastAPI, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    # A transcript page left open on an unattended desk asks for new messages every few
    # seconds; that is not activity of a person and must not defeat the idle time.
    add_account(staff_app, "sabine", "service_center")
    ticket_id = open_ticket(staff_app)
    await sign_in(web, "sabine")
    poll = f"/intern/uebergaben/{ticket_id}/nachrichten"
    idle = staff_app.state.settings.staff_idle_minutes
    for _ in range(3):
        clock.advance(minutes=idle / 3 - 1)
        assert (await web.get(poll)).status_code == 200
    clock.advance(minutes=4)
    assert (await web.get(poll)).status_code == 401
    assert (await web.get(f"/intern/uebergaben/{ticket_id}")).status_code == 303
    assert session_row(staff_app, web) is None


async def test_a_session_ends_after_its_lifetime_however_active(
    staff_app: FastAPI, web: httpx.AsyncClient, clock: ManualClock
) -> None:
    add_account(staff_app, "erika", "admin")
    await sign_in(web, "erika")
    hours = staff_app.state.settings.staff_session_hours
    steps = int(hours * 60 // 20)
    for _ in range(steps - 1):
        clock.advance(minutes=20)
        assert (await web.get("/intern/konten")).status_code == 200
    clock.advance(minutes=20)
    assert (await web.get("/intern/konten")).status_code == 303


async def test_every_staff_page_carries_the_security_headers(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    add_account(staff_app, "erika", "admin")
    responses = [
        await web.get("/intern/anmelden"),
        await web.get("/intern/konten"),  # redirect
        await web.get("/intern/static/staff.css"),
    ]
    await sign_in(web, "erika")
    responses += [
        await web.get("/intern/konten"),
        await web.get("/intern/uebergaben"),  # 403
        await web.get("/intern/konten/999"),  # 404
    ]
    for response in responses:
        headers = response.headers
        assert headers["content-security-policy"] == (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ), response.url
        assert headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert [r.status_code for r in responses] == [200, 303, 200, 200, 403, 404]
    # No inline script or style on a page.
    page = responses[3].text
    assert "<script>" not in page and "<style" not in page and " style=" not in page
