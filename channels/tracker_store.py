"""Rasa's SQL tracker store, with the conversations that are being held in memory.

For every message Rasa reads the whole conversation from the database (every stored event
parsed from JSON and replayed into a tracker) and at the end writes the new events. The
Rasa server is one process (its lock store is in memory), so the tracker it saved last is
still the current one unless someone else wrote to the table: a second Rasa instance, the
retention job, a deleted conversation. Reading it back again took 12 % of the server's CPU
time under load (``make profile``).

``CachedSQLTrackerStore`` keeps each tracker it saved. When Rasa asks for it again, one
small query (how many events the latest session has and the newest timestamp) tells
whether the database still holds exactly what the cached tracker holds; only then is it
returned, otherwise the conversation is read from the database as before. The database
stays the only source of truth: every event is written as Rasa writes it.

A cached tracker is handed out once (taken out of the cache) and comes back only when it
is saved: Rasa changes the tracker it gets, and a reader that does not save (or a message
whose processing fails half-way) must never leave a changed tracker behind. Rasa's own
reads of the previous state during a save (event broker, anonymisation) therefore come from
the database, as they should. The cache is bounded (``RASA_TRACKER_CACHE_SIZE``
conversations, the least recently used go first; none longer than ``MAX_EVENTS``) and
forgets a conversation after ``RASA_TRACKER_CACHE_SECONDS`` without a message (checked
whenever any conversation is read or saved); size 0 turns it off. A save that wrote no
event, or a tracker with another model's slots, is not kept.

**A SQLite file** (the default store) is opened the way SQLite is meant to serve a server:
in WAL mode, with ``synchronous=NORMAL`` and a pool of open connections. SQLAlchemy 1.4
(which Rasa pins) otherwise opens a new connection for every read and write, and SQLite
waits for the disk at every commit in its rollback journal: 8 % of a message's time on the server
(py-spy, docs/benchmarks.md). With WAL and ``NORMAL`` a commit survives a crash of the
Rasa server; only a power loss or a crash of the machine may lose the last commits (never
the file), which for chat history is the usual trade-off (the applications themselves are
in the backend's database). PostgreSQL is left as Rasa configures it.

bot/endpoints.yml configures it (``type: channels.tracker_store.CachedSQLTrackerStore``).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa  # type: ignore[import-untyped]  # SQLAlchemy 1.4 (Rasa pins it)
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker  # type: ignore[import-untyped]

from channels.settings import get_settings

logger = logging.getLogger(__name__)
# Logged once when the store is created; tests/integration checks the Rasa server logs it.
STARTED = "conversation cache of the tracker store"

Signature = tuple[int, float | None]
# Longer conversations are not kept: memory stays bounded whatever citizens send.
MAX_EVENTS = 400


def signature(tracker: DialogueStateTracker) -> Signature:
    """What the database holds for a tracker that was saved in full: count, newest time."""
    stamps = [event.timestamp for event in tracker.events]
    return len(stamps), max(stamps, default=None)


class TrackerCache:
    """Trackers by conversation, least recently saved first; bounded in size and age."""

    def __init__(self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.size = size
        self.seconds = seconds
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, DialogueStateTracker]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, sender_id: object) -> bool:
        return sender_id in self._entries

    def put(self, tracker: DialogueStateTracker) -> None:
        if self.size <= 0:
            return
        self._entries[tracker.sender_id] = (self.clock(), tracker)
        self._entries.move_to_end(tracker.sender_id)
        self._expire()

    def take(self, sender_id: str) -> DialogueStateTracker | None:
        """The cached tracker, removed from the cache; None if there is none (any more)."""
        self._expire()
        entry = self._entries.pop(sender_id, None)
        return entry[1] if entry else None

    def forget(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)

    def clear(self) -> None:
        self._entries.clear()

    def _expire(self) -> None:
        oldest = self.clock() - self.seconds
        while self._entries:
            sender_id, (saved, _) = next(iter(self._entries.items()))
            if len(self._entries) <= self.size and saved >= oldest:
                break
            del self._entries[sender_id]


SQLITE_MEMORY = (None, "", ":memory:")
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def sqlite_file(url: Any) -> bool:
    """Whether a SQLite URL names a file (not an in-memory database, also not by URI)."""
    return url.database not in SQLITE_MEMORY and url.query.get("mode") != "memory"


def latest_session(table: Any) -> Any:
    """How many events of a conversation's latest session are stored (the rows of Rasa's
    ``SQLTrackerStore._event_query(..., fetch_events_from_all_sessions=False)``) and their
    newest timestamp, as a statement built once (SQLAlchemy caches its compiled SQL)."""
    sender = sa.bindparam("sender_id")
    start = (
        sa.select(sa.func.max(table.c.timestamp).label("session_start"))
        .where(table.c.sender_id == sender, table.c.type_name == SessionStarted.type_name)
        .subquery()
    )
    latest = sa.and_(
        table.c.sender_id == sender,
        sa.or_(table.c.timestamp >= start.c.session_start, start.c.session_start.is_(None)),
    )
    return sa.select(sa.func.count(table.c.id), sa.func.max(table.c.timestamp)).where(latest)


def sqlite_engine(engine: Any) -> Any:
    """An engine for the same SQLite file in WAL mode, with a pool of open connections."""
    engine.dispose()
    tuned = sa.create_engine(
        engine.url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
    )

    @sa.event.listens_for(tuned, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return tuned


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that hands back the tracker it saved while the database agrees."""

    def __init__(
        self,
        *args: Any,
        cache_size: int | None = None,
        cache_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        settings = get_settings()
        self.cache = TrackerCache(
            settings.tracker_cache_size if cache_size is None else cache_size,
            settings.tracker_cache_seconds if cache_seconds is None else cache_seconds,
            clock,
        )
        self.hits = 0
        self.misses = 0
        self._written = 0
        super().__init__(*args, **kwargs)
        self._latest_session = latest_session(self.SQLEvent.__table__)
        engine: Any = self.engine  # type: ignore[has-type]  # set by Rasa without a type
        if engine.dialect.name == "sqlite" and sqlite_file(engine.url):
            self.engine = sqlite_engine(engine)
            self.sessionmaker = sessionmaker(bind=self.engine)
        self.domain = self._domain
        logger.info(
            "%s: up to %d conversations, each for %.0f s",
            STARTED,
            self.cache.size,
            self.cache.seconds,
        )

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # A new model may have other slots: trackers built with the old ones must go.
        if getattr(self, "cache", None) is not None:
            self.cache.clear()
        self._domain = domain or Domain.empty()
        self.domain_slots = {slot.name for slot in self._domain.slots}

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        cached = self.cache.take(sender_id)
        if cached is not None:
            count, newest = self.stored(sender_id)
            if count > 0 and (count, newest) == signature(cached):
                self.hits += 1
                return cached
        self.misses += 1
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        # Counted by _additional_events; Rasa's save never suspends (its SQL is synchronous),
        # so no other save runs in between.
        self._written = 0
        await super().save(tracker)
        # Kept only what the database now holds event for event: a save that wrote nothing
        # may have changed the tracker without an event (Rasa's /predict clears a follow-up
        # action; a replacement of all events with as many new ones writes none), a tracker
        # built with another model's slots must not outlive the model, and a very long
        # conversation is cheaper to read than to keep.
        if (
            self._written
            and len(tracker.events) <= MAX_EVENTS
            and tracker.slots.keys() == self.domain_slots
        ):
            self.cache.put(tracker)
        else:
            self.cache.forget(tracker.sender_id)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        # Rasa's own, with its count query as a statement built once: building the ORM
        # query took more time than SQLite took to answer it.
        stored = session.execute(self._latest_session, {"sender_id": tracker.sender_id}).one()
        for event in itertools.islice(tracker.events, stored[0], len(tracker.events)):
            self._written += 1
            yield event

    def forget(self, sender_id: str) -> None:
        """Drop the conversation from memory (it was deleted from the database)."""
        self.cache.forget(sender_id)

    def stored(self, sender_id: str) -> Signature:
        """Number of events of the latest session in the database, and the newest time."""
        with self.engine.connect() as connection:
            row = connection.execute(self._latest_session, {"sender_id": sender_id}).one()
        return int(row[0]), row[1]
