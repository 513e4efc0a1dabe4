"""What GovBot changes in Rasa (channels/rasa_patches.py, bot/endpoints.yml).

Rasa waits RASA_ACTION_TIMEOUT for the action server, not its own 300 s; it checks the
action server's answers as strictly as before, without re-checking the schema each time;
it finds event types and loads spaCy as before, once; it sends the domain only to the
action that reads it; it works on a few messages at a time, in the order they came; it
copies slots as ``copy.copy`` does; and the rules get the same
states of the last turns as from Rasa's own computation. Each test leaves Rasa as it found
it (``rasa_unchanged``), and compares with Rasa's own functions
(``rasa_patches.RASA_ORIGINALS`` once replaced).
"""

from __future__ import annotations

import asyncio
import copy
import gc
import inspect
import json
import random
import socket
import sys
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import rasa.core.actions.action as rasa_action
import yaml
from aiohttp import web
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.rule_policy import (
    RULES,
    RULES_FOR_LOOP_UNHAPPY_PATH,
    RULES_NOT_IN_STORIES,
    RulePolicy,
)
from rasa.core.processor import MessageProcessor
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.slots import (
    AnySlot,
    BooleanSlot,
    CategoricalSlot,
    FloatSlot,
    ListSlot,
    Slot,
    TextSlot,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel

from channels import rasa_patches
from channels.settings import ChannelSettings

ROOT = Path(__file__).resolve().parents[2]
PATCHED = [
    (Agent, "load_model"),
    (rasa_action.RemoteAction, "_validate_action_result"),
    (Event, "resolve_by_type"),
    (SpacyNLP, "load_model"),
    (RasaModel, "load"),
    (Domain, "states_for_tracker_history"),
    (RulePolicy, "_prediction_states"),
    (RulePolicy, "_get_possible_keys"),
    (Slot, "__copy__"),
    (MessageProcessor, "handle_message"),
    (DialogueStateTracker, "applied_events"),
]


@pytest.fixture(autouse=True)
def rasa_unchanged(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test applies is undone after it (the descriptors themselves are restored)."""
    for owner, name in PATCHED:
        # Slot.__copy__ is new: None (copy's general way) during the test, removed after it.
        monkeypatch.setattr(owner, name, inspect.getattr_static(owner, name, None), raising=False)
    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", rasa_action.DEFAULT_REQUEST_TIMEOUT)
    yield


def rasa_own(key: str, current: Any) -> Any:
    """Rasa's function, also when the package import has already replaced it."""
    return rasa_patches.RASA_ORIGINALS.get(key, current)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def hung_action_server() -> AsyncIterator[str]:
    """An action server on loopback that accepts the call and never answers."""
    never = asyncio.Event()

    async def webhook(_: web.Request) -> web.Response:
        await never.wait()
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook"
    never.set()
    await runner.cleanup()


async def test_a_hung_action_server_is_given_up_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch, hung_action_server: str
) -> None:
    settings = ChannelSettings(_env_file=None, action_timeout=0.5)
    monkeypatch.setattr(rasa_patches, "get_settings", lambda: settings)
    assert rasa_patches.apply() is True
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 0.5

    action = rasa_action.RemoteAction("action_form_step", EndpointConfig(hung_action_server))

    async def run() -> BaseException | None:
        try:
            await action.run(
                CollectingOutputChannel(),
                TemplatedNaturalLanguageGenerator({}),
                DialogueStateTracker("citizen-1", []),
                Domain.empty(),
            )
        except Exception as error:  # what Rasa's processor logs before it goes on
            return error
        return None

    # Without the setting Rasa would wait 300 s, and this outer limit would fail the test.
    error = await asyncio.wait_for(run(), timeout=60)
    assert isinstance(error, asyncio.TimeoutError)


def test_the_default_is_far_below_rasas_300_seconds() -> None:
    assert ChannelSettings(_env_file=None).action_timeout <= 30


def test_processes_without_rasa_loaded_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, rasa_patches.ACTION_MODULE)
    assert rasa_patches.apply() is False


