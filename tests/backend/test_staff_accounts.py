"""The administrators' account pages, and the command that creates the first account."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend import staff as staff_command
from backend.app.core.config import Settings, get_settings
from backend.app.models import StaffAccount, StaffSession
from tests.backend import staff_support
from tests.backend.staff_support import (
    PASSWORD,
    add_account,
    browser,
    post,
    session_for,
    session_row,
    sign_in,
)

staff_settings, relay, staff_app = (
    staff_support.staff_settings,
    staff_support.relay,
    staff_support.staff_app,
)

NEW_PASSWORD = "ein ganz neues Passwort"


@pytest.fixture
async def web(staff_app: FastAPI) -> httpx.AsyncClient:
    add_account(staff_app, "chefin", "admin", display_name="Clara Chefin")
    client = browser(staff_app)
    session_for(staff_app, client, "chefin")
    return client


def account(app: FastAPI, username: str) -> StaffAccount:
    with app.state.session_factory() as session:
        row = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
        assert row is not None
        return row


def sessions_of(app: FastAPI, account_id: int) -> int:
    with app.state.session_factory() as session:
        return len(
            session.scalars(select(StaffSession).where(StaffSession.account_id == account_id)).all()
        )


NEW = {
    "username": "M.Koch",
    "display_name": "  Max   Koch ",
    "role": "clerk",
    "departments": ["buergerbuero", "gewerbeamt"],
    "password": PASSWORD,
}


async def test_an_admin_creates_an_account_that_can_then_sign_in(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    page = (await web.get("/intern/konten")).text
    assert "<caption>Alle Konten des Intranets</caption>" in page
    assert 'for="dep-buergerbuero">Bürgerbüro</label>' in page
    response = await post(staff_app, web, "/intern/konten", NEW)
    assert response.status_code == 303
    assert response.headers["location"] == "/intern/konten?hinweis=angelegt"
    page = (await web.get(response.headers["location"])).text
    assert "Das Konto ist angelegt." in page and "m.koch" in page and "Max Koch" in page
    created = account(staff_app, "m.koch")
    assert created.role == "clerk" and created.departments == ["buergerbuero", "gewerbeamt"]
    assert created.password_hash.startswith("$argon2id$") and PASSWORD not in created.password_hash
    async with browser(staff_app) as clerk:
        response = await sign_in(clerk, "m.koch")
        assert response.headers["location"] == "/intern/antraege"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": "zu kurz 123"}, "mindestens 12 Zeichen"),
        ({"username": "chefin"}, "Diesen Benutzernamen gibt es schon."),
        ({"username": "a b"}, "Der Benutzername besteht aus"),
        ({"display_name": "   "}, "Bitte geben Sie den Namen an"),
        ({"role": "superuser"}, "Bitte wählen Sie eine Rolle."),
        ({"departments": []}, "braucht mindestens eine Abteilung"),
        ({"departments": ["mondamt"]}, "nur Abteilungen aus der Liste"),
    ],
)
async def test_an_invalid_account_is_refused_with_a_reason(
    staff_app: FastAPI, web: httpx.AsyncClient, change: dict[str, object], message: str
) -> None:
    response = await post(staff_app, web, "/intern/konten", {**NEW, **change})
    assert response.status_code == 400
    assert message in response.text
    assert 'class="field-error"' in response.text
    with staff_app.state.session_factory() as session:
        names = set(session.scalars(select(StaffAccount.username)))
    assert names == {"chefin"}


async def test_role_and_departments_can_be_changed(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    target = add_account(staff_app, "ziel", "clerk", ["buergerbuero"])
    page = (await web.get(f"/intern/konten/{target}")).text
    assert 'value="buergerbuero" checked' in page
    response = await post(
        staff_app,
        web,
        f"/intern/konten/{target}",
        {"display_name": "Zora Ziel", "role": "clerk", "departments": ["schulamt"]},
    )
    assert response.headers["location"] == f"/intern/konten/{target}?hinweis=geaendert"
    changed = account(staff_app, "ziel")
    assert (changed.display_name, changed.departments) == ("Zora Ziel", ["schulamt"])
    await post(
        staff_app,
        web,
        f"/intern/konten/{target}",
        {"display_name": "Zora Ziel", "role": "service_center", "departments": ["schulamt"]},
    )
    changed = account(staff_app, "ziel")
    assert (changed.role, changed.departments) == ("service_center", [])


async def test_deactivating_ends_the_sessions_and_reactivating_allows_sign_in(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    target = add_account(staff_app, "ziel", "service_center")
    async with browser(staff_app) as colleague:
        await sign_in(colleague, "ziel")
        assert sessions_of(staff_app, target) == 1
        response = await post(staff_app, web, f"/intern/konten/{target}/deaktivieren")
        assert response.headers["location"].endswith("hinweis=deaktiviert")
        assert sessions_of(staff_app, target) == 0
        assert (await colleague.get("/intern/uebergaben")).status_code == 303
        assert (await sign_in(colleague, "ziel")).status_code == 401
        assert "deaktiviert" in (await web.get("/intern/konten")).text

        await post(staff_app, web, f"/intern/konten/{target}/aktivieren")
        assert account(staff_app, "ziel").active
        assert (await sign_in(colleague, "ziel")).status_code == 303


async def test_an_admin_cannot_lock_themself_out(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    own = account(staff_app, "chefin").id
    page = (await web.get(f"/intern/konten/{own}")).text
    assert "/deaktivieren" not in page
    response = await post(staff_app, web, f"/intern/konten/{own}/deaktivieren")
    assert response.headers["location"].endswith("hinweis=selbst")
    response = await post(
        staff_app, web, f"/intern/konten/{own}", {"display_name": "C", "role": "service_center"}
    )
    assert response.headers["location"].endswith("hinweis=selbst")
    assert "Ihr eigenes Konto" in (await web.get(response.headers["location"])).text
    me = account(staff_app, "chefin")
    assert me.active and me.role == "admin"


async def test_a_new_password_ends_the_accounts_sessions(
    staff_app: FastAPI, web: httpx.AsyncClient
) -> None:
    target = add_account(staff_app, "ziel", "service_center")
    async with browser(staff_app) as colleague:
        await sign_in(colleague, "ziel")
        short = await post(staff_app, web, f"/intern/konten/{target}/passwort", {"password": "x"})
        assert short.status_code == 400 and "mindestens 12 Zeichen" in short.text
        assert sessions_of(staff_app, target) == 1

        response = await post(
            staff_app, web, f"/intern/konten/{target}/passwort", {"password": NEW_PASSWORD}
        )
        assert response.headers["location"].endswith("hinweis=passwort")
        assert sessions_of(staff_app, target) == 0
        assert (await sign_in(colleague, "ziel")).status_code == 401
        assert (await sign_in(colleague, "ziel", NEW_PASSWORD)).status_code == 303
    # An admin setting their own password stays signed in.
    own = account(staff_app, "chefin").id
    await post(staff_app, web, f"/intern/konten/{own}/passwort", {"password": NEW_PASSWORD})
    assert session_row(staff_app, web) is not None


def test_the_command_creates_the_first_admin(
    staff_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BACKEND_DATABASE_URL", staff_settings.database_url)
    monkeypatch.setenv("BACKEND_CATALOGUE_DIR", str(staff_settings.catalogue_dir))
    monkeypatch.setenv("GOVBOT_STAFF_PASSWORD", "kurz")
    get_settings.cache_clear()
    try:
        arguments = ["create-account", "--username", "Admin", "--name", "Erika Muster"]
        assert staff_command.main([*arguments, "--role", "admin"]) == 2
        assert "mindestens 12 Zeichen" in capsys.readouterr().err

        monkeypatch.setenv("GOVBOT_STAFF_PASSWORD", PASSWORD)
        assert staff_command.main([*arguments, "--role", "clerk"]) == 2  # no department
        assert staff_command.main([*arguments, "--role", "admin"]) == 0
        assert "Konto admin (admin) angelegt." in capsys.readouterr().out
        assert staff_command.main([*arguments, "--role", "admin"]) == 1  # exists
        clerk = ["create-account", "--username", "max", "--name", "Max", "--role", "clerk"]
        assert staff_command.main([*clerk, "--department", "mondamt"]) == 2
        assert staff_command.main([*clerk, "--department", "buergerbuero"]) == 0
    finally:
        get_settings.cache_clear()


async def test_an_account_made_by_the_command_signs_in(
    staff_app: FastAPI, monkeypatch: pytest.MonkeyPatch, staff_settings: Settings
) -> None:
    monkeypatch.setenv("BACKEND_DATABASE_URL", staff_settings.database_url)
    monkeypatch.setenv("BACKEND_CATALOGUE_DIR", str(staff_settings.catalogue_dir))
    monkeypatch.setenv("GOVBOT_STAFF_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    try:
        arguments = ["create-account", "--username", "erika", "--name", "Erika", "--role", "admin"]
        assert staff_command.main(arguments) == 0
    finally:
        get_settings.cache_clear()
    async with browser(staff_app) as web:
        assert (await sign_in(web, "erika")).headers["location"] == "/intern/konten"
