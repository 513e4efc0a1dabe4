"""The administrators' pages: staff accounts, and the audit log."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app.api.deps import SessionDep
from backend.app.models import AuditEntry, Department, StaffAccount
from backend.app.staff import audit
from backend.app.staff.auth import (
    NOT_FOUND,
    Staff,
    StaffProblem,
    end_sessions,
    hash_password,
    password_problem,
    require,
    require_post,
)
from backend.app.staff.pages import PREFIX, render, see_other
from backend.app.staff.roles import ADMIN, CLERK, ROLE_LABELS, ROLES

router = APIRouter(prefix=PREFIX, include_in_schema=False)

StaffDep = Annotated[Staff, Depends(require(ADMIN))]
StaffPostDep = Annotated[Staff, Depends(require_post(ADMIN))]
AccountId = Annotated[int, Path(ge=1, le=2**31)]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LOG_PAGE_SIZE = 50
NOTICES = {
    "angelegt": ("ok", "Das Konto ist angelegt."),
    "geaendert": ("ok", "Die Änderungen sind gespeichert."),
    "deaktiviert": ("ok", "Das Konto ist deaktiviert; seine Sitzungen sind beendet."),
    "reaktiviert": ("ok", "Das Konto ist wieder aktiv."),
    "passwort": ("ok", "Das neue Passwort ist gesetzt; die Sitzungen des Kontos sind beendet."),
    "selbst": (
        "error",
        "Ihr eigenes Konto können Sie nicht deaktivieren und nicht aus der Administration "
        "nehmen; das muss eine andere Administratorin oder ein anderer Administrator tun.",
    ),
}


def _catalogue(session: Session) -> dict[str, str]:
    rows = session.execute(select(Department.slug, Department.name).order_by(Department.name))
    return {slug: name for slug, name in rows}


def _account(session: Session, account_id: int) -> StaffAccount:
    account = session.get(StaffAccount, account_id)
    if account is None:
        raise StaffProblem(404, NOT_FOUND)
    return account


def _check_role_departments(
    role: str, departments: list[str], catalogue: dict[str, str], errors: dict[str, str]
) -> list[str]:
    if role not in ROLES:
        errors["role"] = "Bitte wählen Sie eine Rolle."
    unknown = [slug for slug in departments if slug not in catalogue]
    if unknown:
        errors["departments"] = "Bitte wählen Sie nur Abteilungen aus der Liste."
    elif role == CLERK and not departments:
        errors["departments"] = (
            "Eine Sachbearbeiterin oder ein Sachbearbeiter braucht mindestens eine Abteilung."
        )
    # Only clerks' access depends on departments; other roles keep none, so that a later
    # change of role does not silently grant an old department.
    return sorted(set(departments)) if role == CLERK else []


def _list_page(
    request: Request,
    session: Session,
    staff: Staff,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: tuple[str, str] | None = None,
) -> Response:
    accounts = session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()
    return render(
        request,
        "account_list.html",
        staff,
        status_code=status_code,
        accounts=accounts,
        catalogue=_catalogue(session),
        roles=ROLE_LABELS,
        errors=errors or {},
        values=values or {"role": CLERK, "departments": []},
        notice=notice,
    )


@router.get("/konten")
def account_list(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    hinweis: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    audit.record(session, request.app.state.clock.now(), staff.username, "account.list_viewed")
    session.commit()
    return _list_page(request, session, staff, notice=NOTICES.get(hinweis or ""))


@router.post("/konten")
def create_account(
    request: Request,
    session: SessionDep,
    staff: StaffPostDep,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    departments: Annotated[list[str] | None, Form()] = None,
    password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    catalogue = _catalogue(session)
    errors: dict[str, str] = {}
    name = username.strip().casefold()
    if not USERNAME.match(name):
        errors["username"] = (
            "Der Benutzername besteht aus 2 bis 64 Kleinbuchstaben, Ziffern, Punkt, "
            "Bindestrich oder Unterstrich."
        )
    elif session.scalar(select(StaffAccount.id).where(StaffAccount.username == name)):
        errors["username"] = "Diesen Benutzernamen gibt es schon."
    display = " ".join(display_name.split())
    if not display or len(display) > 200:
        errors["display_name"] = "Bitte geben Sie den Namen an (höchstens 200 Zeichen)."
    chosen = _check_role_departments(role, departments or [], catalogue, errors)
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if errors:
        values = {
            "username": username[:64],
            "display_name": display[:200],
            "role": role,
            "departments": departments or [],
        }
        return _list_page(request, session, staff, 400, errors, values)
    now = request.app.state.clock.now()
    account = StaffAccount(
        username=name,
        display_name=display,
        password_hash=hash_password(password),
        role=role,
        departments=chosen,
        active=True,
        created_at=now,
        password_changed_at=now,
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        now,
        staff.username,
        "account.created",
        "staff_account",
        account.id,
        username=name,
        role=role,
        departments=chosen,
    )
    session.commit()
    return see_other(f"{PREFIX}/konten?hinweis=angelegt")


def _account_page(
    request: Request,
    session: Session,
    staff: Staff,
    account: StaffAccount,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    notice: tuple[str, str] | None = None,
) -> Response:
    return render(
        request,
        "account_detail.html",
        staff,
        status_code=status_code,
        account=account,
        catalogue=_catalogue(session),
        roles=ROLE_LABELS,
        errors=errors or {},
        notice=notice,
        itself=account.id == staff.account.id,
    )


@router.get("/konten/{account_id}")
def account_detail(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    account_id: AccountId,
    hinweis: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    account = _account(session, account_id)
    return _account_page(request, session, staff, account, notice=NOTICES.get(hinweis or ""))


@router.post("/konten/{account_id}")
def change_account(
    request: Request,
    session: SessionDep,
    staff: StaffPostDep,
    account_id: AccountId,
    display_name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    departments: Annotated[list[str] | None, Form()] = None,
) -> Response:
    account = _account(session, account_id)
    page = f"{PREFIX}/konten/{account.id}"
    if account.id == staff.account.id and role != ADMIN:
        return see_other(f"{page}?hinweis=selbst")
    errors: dict[str, str] = {}
    display = " ".join(display_name.split())
    if not display or len(display) > 200:
        errors["display_name"] = "Bitte geben Sie den Namen an (höchstens 200 Zeichen)."
    chosen = _check_role_departments(role, departments or [], _catalogue(session), errors)
    if errors:
        return _account_page(request, session, staff, account, 400, errors)
    account.display_name = display
    account.role = role
    account.departments = chosen
    now = request.app.state.clock.now()
    audit.record(
        session,
        now,
        staff.username,
        "account.changed",
        "staff_account",
        account.id,
        role=role,
        departments=chosen,
    )
    session.commit()
    return see_other(f"{page}?hinweis=geaendert")


@router.post("/konten/{account_id}/deaktivieren")
def deactivate_account(
    request: Request, session: SessionDep, staff: StaffPostDep, account_id: AccountId
) -> Response:
    account = _account(session, account_id)
    page = f"{PREFIX}/konten/{account.id}"
    if account.id == staff.account.id:
        return see_other(f"{page}?hinweis=selbst")
    account.active = False
    end_sessions(session, account.id)
    audit.record(
        session,
        request.app.state.clock.now(),
        staff.username,
        "account.deactivated",
        "staff_account",
        account.id,
    )
    session.commit()
    return see_other(f"{page}?hinweis=deaktiviert")


@router.post("/konten/{account_id}/aktivieren")
def reactivate_account(
    request: Request, session: SessionDep, staff: StaffPostDep, account_id: AccountId
) -> Response:
    account = _account(session, account_id)
    account.active = True
    audit.record(
        session,
        request.app.state.clock.now(),
        staff.username,
        "account.reactivated",
        "staff_account",
        account.id,
    )
    session.commit()
    return see_other(f"{PREFIX}/konten/{account.id}?hinweis=reaktiviert")


@router.post("/konten/{account_id}/passwort")
def set_password(
    request: Request,
    session: SessionDep,
    staff: StaffPostDep,
    account_id: AccountId,
    password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    account = _account(session, account_id)
    problem = password_problem(password)
    if problem:
        return _account_page(request, session, staff, account, 400, {"password": problem})
    now = request.app.state.clock.now()
    account.password_hash = hash_password(password)
    account.password_changed_at = now
    # Everyone signed in with the old password is signed out; an admin setting their own
    # keeps the session they are using.
    end_sessions(session, account.id, keep=staff.session.id)
    audit.record(session, now, staff.username, "account.password_set", "staff_account", account.id)
    session.commit()
    return see_other(f"{PREFIX}/konten/{account.id}?hinweis=passwort")


@router.get("/protokoll")
def audit_log(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    akteur: Annotated[str, Query(max_length=64)] = "",
    aktion: Annotated[str, Query(max_length=64)] = "",
    seite: Annotated[int, Query(ge=1, le=1000000)] = 1,
) -> Response:
    query = select(AuditEntry)
    if akteur.strip():
        query = query.where(AuditEntry.actor == akteur.strip().casefold())
    if aktion in audit.ACTIONS:
        query = query.where(AuditEntry.action == aktion)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(math.ceil(total / LOG_PAGE_SIZE), 1)
    page = min(seite, pages)
    entries = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * LOG_PAGE_SIZE)
        .limit(LOG_PAGE_SIZE)
    ).all()
    active_filters = {k: v for k, v in {"akteur": akteur.strip(), "aktion": aktion}.items() if v}
    response = render(
        request,
        "audit_log.html",
        staff,
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        filters={"akteur": akteur.strip(), "aktion": aktion},
        actions=audit.ACTIONS,
        page_url=lambda number: "?" + urlencode({**active_filters, "seite": number}),
    )
    # Logged after reading, so that the page does not show its own viewing.
    audit.record(
        session, request.app.state.clock.now(), staff.username, "audit.viewed", **active_filters
    )
    session.commit()
    return response
