"""Open now, next opening: regular hours, lunch breaks, holidays, closures, time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from backend.app.catalogue import Closure
from backend.app.opening_hours import opening_status

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {
    "monday": ["08:00-12:30", "14:00-16:00"],
    "wednesday": ["08:00-12:30"],
    "friday": ["08:00-12:00"],
}


def status_at(moment: datetime, closures: list[Closure] | None = None):  # type: ignore[no-untyped-def]
    return opening_status(HOURS, closures or [], moment, BERLIN, "NW")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_open_in_the_morning_until_the_lunch_break() -> None:
    status = status_at(at(2026, 11, 30, 9, 15))  # Monday
    assert status.open_now
    assert status.closes_at == at(2026, 11, 30, 12, 30)
    assert status.next_opening and status.next_opening.opens_at == at(2026, 11, 30, 14, 0)


def test_closed_over_lunch_opens_again_in_the_afternoon() -> None:
    status = status_at(at(2026, 11, 30, 13, 0))
    assert not status.open_now
    assert status.closed_today_reason is None
    assert status.next_opening and status.next_opening.opens_at == at(2026, 11, 30, 14, 0)


def test_closing_time_itself_is_closed() -> None:
    assert not status_at(at(2026, 11, 30, 16, 0)).open_now
    assert status_at(at(2026, 11, 30, 15, 59)).open_now


def test_weekend_points_to_monday() -> None:
    status = status_at(at(2026, 11, 28, 11, 0))  # Saturday
    assert not status.open_now
    assert status.closed_today_reason is None  # not a regular opening day
    assert status.next_opening and status.next_opening.opens_at == at(2026, 11, 30, 8, 0)


def test_nrw_holiday_closes_a_regular_day() -> None:
    # Allerheiligen is a holiday in NRW; 2027-11-01 is a Monday.
    status = status_at(at(2027, 11, 1, 9, 0))
    assert not status.open_now
    assert status.closed_today_reason == "Feiertag (Allerheiligen)"
    assert status.next_opening and status.next_opening.opens_at == at(2027, 11, 3, 8, 0)


def test_holiday_of_another_state_does_not_close() -> None:
    # Reformationstag (31 October) is no holiday in NRW; 2025-10-31 is a Friday.
    assert status_at(at(2025, 10, 31, 9, 0)).open_now


def test_special_closure_is_skipped_with_its_reason() -> None:
    closure = Closure.model_validate(
        {"from": date(2026, 11, 30), "to": date(2026, 12, 2), "reason": "Umzug der EDV"}
    )
    status = status_at(at(2026, 11, 30, 9, 0), [closure])
    assert not status.open_now
    assert status.closed_today_reason == "Umzug der EDV"
    assert status.next_opening and status.next_opening.opens_at == at(2026, 12, 4, 8, 0)


def test_time_zone_is_respected() -> None:
    # 07:30 UTC on a Monday in winter is 08:30 in Berlin: open.
    moment = datetime(2026, 11, 30, 7, 30, tzinfo=ZoneInfo("UTC"))
    assert status_at(moment).open_now


def test_summer_time() -> None:
    # 2027-04-05 is a Monday in summer time: 06:30 UTC is 08:30 CEST (in winter: 07:30).
    moment = datetime(2027, 4, 5, 6, 30, tzinfo=ZoneInfo("UTC"))
    status = status_at(moment)
    assert status.open_now
    assert status.closes_at == datetime(2027, 4, 5, 12, 30, tzinfo=BERLIN)


@pytest.mark.parametrize("hours", [{}, {"monday": []}])
def test_no_hours_means_no_next_opening(hours: dict[str, list[str]]) -> None:
    status = opening_status(hours, [], at(2026, 11, 30, 9, 0), BERLIN, "NW")
    assert not status.open_now
    assert status.next_opening is None
