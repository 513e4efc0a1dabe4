"""The backend's notion of "now": the real clock, or a fixed instant for tests."""

from __future__ import annotations

from datetime import datetime

from backend.app.core.config import Settings


def now(settings: Settings) -> datetime:
    """Current time as an aware datetime in the city's time zone."""
    if settings.fixed_now is not None:
        fixed = settings.fixed_now
        if fixed.tzinfo is None:
            fixed = fixed.replace(tzinfo=settings.tz)
        return fixed.astimezone(settings.tz)
    return datetime.now(settings.tz)
