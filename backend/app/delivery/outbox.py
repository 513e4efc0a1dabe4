"""The outbox: deliveries are claimed, rendered, handed to the sink, and retried until done.

Each delivery row is written in the transaction that stores its application. A worker
claims a due row with one conditional UPDATE (``status`` and lease in the WHERE clause):
the database lets exactly one of several workers, in one process or many, win a row, and
a row whose worker died is taken over once its lease has run out.

A failed delivery is retried for ever, with exponential back-off up to a cap and a little
jitter, rather than given up after a number of attempts: a DMS that is down, full or
misconfigured is fixed on the DMS side, and then everything must flow again without
anyone having to requeue anything. A delivery never disappears quietly either: its status
(``retrying``), attempts and last error are visible in the application's status, and from
``BACKEND_DELIVERY_ALERT_AFTER_ATTEMPTS`` on every further failure is logged as an error
and ``python -m backend.deliver --once`` exits with status 1, for the operators' monitoring.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.app.core.clock import Clock
from backend.app.core.config import Settings
from backend.app.delivery.sinks import DeliveryFailed, Package, Sink
from backend.app.documents import department_pdf, department_xml
from backend.app.form_specs import FormLibrary
from backend.app.models import Delivery
from backend.app.submissions import application_record, department_names, department_part

logger = logging.getLogger("govbot.backend.delivery")

PENDING, DELIVERING, RETRYING, DELIVERED = "pending", "delivering", "retrying", "delivered"


@dataclass
class PassResult:
    """What one pass over the outbox did."""

    delivered: int = 0
    failed: int = 0

    def add(self, other: PassResult) -> None:
        self.delivered += other.delivered
        self.failed += other.failed


def backoff(attempts: int, settings: Settings, rng: random.Random) -> timedelta:
    """Wait after the n-th failed attempt: base * 2^(n-1), capped, less up to the jitter.

    Jitter only shortens the wait, so the cap holds, and deliveries that failed together
    (a DMS outage) do not all come back in the same second.
    """
    exponent = min(max(attempts - 1, 0), 32)
    delay = min(
        settings.delivery_backoff_max_seconds, settings.delivery_backoff_base_seconds * 2**exponent
    )
    delay *= 1 - settings.delivery_backoff_jitter * rng.random()
    return timedelta(seconds=delay)


def _due(moment: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(Delivery.status.in_((PENDING, RETRYING)), Delivery.next_attempt_at <= moment),
        and_(Delivery.status == DELIVERING, Delivery.leased_until <= moment),
    )


class Outbox:
    """Delivers what is due; safe to run in several threads and processes at once."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        library: FormLibrary,
        sink: Sink,
        settings: Settings,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.library = library
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.worker = f"{socket.gethostname()[:32]}:{os.getpid()}"

    def deliver_due(self, stop: threading.Event | None = None) -> PassResult:
        """Deliver everything that is due now, batch by batch, until nothing is left.

        A failed delivery is due again only later, so this ends. ``stop`` ends it early,
        between two deliveries, when the process shuts down.
        """
        # Only what was due when the pass began: a delivery that fails is rescheduled past
        # this moment, so even a tiny back-off cannot keep one pass busy with it.
        cutoff = self.clock.now()
        total = PassResult()
        while stop is None or not stop.is_set():
            result = self._deliver_batch(cutoff, stop)
            total.add(result)
            if result.delivered + result.failed == 0:
                break
        return total

    def _deliver_batch(self, cutoff: datetime, stop: threading.Event | None) -> PassResult:
        result = PassResult()
        with self.session_factory() as session:
            candidates = list(
                session.scalars(
                    select(Delivery.id)
                    .where(_due(cutoff))
                    .order_by(Delivery.next_attempt_at, Delivery.id)
                    .limit(self.settings.delivery_batch_size)
                )
            )
        for delivery_id in candidates:
            if stop is not None and stop.is_set():
                break
            token = self._claim(delivery_id)
            if token is None:
                continue  # another worker was faster
            if self._deliver(delivery_id, token):
                result.delivered += 1
            else:
                result.failed += 1
        return result

    def _claim(self, delivery_id: int) -> str | None:
        """Take the delivery if it is still due; None if another worker has it."""
        token = f"{self.worker}:{secrets.token_hex(4)}"
        moment = self.clock.now()
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.session_factory() as session:
            claimed = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, _due(moment))
                .values(
                    status=DELIVERING,
                    claimed_by=token,
                    leased_until=moment + lease,
                    attempts=Delivery.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
        return token if claimed.rowcount == 1 else None  # type: ignore[attr-defined]

    def _deliver(self, delivery_id: int, token: str) -> bool:
        # The documents are rendered in a short session; the sink is called outside it, so
        # that no database transaction stays open while a slow DMS answers.
        with self.session_factory() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            reference = delivery.application.reference
            department = delivery.department_slug
            try:
                package = self._package(session, delivery)
            except Exception as error:
                return self._broke(delivery_id, token, reference, department, error)
        try:
            self.sink.deliver(package)
        except DeliveryFailed as failure:
            return self._failed(delivery_id, token, reference, department, str(failure))
        except Exception as error:
            return self._broke(delivery_id, token, reference, department, error)
        self._finish(
            token,
            delivery_id,
            status=DELIVERED,
            delivered_at=self.clock.now(),
            sink=self.sink.name,
            last_error=None,
        )
        logger.info("delivered %s to %s (%s)", reference, department, self.sink.name)
        return True

    def _broke(
        self, delivery_id: int, token: str, reference: str, department: str, error: Exception
    ) -> bool:
        if isinstance(error, DeliveryFailed):
            return self._failed(delivery_id, token, reference, department, str(error))
        # A bug, or a spec that changed under a stored application: the delivery stays in
        # the outbox, visible, and goes out once fixed.
        logger.exception("delivery of %s to %s broke", reference, department)
        reason = f"error: {type(error).__name__}"
        return self._failed(delivery_id, token, reference, department, reason)

    def _package(self, session: Session, delivery: Delivery) -> Package:
        application = delivery.application
        spec = self.library.specs.get(application.form_id)
        if spec is None:
            raise DeliveryFailed(f"form '{application.form_id}' is not loaded"[:200])
        names = department_names(session, [delivery.department_slug])
        record = application_record(application, spec, self.library.city.city, self.settings.tz)
        part = department_part(
            delivery, names.get(delivery.department_slug, delivery.department_slug)
        )
        return Package(
            department=delivery.department_slug,
            reference=application.reference,
            files={
                f"{application.reference}.pdf": department_pdf(
                    record, part, self.settings.pdf_font_dir
                ),
                f"{application.reference}.xml": department_xml(record, part),
            },
        )

    def _failed(
        self, delivery_id: int, token: str, reference: str, department: str, reason: str
    ) -> bool:
        moment = self.clock.now()
        with self.session_factory() as session:
            attempts = session.scalar(select(Delivery.attempts).where(Delivery.id == delivery_id))
        attempts = attempts or 1
        retry_at = moment + backoff(attempts, self.settings, self.rng)
        self._finish(
            token,
            delivery_id,
            status=RETRYING,
            next_attempt_at=retry_at,
            last_error=reason[:200],
        )
        level = (
            logging.ERROR
            if attempts >= self.settings.delivery_alert_after_attempts
            else logging.WARNING
        )
        logger.log(
            level,
            "delivery of %s to %s failed (attempt %d, next at %s): %s",
            reference,
            department,
            attempts,
            retry_at.isoformat(timespec="seconds"),
            reason,
        )
        return False

    def _finish(self, token: str, delivery_id: int, **values: object) -> None:
        """Record the outcome, unless the lease ran out and another worker took over."""
        with self.session_factory() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.claimed_by == token)
                .values(claimed_by=None, leased_until=None, **values)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def overdue(self) -> int:
        """Deliveries not done after the alert threshold of attempts: for monitoring."""
        with self.session_factory() as session:
            count = session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.status != DELIVERED,
                    Delivery.attempts >= self.settings.delivery_alert_after_attempts,
                )
            )
        return count or 0
