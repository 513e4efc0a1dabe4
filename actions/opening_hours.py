"""Wording of "open now, or when next" for an office's opening hours, and of one day's hours
when the citizen asks about a day ("Hat das Standesamt am Samstag offen?")."""

from __future__ import annotations

import re
from datetime import date, timedelta

from actions import german
from actions.backend_client import DayHours, OpeningHours
from forms.answers import WEEKDAYS, fold

_RELATIVE = {"heute": 0, "morgen": 1, "uebermorgen": 2}
_DATE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(\d{4})?")


def asked_day(text: str, today: date) -> date | None:
    """The day a question is about: "am Samstag", "samstags", "morgen", "am 24.12."; None when
    it names no day. A weekday is the next one (today when it is today's)."""
    words = fold(text).split()
    for word in words:
        before = words[words.index(word) - 1] if words.index(word) else ""
        if word in _RELATIVE and not (word == "morgen" and before in {"guten", "am", "jeden"}):
            return today + timedelta(days=_RELATIVE[word])
        stem = word[:-1] if word.endswith("s") and word[:-1] in WEEKDAYS else word
        if stem in WEEKDAYS:
            return today + timedelta(days=(WEEKDAYS.index(stem) - today.weekday()) % 7)
    if match := _DATE.search(text):
        day, month, year = int(match[1]), int(match[2]), match[3]
        try:
            found = date(int(year) if year else today.year, month, day)
        except ValueError:
            return None
        if not year and found < today:
            found = found.replace(year=today.year + 1)
        return found
    return None


def day_text(department: str, day: DayHours, today: date) -> str:
    """ "Bürgerbüro am Samstag, 12. Dezember: geöffnet 9:00–12:00 Uhr." or closed, and when
    it opens next."""
    when = german.day_reference(day.date, today)
    if day.intervals:
        hours = german.join([german.interval(i) for i in day.intervals])
        return f"{department} {when}: geöffnet {hours} Uhr."
    reason = f" ({day.closed_reason})" if day.closed_reason else ""
    text = f"{department} {when}: geschlossen{reason}."
    if day.next_opening is not None:
        text += f" Geöffnet ist wieder {german.when(day.next_opening.opens_at, today)}."
    return text


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
