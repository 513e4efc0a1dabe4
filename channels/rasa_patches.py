"""What GovBot changes inside the Rasa server process, where Rasa 3.6 offers no setting.

Each change is measured (``make bench``, py-spy on the Rasa server under load; numbers in
docs/benchmarks.md) and keeps Rasa's behaviour: tests/bot/test_rasa_patches.py checks each
against Rasa's own code, and tests/integration/test_model_loading.py checks that the model
predicts exactly as with Rasa's own loading.

**Action timeout.** Rasa waits ``rasa.core.constants.DEFAULT_REQUEST_TIMEOUT`` (300 s) for
the action server; ``rasa.core.actions.action`` imports the constant into its own namespace
and passes it to every call of a custom action. A hung action server would keep a citizen
waiting five minutes, and the conversation's lock with it. It is set from
``RASA_ACTION_TIMEOUT``; Rasa then logs the timeout and goes on with the conversation.

**Checking the action server's answers.** Rasa checks every answer of the action server with
``jsonschema.validate``, which first checks the schema itself against the JSON Schema
meta-schema, on every call. With the jsonschema that Rasa 3.6 pins (4.17) that took 38 % of
the Rasa server's CPU time under load, more than the NLU and the policies together. The
schema is a constant: it is checked once, and each answer with the same validator. The
schema lists Rasa's 23 event types as ``oneOf`` branches, so jsonschema checked every event
of an answer against all 23 (1.9 ms for a form's answer of seven events). Each branch fixes
the event's type name, so an event is now checked against its own type's branch only
(0.2 ms); whatever that quick check does not accept is checked against the whole schema as
before, so an invalid answer fails with Rasa's own error.

**Reading stored conversations.** For every stored event, ``Event.resolve_by_type`` walks
all subclasses of ``Event`` to find the class of its type name: 7 % of the CPU time under
load, for a lookup whose answer never changes. Each answer is remembered; unknown names
still go to Rasa's own lookup.

**One spaCy pipeline.** Rasa's inference graph loads the ``SpacyNLP`` pipeline twice (once
for the node that provides it, once for the one that runs it): 115 MB of resident memory for
a second copy of the German lemma table. Both nodes now share one, per model path.

**Loading the neural models.** ``RasaModel.load`` (DIET, TED) trains one step on an example
only to create the model's variables, then overwrites them with the trained weights. Tracing
the training step with its gradients took half of the server's start-up. TensorFlow restores
a checkpoint's variables when they are created, so the model is built by the prediction on
the example that Rasa makes anyway, and predicts the same (to the last digit, tested).
Fine-tuning (``rasa train --finetune``) and models without an example use Rasa's own load.

**The loaded model out of the garbage collector's way.** A loaded GovBot model is about
600,000 Python objects (TensorFlow, spaCy, the domain). Python's cyclic garbage collector
looks at all of them in each full collection, which came every few hundred messages under
load and took 320 ms, during which no message was worked on: the slowest answers of a run.
They are now moved out of its sight once the model has loaded (``gc.freeze``); a full
collection then takes well under a millisecond. Loading another model first unfreezes
them, so that the replaced model can be collected.

**Copying slots.** Every copy of a conversation's tracker (Rasa makes several per message,
and one more for each policy that looks at the conversation's past) copies each of the
domain's slots with ``copy.copy``, which goes through ``__reduce_ex__`` and ``copyreg``: 12 %
of the CPU time under load with GovBot's 149 slots. ``Slot.__copy__`` now makes the same
shallow copy directly (a new object of the same class with the same attributes). A slot
class with its own pickling methods is still copied by ``copy.copy``'s general way.

**The rules look at the last turns only.** For every prediction the ``RulePolicy`` computes
the dialogue state of every turn of the conversation, and a rule is checked against the
turns from the end only as far back as it is long. It now gets only the states of as many
last turns as the longest rule of the model has: the same rules match, and only those
states are copied for it (the states themselves are computed once per turn, next section;
Rasa's debug log of the RulePolicy shows those last states only). Policies that learn from
stories (``MemoizationPolicy``) still get every state.

**A growing conversation's states.** For every prediction the policies computed the dialogue
state of every turn of the conversation, replaying all its events on a fresh tracker
(``Domain.states_for_tracker_history``); a message has several predictions, and the
conversation grows by a few events between them. The tracker now keeps Rasa's loop where it
stopped (the replayed tracker, the states and the loop's variables), and the next call
replays only the events added since. Where the applied events are no longer the ones it
replayed (the very same objects): each step of a form takes the previous step back from
them, and a rewind or a restart does too, it goes back to the last action before the change
(the states before it stay; the replayed tracker is rebuilt from the events, which is cheap
next to computing states). The tracker store's cache hands the same tracker to the next
message, so this holds across messages too. Callers get copies of the states (the
featurizer changes the ones it gets).

**Finding the rules that match.** To find the rules for the next action, the ``RulePolicy``
checked each of its rules (508 in GovBot's model) against the conversation's last state, and
those that matched against the states before. Rules are now indexed by what their last state
fixes of the previous action and the intent; only the rules that can match the last state
are checked (with Rasa's own check), and the set of matching rules is built in the order
Rasa builds it, so that among matching rules of the same length the same one wins.

**Applied events once.** ``DialogueStateTracker.applied_events`` (the events without those
undone by a rewind or a form's own loop) goes through the whole conversation, and Rasa asks
for it several times per prediction. A tracker now keeps the answer until its events change.

**Messages in the order they came.** Rasa works on every message that arrives at once:
asyncio switches between them at each wait (the NLU, the action server, the database), so
under overload a form's message, which waits more often, falls behind messages that came
after it, and some waited longer than the widget's 45 s while the mean was 6 s. At most
``RASA_CONCURRENT_MESSAGES`` messages (4) are now worked on at the same time, inside the
conversation's lock; the others wait in the order they came (anyio's ``CapacityLimiter``
serves its waiters first come, first served). A message holds its slot also while it waits
for the action server: when that hangs, the others wait ``RASA_MESSAGE_QUEUE_SECONDS`` (30)
at most and are then worked on without a slot, as before (the conversation's lock in Rasa's
lock store lasts 60 s).

``channels/__init__.py`` calls ``apply()``: Rasa imports the channels of
bot/credentials.yml after its server modules and before it loads the model. Processes that
import ``channels`` without running Rasa (the launcher bot/run_rasa.py, the readiness probe)
do not have Rasa loaded and are left alone rather than made to import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from channels.settings import get_settings

logger = logging.getLogger(__name__)
ACTION_MODULE = "rasa.core.actions.action"
MARK = "govbot_patched"
# Logged once per process; tests/integration checks that the Rasa server logs it.
APPLIED = "GovBot's changes to Rasa are applied (channels/rasa_patches.py)"
QUEUE_FULL = "a message waited %.0f s for one of %d slots; it is worked on without one"
# Rasa's own functions, as they were before apply() replaced them (for tests and debugging).
RASA_ORIGINALS: dict[str, Any] = {}
# How many of the last turns' states the running policy uses; None: all of them.
STATE_TURNS: ContextVar[int | None] = ContextVar("govbot_state_turns", default=None)


def apply() -> bool:
    """Apply the changes in a process that runs Rasa; whether it does."""
    rasa_action = sys.modules.get(ACTION_MODULE)
    if rasa_action is None:
        return False
    if isinstance(getattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", None), (int, float)):
        rasa_action.DEFAULT_REQUEST_TIMEOUT = get_settings().action_timeout  # type: ignore[attr-defined]
    else:
        # A Rasa upgrade renamed it: say so instead of silently waiting 300 s again.
        logger.warning("cannot set the action timeout: Rasa has no DEFAULT_REQUEST_TIMEOUT")

    from rasa.core.agent import Agent
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.processor import MessageProcessor
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.slots import Slot
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.tensorflow.models import RasaModel

    remote = rasa_action.RemoteAction  # type: ignore[attr-defined]
    if not _patched(remote._validate_action_result):
        RASA_ORIGINALS["validate_action_result"] = remote._validate_action_result
        remote._validate_action_result = answer_check(remote.action_response_format_spec())
    if not _patched(Event.resolve_by_type):
        RASA_ORIGINALS["resolve_by_type"] = Event.resolve_by_type
        Event.resolve_by_type = staticmethod(remembered(Event.resolve_by_type))  # type: ignore[method-assign]
    if not _patched(SpacyNLP.load_model):
        RASA_ORIGINALS["load_model"] = SpacyNLP.load_model
        SpacyNLP.load_model = staticmethod(shared_pipeline(SpacyNLP.load_model))  # type: ignore[method-assign]
    if not _patched(getattr(Slot, "__copy__", None)):
        Slot.__copy__ = slot_copy  # type: ignore[attr-defined]
    if not _patched(Domain.states_for_tracker_history):
        RASA_ORIGINALS["states_for_tracker_history"] = Domain.states_for_tracker_history
        Domain.states_for_tracker_history = last_states(Domain.states_for_tracker_history)  # type: ignore[method-assign]
    if not _patched(RulePolicy._prediction_states):
        RASA_ORIGINALS["_prediction_states"] = RulePolicy._prediction_states
        RulePolicy._prediction_states = rule_turns(RulePolicy._prediction_states)  # type: ignore[method-assign]
    if not _patched(RulePolicy._get_possible_keys):
        RASA_ORIGINALS["_get_possible_keys"] = RulePolicy._get_possible_keys
        RulePolicy._get_possible_keys = rule_index(RulePolicy._get_possible_keys)  # type: ignore[method-assign]
    if not _patched(DialogueStateTracker.applied_events):
        RASA_ORIGINALS["applied_events"] = DialogueStateTracker.applied_events
        DialogueStateTracker.applied_events = remembered_events(  # type: ignore[method-assign]
            DialogueStateTracker.applied_events
        )
    if not _patched(MessageProcessor.handle_message):
        RASA_ORIGINALS["handle_message"] = MessageProcessor.handle_message
        settings = get_settings()
        if settings.concurrent_messages:
            MessageProcessor.handle_message = in_turn(  # type: ignore[method-assign]
                MessageProcessor.handle_message,
                settings.concurrent_messages,
                settings.message_queue_seconds,
            )
    if not _patched(Agent.load_model):
        RASA_ORIGINALS["agent_load_model"] = Agent.load_model
        Agent.load_model = frozen_after_loading(Agent.load_model)  # type: ignore[method-assign]
    if not _patched(RasaModel.load):
        RASA_ORIGINALS["load"] = RasaModel.load
        RasaModel.load = classmethod(load_without_training_step(RasaModel.load))  # type: ignore[method-assign,assignment]
        logger.info(APPLIED)
    return True


def _patched(function: Any) -> bool:
    return bool(getattr(function, MARK, False))


def _mark(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, MARK, True)
    return function


def frozen_after_loading(load_model: Callable[..., Any]) -> Callable[..., Any]:
    """``Agent.load_model`` that hides the loaded model from the cyclic garbage collector
    (``gc.freeze``), after unfreezing the objects of a model it replaces.

    In the server's event loop the freeze waits for the loop's next turn: Rasa's
    ``PUT /model`` loads into a new agent and only then drops the old one, which must be
    collected rather than frozen."""

    def load_and_freeze(self: Any, *args: Any, **kwargs: Any) -> Any:
        gc.unfreeze()
        try:
            return load_model(self, *args, **kwargs)
        finally:
            try:
                asyncio.get_running_loop().call_soon(collect_and_freeze)
            except RuntimeError:  # no event loop: nothing else runs before this returns
                collect_and_freeze()

    return _mark(load_and_freeze)


def collect_and_freeze() -> None:
    # What a replaced model leaves behind goes now, not into the frozen heap.
    gc.collect()
    gc.freeze()


def answer_check(schema: dict[str, Any]) -> Callable[[Any, dict[str, Any]], bool]:
    """``RemoteAction._validate_action_result`` with the schema checked once, not per call,
    and each event checked against the schema of its own type only (``event_checks``)."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    kind = validator_for(schema)
    kind.check_schema(schema)
    validator = kind(schema)
    quick = event_checks(schema, kind)

    def _validate_action_result(_action: Any, result: dict[str, Any]) -> bool:
        if (quick is not None and quick(result)) or validator.is_valid(result):
            return True
        # The error jsonschema.validate would raise, with Rasa's own addition.
        error = best_match(validator.iter_errors(result))
        if error is None:  # cannot happen for an invalid instance; stay on the safe side
            error = ValidationError("invalid action server response")
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    return _mark(_validate_action_result)