# Events of every type the action server may send, as Rasa serialises them.
EVENTS = [
    {"event": "slot", "name": "form_id", "value": "x", "timestamp": None},
    {"event": "slot", "name": "count", "value": 2.5, "timestamp": 1.5, "metadata": {}},
    {"event": "bot", "text": "Hallo", "data": {"buttons": []}, "metadata": {}},
    {"event": "action", "name": "utter_greet", "policy": None, "confidence": 1.0},
    {"event": "active_loop", "name": "hundeanmeldung_form"},
    {"event": "followup", "name": "action_listen"},
    {"event": "user", "text": "Hallo", "parse_data": {"intent": {"name": "greet"}}},
    {"event": "entities", "entities": [{"entity": "service", "value": "x"}]},
    {"event": "action_execution_rejected", "name": "x"},
    {"event": "restart"},
    {"event": "session_started"},
    {"event": "reset_slots"},
    {"event": "pause"},
]
# And events that are not valid, each in its own way.
BAD_EVENTS = [
    {"event": "slot", "name": "form_id"},  # no value
    {"event": "slot", "name": 3, "value": "x"},
    {"event": "slot", "name": "x", "value": "y", "timestamp": "now"},
    {"event": "slot", "name": "x", "value": "y", "metadata": []},
    {"event": "no_such_event"},
    {"event": ["slot"], "name": "x", "value": "y"},
    {"event": None},
    {"name": "x", "value": "y"},
    {"event": "user", "parse_data": "not an object"},
    {"event": "entities", "entities": [{"entity": "service"}]},  # no value
    {"event": "action", "hide_rule_turn": "yes"},
    "slot",
    None,
]
ANSWERS = [
    {"events": EVENTS, "responses": [{"text": "a"}]},
    *({"events": [*EVENTS[:3], bad, EVENTS[3]]} for bad in BAD_EVENTS),
    {"events": None},
    {"events": [], "responses": None},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "form_id", "value": "x"}], "responses": [{"text": "a"}]},
    {},
    {"events": "nope"},
    {"events": [{"no_event": 1}]},
    {"responses": ["text instead of an object"]},
    [],
    "ok",
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_answers_pass_and_fail_as_with_rasas_own_check(answer: Any) -> None:
    remote = rasa_action.RemoteAction
    rasas_check = rasa_own("validate_action_result", remote._validate_action_result)
    ours = rasa_patches.answer_check(remote.action_response_format_spec())
    action = remote("action_form_step", None)
    try:
        rasas_check(action, answer)
    except jsonschema.ValidationError as rasas:
        with pytest.raises(jsonschema.ValidationError) as raised:
            ours(action, answer)
        assert raised.value.message == rasas.message  # the same error, the same words
    else:
        assert ours(action, answer) is True


def test_valid_answers_are_checked_event_by_event() -> None:
    schema = rasa_action.RemoteAction.action_response_format_spec()
    kind = jsonschema.validators.validator_for(schema)
    quick = rasa_patches.event_checks(schema, kind)
    assert quick is not None
    assert quick({"events": EVENTS, "responses": [{"text": "a"}]})
    assert all(quick({"events": [event]}) for event in EVENTS)
    assert not any(quick({"events": [event]}) for event in BAD_EVENTS)
    assert all(not kind(schema).is_valid({"events": [event]}) for event in BAD_EVENTS)
    # A schema not shaped as Rasa 3.6's: only the whole schema is asked.
    assert rasa_patches.event_checks({"type": "object"}, kind) is None
    shared = {"oneOf": [{"properties": {"event": {"const": "a"}}}] * 2}
    assert rasa_patches.event_checks({"properties": {"events": {"items": shared}}}, kind) is None


def test_the_remote_action_uses_the_check_once_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = rasa_action.RemoteAction
    monkeypatch.setattr(
        remote,
        "_validate_action_result",
        rasa_own("validate_action_result", remote._validate_action_result),
    )
    assert not getattr(remote._validate_action_result, rasa_patches.MARK, False)
    assert rasa_patches.apply() is True
    assert getattr(remote._validate_action_result, rasa_patches.MARK, False)
    action = remote("action_form_step", None)
    assert action._validate_action_result({"events": []}) is True
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result({"events": "nope"})


