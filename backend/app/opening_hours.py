"""Is an office open now, and when does it open next?

Regular weekly hours, the public holidays of the federal state (``holidays`` library) and
the special closures of the catalogue are combined in the city's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from backend.app.catalogue import WEEKDAYS, Closure, Interval

# How far ahead to look for the next opening (a closure can be long, not endless).
HORIZON_DAYS = 366


@dataclass(frozen=True)
class Opening:
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class OpeningStatus:
    now: datetime
    open_now: bool
    # While open: when the current interval ends.
    closes_at: datetime | None
    next_opening: Opening | None
    # Why today is closed although it is a regular opening day, if it is.
    closed_today_reason: str | None


@lru_cache(maxsize=8)
def holiday_calendar(subdivision: str) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv=subdivision, language="de")


def parse_week(opening_hours: dict[str, list[str]]) -> dict[int, list[Interval]]:
    week: dict[int, list[Interval]] = {}
    for day, intervals in opening_hours.items():
        week[WEEKDAYS.index(day)] = sorted(
            (Interval.parse(text) for text in intervals), key=lambda i: i.opens
        )
    return week


def closed_reason(day: date, closures: list[Closure], subdivision: str) -> str | None:
    """Why the offices are closed on ``day`` (holiday or closure), or None."""
    holiday = holiday_calendar(subdivision).get(day)
    if holiday:
        return f"Feiertag ({holiday})"
    for closure in closures:
        if closure.start <= day <= closure.end:
            return closure.reason
    return None


def opening_status(
    opening_hours: dict[str, list[str]],
    closures: list[Closure],
    now: datetime,
    tz: ZoneInfo,
    subdivision: str,
) -> OpeningStatus:
    week = parse_week(opening_hours)
    now = now.astimezone(tz)
    today = now.date()

    def at(day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=tz)

    reason_today = closed_reason(today, closures, subdivision)
    closes_at = None
    if reason_today is None:
        for interval in week.get(today.weekday(), []):
            if at(today, interval.opens) <= now < at(today, interval.closes):
                closes_at = at(today, interval.closes)
                break

    next_opening = None
    for offset in range(HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        if closed_reason(day, closures, subdivision) is not None:
            continue
        for interval in week.get(day.weekday(), []):
            opens = at(day, interval.opens)
            if opens > now:
                next_opening = Opening(opens_at=opens, closes_at=at(day, interval.closes))
                break
        if next_opening is not None:
            break

    regular_day = bool(week.get(today.weekday()))
    return OpeningStatus(
        now=now,
        open_now=closes_at is not None,
        closes_at=closes_at,
        next_opening=next_opening,
        closed_today_reason=reason_today if regular_day else None,
    )
