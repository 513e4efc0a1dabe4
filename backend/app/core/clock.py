"""The backend's notion of "now": the real clock, or a fixed instant for tests.

Routes that only read "now" call ``now(settings)``. What must see time pass in a test (the
delivery outbox and its back-off, the date a submission is checked against) asks a
``Clock``; tests hand the app a clock they can move forward instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from backend.app.core.config import Settings


def now(settings: Settings) -> datetime:
    """Current time as an aware datetime in the city's time zone."""
    if settings.fixed_now is not None:
        fixed = settings.fixed_now
        if fixed.tzinfo is None:
            fixed = fixed.replace(tzinfo=settings.tz)
        return fixed.astimezone(settings.tz)
    return datetime.now(settings.tz)


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time as an aware datetime."""
        ...


class SettingsClock:
    """The clock the settings describe: real time, or ``BACKEND_FIXED_NOW``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def now(self) -> datetime:
        return now(self._settings)