def test_only_the_action_that_reads_the_domain_gets_it() -> None:
    endpoints = yaml.safe_load((ROOT / "bot" / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    custom = [name for name in domain.user_actions if not name.startswith("utter_")]
    assert "validate_hundeanmeldung_form" in custom
    needing = [name for name in custom if domain.does_custom_action_explicitly_need_domain(name)]
    # actions/fallback.py reads the domain's entities; no other action reads its domain.
    assert needing == ["action_default_ask_affirmation"]


def test_event_types_are_found_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    original = rasa_own("resolve_by_type", Event.resolve_by_type)
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(original))
    resolve = rasa_patches.remembered(original)
    for _ in range(2):  # the second time from memory
        assert resolve("slot") is SlotSet
        assert resolve("user") is UserUttered
        assert resolve("action") is ActionExecuted
    assert resolve("topic") is None  # Rasa's backwards compatibility
    assert resolve("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        resolve("no_such_event")
    with pytest.raises(ValueError, match="Unknown event name"):
        resolve(["not", "a", "name"])  # as Rasa's lookup: no TypeError

    assert rasa_patches.apply() is True
    assert getattr(Event.resolve_by_type, rasa_patches.MARK, False)
    events = [{"event": "slot", "name": "x", "value": 1}, {"event": "action", "name": "a"}]
    assert [type(e) for e in rasa_action.events.deserialise_events(events)] == [
        SlotSet,
        ActionExecuted,
    ]


def test_each_spacy_pipeline_is_loaded_once() -> None:
    loads: list[str] = []

    def load(name: str) -> object:
        loads.append(name)
        return object()

    load_model = rasa_patches.shared_pipeline(load)
    first = load_model("var/spacy/de_govbot")
    assert load_model("var/spacy/de_govbot") is first
    assert load_model("other") is not first
    assert loads == ["var/spacy/de_govbot", "other"]


def test_fine_tuning_keeps_rasas_own_loading() -> None:
    calls: list[tuple[Any, ...]] = []

    class Model:
        @classmethod
        def load(cls, *args: Any, **kwargs: Any) -> str:
            calls.append(args)
            return "rasa's load"

    load = rasa_patches.load_without_training_step(Model.load)
    assert load(Model, "weights", "example", "predict example", True) == "rasa's load"
    assert load(Model, "weights", "example", None, False) == "rasa's load"
    assert calls == [
        ("weights", "example", "predict example", True),
        ("weights", "example", None, False),
    ]


def general_copy(value: Any) -> Any:
    """What ``copy.copy`` makes of an object whose class has no ``__copy__``."""
    return copy._reconstruct(value, None, *value.__reduce_ex__(4))  # type: ignore[attr-defined]


class LoadedModel:
    """Stands for a loaded model: objects in reference cycles, as TensorFlow's are."""

    def __init__(self) -> None:
        self.itself = self


def test_the_loaded_model_is_frozen_and_a_replaced_one_collected() -> None:
    frozen_during_load = []

    def load_model(agent: Any, path: str) -> None:
        frozen_during_load.append(gc.get_freeze_count())
        agent.model = LoadedModel()

    agent = type("Agent", (), {})()
    load = rasa_patches.frozen_after_loading(load_model)
    try:
        load(agent, "first")
        assert gc.get_freeze_count() > 0
        first = weakref.ref(agent.model)
        gc.collect()
        assert first() is agent.model

        load(agent, "second")  # the first model is dropped: its cycle must not stay frozen
        assert frozen_during_load == [0, 0]
        assert first() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


async def test_a_model_loaded_into_a_new_agent_lets_the_old_one_go() -> None:
    """Rasa's ``PUT /model`` loads into a new agent and swaps it in after the load."""

    def load_model(agent: Any, path: str) -> None:
        agent.model = LoadedModel()

    load = rasa_patches.frozen_after_loading(load_model)
    server = type("Server", (), {})()
    try:
        server.agent = type("Agent", (), {})()
        load(server.agent, "first")
        await asyncio.sleep(0)
        first = weakref.ref(server.agent.model)
        assert gc.get_freeze_count() > 0

        new_agent = type("Agent", (), {})()
        load(new_agent, "second")
        server.agent = new_agent  # in the same turn of the loop, as Rasa's handler does
        await asyncio.sleep(0)
        assert first() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_server_freezes_after_rasas_own_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def rasa_load_model(agent: Any, path: str, fingerprint: str | None = None) -> None:
        calls.append(path)

    monkeypatch.setattr(Agent, "load_model", rasa_load_model)
    monkeypatch.setitem(rasa_patches.RASA_ORIGINALS, "agent_load_model", None)
    assert rasa_patches.apply() is True
    try:
        Agent.load_model(object(), "models/x.tar.gz")
        assert calls == ["models/x.tar.gz"]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_slots_are_copied_as_copy_copy_does() -> None:
    slots = [
        *Domain.load(str(ROOT / "bot" / "domain")).slots,
        TextSlot("t", [], initial_value="x"),
        FloatSlot("f", [], initial_value=1.5, max_value=3.0),
        BooleanSlot("b", [], initial_value=True),
        ListSlot("l", [], initial_value=[1, 2]),
        CategoricalSlot("c", [], values=["a", "b"], initial_value="a"),
        AnySlot("any", [], initial_value={"k": "v"}),
    ]
    assert len(slots) > 150  # GovBot's form slots among them
    for slot in slots:
        slot.value = slot.initial_value if slot.initial_value is not None else "set"
        duplicate = rasa_patches.slot_copy(slot)
        expected = general_copy(slot)
        assert type(duplicate) is type(slot)
        assert duplicate is not slot
        assert vars(duplicate) == vars(expected)
        assert all(vars(duplicate)[k] is vars(slot)[k] for k in vars(slot))  # shallow
        duplicate.value = "other"
        assert slot.value != "other"


def test_a_slot_class_with_its_own_pickling_is_copied_its_own_way() -> None:
    class Remembering(TextSlot):
        def __getstate__(self) -> dict[str, Any]:
            return {**self.__dict__, "copied": True}

    slot = Remembering("r", [])
    assert vars(rasa_patches.slot_copy(slot))["copied"] is True
    assert rasa_patches.apply() is True
    assert copy.copy(TextSlot("t", [])).name == "t"
    assert getattr(Slot.__copy__, rasa_patches.MARK, False)


@pytest.fixture(scope="module")
def conversations() -> tuple[Domain, list[DialogueStateTracker]]:
    """GovBot's stories, rules and test conversations as trackers, and long ones made of
    them in a row (forms, handoffs and questions in one conversation)."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "bot" / "domain"),
        training_data_paths=[
            str(ROOT / p) for p in ("data/stories", "data/rules", "tests/conversations")
        ],
    )
    domain = importer.get_domain()
    generated = TrainingDataGenerator(
        importer.get_stories(), domain, remove_duplicates=False, augmentation_factor=0
    ).generate()
    trackers = [
        DialogueStateTracker.from_events(t.sender_id, list(t.events), domain.slots)
        for t in generated
    ]
    for start in range(0, len(trackers), 7):
        events = [e for t in trackers[start : start + 20] for e in t.events]
        trackers.append(DialogueStateTracker.from_events("long", events, domain.slots))
    return domain, trackers


def test_the_last_states_are_rasas_own(
    conversations: tuple[Domain, list[DialogueStateTracker]],
) -> None:
    domain, trackers = conversations
    original = rasa_own("states_for_tracker_history", Domain.states_for_tracker_history)
    last_turns = rasa_patches.last_states(original)
    longest = max(len(list(t.generate_all_prior_trackers())) for t in trackers)
    assert longest > 100  # conversations far longer than any rule
    compared = 0
    for tracker in trackers:
        for omit in (False, True):
            full = original(domain, tracker, omit_unset_slots=omit)
            for turns in (1, 2, 3, 6, 11, 40, 10_000):
                token = rasa_patches.STATE_TURNS.set(turns)
                try:
                    assert last_turns(domain, tracker, omit_unset_slots=omit) == full[-turns:]
                    # Hiding rule turns needs every state: Rasa's own computation.
                    data = {"slots": [], "active_loops": []}
                    assert last_turns(
                        domain, tracker, ignore_rule_only_turns=True, rule_only_data=data
                    ) == original(domain, tracker, ignore_rule_only_turns=True, rule_only_data=data)
                finally:
                    rasa_patches.STATE_TURNS.reset(token)
                compared += 1
        assert last_turns(domain, tracker) == original(domain, tracker)  # no policy set it
    assert compared > 3000


def test_the_rule_policy_asks_for_as_many_turns_as_its_longest_rule() -> None:
    seen: list[int | None] = []

    def prediction_states(*_: Any) -> list[Any]:
        seen.append(rasa_patches.STATE_TURNS.get())
        return []

    policy = RulePolicy.__new__(RulePolicy)
    rule = '[{"prev_action": {"action_name": "action_listen"}}, {"user": {"intent": "greet"}}]'
    long_rule = "[" + ", ".join(['{"user": {"intent": "inform"}}'] * 7) + "]"
    policy.lookup = {RULES: {rule: "utter_greet"}, RULES_FOR_LOOP_UNHAPPY_PATH: {}}
    rule_states = rasa_patches.rule_turns(prediction_states)
    rule_states(policy, DialogueStateTracker("c", []), Domain.empty())
    policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH] = {long_rule: "do_not_predict_loop_action"}
    rule_states(policy, DialogueStateTracker("c", []), Domain.empty())
    # A remembered state sequence that is no rule counts one state more than it has.
    policy.lookup[RULES_NOT_IN_STORIES] = [
        "[" + ", ".join(['{"user": {"intent": "greet"}}'] * 9) + "]",
        rule,
        "handling active loops and forms - hundeanmeldung_form",
    ]
    rule_states(policy, DialogueStateTracker("c", []), Domain.empty())
    policy.lookup = {}
    rule_states(policy, DialogueStateTracker("c", []), Domain.empty())
    assert seen == [2, 7, 10, 1]
    assert rasa_patches.STATE_TURNS.get() is None  # reset after each call


def test_applied_events_are_rasas_own_as_the_conversation_grows(
    conversations: tuple[Domain, list[DialogueStateTracker]],
) -> None:
    domain, trackers = conversations
    original = rasa_own("applied_events", DialogueStateTracker.applied_events)
    remembered = rasa_patches.remembered_events(original)
    compared = 0
    for source in trackers:
        # max_event_history: the oldest events drop out as new ones come.
        for history in (None, 7):
            tracker = DialogueStateTracker(source.sender_id, domain.slots, history)
            # Long conversations asked every few events (each answer costs their length).
            every = 1 if len(source.events) < 120 else 9
            for number, event in enumerate(source.events):
                tracker.update(event)
                if number % every:
                    continue
                first = remembered(tracker)
                assert first == original(tracker)
                first.clear()  # a caller changing its list changes nothing for the next
                assert remembered(tracker) == original(tracker)
                compared += 1
    assert compared > 4_000
    # Events put in again at once (as Rasa restores a stored conversation).
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(trackers[-1].events[0])
    assert remembered(tracker) == original(tracker)
    tracker.events.extend(list(trackers[-1].events)[1:])
    assert remembered(tracker) == original(tracker)
    tracker.events = tracker._create_events(list(trackers[0].events))
    assert remembered(tracker) == original(tracker)
    assert remembered(DialogueStateTracker("empty", [])) == []


@pytest.fixture(scope="module")
def rule_policy(
    conversations: tuple[Domain, list[DialogueStateTracker]], tmp_path_factory: Any
) -> RulePolicy:
    """A RulePolicy trained on GovBot's stories and rules, as `rasa train` trains it."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "bot" / "domain"),
        training_data_paths=[str(ROOT / p) for p in ("data/stories", "data/rules")],
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(
        importer.get_stories(), domain, remove_duplicates=True, augmentation_factor=0
    ).generate()
    config = {**RulePolicy.get_default_config(), "check_for_contradictions": False}
    storage = LocalModelStorage(tmp_path_factory.mktemp("rule-policy"))
    context = ExecutionContext(GraphSchema({}), "test")
    policy = RulePolicy.create(config, storage, Resource("rule_policy"), context)
    policy.train(trackers, domain)
    return policy


def featurizer_changes(states: list[dict[str, Any]]) -> int:
    """What Rasa's featurizer does to the states it is given: the text goes where an intent
    is. How many states it changed."""
    changed = 0
    for state in states:
        user = state.get("user", {})
        if user.get("text") and user.get("intent"):
            del user["text"]
            changed += 1
    return changed


def resumed_as_rasa(
    domain: Domain, tracker: DialogueStateTracker, omit: bool, ignore: bool, data: Any
) -> list[dict[str, Any]]:
    """GovBot's resumed states of the tracker, asserted equal to Rasa's own."""
    original = rasa_own("states_for_tracker_history", Domain.states_for_tracker_history)
    expected = original(
        domain, tracker, omit_unset_slots=omit, ignore_rule_only_turns=ignore, rule_only_data=data
    )
    resumed: list[dict[str, Any]] = rasa_patches.resumed_states(domain, tracker, omit, ignore, data)
    assert resumed == expected
    return resumed


def test_resumed_states_are_rasas_own_as_the_conversation_grows(
    rule_policy: RulePolicy, conversations: tuple[Domain, list[DialogueStateTracker]]
) -> None:
    domain, trackers = conversations
    original = rasa_own("states_for_tracker_history", Domain.states_for_tracker_history)
    # GovBot's model has no slots or forms that only rules use; some are named here so that
    # removing them from the states is compared too.
    rule_only = {
        "rule_only_slots": [slot.name for slot in domain.slots[:40]],
        "rule_only_loops": list(domain.form_names[:3]),
    }
    assert rule_policy._get_rule_only_data() == {"rule_only_slots": [], "rule_only_loops": []}
    # (omit_unset_slots, ignore_rule_only_turns, rule_only_data): the RulePolicy's and the
    # MemoizationPolicy's, asked for in turn about the same tracker as a message goes on.
    options = [(False, False, None), (False, True, rule_only), (True, True, rule_only)]
    # Stories have no turns that rules predicted; in a conversation the RulePolicy marks its
    # actions that no story has (hide_rule_turn). Here a random two in five are so marked.
    rng = random.Random(7)  # noqa: S311 - which turns are marked, not a secret
    compared = 0
    changed = 0
    hidden_turns = 0
    for source in trackers:
        tracker = DialogueStateTracker(source.sender_id, domain.slots)
        # Long conversations asked every few events (each of Rasa's answers costs their length).
        every = 1 if len(source.events) < 80 else 13
        for number, event in enumerate(source.events):
            if isinstance(event, ActionExecuted) and rng.random() < 0.4:
                event = copy.copy(event)
                event.hide_rule_turn = True
                hidden_turns += 1
            tracker.update(event)
            if number % every:
                continue
            for omit, ignore, data in options:
                resumed = resumed_as_rasa(domain, tracker, omit, ignore, data)
                changed += featurizer_changes(resumed)  # a caller's changes change nothing kept
                compared += 1
            token = rasa_patches.STATE_TURNS.set(3)
            try:
                last = rasa_patches.resumed_states(domain, tracker, False, False, None, 3)
                assert last == original(domain, tracker)[-3:]
            finally:
                rasa_patches.STATE_TURNS.reset(token)
    assert compared > 5_000
    assert hidden_turns > 1000
    assert changed > 1000  # the caller did change states it got


def test_resumed_states_are_rasas_own_in_recorded_conversations(
    conversations: tuple[Domain, list[DialogueStateTracker]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Conversations as the Rasa server stored them (``make bench``'s citizens filling in
    forms and asking questions; tests/bot/recorded_conversations.json, parse data reduced to
    intent, entities and text). Each step of a form takes the previous step back from the
    applied events, so the replay goes back to an earlier action at every form message."""
    domain, _ = conversations
    recorded = json.loads((ROOT / "tests/bot/recorded_conversations.json").read_text())
    rewound_to: list[int] = []
    rewind = rasa_patches._Replay.rewind

    def counted(replay: Any, tracker: Any, events: list[Any]) -> None:
        before = len(replay.events)
        rewind(replay, tracker, events)
        if len(replay.events) < before:
            rewound_to.append(len(replay.events))

    monkeypatch.setattr(rasa_patches._Replay, "rewind", counted)
    rule_only = {"rule_only_slots": [], "rule_only_loops": []}
    rng = random.Random(11)  # noqa: S311 - which turns are marked, not a secret
    compared = 0
    for conversation in recorded:
        tracker = DialogueStateTracker(conversation["sender_id"], domain.slots)
        for event in map(Event.from_parameters, conversation["events"]):
            if isinstance(event, ActionExecuted) and rng.random() < 0.4:
                event.hide_rule_turn = True  # as in the test above
            tracker.update(event)
            for omit, ignore in ((False, False), (False, True), (True, True)):
                resumed_as_rasa(domain, tracker, omit, ignore, rule_only)
                compared += 1
    assert compared > 2_000
    assert len([at for at in rewound_to if at > 0]) > 50


def test_resumed_states_start_anew_when_the_past_changes(
    conversations: tuple[Domain, list[DialogueStateTracker]],
) -> None:
    from rasa.shared.core.events import (
        ActionReverted,
        Restarted,
        UserUtteranceReverted,
        UserUttered,
    )

    domain, trackers = conversations
    original = rasa_own("states_for_tracker_history", Domain.states_for_tracker_history)
    rule_only = {"rule_only_slots": [domain.slots[0].name], "rule_only_loops": []}
    source = max(trackers, key=lambda t: len(t.events))
    tracker = DialogueStateTracker(source.sender_id, domain.slots)

    def same(data: dict[str, Any] | None = rule_only) -> None:
        for ignore in (False, True):
            resumed_as_rasa(domain, tracker, False, ignore, data)

    events = list(source.events)
    for event in events[:60]:
        tracker.update(event)
    same()
    # A rewind (the last user message undone) and a restart drop events from the applied ones.
    tracker.update(UserUttered("noch etwas", {"name": "request_human", "confidence": 1.0}))
    same()
    tracker.update(UserUtteranceReverted())
    same()
    tracker.update(ActionExecuted("action_listen"))
    same()
    tracker.update(Restarted())
    same()
    # A rewind followed by as many other events before the next question: the applied
    # events are as many as before, but not the same.
    tracker.update(UserUttered("Hallo", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    same()
    tracker.update(UserUtteranceReverted())
    tracker.update(UserUttered("Mensch", {"name": "request_human", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_listen"))
    same()
    # An action taken back and logged again, now not hidden: the turns after it change.
    tracker.update(UserUttered("Hallo", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet", hide_rule_turn=True))
    tracker.update(ActionExecuted("action_listen", hide_rule_turn=True))
    same()
    tracker.update(ActionReverted())
    tracker.update(ActionReverted())
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(ActionExecuted("action_listen"))
    same()
    for event in events[60:120]:
        tracker.update(event)
    same()
    # All events replaced at once, by other objects with the same content, and then by
    # objects of which the first user message still applied says something else.
    tracker.events = tracker._create_events(copy.deepcopy(list(tracker.events)))
    same()
    replaced = copy.deepcopy(list(tracker.events))
    applied_user = next(e for e in tracker.applied_events() if isinstance(e, UserUttered))
    first_user = replaced[next(i for i, e in enumerate(tracker.events) if e is applied_user)]
    first_user.parse_data["intent"] = {"name": "deny", "confidence": 1.0}
    first_user.intent = first_user.parse_data["intent"]
    before = rasa_patches.resumed_states(domain, tracker, False, False, None)
    tracker.events = tracker._create_events(replaced)
    same()
    assert rasa_patches.resumed_states(domain, tracker, False, False, None) != before
    # Other rule-only data, also when the same dict is changed in place.
    other: dict[str, Any] = {"rule_only_slots": [], "rule_only_loops": []}
    same(other)
    other["rule_only_loops"] = ["handoff_form", *rule_only["rule_only_loops"]]
    same(other)
    # Another domain (a new model) starts anew too.
    other_domain = Domain.from_dict(domain.as_dict())
    expected = original(other_domain, tracker)
    assert rasa_patches.resumed_states(other_domain, tracker, False, False, None) == expected


def test_the_rule_index_finds_the_rules_rasa_finds(
    rule_policy: RulePolicy, conversations: tuple[Domain, list[DialogueStateTracker]]
) -> None:
    domain, trackers = conversations
    original = rasa_own("_get_possible_keys", RulePolicy._get_possible_keys)
    indexed = rasa_patches.rule_index(original)
    lookups = [rule_policy.lookup[RULES], rule_policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]]
    assert len(lookups[0]) > 400 and lookups[1]
    found: set[str] = set()
    compared = 0
    for tracker in trackers:
        full = domain.states_for_tracker_history(tracker)
        windows = [full[max(0, end - 3) : end] for end in range(1, len(full) + 1)]
        for states in [*windows, full, full[-1:], []]:
            for lookup in lookups:
                expected = original(rule_policy, lookup, states)
                keys = indexed(rule_policy, lookup, states)
                # The same rules in the same order: max() then picks the same one of
                # several rules of the same length.
                assert list(keys) == list(expected)
                found |= keys
                compared += 1
    assert compared > 5000
    assert len(found) > 300  # most rules matched somewhere, not only the trivial ones


def test_the_rule_index_handles_odd_states(rule_policy: RulePolicy) -> None:
    original = rasa_own("_get_possible_keys", RulePolicy._get_possible_keys)
    indexed = rasa_patches.rule_index(original)
    rules = rule_policy.lookup[RULES]
    odd_states: list[list[dict[str, Any]]] = [
        [{}],  # a conversation's start: no previous action
        [{"user": {"intent": "greet"}}],
        [{"prev_action": {"action_name": "action_listen"}, "user": {"text": "Hallo"}}],
        [{"prev_action": {"action_text": "Hallo"}, "user": {"intent": "greet"}}],
        # a value that cannot be a dict key goes to Rasa's own matching
        [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": ["a"]}}],
        [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "unknown"}}],
    ]
    for states in odd_states:
        assert list(indexed(rule_policy, rules, states)) == list(
            original(rule_policy, rules, states)
        )
    # A changed lookup (a new model in the same policy object) gets a new index.
    smaller = dict(list(rules.items())[:10])
    greet = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    assert indexed(rule_policy, smaller, greet) == original(rule_policy, smaller, greet)
    # Also one changed in place to other rules of the same number (training in the server).
    new = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "new_intent"}}]
    new_rule = json.dumps(new)
    assert new_rule not in smaller
    smaller.popitem()
    smaller[new_rule] = "utter_greet"
    assert new_rule in indexed(rule_policy, smaller, new)
    assert indexed(rule_policy, smaller, new) == original(rule_policy, smaller, new)
    # A rule without states applies everywhere, as in Rasa.
    smaller["[]"] = "utter_greet"
    for states in [greet, [{}], *odd_states]:
        assert list(indexed(rule_policy, smaller, states)) == list(
            original(rule_policy, smaller, states)
        )


async def test_messages_are_worked_on_a_few_at_a_time_in_the_order_they_came() -> None:
    running: list[str] = []
    started: list[str] = []
    most = 0
    release: dict[str, asyncio.Event] = {}

    async def handle_message(_processor: Any, message: str) -> str:
        nonlocal most
        started.append(message)
        running.append(message)
        most = max(most, len(running))
        await release[message].wait()
        running.remove(message)
        return f"answer to {message}"

    handle = rasa_patches.in_turn(handle_message, 2, 30)
    tasks = {}
    for name in ("a", "b", "c", "d"):
        release[name] = asyncio.Event()
        tasks[name] = asyncio.create_task(handle(None, name))
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert started == ["a", "b"]  # c and d wait
    release["a"].set()
    await asyncio.sleep(0)
    # A message that comes while c is being let in must not overtake c or d.
    release["e"] = asyncio.Event()
    tasks["e"] = asyncio.create_task(handle(None, "e"))
    await asyncio.sleep(0.01)
    assert started == ["a", "b", "c"]
    for name in ("b", "c", "d", "e"):
        release[name].set()
    answers = await asyncio.gather(*tasks.values())
    assert answers == [f"answer to {name}" for name in tasks]
    assert started == ["a", "b", "c", "d", "e"]
    assert most == 2


async def test_a_message_given_up_while_waiting_frees_nothing_it_did_not_take() -> None:
    release = asyncio.Event()

    async def handle_message(_processor: Any, message: str) -> str:
        await release.wait()
        return message

    handle = rasa_patches.in_turn(handle_message, 1, 30)
    first = asyncio.create_task(handle(None, "first"))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(handle(None, "waiting"))
    await asyncio.sleep(0.01)
    waiting.cancel()  # e.g. the citizen's connection closed
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    assert await first == "first"
    limiter = handle.limiter()
    assert limiter.borrowed_tokens == 0 and limiter.total_tokens == 1
    assert await handle(None, "next") == "next"


def test_the_message_limit_is_set_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    own = rasa_own("handle_message", MessageProcessor.handle_message)
    monkeypatch.setattr(MessageProcessor, "handle_message", own)
    settings = ChannelSettings(_env_file=None, concurrent_messages=0)
    monkeypatch.setattr(rasa_patches, "get_settings", lambda: settings)
    assert rasa_patches.apply() is True
    assert MessageProcessor.handle_message is own  # 0: Rasa's own way
    settings = ChannelSettings(_env_file=None, concurrent_messages=3)
    monkeypatch.setattr(rasa_patches, "get_settings", lambda: settings)
    assert rasa_patches.apply() is True
    assert getattr(MessageProcessor.handle_message, rasa_patches.MARK, False)
    assert ChannelSettings(_env_file=None).concurrent_messages == 4
    assert ChannelSettings(_env_file=None).message_queue_seconds == 30


async def test_a_message_waits_for_its_turn_only_so_long(caplog: pytest.LogCaptureFixture) -> None:
    hung = asyncio.Event()  # e.g. the action server does not answer

    async def handle_message(_processor: Any, message: str) -> str:
        if message == "hung":
            await hung.wait()
        return f"answer to {message}"

    handle = rasa_patches.in_turn(handle_message, 1, 0.2)
    first = asyncio.create_task(handle(None, "hung"))
    await asyncio.sleep(0.01)
    with caplog.at_level("WARNING", logger="channels.rasa_patches"):
        assert await handle(None, "faq") == "answer to faq"
    assert "waited 0 s for one of 1 slots" in caplog.text
    hung.set()
    assert await first == "answer to hung"
    limiter = handle.limiter()
    assert limiter.borrowed_tokens == 0  # the message without a slot gave none back
    assert await handle(None, "next") == "answer to next"
