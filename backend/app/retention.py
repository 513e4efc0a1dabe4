"""Retention: each kind of data is deleted once it is older than its period.

The periods come from ``data/retention.yml`` (``BACKEND_RETENTION_FILE``), checked when the
backend starts: an unknown kind, a missing one or a negative period stops the start. The
job (``python -m backend.retention``) calls ``run_retention`` every
``BACKEND_RETENTION_INTERVAL_MINUTES``; it deletes in the backend's database
(``apply_retention``) and, when ``BACKEND_RETENTION_TRACKER_URL`` names it, in the Rasa
tracker store (``purge_conversations``). It logs counts, never what was deleted.

Nothing still in use is deleted: open handoff tickets stay however old they are (the job
only counts those nobody has touched), and an application stays until a department has
decided it and every department's copy is delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    exists,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backend.app.core.db import Pool, make_engine
from backend.app.models import (
    Application,
    ApplicationEvent,
    AuditEntry,
    Delivery,
    HandoffMessage,
    HandoffTicket,
    LoginFailure,
    StaffSession,
    StatusCheckFailure,
)

logger = logging.getLogger("govbot.backend.retention")

Days = Annotated[int, Field(strict=True, ge=0, le=36500)]
# Rows deleted per statement: stays below every database's limit of bound parameters.
CHUNK = 500


class Periods(BaseModel):
    """Days each kind of data is kept (see data/retention.yml for what each one means)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    handoff_transcript: Days
    callback_request: Days
    stale_open_ticket: Days
    application: Days
    audit_entry: Days
    staff_session: Days
    login_failure: Days
    status_check_failure: Days
    conversation: Days


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # True until the city's data protection officer has confirmed the periods.
    sample_data: bool
    periods: Periods


class RetentionPolicyError(ValueError):
    """The retention file is missing or says something the job cannot follow."""


KINDS = tuple(Periods.model_fields)


