"""The service center's pages: the queue of handed-off conversations, transcript, reply.

Replies and the hand-back travel to the citizen's channel through the relay
(``backend.app.handoffs``); a message that could not be delivered is stored anyway, and the
page says so. The transcript page asks ``/nachrichten`` for new messages every few seconds
(``static/staff.js``); without JavaScript an "Aktualisieren" link reloads it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from backend.app import handoffs
from backend.app.api.deps import RelayDep, SessionDep
from backend.app.core.config import Settings
from backend.app.models import HandoffMessage, HandoffTicket
from backend.app.staff import audit
from backend.app.staff.auth import NOT_FOUND, Staff, StaffProblem, require, require_post
from backend.app.staff.pages import PREFIX, clock_time, duration, render, see_other
from backend.app.staff.roles import SERVICE_CENTER

router = APIRouter(prefix=f"{PREFIX}/uebergaben", include_in_schema=False)

StaffDep = Annotated[Staff, Depends(require(SERVICE_CENTER))]
StaffPostDep = Annotated[Staff, Depends(require_post(SERVICE_CENTER))]
ApiStaffDep = Annotated[Staff, Depends(require(SERVICE_CENTER, api=True))]
TicketId = Annotated[int, Path(ge=1, le=2**31)]

CLOSED_DAYS = 7
REPLY_LENGTH = 4000

CHANNELS = {"rest": "Website", "telegram": "Telegram"}
REASONS = handoffs.REASONS
KINDS = {"live": "Live-Chat", "callback": "Rückrufwunsch"}
STATUSES = {"waiting": "wartet", "active": "in Bearbeitung", "closed": "geschlossen"}
ROLES = {
    "citizen": "Bürgerin/Bürger",
    "bot": "Assistent",
    "staff": "Servicecenter",
    "system": "System",
}

# ?hinweis=... after a POST: fixed texts only, nothing from the request is shown.
NOTICES = {
    "uebernommen": ("ok", "Sie haben das Gespräch übernommen."),
    "gesendet": ("ok", "Ihre Antwort wurde zugestellt."),
    "geschlossen": ("ok", "Das Gespräch ist geschlossen und wieder beim Assistenten."),
    "erledigt": ("ok", "Der Rückrufwunsch ist als erledigt geschlossen."),
    "nicht_zugestellt": (
        "error",
        "Die Nachricht konnte der Bürgerin oder dem Bürger nicht zugestellt werden (der "
        "Chat-Server ist nicht erreichbar). Sie ist im Verlauf gespeichert; bitte versuchen "
        "Sie es gleich noch einmal.",
    ),
    "uebernahme_nicht_zugestellt": (
        "error",
        "Sie haben das Gespräch übernommen, aber der Hinweis darauf konnte nicht zugestellt "
        "werden (der Chat-Server ist nicht erreichbar). Er ist im Verlauf gespeichert.",
    ),
    "schliessen_nicht_zugestellt": (
        "error",
        "Das Gespräch konnte nicht an den Assistenten zurückgegeben werden, weil der "
        "Chat-Server nicht erreichbar ist. Es bleibt offen; bitte versuchen Sie es gleich noch "
        "einmal. Hält die Störung an, melden Sie sie bitte der IT.",
    ),
    "konflikt_geschlossen": ("error", "Dieses Gespräch ist bereits geschlossen."),
    "konflikt_vergeben": (
        "error",
        "Dieses Gespräch hat bereits eine Kollegin oder ein Kollege übernommen.",
    ),
    "konflikt_nicht_ihres": (
        "error",
        "Antworten kann nur, wer das Gespräch übernommen hat. Bitte übernehmen Sie es zuerst.",
    ),
    "leer": ("error", "Bitte schreiben Sie eine Antwort."),
}
CONFLICTS = {
    "closed": "konflikt_geschlossen",
    "taken": "konflikt_vergeben",
    "not yours": "konflikt_nicht_ihres",
}


def _ticket(session: Any, ticket_id: int) -> HandoffTicket:
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        raise StaffProblem(404, NOT_FOUND)
    return ticket


def _page(ticket_id: int, notice: str) -> Response:
    return see_other(f"{PREFIX}/uebergaben/{ticket_id}?hinweis={notice}#verlauf")


def message_json(message: HandoffMessage, settings: Settings) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "role_label": ROLES.get(message.role, message.role),
        "author": message.author.display_name if message.author else None,
        "text": message.text,
        "time": clock_time(message.at, settings),
        "delivered": message.delivered,
    }


def _labels() -> dict[str, Any]:
    return {
        "channels": CHANNELS,
        "reasons": REASONS,
        "kinds": KINDS,
        "statuses": STATUSES,
        "message_roles": ROLES,
    }


@router.get("")
def queue(request: Request, session: SessionDep, staff: StaffDep) -> Response:
    """Open tickets, the longest waiting first; then those closed in the last days."""
    now = request.app.state.clock.now()
    open_tickets = session.scalars(
        select(HandoffTicket)
        .where(HandoffTicket.status.in_(handoffs.OPEN_STATUSES))
        .order_by(HandoffTicket.created_at, HandoffTicket.id)
    ).all()
    closed = session.scalars(
        select(HandoffTicket)
        .where(
            HandoffTicket.status == "closed",
            HandoffTicket.closed_at >= now - timedelta(days=CLOSED_DAYS),
        )
        .order_by(HandoffTicket.closed_at.desc())
        .limit(100)
    ).all()
    audit.record(session, now, staff.username, "handoff.queue_viewed")
    session.commit()
    return render(
        request,
        "handoff_queue.html",
        staff,
        open_tickets=open_tickets,
        closed=closed,
        closed_days=CLOSED_DAYS,
        waited=lambda ticket: duration(now - ticket.created_at),
        **_labels(),
    )


@router.get("/{ticket_id}")
def ticket_page(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    ticket_id: TicketId,
    hinweis: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    ticket = _ticket(session, ticket_id)
    now = request.app.state.clock.now()
    audit.record(session, now, staff.username, "handoff.viewed", "handoff", ticket.id)
    session.commit()
    return render(
        request,
        "handoff_ticket.html",
        staff,
        ticket=ticket,
        notice=NOTICES.get(hinweis or ""),
        waited=duration(now - ticket.created_at),
        mine=ticket.status == "active" and ticket.assigned_to_id == staff.account.id,
        last_id=ticket.messages[-1].id if ticket.messages else 0,
        reply_length=REPLY_LENGTH,
        **_labels(),
    )


@router.get("/{ticket_id}/nachrichten")
def new_messages(
    request: Request,
    session: SessionDep,
    staff: ApiStaffDep,
    ticket_id: TicketId,
    nach: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """Messages after ``nach`` (a message id), for the page's live update."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        return JSONResponse({"detail": "Nicht gefunden."}, status_code=404)
    settings: Settings = request.app.state.settings
    messages = session.scalars(
        select(HandoffMessage)
        .where(HandoffMessage.ticket_id == ticket.id, HandoffMessage.id > nach)
        .order_by(HandoffMessage.id)
    ).all()
    return JSONResponse(
        {
            "status": ticket.status,
            "status_label": STATUSES.get(ticket.status, ticket.status),
            "messages": [message_json(message, settings) for message in messages],
        }
    )