def event_checks(schema: dict[str, Any], kind: Any) -> Callable[[Any], bool] | None:
    """A check that says yes only to answers the whole schema accepts, with each event
    checked against the one ``oneOf`` branch of its type (each branch fixes ``event`` to
    a constant of its own, so every other branch fails for it): Rasa's schema has 23 event
    types, and jsonschema tried all 23 for every event of every answer. Says no whenever
    it is not sure; the caller then asks the whole schema. None: the schema is not shaped
    as Rasa 3.6's is (a Rasa upgrade), and only the whole schema is asked."""
    try:
        events = schema["properties"]["events"]
        item = dict(events["items"])
        branches = item.pop("oneOf")
        by_type = {branch["properties"]["event"]["const"]: branch for branch in branches}
    except (KeyError, TypeError, ValueError):
        return None
    if len(by_type) != len(branches) or not all(isinstance(t, str) for t in by_type):
        return None
    outer = kind({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})
    checks = {name: kind({"allOf": [item, branch]}) for name, branch in by_type.items()}

    def quick(result: Any) -> bool:
        if not isinstance(result, dict) or not outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            check = checks.get(name) if isinstance(name, str) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    return quick


def remembered(resolve: Callable[..., Any]) -> Callable[..., Any]:
    """``Event.resolve_by_type`` that looks each known type name up once."""
    known: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        if not isinstance(type_name, str):  # Rasa's lookup answers (default, or the error)
            return resolve(type_name, default)
        found = known.get(type_name)
        if found is not None:
            return found
        try:
            found = resolve(type_name)
        except ValueError:  # unknown: Rasa's lookup decides (default, or the error)
            found = None
        if found is None:
            return resolve(type_name, default)
        known[type_name] = found
        return found

    return _mark(resolve_by_type)


