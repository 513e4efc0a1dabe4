"""The tracker store's conversation cache (channels/tracker_store.py) on a real SQLite file.

The rule under test: a conversation comes from memory only when the database holds exactly
what the cached tracker holds; otherwise it is read from the database, as Rasa's own store
does. Each test compares against Rasa's plain ``SQLTrackerStore`` on the same file.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import read_endpoint_config

from channels import conversations
from channels.tracker_store import CachedSQLTrackerStore, signature

DOMAIN = Domain.from_dict(
    {
        "intents": ["greet", "inform"],
        "slots": {
            "service": {"type": "text", "mappings": [{"type": "custom"}]},
            "count": {"type": "float", "mappings": [{"type": "custom"}]},
        },
        "responses": {"utter_greet": [{"text": "Guten Tag"}]},
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cached_store(path: Path, **options: object) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path), **options)


def plain_store(path: Path) -> SQLTrackerStore:
    return SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))


def message(tracker: DialogueStateTracker, text: str, service: str) -> None:
    """One turn as Rasa records it: the message with its parse data, a slot, an answer."""
    tracker.update(
        UserUttered(
            text,
            intent={"name": "inform", "confidence": 0.93},
            entities=[{"entity": "service", "value": service, "start": 0, "end": 3}],
            parse_data={
                "intent": {"name": "inform", "confidence": 0.93},
                "intent_ranking": [{"name": "inform", "confidence": 0.93}],
            },
        )
    )
    tracker.update(SlotSet("service", service))
    tracker.update(SlotSet("count", 2.5))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(ActionExecuted("action_listen"))


async def started(store: TrackerStore, sender: str = "citizen-1") -> DialogueStateTracker:
    """A conversation whose stored events are all in its latest session."""
    tracker = store.init_tracker(sender)
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    message(tracker, "Ich brauche einen Bewohnerparkausweis", "bewohnerparkausweis")
    await store.save(tracker)
    return tracker


def state(tracker: DialogueStateTracker | None) -> dict:
    assert tracker is not None
    return tracker.current_state(EventVerbosity.ALL)


async def test_a_saved_conversation_comes_back_from_memory_as_the_database_has_it(
    tmp_path: Path,
) -> None:
    store = cached_store(tmp_path / "t.db")
    saved = await started(store)

    again = await store.retrieve("citizen-1")

    assert again is saved
    assert (store.hits, store.misses) == (1, 0)
    from_database = await plain_store(tmp_path / "t.db").retrieve("citizen-1")
    assert state(again) == state(from_database)
    assert again.get_slot("service") == "bewohnerparkausweis"


async def test_the_next_message_is_stored_like_with_rasas_own_store(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)
    tracker = await store.retrieve("citizen-1")
    assert tracker is not None
    message(tracker, "doch lieber Sperrmüll", "sperrmuell")
    await store.save(tracker)

    from_database = await plain_store(tmp_path / "t.db").retrieve("citizen-1")
    assert state(from_database) == state(tracker)
    assert from_database.get_slot("service") == "sperrmuell"


async def test_a_new_session_is_read_from_the_database(tmp_path: Path) -> None:
    # Rasa hands out only the latest session; the tracker that started it holds the
    # previous one too, so the next message reads the conversation from the database.
    store = cached_store(tmp_path / "t.db")
    tracker = await store.get_or_create_tracker("citizen-1")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    message(tracker, "Hallo", "reisepass")
    await store.save(tracker)

    again = await store.retrieve("citizen-1")
    assert again is not tracker
    assert state(again) == state(await plain_store(tmp_path / "t.db").retrieve("citizen-1"))
    message(again, "und wie lange dauert das?", "reisepass")  # the next message
    await store.save(again)
    assert await store.retrieve("citizen-1") is again


async def test_a_tracker_is_handed_out_once(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    saved = await started(store)

    first = await store.retrieve("citizen-1")
    second = await store.retrieve("citizen-1")

    assert first is saved
    assert second is not saved
    assert state(second) == state(saved)
    assert (store.hits, store.misses) == (1, 1)


async def test_changes_that_were_not_saved_are_never_handed_out(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    saved = await started(store)
    await store.save(saved)
    # A message whose processing failed half-way: the tracker changed, nothing was saved,
    # and (in a case Rasa does not have today) it was even put back.
    saved.update(SlotSet("service", "halb fertig"))
    store.cache.put(saved)

    tracker = await store.retrieve("citizen-1")

    assert tracker is not saved
    assert tracker.get_slot("service") == "bewohnerparkausweis"


async def test_what_another_writer_stored_is_seen(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)
    # A second Rasa instance on the same database answers the next message.
    other = plain_store(tmp_path / "t.db")
    tracker = await other.retrieve("citizen-1")
    message(tracker, "und einen Reisepass", "reisepass")
    await other.save(tracker)

    seen = await store.retrieve("citizen-1")

    assert seen.get_slot("service") == "reisepass"
    assert state(seen) == state(tracker)
    assert store.misses == 1


async def test_a_conversation_deleted_and_started_again_elsewhere_is_not_confused(
    tmp_path: Path,
) -> None:
    store = cached_store(tmp_path / "t.db")
    saved = await started(store)
    other = plain_store(tmp_path / "t.db")
    with other.session_scope() as session:
        session.query(other.SQLEvent).delete()
        session.commit()
    # The same number of events as the cached tracker, but other ones.
    await started(other)

    seen = await store.retrieve("citizen-1")

    assert seen is not saved
    assert signature(seen) != signature(saved)


async def test_deleting_a_conversation_removes_it_from_memory_too(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)
    agent = SimpleNamespace(
        tracker_store=FailSafeTrackerStore(store), lock_store=InMemoryLockStore()
    )

    assert await conversations.delete_conversation(agent, "citizen-1")

    assert "citizen-1" not in store.cache
    assert await store.retrieve("citizen-1") is None


async def test_a_conversation_removed_by_the_retention_job_is_gone(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)
    other = plain_store(tmp_path / "t.db")
    with other.session_scope() as session:
        session.query(other.SQLEvent).filter(other.SQLEvent.sender_id == "citizen-1").delete()
        session.commit()

    assert await store.retrieve("citizen-1") is None


async def test_the_cache_is_bounded_in_size_and_age(tmp_path: Path) -> None:
    clock = Clock()
    store = cached_store(tmp_path / "t.db", cache_size=2, cache_seconds=60, clock=clock)
    for sender in ("a", "b", "c"):
        await started(store, sender)
        clock.now += 1

    assert "a" not in store.cache  # the least recently saved went first
    assert len(store.cache) == 2

    clock.now += 59.5  # "b" was saved 61.5 s ago, "c" 60.5 s ago
    assert await store.retrieve("b") is not None
    assert "c" not in store.cache
    assert store.hits == 0


async def test_size_zero_turns_the_cache_off(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db", cache_size=0)
    saved = await started(store)

    tracker = await store.retrieve("citizen-1")

    assert tracker is not saved
    assert len(store.cache) == 0
    assert state(tracker) == state(saved)


async def test_a_new_domain_empties_the_cache(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)

    store.domain = Domain.from_dict({"intents": ["greet"]})

    assert len(store.cache) == 0


def test_bot_endpoints_configure_the_cached_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rasa falls back to an in-memory store with only a warning when it cannot import a
    # custom store: every conversation would be lost at the next restart.
    monkeypatch.setenv("GOVBOT_ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("GOVBOT_TRACKER_DIALECT", "sqlite")
    monkeypatch.setenv("GOVBOT_TRACKER_URL", "")
    monkeypatch.setenv("GOVBOT_TRACKER_DB", str(tmp_path / "t.db"))
    endpoint = read_endpoint_config("bot/endpoints.yml", "tracker_store")

    store = TrackerStore.create(endpoint, DOMAIN)

    assert isinstance(store, CachedSQLTrackerStore)
    assert store.engine.url.database == str(tmp_path / "t.db")


async def test_a_save_that_writes_no_event_is_not_kept(tmp_path: Path) -> None:
    # Rasa's /predict clears a pending follow-up action without an event and saves: the
    # database still has it, so the changed tracker must not be handed out.
    store = cached_store(tmp_path / "t.db")
    await started(store)
    tracker = await store.retrieve("citizen-1")
    tracker.followup_action = None
    tracker.update(SlotSet("service", "reisepass"))
    tracker.events.pop()  # a change that no event records

    await store.save(tracker)

    assert "citizen-1" not in store.cache
    again = await store.retrieve("citizen-1")
    assert again is not tracker
    assert again.get_slot("service") == "bewohnerparkausweis"


async def test_a_tracker_with_the_previous_models_slots_is_not_kept(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)
    tracker = await store.retrieve("citizen-1")  # a message still on the old model
    new_domain = Domain.from_dict(
        {
            "intents": ["greet", "inform"],
            "slots": {
                "service": {"type": "text", "mappings": [{"type": "custom"}]},
                "count": {"type": "float", "mappings": [{"type": "custom"}]},
                "office": {"type": "text", "mappings": [{"type": "custom"}]},
            },
        }
    )
    store.domain = new_domain  # the model is replaced meanwhile
    message(tracker, "und ein Reisepass", "reisepass")

    await store.save(tracker)

    assert "citizen-1" not in store.cache
    assert "office" in (await store.retrieve("citizen-1")).slots


async def test_a_very_long_conversation_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("channels.tracker_store.MAX_EVENTS", 10)
    store = cached_store(tmp_path / "t.db")
    tracker = await started(store)  # 7 events
    assert "citizen-1" in store.cache
    tracker = await store.retrieve("citizen-1")
    message(tracker, "noch eine Frage", "sperrmuell")  # 12 events

    await store.save(tracker)

    assert "citizen-1" not in store.cache


async def test_an_empty_conversation_is_never_a_hit(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    store.cache.put(store.init_tracker("citizen-1"))  # nothing in the database

    assert await store.retrieve("citizen-1") is None


async def test_a_sqlite_file_is_kept_open_in_wal_mode(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    await started(store)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    opened = store.engine.pool.checkedin()
    for text in ("Was kostet das?", "Danke"):
        tracker = await store.retrieve("citizen-1")
        assert tracker is not None
        message(tracker, text, "bewohnerparkausweis")
        await store.save(tracker)
    assert store.engine.pool.checkedin() == opened >= 1  # the same connections, reused
    # Another process (the retention job, a second store) reads what was committed.
    stored = await plain_store(tmp_path / "t.db").retrieve("citizen-1")
    assert state(stored) == state(await cached_store(tmp_path / "t.db").retrieve("citizen-1"))
    assert len([e for e in stored.events if isinstance(e, UserUttered)]) == 3


async def test_an_in_memory_sqlite_store_is_left_as_rasa_makes_it() -> None:
    store = CachedSQLTrackerStore(DOMAIN, dialect="sqlite", db=":memory:")
    assert store.engine.url.database == ":memory:"
    assert type(store.engine.pool).__name__ == "SingletonThreadPool"  # SQLAlchemy's own
    await started(store)
    assert await store.retrieve("citizen-1") is not None


async def test_the_latest_session_is_counted_as_rasa_counts_it(tmp_path: Path) -> None:
    store = cached_store(tmp_path / "t.db")
    rasas = plain_store(tmp_path / "t.db")

    def rasas_count(sender: str) -> tuple[int, float | None]:
        with rasas.session_scope() as session:
            query = rasas._event_query(session, sender, fetch_events_from_all_sessions=False)
            rows = query.all()
            return len(rows), max((row.timestamp for row in rows), default=None)

    async def add(sender: str, *events: Event) -> None:
        tracker = await rasas.retrieve(sender) or rasas.init_tracker(sender)
        for event in events:
            tracker.update(event)
        await rasas.save(tracker)

    def compare(*senders: str) -> None:
        for sender in senders:
            assert store.stored(sender) == rasas_count(sender)
            with store.session_scope() as session:
                count = session.execute(store._latest_session, {"sender_id": sender})
                assert count.one()[0] == rasas_count(sender)[0]

    compare("nobody")
    await add(
        "a", ActionExecuted("action_listen", timestamp=1.0), UserUttered("Hallo", timestamp=2.0)
    )
    await add("b", SessionStarted(timestamp=1.5), ActionExecuted("action_listen", timestamp=1.6))
    compare("a", "b")
    await add("a", SessionStarted(timestamp=3.0), ActionExecuted("action_listen", timestamp=3.0))
    await add("a", UserUttered("Noch eine Frage", timestamp=4.0))
    compare("a", "b")
    # A second session, and an event with the session start's own timestamp before it.
    await add("a", ActionExecuted("utter_greet", timestamp=5.0), SessionStarted(timestamp=5.0))
    await add("b", SessionStarted(timestamp=9.0))
    compare("a", "b")
    assert store.stored("a") == (2, 5.0)
