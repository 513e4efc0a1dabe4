"""Database models (SQLAlchemy 2, typed)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamp(TypeDecorator[datetime]):
    """An instant, stored in UTC and read back as an aware datetime.

    SQLite keeps no time zone: without this, aware datetimes from the clock would be stored
    as local wall time and read back naive, and comparisons with the database's own
    ``CURRENT_TIMESTAMP`` (UTC) would be off by the offset. PostgreSQL's ``timestamptz``
    behaves the same way through it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Department(Base):
    """An office of the city administration, as the catalogue describes it."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(200))
    floor: Mapped[str | None] = mapped_column(String(100))
    room: Mapped[str | None] = mapped_column(String(50))
    directions: Mapped[str | None] = mapped_column(Text)
    barrier_free: Mapped[bool | None] = mapped_column()
    # weekday name -> ["HH:MM-HH:MM", ...]
    opening_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # [{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "reason": "..."}]
    closures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sample_data: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Service(Base):
    """A service (Leistung) citizens ask for, as the catalogue describes it."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    leika: Mapped[str | None] = mapped_column(String(14))
    description: Mapped[str] = mapped_column(Text)
    eligibility: Mapped[str | None] = mapped_column(Text)
    fees: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    processing_time: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    online_form: Mapped[str | None] = mapped_column(String(64))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    sample_data: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    department: Mapped[Department] = relationship(lazy="joined")


class Application(Base):
    """An application a citizen submitted: the checked answers of one form, as received."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    # The form spec (data/forms/<form_id>.yml) the answers were checked against.
    form_id: Mapped[str] = mapped_column(String(64))
    # Canonical answers of the fields the case needs (forms.answers.validate_submission).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Shared secret of the citizen: the postal code of the applicant's address.
    postal_code: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(32), default="received")
    status_note: Mapped[str | None] = mapped_column(Text)
    # When the last department decided it (a final status); retention counts from here.
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Chosen by the submitting client; a repeated submission with it returns this row.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # SHA-256 of the submission, to tell a repeated submission from a different one.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        Timestamp, server_default=func.now(), onupdate=func.now()
    )

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="application", order_by="Delivery.id", cascade="all, delete-orphan"
    )


class Delivery(Base):
    """The outbox: one department's part of an application, until its DMS has it."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint(
            "application_id", "department_slug", name="uq_delivery_application_id_department_slug"
        ),
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    # A catalogue slug, not a foreign key: the catalogue may be reloaded without it.
    department_slug: Mapped[str] = mapped_column(String(64))
    # The fields this department receives, in the order of the form.
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the department does with it and what the citizen was told, as at submission.
    purpose: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text)
    # pending | delivering | retrying | delivered
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp)
    # While delivering: the worker holding the delivery, and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None] = mapped_column(Timestamp)
    # Why the last attempt failed; short, technical, never the citizen's data.
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # The DMS sink that took it ("folder", "webdav").
    sink: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())

    application: Mapped[Application] = relationship(back_populates="deliveries")


class StatusCheckFailure(Base):
    """A failed status question; counted to slow down guessing of reference numbers."""

    __tablename__ = "status_check_failure"
    __table_args__ = (Index("ix_status_check_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "conversation:<id>" or "reference:<reference>"
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffAccount(Base):
    """A member of staff who signs in to the intranet (local account, argon2 hash)."""

    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # service_center | clerk | admin (backend.app.staff.roles)
    role: Mapped[str] = mapped_column(String(16))
    # Catalogue slugs of the departments whose applications a clerk sees.
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id", ondelete="CASCADE"))
    # Synchronizer token: every form of this session carries it, every POST is checked.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)

    account: Mapped[StaffAccount] = relationship(lazy="joined")


class LoginFailure(Base):
    """A failed sign-in; counted per user name and per client address to slow guessing."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "username:<name>" or "address:<ip>"
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(Timestamp)


class AuditEntry(Base):
    """Who did what, when: one row per staff action. Holds ids, never citizens' data."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    # The account's user name, kept as text so that the entry outlives the account.
    actor: Mapped[str] = mapped_column(String(64))
    # e.g. "login", "handoff.reply", "application.status" (backend.app.staff.audit)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class HandoffTicket(Base):
    """A conversation the bot handed to a person, with its transcript.

    ``live`` tickets are taken over by the service center while it is staffed; the bot
    stays silent in that conversation until a member of staff hands it back. Outside the
    service center's hours the ticket is a ``callback`` request with the citizen's contact.
    """

    __tablename__ = "handoff_ticket"
    __table_args__ = (Index("ix_handoff_ticket_sender_id_status", "sender_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The conversation (Rasa sender id) and the citizen's channel: "rest" or "telegram".
    sender_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    # live | callback
    kind: Mapped[str] = mapped_column(String(16))
    # waiting | active | closed
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    # requested | fallback | form_failures | topic
    reason: Mapped[str] = mapped_column(String(32))
    # The service the conversation was about, if known (catalogue slug).
    topic: Mapped[str | None] = mapped_column(String(64))
    # An unfinished form: {"form_id", "title", "fields": [{"name", "label", "value"}]}
    form: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Callback: the phone number or e-mail address the citizen gave.
    contact: Mapped[str | None] = mapped_column(String(200))
    next_opening_at: Mapped[datetime | None] = mapped_column(Timestamp)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    taken_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)

    assigned_to: Mapped[StaffAccount | None] = relationship(lazy="joined")
    messages: Mapped[list[HandoffMessage]] = relationship(
        back_populates="ticket", order_by="HandoffMessage.id", cascade="all, delete-orphan"
    )


class HandoffMessage(Base):
    """One message of a handed-off conversation: citizen, bot, staff or a system note."""

    __tablename__ = "handoff_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_ticket.id", ondelete="CASCADE"))
    # citizen | bot | staff | system
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)
    # Staff messages: who wrote it, and whether it reached the citizen's channel.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_account.id", ondelete="SET NULL")
    )
    delivered: Mapped[bool | None] = mapped_column()

    ticket: Mapped[HandoffTicket] = relationship(back_populates="messages")
    author: Mapped[StaffAccount | None] = relationship(lazy="joined")


class ApplicationEvent(Base):
    """A status change of an application by a clerk, with the note the citizen is told."""

    __tablename__ = "application_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"))
    department_slug: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(Timestamp)