@router.post("/{ticket_id}/uebernehmen")
async def take_over(
    request: Request, session: SessionDep, relay: RelayDep, staff: StaffPostDep, ticket_id: TicketId
) -> Response:
    ticket = _ticket(session, ticket_id)
    now = request.app.state.clock.now()
    try:
        delivered = await handoffs.take_over(session, relay, ticket, staff.account, now)
    except handoffs.TicketConflict as conflict:
        return _page(ticket.id, CONFLICTS.get(str(conflict), "konflikt_geschlossen"))
    audit.record(
        session,
        now,
        staff.username,
        "handoff.taken_over",
        "handoff",
        ticket.id,
        delivered=delivered,
    )
    session.commit()
    if ticket.kind == "live" and not delivered:
        return _page(ticket.id, "uebernahme_nicht_zugestellt")
    return _page(ticket.id, "uebernommen")


@router.post("/{ticket_id}/antworten")
async def answer(
    request: Request,
    session: SessionDep,
    relay: RelayDep,
    staff: StaffPostDep,
    ticket_id: TicketId,
    text: Annotated[str, Form(max_length=REPLY_LENGTH)] = "",
) -> Response:
    ticket = _ticket(session, ticket_id)
    if not text.strip():
        return _page(ticket.id, "leer")
    now = request.app.state.clock.now()
    try:
        delivered = await handoffs.reply(session, relay, ticket, staff.account, text.strip(), now)
    except handoffs.TicketConflict as conflict:
        return _page(ticket.id, CONFLICTS.get(str(conflict), "konflikt_nicht_ihres"))
    audit.record(
        session, now, staff.username, "handoff.replied", "handoff", ticket.id, delivered=delivered
    )
    session.commit()
    return _page(ticket.id, "gesendet" if delivered else "nicht_zugestellt")


@router.post("/{ticket_id}/schliessen")
async def close(
    request: Request, session: SessionDep, relay: RelayDep, staff: StaffPostDep, ticket_id: TicketId
) -> Response:
    ticket = _ticket(session, ticket_id)
    now = request.app.state.clock.now()
    try:
        closed = await handoffs.close(session, relay, ticket, staff.account, now)
    except handoffs.TicketConflict as conflict:
        return _page(ticket.id, CONFLICTS.get(str(conflict), "konflikt_geschlossen"))
    # A hand-back that did not reach the chat server leaves the ticket open (see handoffs).
    action = "handoff.closed" if closed else "handoff.close_failed"
    audit.record(session, now, staff.username, action, "handoff", ticket.id)
    session.commit()
    if not closed:
        return _page(ticket.id, "schliessen_nicht_zugestellt")
    return _page(ticket.id, "geschlossen" if ticket.kind == "live" else "erledigt")
