"""The delivery worker: a background task of the backend process that empties the outbox.

It runs a pass every ``BACKEND_DELIVERY_INTERVAL_SECONDS`` and at once after each new
submission. The passes run in a thread (database, PDF rendering and the sink are blocking
work) so the event loop keeps answering requests. Several backend processes may each run
one: the outbox's claims keep them from delivering the same row twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from backend.app.delivery.outbox import Outbox

logger = logging.getLogger("govbot.backend.delivery")


class DeliveryWorker:
    def __init__(self, outbox: Outbox, interval_seconds: float) -> None:
        self.outbox = outbox
        self.interval = interval_seconds
        self._wake = asyncio.Event()
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-worker")

    def wake(self) -> None:
        """Start a pass now (a new application is waiting); call from the event loop."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the delivery in hand, then end."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await asyncio.to_thread(self.outbox.deliver_due, self._stop)
            except Exception:
                # The database may be away for a moment; the next pass tries again.
                logger.exception("delivery pass failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
