"""Human handoff: tickets with the whole transcript, and the staff's side of the conversation.

The bot opens a ticket (``POST /api/v1/internal/handoffs``) and from then on stays silent in
that conversation; the citizen's further messages arrive here through the input channels
(``add_citizen_message``). Staff take a ticket over, reply and close it; each reply and the
hand-back travel to the citizen's own channel through the relay on the Rasa server
(``backend.app.relay``), authenticated with the internal token.

While the service center (``BACKEND_HANDOFF_DEPARTMENT``) is open a ticket is ``live``: a
person joins the conversation. Outside its hours the ticket is a ``callback`` request: the
bot records the citizen's phone number or e-mail address and tells them when the service
center opens again; the bot keeps answering meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from backend.app.catalogue import Closure
from backend.app.core.config import Settings
from backend.app.models import Department, HandoffMessage, HandoffTicket, StaffAccount
from backend.app.opening_hours import opening_status
from backend.app.relay import Relay

OPEN_STATUSES = ("waiting", "active")
ROLES = ("citizen", "bot", "staff", "system")
# Why the bot handed the conversation over, as staff read it.
REASONS = {
    "requested": "Wunsch nach einer Person",
    "fallback": "Der Assistent hat mehrmals nicht verstanden",
    # Tickets of earlier bot versions, which handed a form over after invalid answers (now the
    # form offers a person and the citizen's own request has the reason "requested").
    "form_failures": "Wiederholt ungültige Angaben im Formular",
    "topic": "Thema wird immer persönlich bearbeitet",
}

# What the citizen is told while nobody has taken the conversation over yet.
WAITING_REPLY = (
    "Ihre Nachricht ist angekommen. Gleich meldet sich eine Mitarbeiterin oder ein Mitarbeiter "
    "des Servicecenters hier im Chat bei Ihnen."
)


def taken_over_text(account: StaffAccount) -> str:
    return (
        f"Sie schreiben jetzt mit {account.display_name} vom Servicecenter der Stadt, einem "
        "Menschen. Wie kann ich Ihnen helfen?"
    )


HANDED_BACK_TEXT = (
    "Das Servicecenter hat das Gespräch beendet. Sie schreiben jetzt wieder mit dem "
    "automatisierten Assistenten der Stadt. Fragen Sie mich gern, wenn Sie noch etwas wissen "
    "möchten."
)


class TicketConflict(Exception):
    """The ticket is not in a state that allows this (e.g. closed, or another's)."""


@dataclass(frozen=True)
class Staffing:
    """Whether the service center is staffed now, and otherwise when it opens next."""

    staffed: bool
    next_opening_at: datetime | None


def staffing(session: Session, settings: Settings, now: datetime) -> Staffing:
    department = session.scalar(
        select(Department).where(Department.slug == settings.handoff_department)
    )
    if department is None:
        # A catalogue without the service center: nobody can join live.
        return Staffing(staffed=False, next_opening_at=None)
    status = opening_status(
        department.opening_hours,
        [Closure.model_validate(c) for c in department.closures],
        now,
        settings.tz,
        settings.holiday_subdivision,
    )
    return Staffing(
        staffed=status.open_now,
        next_opening_at=status.next_opening.opens_at if status.next_opening else None,
    )


def open_ticket_of(session: Session, sender_id: str) -> HandoffTicket | None:
    """The conversation's ticket that is not closed yet (at most one)."""
    return session.scalar(
        select(HandoffTicket)
        .where(HandoffTicket.sender_id == sender_id, HandoffTicket.status.in_(OPEN_STATUSES))
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )


def open_ticket(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    sender_id: str,
    channel: str,
    reason: str,
    topic: str | None,
    transcript: list[dict[str, Any]],
    form: dict[str, Any] | None,
) -> HandoffTicket:
    """A new ticket with the transcript so far; the open one if the conversation has one."""
    existing = open_ticket_of(session, sender_id)
    if existing is not None:
        return existing
    staff = staffing(session, settings, now)
    ticket = HandoffTicket(
        sender_id=sender_id,
        channel=channel,
        kind="live" if staff.staffed else "callback",
        status="waiting",
        reason=reason,
        topic=topic,
        form=form,
        next_opening_at=None if staff.staffed else staff.next_opening_at,
        created_at=now,
    )
    ticket.messages = [
        HandoffMessage(role=entry["role"], text=entry["text"], at=entry["at"])
        for entry in transcript
    ]
    # Where the bot stopped: what the citizen writes from here on is for staff.
    ticket.messages.append(
        HandoffMessage(
            role="system", text=f"An das Servicecenter übergeben: {REASONS[reason]}.", at=now
        )
    )
    session.add(ticket)
    session.commit()
    return ticket


def add_citizen_message(
    session: Session, ticket: HandoffTicket, text: str, now: datetime
) -> str | None:
    """Store a message the citizen wrote during the handoff; what to answer them, if anything."""
    previous = ticket.messages[-1] if ticket.messages else None
    ticket.messages.append(HandoffMessage(role="citizen", text=text, at=now))
    session.commit()
    if ticket.status == "waiting" and (previous is None or previous.role != "citizen"):
        return WAITING_REPLY
    return None


def set_contact(session: Session, ticket: HandoffTicket, contact: str, now: datetime) -> None:
    """A callback request: the phone number or e-mail address the citizen gave."""
    ticket.contact = contact
    ticket.messages.append(
        HandoffMessage(role="system", text="Rückrufwunsch mit Kontaktangabe aufgenommen.", at=now)
    )
    session.commit()


async def take_over(
    session: Session, relay: Relay, ticket: HandoffTicket, account: StaffAccount, now: datetime
) -> bool:
    """A member of staff takes the conversation; the citizen is told who writes now.

    Returns whether that notice reached the citizen's channel.
    """
    if ticket.status == "closed":
        raise TicketConflict("closed")
    if ticket.status == "active" and ticket.assigned_to_id not in (None, account.id):
        raise TicketConflict("taken")
    # Claimed in the database before the citizen is told: of two members of staff pressing
    # "Übernehmen" at once, exactly one gets the conversation.
    claimed = session.execute(
        update(HandoffTicket)
        .where(
            HandoffTicket.id == ticket.id,
            HandoffTicket.status != "closed",
            or_(HandoffTicket.assigned_to_id.is_(None), HandoffTicket.assigned_to_id == account.id),
        )
        .values(status="active", assigned_to_id=account.id, taken_at=ticket.taken_at or now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(ticket)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise TicketConflict("closed" if ticket.status == "closed" else "taken")
    text = taken_over_text(account)
    delivered = await relay.send(ticket, "message", text) if ticket.kind == "live" else False
    ticket.messages.append(
        HandoffMessage(role="system", text=text, at=now, author_id=account.id, delivered=delivered)
    )
    session.commit()
    return delivered


async def reply(
    session: Session,
    relay: Relay,
    ticket: HandoffTicket,
    account: StaffAccount,
    text: str,
    now: datetime,
) -> bool:
    """A staff message to the citizen, in their own channel; stored even if not delivered."""
    if ticket.status != "active" or ticket.assigned_to_id != account.id:
        raise TicketConflict("not yours")
    delivered = await relay.send(ticket, "message", text)
    ticket.messages.append(
        HandoffMessage(role="staff", text=text, at=now, author_id=account.id, delivered=delivered)
    )
    session.commit()
    return delivered


async def close(
    session: Session, relay: Relay, ticket: HandoffTicket, account: StaffAccount, now: datetime
) -> bool:
    """Close the ticket and hand the conversation back to the bot.

    A live conversation is closed only once the relay has handed it back: otherwise the bot
    would stay silent in a conversation nobody sees any more. Returns False (and leaves the
    ticket open, for another try) when the hand-back did not reach the Rasa server.
    """
    if ticket.status == "closed":
        raise TicketConflict("closed")
    if ticket.kind == "live" and not await relay.send(ticket, "close", HANDED_BACK_TEXT):
        return False
    ticket.status = "closed"
    ticket.closed_at = now
    ticket.messages.append(
        HandoffMessage(
            role="system",
            text=HANDED_BACK_TEXT if ticket.kind == "live" else "Rückrufwunsch erledigt.",
            at=now,
            author_id=account.id,
            delivered=True if ticket.kind == "live" else None,
        )
    )
    session.commit()
    return True


def delete_conversation(session: Session, sender_id: str) -> int:
    """The citizen asked to delete their conversation: every ticket of it, with messages."""
    tickets = session.scalars(
        select(HandoffTicket.id).where(HandoffTicket.sender_id == sender_id)
    ).all()
    if tickets:
        session.execute(delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(tickets)))
        session.execute(delete(HandoffTicket).where(HandoffTicket.id.in_(tickets)))
    session.commit()
    return len(tickets)
