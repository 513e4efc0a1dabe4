"""The retention job deletes exactly what has expired (backend/app/retention.py).

"Now" is fixed (Wednesday, 2 December 2026, 10:00 in Musterstadt). For every kind of data a
record one second past its period and one a second short of it are built; exactly the first
ones go, and nothing still in use goes however old it is.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend import retention as retention_cli
from backend.app.core.config import Settings
from backend.app.core.db import make_engine, make_session_factory, migrate
from backend.app.main import create_app
from backend.app.models import (
    Application,
    ApplicationEvent,
    AuditEntry,
    Delivery,
    HandoffMessage,
    HandoffTicket,
    LoginFailure,
    StaffAccount,
    StaffSession,
    StatusCheckFailure,
)
from backend.app.retention import (
    RetentionPolicy,
    RetentionPolicyError,
    load_retention_policy,
    purge_conversations,
    run_retention,
    tracker_engine,
)
from forms.privacy import log_redaction_installed, uninstall_log_redaction
from tests.backend.conftest import ROOT, WEDNESDAY_MORNING, make_settings

NOW = WEDNESDAY_MORNING
SECOND = timedelta(seconds=1)
POLICY_FILE = ROOT / "data" / "retention.yml"
_numbers = itertools.count(1)


def days(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.fixture
def policy() -> RetentionPolicy:
    return load_retention_policy(POLICY_FILE)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'backend.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as session:
        yield session


# --- builders ---------------------------------------------------------------------------


def ticket(
    session: Session,
    *,
    kind: str = "live",
    status: str = "closed",
    closed_at: datetime | None = None,
    created_at: datetime | None = None,
    last_message_at: datetime | None = None,
) -> int:
    created = created_at or (closed_at or NOW) - days(1)
    item = HandoffTicket(
        sender_id=f"conversation-{next(_numbers)}",
        channel="rest",
        kind=kind,
        status=status,
        reason="requested",
        contact="0151 23456789" if kind == "callback" else None,
        created_at=created,
        closed_at=closed_at,
    )
    item.messages = [
        HandoffMessage(role="citizen", text="Ich möchte mit einem Menschen sprechen.", at=created),
        HandoffMessage(role="bot", text="Gern.", at=last_message_at or created),
    ]
    session.add(item)
    session.commit()
    return item.id


def application(
    session: Session, *, closed_at: datetime | None, deliveries: tuple[str, ...] = ("delivered",)
) -> int:
    number = next(_numbers)
    item = Application(
        reference=f"BPA-2026-{number:06d}",
        service_slug="bewohnerparkausweis",
        form_id="bewohnerparkausweis",
        answers={"vorname": "Anna", "email": "anna@example.org"},
        postal_code="12345",
        status="approved" if closed_at else "received",
        closed_at=closed_at,
        created_at=(closed_at or NOW) - days(10),
    )
    item.deliveries = [
        Delivery(
            department_slug=f"department-{index}",
            fields=["vorname"],
            purpose="Prüfung",
            next_steps="Sie erhalten Post.",
            status=status,
            next_attempt_at=NOW,
        )
        for index, status in enumerate(deliveries)
    ]
    session.add(item)
    session.flush()
    session.add(
        ApplicationEvent(
            application_id=item.id,
            department_slug="department-0",
            status="approved",
            note="Genehmigt.",
            actor="clerk",
            at=closed_at or NOW,
        )
    )
    session.commit()
    return item.id


def account(session: Session) -> StaffAccount:
    item = StaffAccount(
        username=f"staff-{next(_numbers)}",
        display_name="Erika Beispiel",
        password_hash="x",
        role="service_center",
        created_at=NOW - days(1000),
    )
    session.add(item)
    session.commit()
    return item


def staff_session(session: Session, owner: StaffAccount, expires_at: datetime) -> int:
    item = StaffSession(
        token_hash=f"{next(_numbers):064d}",
        account_id=owner.id,
        csrf_token="x",
        created_at=expires_at - timedelta(hours=9),
        last_seen_at=expires_at - timedelta(hours=9),
        expires_at=expires_at,
    )
    session.add(item)
    session.commit()
    return item.id


def ids(session: Session, model: type) -> set[int]:
    return set(session.scalars(select(model.id)))  # type: ignore[attr-defined]


# --- the backend's database -------------------------------------------------------------


def test_exactly_the_expired_records_are_deleted(session: Session, policy: RetentionPolicy) -> None:
    periods = policy.periods
    transcript_limit = NOW - days(periods.handoff_transcript)
    callback_limit = NOW - days(periods.callback_request)
    application_limit = NOW - days(periods.application)

    expired_live = ticket(session, closed_at=transcript_limit - SECOND)
    kept_live = ticket(session, closed_at=transcript_limit + SECOND)
    expired_callback = ticket(session, kind="callback", closed_at=callback_limit - SECOND)
    kept_callback = ticket(session, kind="callback", closed_at=callback_limit + SECOND)
    # A live ticket closed longer ago than a callback's period, but within its own.
    kept_live_past_callback = ticket(session, closed_at=callback_limit - days(1))
    # Open tickets stay, however old.
    open_waiting = ticket(session, status="waiting", created_at=NOW - days(1000))
    open_active = ticket(session, kind="callback", status="active", created_at=NOW - days(1000))

    expired_application = application(session, closed_at=application_limit - SECOND)
    kept_application = application(session, closed_at=application_limit + SECOND)
    undelivered = application(
        session, closed_at=NOW - days(1000), deliveries=("delivered", "retrying")
    )
    undecided = application(session, closed_at=None)
    expired_without_deliveries = application(
        session, closed_at=application_limit - SECOND, deliveries=()
    )

    audit_limit = NOW - days(periods.audit_entry)
    session.add_all(
        [
            AuditEntry(at=audit_limit - SECOND, actor="erika", action="login"),
            AuditEntry(at=audit_limit + SECOND, actor="erika", action="login"),
            LoginFailure(key="username:erika", at=NOW - days(periods.login_failure) - SECOND),
            LoginFailure(key="username:erika", at=NOW - days(periods.login_failure) + SECOND),
            StatusCheckFailure(
                key="reference:BPA-2026-000001",
                at=NOW - days(periods.status_check_failure) - SECOND,
            ),
            StatusCheckFailure(
                key="reference:BPA-2026-000001",
                at=NOW - days(periods.status_check_failure) + SECOND,
            ),
        ]
    )
    session.commit()
    erika = account(session)
    session_limit = NOW - days(periods.staff_session)
    expired_session = staff_session(session, erika, session_limit - SECOND)
    kept_session = staff_session(session, erika, session_limit + SECOND)

    report = run_retention(session, policy, NOW)

    assert report.deleted == {
        "handoff_transcript": 1,
        "callback_request": 1,
        "application": 2,
        "application_event": 2,
        "audit_entry": 1,
        "staff_session": 1,
        "login_failure": 1,
        "status_check_failure": 1,
        "conversation": 0,
    }
    session.expire_all()
    remaining_tickets = ids(session, HandoffTicket)
    assert remaining_tickets == {
        kept_live,
        kept_callback,
        kept_live_past_callback,
        open_waiting,
        open_active,
    }
    assert expired_live not in remaining_tickets and expired_callback not in remaining_tickets
    # The messages went with their tickets, and only those.
    assert set(session.scalars(select(HandoffMessage.ticket_id))) == remaining_tickets
    assert session.scalar(select(func.count()).select_from(HandoffMessage)) == 10

    assert ids(session, Application) == {kept_application, undelivered, undecided}
    assert expired_application not in ids(session, Application)
    assert expired_without_deliveries not in ids(session, Application)
    survivors = {kept_application, undelivered, undecided}
    assert set(session.scalars(select(Delivery.application_id))) == survivors
    assert set(session.scalars(select(ApplicationEvent.application_id))) == survivors

    assert [entry.at for entry in session.scalars(select(AuditEntry))] == [audit_limit + SECOND]
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 1
    assert session.scalar(select(func.count()).select_from(StatusCheckFailure)) == 1
    assert ids(session, StaffSession) == {kept_session}
    assert expired_session not in ids(session, StaffSession)
    # Accounts are no kind of retention data: they stay.
    assert ids(session, StaffAccount) == {erika.id}

    # A second pass finds nothing more.
    again = run_retention(session, policy, NOW)
    assert set(again.deleted.values()) == {0}


def test_open_tickets_nobody_touched_are_counted_not_closed(
    session: Session, policy: RetentionPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    limit = NOW - days(policy.periods.stale_open_ticket)
    stale = ticket(session, status="waiting", created_at=limit - days(5))
    ticket(
        session,
        status="active",
        created_at=limit - days(5),
        last_message_at=limit + SECOND,
    )
    ticket(session, status="waiting", created_at=limit + SECOND)
    ticket(session, status="closed", closed_at=NOW - days(1), created_at=limit - days(5))

    with caplog.at_level("INFO", logger="govbot.backend.retention"):
        report = run_retention(session, policy, NOW)

    assert report.stale_open_tickets == 1
    session.expire_all()
    still_open = session.get(HandoffTicket, stale)
    assert still_open is not None and still_open.status == "waiting"
    assert "1 open handoff tickets untouched" in caplog.text
    # Counts only: no conversation id, no text of the transcript.
    assert "conversation-" not in caplog.text and "Menschen" not in caplog.text


# --- the Rasa tracker store -------------------------------------------------------------


def tracker_file(path: Path, events: list[tuple[str, float]]) -> Path:
    """A SQLite tracker store with Rasa's ``events`` table (rasa.core.tracker_store.SQLEvent)."""
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
        "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
        "action_name VARCHAR(255), data TEXT)"
    )
    connection.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')",
        events,
    )
    connection.commit()
    connection.close()
    return path


