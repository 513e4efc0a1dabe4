"""Internal API of the human handoff, for the action server and the input channels only.

Every route needs ``Authorization: Bearer <GOVBOT_INTERNAL_TOKEN>``; the reverse proxy does
not expose ``/api/v1/internal`` to citizens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from backend.app import handoffs
from backend.app.api.deps import InternalTokenDep, SessionDep, SettingsDep
from backend.app.core.clock import now as clock_now
from backend.app.models import HandoffTicket

router = APIRouter(prefix="/api/v1/internal", tags=["internal"], dependencies=[InternalTokenDep])

SenderId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class TranscriptEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["citizen", "bot"]
    text: Text
    at: datetime


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=100)]
    label: Annotated[str, StringConstraints(max_length=200)]
    value: Annotated[str, StringConstraints(max_length=2000)]


class UnfinishedForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: Annotated[str, StringConstraints(max_length=64)]
    title: Annotated[str, StringConstraints(max_length=200)]
    fields: list[FormField] = Field(default_factory=list, max_length=200)


class HandoffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: SenderId
    channel: Literal["rest", "telegram"]
    reason: Literal["requested", "fallback", "form_failures", "topic"]
    topic: Annotated[str, StringConstraints(max_length=64)] | None = None
    transcript: list[TranscriptEntry] = Field(default_factory=list, max_length=500)
    form: UnfinishedForm | None = None


class HandoffOut(BaseModel):
    ticket_id: int
    kind: str = Field(description="live (a person joins now) | callback (outside hours)")
    status: str
    staffed: bool
    next_opening_at: datetime | None


class CitizenMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: SenderId
    text: Text


class CitizenMessageOut(BaseModel):
    ticket_id: int
    status: str
    reply: str | None = Field(description="What the channel answers the citizen, if anything")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender_id: SenderId
    contact: Annotated[str, StringConstraints(min_length=3, max_length=200)]


NO_TICKET = "Zu diesem Gespräch gibt es keine offene Übergabe."


@router.post("/handoffs", response_model=HandoffOut, status_code=201)
def create_handoff(
    body: HandoffIn, session: SessionDep, settings: SettingsDep, response: Response
) -> HandoffOut:
    """Open a ticket with the transcript; an open ticket of the conversation is returned as is."""
    now = clock_now(settings)
    existing = handoffs.open_ticket_of(session, body.sender_id)
    ticket = existing or handoffs.open_ticket(
        session,
        settings,
        now,
        sender_id=body.sender_id,
        channel=body.channel,
        reason=body.reason,
        topic=body.topic,
        transcript=[entry.model_dump() for entry in body.transcript],
        form=body.form.model_dump() if body.form else None,
    )
    if existing is not None:
        response.status_code = 200
    staffed = ticket.kind == "live"
    return HandoffOut(
        ticket_id=ticket.id,
        kind=ticket.kind,
        status=ticket.status,
        staffed=staffed,
        next_opening_at=ticket.next_opening_at,
    )


@router.post(
    "/handoffs/messages",
    response_model=CitizenMessageOut,
    responses={404: {"description": NO_TICKET}},
)
def citizen_message(
    body: CitizenMessageIn, session: SessionDep, settings: SettingsDep
) -> CitizenMessageOut:
    """A message the citizen wrote while the conversation is with the service center."""
    ticket = handoffs.open_ticket_of(session, body.sender_id)
    if ticket is None or ticket.kind != "live":
        raise HTTPException(status_code=404, detail=NO_TICKET)
    reply = handoffs.add_citizen_message(session, ticket, body.text, clock_now(settings))
    return CitizenMessageOut(ticket_id=ticket.id, status=ticket.status, reply=reply)


@router.put("/handoffs/{ticket_id}/contact", status_code=204, responses={404: {}})
def set_contact(
    ticket_id: Annotated[int, Path(ge=1)],
    body: ContactIn,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The phone number or e-mail address for a callback request."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None or ticket.sender_id != body.sender_id or ticket.status == "closed":
        raise HTTPException(status_code=404, detail=NO_TICKET)
    handoffs.set_contact(session, ticket, body.contact, clock_now(settings))
    return Response(status_code=204)


@router.delete("/conversations/{sender_id}", status_code=204)
def delete_conversation(sender_id: SenderId, session: SessionDep) -> Response:
    """The citizen asked to delete their conversation: its tickets and transcripts go."""
    handoffs.delete_conversation(session, sender_id)
    return Response(status_code=204)
