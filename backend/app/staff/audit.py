"""The audit log: one entry per staff action, with ids and never citizens' data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.app.models import AuditEntry

# action -> how the log page names it
ACTIONS = {
    "login": "Anmeldung",
    "login.failed": "Anmeldung fehlgeschlagen",
    "login.refused": "Anmeldung gesperrt (zu viele Fehlversuche)",
    "logout": "Abmeldung",
    "handoff.queue_viewed": "Übergaben angesehen",
    "handoff.viewed": "Übergabe geöffnet",
    "handoff.taken_over": "Übergabe übernommen",
    "handoff.replied": "Antwort gesendet",
    "handoff.closed": "Übergabe geschlossen",
    "handoff.close_failed": "Rückgabe an den Bot gescheitert (Chat-Server nicht erreichbar)",
    "application.list_viewed": "Antragsliste angesehen",
    "application.viewed": "Antrag geöffnet",
    "application.pdf": "PDF heruntergeladen",
    "application.status": "Status geändert",
    "account.list_viewed": "Konten angesehen",
    "account.created": "Konto angelegt",
    "account.changed": "Konto geändert",
    "account.deactivated": "Konto deaktiviert",
    "account.reactivated": "Konto reaktiviert",
    "account.password_set": "Passwort neu gesetzt",
    "audit.viewed": "Protokoll angesehen",
}

ACTOR_LENGTH = 64


def record(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    **detail: Any,
) -> AuditEntry:
    """Add an entry to the session; the caller's commit stores it with the action itself."""
    assert action in ACTIONS, action
    entry = AuditEntry(
        at=now,
        actor=actor[:ACTOR_LENGTH],
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:64],
        detail=detail,
    )
    session.add(entry)
    return entry