def tracker_rows(path: Path) -> list[tuple[str, float]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT sender_id, timestamp FROM events ORDER BY id").fetchall()
    finally:
        connection.close()


def test_conversations_go_whole_when_their_last_event_is_too_old(
    tmp_path: Path, policy: RetentionPolicy
) -> None:
    limit = (NOW - days(policy.periods.conversation)).timestamp()
    path = tracker_file(
        tmp_path / "tracker.sqlite3",
        [
            ("old", limit - 86400 * 10),
            ("old", limit - 1),
            ("recent", limit - 86400 * 10),  # began long ago, but still going
            ("recent", limit + 1),
            ("new", NOW.timestamp()),
        ],
    )
    engine = tracker_engine(f"sqlite:///{path}")
    assert engine is not None
    try:
        assert purge_conversations(engine, policy.periods.conversation, NOW) == 1
        assert purge_conversations(engine, policy.periods.conversation, NOW) == 0
    finally:
        engine.dispose()
    assert [sender for sender, _ in tracker_rows(path)] == ["recent", "recent", "new"]


def test_a_tracker_store_not_there_yet_is_left_alone(tmp_path: Path) -> None:
    missing = tmp_path / "tracker.sqlite3"
    assert tracker_engine(f"sqlite:///{missing}") is None
    assert not missing.exists()
    # A database without Rasa's table (Rasa has not started yet) is not touched either.
    engine = tracker_engine(f"sqlite:///{tracker_file(missing, [])}")
    assert engine is not None
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    try:
        assert purge_conversations(engine, 30, NOW) == 0
    finally:
        engine.dispose()


# --- the command ------------------------------------------------------------------------


@pytest.fixture
def clean_logging() -> Iterator[None]:
    yield
    uninstall_log_redaction()


def test_the_command_runs_one_pass_on_both_databases(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policy: RetentionPolicy,
    capsys: pytest.CaptureFixture[str],
    clean_logging: None,
) -> None:
    database = tmp_path / "backend.sqlite3"
    tracker = tracker_file(
        tmp_path / "tracker.sqlite3",
        [("old", (NOW - days(policy.periods.conversation + 1)).timestamp())],
    )
    settings = make_settings(tmp_path, retention_tracker_url=f"sqlite:///{tracker}")
    engine = make_engine(settings.database_url)
    migrate(engine)
    with make_session_factory(engine)() as session:
        ticket(session, closed_at=NOW - days(policy.periods.handoff_transcript + 1))
    engine.dispose()
    monkeypatch.setattr(retention_cli, "get_settings", lambda: settings)

    assert retention_cli.main(["--once"]) == 0

    output = capsys.readouterr().out
    assert "handoff_transcript 1" in output and "conversation 1" in output
    assert tracker_rows(tracker) == []
    assert database.exists()
    assert log_redaction_installed()


def broken(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "retention.yml"
    path.write_text(text, encoding="utf-8")
    return path


VALID = POLICY_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID + "  chat_logs: 10\n", r"periods\.chat_logs: unknown kind of data \(known: "),
        (VALID.replace("audit_entry: 730", "audit_entry: -1"), r"periods\.audit_entry: must be"),
        (VALID.replace("conversation: 30", "conversation: 30 days"), r"conversation: must be"),
        (VALID.replace("  application: 180\n", ""), r"periods\.application: missing"),
        ("periods: [", "not valid YAML"),
    ],
)
def test_a_broken_policy_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(RetentionPolicyError, match=message):
        load_retention_policy(broken(tmp_path, text))


def test_a_broken_policy_stops_the_command_and_the_backend(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clean_logging: None,
) -> None:
    path = broken(tmp_path, VALID.replace("audit_entry: 730", "audit_entry: -1"))
    settings: Settings = make_settings(tmp_path, retention_file=path)
    monkeypatch.setattr(retention_cli, "get_settings", lambda: settings)
    assert retention_cli.main(["--once"]) == 2
    assert "audit_entry: must be" in capsys.readouterr().err

    with pytest.raises(RetentionPolicyError, match="audit_entry"):
        create_app_and_start(settings)


def create_app_and_start(settings: Settings) -> None:
    import asyncio

    app = create_app(settings)

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start())


def test_the_shipped_policy_is_marked_as_sample_values(policy: RetentionPolicy) -> None:
    assert policy.sample_data is True
    assert "data protection officer must confirm" in VALID
