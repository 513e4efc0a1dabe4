"""Wording of "open now, or when next" for an office's opening hours."""

from __future__ import annotations

from actions import german
from actions.backend_client import OpeningHours


def opening_status_text(hours: OpeningHours) -> str:
    """The sentence that says whether the office is open now, or when it opens next."""
    today = hours.now.date()
    if hours.open_now and hours.closes_at is not None:
        return f"Gerade ist geöffnet, heute bis {german.clock(hours.closes_at)} Uhr."
    parts = []
    if hours.closed_today_reason:
        parts.append(f"Heute ist geschlossen: {hours.closed_today_reason}.")
    else:
        parts.append("Gerade ist geschlossen.")
    if hours.next_opening is not None:
        opens_at = german.when(hours.next_opening.opens_at, today)
        parts.append(f"Geöffnet ist wieder {opens_at}.")
    return " ".join(parts)
