"""German wording of dates, times and opening hours for the assistant's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date

WEEKDAY_NAMES = {
    "monday": "Montag",
    "tuesday": "Dienstag",
    "wednesday": "Mittwoch",
    "thursday": "Donnerstag",
    "friday": "Freitag",
    "saturday": "Samstag",
    "sunday": "Sonntag",
}


def clock(moment: datetime) -> str:
    """``8:00`` or ``12:30``: the way times are written in German texts."""
    return f"{moment.hour}:{moment.minute:02d}"


def interval(text: str) -> str:
    """``"08:00-12:30"`` → ``"8:00–12:30"``."""
    start, end = text.split("-")
    return f"{_strip(start)}–{_strip(end)}"


def _strip(hhmm: str) -> str:
    hours, minutes = hhmm.split(":")
    return f"{int(hours)}:{minutes}"


def join(items: list[str]) -> str:
    """``a``, ``a und b``, ``a, b und c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " und " + items[-1]


def weekly_hours(rows: list[tuple[str, list[str]]]) -> str:
    """One line per opening day: ``Montag: 8:00–12:30 und 14:00–16:00 Uhr``."""
    return "\n".join(
        f"{WEEKDAY_NAMES.get(day, day)}: {join([interval(i) for i in intervals])} Uhr"
        for day, intervals in rows
    )


def day_reference(day: date, today: date) -> str:
    """``heute``, ``morgen``, or ``am Montag, 30. November``."""
    delta = (day - today).days
    if delta == 0:
        return "heute"
    if delta == 1:
        return "morgen"
    return "am " + format_date(day, "EEEE, d. MMMM", locale="de_DE")


def when(moment: datetime, today: date) -> str:
    """``heute um 14:00 Uhr``, ``morgen um 8:00 Uhr``, ``am Montag, 30. November, um 8:00 Uhr``."""
    day = day_reference(moment.date(), today)
    separator = ", " if day.startswith("am ") else " "
    return f"{day}{separator}um {clock(moment)} Uhr"


def bullets(items: list[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def place(department: Any) -> str:
    """``Rathaus, Musterplatz 1, Erdgeschoss, Raum E.10``."""
    parts = [department.building, department.floor]
    if department.room:
        parts.append(f"Raum {department.room}")
    return ", ".join(p for p in parts if p)


def access(department: Any) -> str:
    if department.barrier_free is True:
        return "Der Zugang ist barrierefrei."
    if department.barrier_free is False:
        return "Der Zugang ist leider nicht barrierefrei."
    return ""


def contact(department: Any) -> str:
    parts = []
    if department.phone:
        parts.append(f"Telefon {department.phone}")
    if department.email:
        parts.append(f"E-Mail {department.email}")
    return ", ".join(parts)