def shared_pipeline(load: Callable[[str], Any]) -> Callable[[str], Any]:
    """``SpacyNLP.load_model`` that loads each pipeline once per process."""
    loaded: dict[str, Any] = {}

    def load_model(spacy_model_name: str) -> Any:
        if spacy_model_name not in loaded:
            loaded[spacy_model_name] = load(spacy_model_name)
        return loaded[spacy_model_name]

    return _mark(load_model)


def load_without_training_step(load: Callable[..., Any]) -> Callable[..., Any]:
    """``RasaModel.load`` that builds the model by predicting instead of training a step."""

    def load_model(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode or not predict_data_example:
            return load.__func__(  # type: ignore[attr-defined]
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                *args, **kwargs,
            )  # fmt: skip
        import tensorflow as tf
        from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(
            optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
            run_eagerly=config.get(RUN_EAGERLY),
        )
        # Variables created later (by the prediction below) get their values on creation;
        # the optimizer's state in the checkpoint is for training only.
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)
        return model

    return _mark(load_model)


# Classes whose instances ``slot_copy`` copies itself: no pickling methods or slots of their own.
_PLAIN_CLASSES: dict[type, bool] = {}
_PICKLING = ("__reduce_ex__", "__reduce__", "__getstate__", "__setstate__")


