"""Every staff action leaves exactly one audit entry, without citizens' data."""

from __future__ import annotations

import json
from collections.abc import Awaitable

import httpx
from fastapi import FastAPI

from tests.backend import staff_support
from tests.backend.staff_support import (
    PASSWORD,
    add_account,
    audit_entries,
    browser,
    open_ticket,
    post,
    sign_in,
    submit_move,
)

staff_settings, relay, staff_app, api = (
    staff_support.staff_settings,
    staff_support.relay,
    staff_support.staff_app,
    staff_support.api,
)

CITIZEN_TEXT = "Meine Adresse ist Lindenallee 12"
NOTE = "Bitte Mietvertrag nachreichen"


class Log:
    """The entries an action added."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.seen = len(audit_entries(app))

    async def after(self, action: Awaitable[httpx.Response]) -> list[tuple[str, str, str, str]]:
        await action
        entries = audit_entries(self.app)
        new, self.seen = entries[self.seen :], len(entries)
        for entry in new:
            detail = json.dumps(entry.detail, ensure_ascii=False)
            assert CITIZEN_TEXT not in detail and NOTE not in detail and PASSWORD not in detail
        return [(e.actor, e.action, e.object_type or "", e.object_id or "") for e in new]


async def test_each_staff_action_leaves_one_entry(
    staff_app: FastAPI, api: httpx.AsyncClient
) -> None:
    add_account(staff_app, "sc", "service_center")
    add_account(staff_app, "clerk", "clerk", ["buergerbuero"])
    add_account(staff_app, "admin", "admin")
    ticket = open_ticket(staff_app, transcript=[("citizen", CITIZEN_TEXT)])
    move = await submit_move(staff_app, api, gewerbe=False, taetigkeit=None)
    log = Log(staff_app)
    t, a = str(ticket), move.reference

    async with browser(staff_app) as web:
        assert await log.after(sign_in(web, "sc", "falsches Passwort!")) == [
            ("sc", "login.failed", "", "")
        ]
        # A name that is no account may be a password typed into the wrong field: not kept.
        assert await log.after(sign_in(web, "Geheim-Passwort-42", "falsches Passwort!")) == [
            ("(unbekannt)", "login.failed", "", "")
        ]
        assert await log.after(sign_in(web, "sc")) == [("sc", "login", "", "")]
        assert await log.after(web.get("/intern/uebergaben")) == [
            ("sc", "handoff.queue_viewed", "", "")
        ]
        assert await log.after(web.get(f"/intern/uebergaben/{t}")) == [
            ("sc", "handoff.viewed", "handoff", t)
        ]
        # The live update is the same view, polled: not logged again and again.
        assert await log.after(web.get(f"/intern/uebergaben/{t}/nachrichten")) == []
        taken = post(staff_app, web, f"/intern/uebergaben/{t}/uebernehmen")
        assert await log.after(taken) == [("sc", "handoff.taken_over", "handoff", t)]
        replied = post(staff_app, web, f"/intern/uebergaben/{t}/antworten", {"text": CITIZEN_TEXT})
        assert await log.after(replied) == [("sc", "handoff.replied", "handoff", t)]
        closed = post(staff_app, web, f"/intern/uebergaben/{t}/schliessen")
        assert await log.after(closed) == [("sc", "handoff.closed", "handoff", t)]
        assert await log.after(post(staff_app, web, "/intern/abmelden")) == [
            ("sc", "logout", "", "")
        ]

    async with browser(staff_app) as web:
        await log.after(sign_in(web, "clerk"))
        assert await log.after(web.get("/intern/antraege?status=received")) == [
            ("clerk", "application.list_viewed", "", "")
        ]
        assert await log.after(web.get(f"/intern/antraege/{move.id}")) == [
            ("clerk", "application.viewed", "application", a)
        ]
        assert await log.after(web.get(f"/intern/antraege/{move.id}/pdf/buergerbuero")) == [
            ("clerk", "application.pdf", "application", a)
        ]
        status = post(
            staff_app,
            web,
            f"/intern/antraege/{move.id}/status",
            {"status": "needs_information", "note": NOTE},
        )
        assert await log.after(status) == [("clerk", "application.status", "application", a)]

    async with browser(staff_app) as web:
        await log.after(sign_in(web, "admin"))
        assert await log.after(web.get("/intern/konten")) == [
            ("admin", "account.list_viewed", "", "")
        ]
        created = post(
            staff_app,
            web,
            "/intern/konten",
            {"username": "neu", "display_name": "Neu", "role": "admin", "password": PASSWORD},
        )
        entries = await log.after(created)
        assert [entry[:3] for entry in entries] == [("admin", "account.created", "staff_account")]
        new_id = entries[0][3]
        changed = post(
            staff_app,
            web,
            f"/intern/konten/{new_id}",
            {"display_name": "Neu", "role": "clerk", "departments": "schulamt"},
        )
        assert await log.after(changed) == [("admin", "account.changed", "staff_account", new_id)]
        for path, action in (
            ("deaktivieren", "account.deactivated"),
            ("aktivieren", "account.reactivated"),
        ):
            done = post(staff_app, web, f"/intern/konten/{new_id}/{path}")
            assert await log.after(done) == [("admin", action, "staff_account", new_id)]
        password = post(
            staff_app, web, f"/intern/konten/{new_id}/passwort", {"password": "noch ein Passwort"}
        )
        assert await log.after(password) == [
            ("admin", "account.password_set", "staff_account", new_id)
        ]
        assert await log.after(web.get("/intern/protokoll")) == [("admin", "audit.viewed", "", "")]


async def test_the_log_page_filters_and_pages(staff_app: FastAPI) -> None:
    add_account(staff_app, "admin", "admin")
    add_account(staff_app, "mallory", "clerk", ["buergerbuero"])
    async with browser(staff_app) as web:
        for _ in range(3):
            await sign_in(web, "mallory", "falsches Passwort!")
        await sign_in(web, "admin")
        for _ in range(55):
            await web.get("/intern/konten")
        page = (await web.get("/intern/protokoll")).text
        assert "59 Einträge" in page and "Seite 1 von 2" in page
        assert 'href="?seite=2"' in page
        failed = (await web.get("/intern/protokoll?aktion=login.failed")).text
        assert "3 Einträge" in failed and failed.count("<td>mallory</td>") == 3
        assert "Anmeldung fehlgeschlagen" in failed
        by_actor = (await web.get("/intern/protokoll?akteur=Mallory")).text
        assert "3 Einträge" in by_actor