def load_retention_policy(path: Path) -> RetentionPolicy:
    """The checked retention policy; a clear ``RetentionPolicyError`` otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RetentionPolicyError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise RetentionPolicyError(f"{path}: not valid YAML ({error})") from None
    try:
        return RetentionPolicy.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(_problem(item) for item in error.errors())
        raise RetentionPolicyError(f"{path}: {problems}") from None


def _problem(item: Any) -> str:
    where = ".".join(str(part) for part in item["loc"]) or "the file"
    kind = item["type"]
    if kind == "extra_forbidden":
        if len(item["loc"]) == 2 and item["loc"][0] == "periods":
            return f"{where}: unknown kind of data (known: {', '.join(KINDS)})"
        return f"{where}: unknown key"
    if kind == "missing":
        return f"{where}: missing"
    if kind in ("greater_than_equal", "less_than_equal", "int_type", "int_parsing"):
        return f"{where}: must be a whole number of days from 0 to 36500"
    return f"{where}: {item['msg']}"


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _delete_tickets(session: Session, ids: Sequence[int]) -> None:
    for chunk in _chunks(ids):
        session.execute(delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(chunk)))
        session.execute(delete(HandoffTicket).where(HandoffTicket.id.in_(chunk)))


def _closed_tickets(session: Session, *, callback: bool, before: datetime) -> list[int]:
    kind = HandoffTicket.kind == "callback" if callback else HandoffTicket.kind != "callback"
    return list(
        session.scalars(
            select(HandoffTicket.id).where(
                HandoffTicket.status == "closed",
                HandoffTicket.closed_at < before,
                kind,
            )
        )
    )


def _expired_applications(session: Session, before: datetime) -> list[int]:
    undelivered = exists().where(
        Delivery.application_id == Application.id, Delivery.status != "delivered"
    )
    return list(
        session.scalars(
            select(Application.id).where(
                Application.closed_at.is_not(None),
                Application.closed_at < before,
                ~undelivered,
            )
        )
    )


def apply_retention(session: Session, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """Delete what has expired at ``now`` in the backend's database; counts per kind.

    One transaction: either every kind is cleaned up or nothing is.
    """
    periods = policy.periods

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    counts: dict[str, int] = {}
    for kind, callback in (("handoff_transcript", False), ("callback_request", True)):
        ids = _closed_tickets(session, callback=callback, before=before(getattr(periods, kind)))
        _delete_tickets(session, ids)
        counts[kind] = len(ids)

    applications = _expired_applications(session, before(periods.application))
    events = 0
    for chunk in _chunks(applications):
        result = session.execute(
            delete(ApplicationEvent).where(ApplicationEvent.application_id.in_(chunk))
        )
        events += result.rowcount  # type: ignore[attr-defined]
        session.execute(delete(Delivery).where(Delivery.application_id.in_(chunk)))
        session.execute(delete(Application).where(Application.id.in_(chunk)))
    counts["application"] = len(applications)
    counts["application_event"] = events

    # StatusCheckFailure.at is written with the city's "now" (plain DateTime): compared with
    # a "now" from the same clock, as the status route does.
    simple: tuple[tuple[str, Any, Any, int], ...] = (
        ("audit_entry", AuditEntry, AuditEntry.at, periods.audit_entry),
        ("staff_session", StaffSession, StaffSession.expires_at, periods.staff_session),
        ("login_failure", LoginFailure, LoginFailure.at, periods.login_failure),
        (
            "status_check_failure",
            StatusCheckFailure,
            StatusCheckFailure.at,
            periods.status_check_failure,
        ),
    )
    for kind, model, column, days in simple:
        result = session.execute(delete(model).where(column < before(days)))
        counts[kind] = result.rowcount  # type: ignore[attr-defined]
    session.commit()
    return counts


def stale_open_tickets(session: Session, policy: RetentionPolicy, now: datetime) -> int:
    """Open tickets with no message (and no opening) within ``stale_open_ticket`` days."""
    before = now - timedelta(days=policy.periods.stale_open_ticket)
    recent = exists().where(
        HandoffMessage.ticket_id == HandoffTicket.id, HandoffMessage.at >= before
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(HandoffTicket)
            .where(
                HandoffTicket.status != "closed",
                HandoffTicket.created_at < before,
                ~recent,
            )
        )
        or 0
    )


# The columns of Rasa's SQLTrackerStore table that the job needs (rasa.core.tracker_store).
_tracker_metadata = MetaData()
TRACKER_EVENTS = Table(
    "events",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


def tracker_engine(url: str, pool: Pool | None = None) -> Engine | None:
    """An engine on the tracker store, or None when it does not exist (yet).

    A missing SQLite file is not created: Rasa has not stored a conversation yet. A server
    tracker store (PostgreSQL) gets ``pool``, and ``postgresql://`` means psycopg 3 as for
    the backend's own database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return None
        if not Path(parsed.database).exists():
            return None
        # Rasa writes meanwhile: wait for its lock instead of failing at once.
        return create_engine(parsed, hide_parameters=True, connect_args={"timeout": 30})
    return make_engine(url, pool)


def purge_conversations(engine: Engine, days: int, now: datetime) -> int:
    """Delete every event of the conversations whose latest event is older than ``days``.

    Returns how many conversations went. One statement deletes them, so a conversation
    that receives an event meanwhile is kept whole.
    """
    if not inspect(engine).has_table("events"):
        return 0
    before = (now - timedelta(days=days)).timestamp()
    events = TRACKER_EVENTS.c
    stale = (
        select(events.sender_id)
        .group_by(events.sender_id)
        .having(func.max(events.timestamp) < before)
    )
    with engine.begin() as connection:
        count = connection.scalar(select(func.count()).select_from(stale.subquery())) or 0
        if count:
            connection.execute(delete(TRACKER_EVENTS).where(events.sender_id.in_(stale)))
    return count


@dataclass
class RetentionReport:
    deleted: dict[str, int] = field(default_factory=dict)
    stale_open_tickets: int = 0


def run_retention(
    session: Session,
    policy: RetentionPolicy,
    now: datetime,
    tracker: Engine | None = None,
) -> RetentionReport:
    """One pass of the job: the backend's database, then the tracker store; logged as counts."""
    report = RetentionReport(deleted=apply_retention(session, policy, now))
    report.deleted["conversation"] = (
        purge_conversations(tracker, policy.periods.conversation, now) if tracker else 0
    )
    report.stale_open_tickets = stale_open_tickets(session, policy, now)
    logger.info(
        "retention: deleted %s",
        ", ".join(f"{kind} {count}" for kind, count in report.deleted.items()),
    )
    if report.stale_open_tickets:
        logger.warning(
            "retention: %d open handoff tickets untouched for more than %d days; "
            "the service center should close them",
            report.stale_open_tickets,
            policy.periods.stale_open_ticket,
        )
    return report
