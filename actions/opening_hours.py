"""Answer "Wann hat ... geöffnet?" from the backend: regular hours and open now or when next."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import german
from actions.backend_client import (
    BackendClient,
    BackendUnavailable,
    DepartmentNotFound,
    OpeningHours,
    shared_client,
)
from actions.settings import get_settings

logger = logging.getLogger(__name__)


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


class ActionOpeningHours(Action):
    """Tell the opening hours of the office the citizen asked about (default: Bürgerbüro)."""

    def __init__(self, client: BackendClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_opening_hours"

    @property
    def client(self) -> BackendClient:
        return self._client or shared_client()

    async def _lookup(self, wanted: str) -> OpeningHours | None:
        """Hours of the office the citizen means; the NLU usually gives its slug already."""
        try:
            return await self.client.opening_hours(wanted)
        except DepartmentNotFound:
            matches = await self.client.find_departments(wanted)
            if len(matches) != 1:
                return None
            return await self.client.opening_hours(matches[0].slug)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        wanted = tracker.get_slot("department") or get_settings().default_department
        try:
            hours = await self._lookup(str(wanted))
            if hours is None:
                known = await self.client.find_departments()
                dispatcher.utter_message(
                    response="utter_department_unknown",
                    department=str(wanted),
                    known=german.join([d.name for d in known]),
                )
                return [SlotSet("department", None)]
        except (BackendUnavailable, DepartmentNotFound) as error:
            logger.warning("opening hours not available: %s", error)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []

        dispatcher.utter_message(
            response="utter_opening_hours",
            department=hours.department.name,
            hours=german.weekly_hours([(r.weekday, r.intervals) for r in hours.regular_hours]),
            status=opening_status_text(hours),
        )
        if hours.department.sample_data:
            dispatcher.utter_message(response="utter_sample_data_notice")
        return [SlotSet("department", hours.department.slug)]