def _plain(cls: type) -> bool:
    plain = _PLAIN_CLASSES.get(cls)
    if plain is None:
        import copyreg

        plain = not copyreg._slotnames(cls) and all(  # type: ignore[attr-defined]
            getattr(cls, name, None) is getattr(object, name, None) for name in _PICKLING
        )
        _PLAIN_CLASSES[cls] = plain
    return plain


def slot_copy(slot: Any) -> Any:
    """``copy.copy`` of a slot: what ``copy``'s general way makes of a plain object."""
    cls = type(slot)
    if not _plain(cls):
        import copy

        # What copy.copy does for an object without __copy__ (Python 3.10's copy module).
        return copy._reconstruct(slot, None, *slot.__reduce_ex__(4))  # type: ignore[attr-defined]
    duplicate = object.__new__(cls)
    duplicate.__dict__.update(slot.__dict__)
    return duplicate


_mark(slot_copy)


def last_states(states_for_tracker_history: Callable[..., Any]) -> Callable[..., Any]:
    """``Domain.states_for_tracker_history`` that goes on from where it stopped for the same
    tracker (``resumed_states``), and computes only the last ``STATE_TURNS`` states when a
    policy has set it (and does not hide rule turns, which needs them all).
    ``states_for_tracker_history`` is Rasa's own, kept for comparison only."""

    def last_turns(
        self: Any,
        tracker: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[Any]:
        turns = None if ignore_rule_only_turns else STATE_TURNS.get()
        return resumed_states(
            self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data, turns
        )

    return _mark(last_turns)


class _Replay:
    """Rasa's loop of ``Domain.states_for_tracker_history`` over a tracker's prior trackers,
    stopped after the applied events in ``events``: the prior tracker after them, the states
    so far and the loop's two variables, and where the loop stood before each action
    (``checkpoints``: event index, number of states, the two variables)."""

    __slots__ = (
        "checkpoints",
        "domain",
        "events",
        "hidden",
        "last_ml_action",
        "options",
        "prior",
        "states",
    )

    def __init__(self, domain: Any, options: tuple[Any, ...], tracker: Any) -> None:
        self.domain = domain
        self.options = options
        self.restart(tracker)

    def restart(self, tracker: Any) -> None:
        self.events: list[Any] = []
        self.prior = tracker.init_copy()
        self.states: list[dict[str, Any]] = []
        self.hidden = False
        self.last_ml_action: dict[str, Any] | None = None
        self.checkpoints: list[tuple[int, int, bool, dict[str, Any] | None]] = []

    def rewind(self, tracker: Any, events: list[Any]) -> None:
        """Back to the last checkpoint whose events are still the first of ``events``."""
        same = 0
        for known, event in zip(self.events, events, strict=False):
            if known is not event:
                break
            same += 1
        if same == len(self.events):
            return
        while self.checkpoints and self.checkpoints[-1][0] > same:
            self.checkpoints.pop()
        if not self.checkpoints:
            self.restart(tracker)
            return
        # The loop is visited at this action again and sets the checkpoint anew.
        at, count, self.hidden, self.last_ml_action = self.checkpoints.pop()
        self.prior = tracker.init_copy()
        for event in events[:at]:
            self.prior.update(event)
        del self.events[at:]
        del self.states[count:]


def resumed_states(
    domain: Any,
    tracker: Any,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
    turns: int | None = None,
) -> list[dict[str, Any]]:
    """Rasa's ``Domain.states_for_tracker_history`` (3.6), resumed: the tracker keeps the
    loop's state after its applied events, and the next call for the same domain and options
    goes on from there, replaying only the events added since. Where the applied events
    changed (a form's step takes its previous step back from them, a rewind or restart), it
    goes on from the last action before the change: the prior tracker is rebuilt by replaying
    the events up to it, and the states before it are kept.

    Rasa's tracker store cache hands back the same tracker for the next message, so a
    prediction computes the states of the new turns only instead of every turn of the
    conversation. ``turns``: only the last that many states. The states returned are copies,
    so a caller that changes them (the featurizer removes the last user input's text) does
    not change what is kept.

    Events are compared by identity, so an event changed in place after it was replayed is
    not seen. Rasa changes only a user's message in place (``DefinePrevUserUtteredFeaturization``
    and ``EntitiesAdded``), right after the message and before the next action, where no
    kept state depends on it yet; a second, different change of the same message (possible
    with TEDPolicy's end-to-end predictions, which GovBot does not use) would be missed."""
    from rasa.shared.core.events import ActionExecuted

    events = tracker.applied_events()
    # The rule-only data as text: a replay must not follow changes made to it in place.
    options = (omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    replays = tracker.__dict__.setdefault("_govbot_replays", {})
    replay = replays.get(options[:2])
    if replay is None or replay.domain is not domain or replay.options != options:
        replay = _Replay(domain, options, tracker)
        replays[options[:2]] = replay
    else:
        replay.rewind(tracker, events)
    for event in itertools.islice(events, len(replay.events), None):
        if isinstance(event, ActionExecuted):
            replay.checkpoints.append(
                (len(replay.events), len(replay.states), replay.hidden, replay.last_ml_action)
            )
            replay.hidden, replay.last_ml_action = _state_turn(
                replay, event.hide_rule_turn, replay.states, rule_only_data
            )
        replay.prior.update(event)
        replay.events.append(event)
    if turns is None:
        kept = replay.states
    else:
        kept = replay.states[max(len(replay.states) - turns + 1, 0) :] if turns > 1 else []
    states = [_state_copy(state) for state in kept]
    # The state after the last event: as Rasa's generate_all_prior_trackers' last item.
    _state_turn(replay, False, states, rule_only_data)
    return states


def _state_copy(state: dict[str, Any]) -> dict[str, Any]:
    # Sub-states are dicts of strings and tuples: copying two levels copies all that changes.
    return {kind: dict(part) for kind, part in state.items()}


def _state_turn(
    replay: _Replay,
    hide_rule_turn: bool,
    states: list[dict[str, Any]],
    rule_only_data: dict[str, Any] | None,
) -> tuple[bool, dict[str, Any] | None]:
    """One pass of the loop in Rasa's ``Domain.states_for_tracker_history`` (3.6): appends
    the state of the replayed tracker to ``states`` unless the turn is hidden; returns the
    loop's variables after it (the replay's own are left as they are)."""
    from rasa.shared.core.constants import PREVIOUS_ACTION

    domain, prior = replay.domain, replay.prior
    omit_unset_slots, ignore_rule_only_turns = replay.options[:2]
    hidden, last_ml_action = replay.hidden, replay.last_ml_action
    if ignore_rule_only_turns:
        if not hidden:
            last_ml_action = domain._get_prev_action_sub_state(prior)
        if not prior.followup_action and prior.latest_action_name != prior.active_loop_name:
            hidden = hide_rule_turn
        if hidden:
            return hidden, last_ml_action
    state = domain.get_active_state(prior, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if last_ml_action:
            state[PREVIOUS_ACTION] = last_ml_action
    states.append(domain._clean_state(state))
    return hidden, last_ml_action


def longest_rule(policy: Any) -> int:
    """How many last states the policy's predictions depend on (at least 1): as many as its
    longest rule has, and one more than any other state sequence it remembers as a rule not
    in the stories (``hide_rule_turn`` compares the whole states given with those)."""
    from rasa.core.policies.rule_policy import (
        RULES,
        RULES_FOR_LOOP_UNHAPPY_PATH,
        RULES_NOT_IN_STORIES,
    )

    rules = policy.lookup.get(RULES) or {}
    lookups = [rules, policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH) or {}]
    hidden = policy.lookup.get(RULES_NOT_IN_STORIES) or []
    key = tuple((id(lookup), len(lookup)) for lookup in [*lookups, hidden])
    known = policy.__dict__.get("_govbot_longest_rule")
    if known is None or known[0] != key:
        longest = max((len(json.loads(rule)) for lookup in lookups for rule in lookup), default=1)
        for source in hidden:
            if source not in rules and source.startswith("["):
                with contextlib.suppress(ValueError):
                    longest = max(longest, len(json.loads(source)) + 1)
        known = (key, max(longest, 1))
        policy.__dict__["_govbot_longest_rule"] = known
    return int(known[1])


def rule_turns(prediction_states: Callable[..., Any]) -> Callable[..., Any]:
    """``RulePolicy._prediction_states`` computing the states of as many last turns as its
    longest rule has: ``_get_possible_keys`` takes every rule as applicable once it has
    looked further back than the rule is long, so earlier states change nothing."""

    def _prediction_states(
        self: Any,
        tracker: Any,
        domain: Any,
        use_text_for_last_user_input: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[Any]:
        token = STATE_TURNS.set(longest_rule(self))
        try:
            return prediction_states(  # type: ignore[no-any-return]
                self, tracker, domain, use_text_for_last_user_input, rule_only_data
            )
        finally:
            STATE_TURNS.reset(token)

    return _mark(_prediction_states)


def remembered_events(applied_events: Callable[..., Any]) -> Callable[..., Any]:
    """``DialogueStateTracker.applied_events`` computed once for the same events: Rasa asks
    for them several times per prediction (the processor, each policy, the states), and the
    answer depends only on the events, which Rasa only ever appends to. The tracker keeps
    the answer with its event list, its length and its first and last event (referenced,
    so that no other object can take their place); any change of these computes it anew.
    Each caller gets a list of its own."""

    def remembered(self: Any) -> list[Any]:
        events = self.events
        known = self.__dict__.get("_govbot_applied_events")
        if (
            known is not None
            and known[0] is events
            and known[1] == len(events)
            and (not events or (events[0] is known[2] and events[-1] is known[3]))
        ):
            return list(known[4])
        result = applied_events(self)
        first, last = (events[0], events[-1]) if events else (None, None)
        self.__dict__["_govbot_applied_events"] = (events, len(events), first, last, result)
        return list(result)

    return _mark(remembered)


# The parts of a state that a rule's last state most often fixes: a rule can only match a
# conversation whose state has the same value there.
INDEXED = (("prev_action", "action_name"), ("user", "intent"))
ANY = object()  # in an index key: the rule leaves this part open
ALWAYS = object()  # the index key of a rule without states


def _rule_index(policy: Any, lookup: dict[str, str], keys: set[str]) -> dict[Any, list[str]]:
    """The lookup's rules by what their last state fixes of ``INDEXED`` (``None``: rules
    whose last state has no previous action; ``ALWAYS``: a rule without states). Built
    again whenever the lookup's keys are not those it was built for."""
    from rasa.core.policies.rule_policy import SHOULD_NOT_BE_SET

    indexes = policy.__dict__.setdefault("_govbot_rule_index", {})
    known = indexes.get(id(lookup))
    if known is not None and known[0] is lookup and known[1] == keys:
        return known[2]  # type: ignore[no-any-return]
    index: dict[Any, list[str]] = {}
    for key in keys:
        rule_states = policy._rule_key_to_state(key)
        last = rule_states[-1] if rule_states else None
        if last is None:
            bucket: Any = ALWAYS  # Rasa takes a rule without states as applicable
        elif not last.get("prev_action"):
            bucket = None
        else:
            values = []
            for state_type, name in INDEXED:
                value = last.get(state_type, {}).get(name)
                fixed = isinstance(value, str) and value and value != SHOULD_NOT_BE_SET
                values.append(value if fixed else ANY)
            bucket = tuple(values)
        index.setdefault(bucket, []).append(key)
    indexes[id(lookup)] = (lookup, frozenset(keys), index)
    return index


def rule_index(get_possible_keys: Callable[..., Any]) -> Callable[..., Any]:
    """``RulePolicy._get_possible_keys`` that checks against the conversation's last state
    only the rules that can match it, found through an index on their last state, instead
    of all of them; then goes back through the earlier states as Rasa does."""

    def _get_possible_keys(self: Any, lookup: dict[str, str], states: list[Any]) -> set[str]:
        keys = set(lookup.keys())  # as Rasa's own starts
        if not states:
            return keys
        last = states[-1]
        index = _rule_index(self, lookup, keys)
        if not last.get("prev_action"):
            candidates = index.get(None, [])
        else:
            values = [last.get(state_type, {}).get(name) for state_type, name in INDEXED]
            try:
                candidates = [
                    key
                    for bucket in {
                        (action, intent)
                        for action in (values[0], ANY)
                        for intent in (values[1], ANY)
                    }
                    for key in index.get(bucket, [])
                ]
            except TypeError:  # a value that cannot be a dict key: no rule fixes it
                return get_possible_keys(self, lookup, states)  # type: ignore[no-any-return]
        candidates = [*candidates, *index.get(ALWAYS, [])]  # never the index's own list
        applicable = {key for key in candidates if self._is_rule_applicable(key, 0, last)}
        # The same set as Rasa's (built in the same order, so that max() picks the same rule
        # among rules of the same length), then the earlier states as in Rasa's own code.
        possible_keys = {key for key in keys if key in applicable}
        for i, state in enumerate(reversed(states[:-1]), start=1):
            possible_keys = set(
                filter(
                    lambda _key: self._is_rule_applicable(_key, i, state),
                    possible_keys,
                )
            )
        return possible_keys

    return _mark(_get_possible_keys)


def in_turn(handle_message: Callable[..., Any], slots: int, wait: float) -> Callable[..., Any]:
    """``MessageProcessor.handle_message`` for at most ``slots`` messages at the same time;
    the others wait first come, first served, at most ``wait`` seconds: then a message is
    worked on without a slot (a hung action server must not hold up everybody for long,
    and the conversation's lock in Rasa's lock store lasts 60 s)."""
    import anyio

    limiter: anyio.CapacityLimiter | None = None

    async def handle_in_turn(self: Any, message: Any) -> Any:
        nonlocal limiter
        if limiter is None:  # created in the server's event loop, on the first message
            limiter = anyio.CapacityLimiter(slots)
        borrower = object()
        try:
            await asyncio.wait_for(limiter.acquire_on_behalf_of(borrower), wait)
        except asyncio.TimeoutError:
            logger.warning(QUEUE_FULL, wait, slots)
            return await handle_message(self, message)
        try:
            return await handle_message(self, message)
        finally:
            limiter.release_on_behalf_of(borrower)

    handle_in_turn.limiter = lambda: limiter  # type: ignore[attr-defined]  # for tests
    return _mark(handle_in_turn)
