"""What GovBot changes in Rasa (channels/rasa_patches.py, bot/endpoints.yml).

Rasa waits RASA_ACTION_TIMEOUT for the action server, not its own 300 s; it checks the
action server's answers as strictly as before, without re-checking the schema each time;
it finds event types and loads spaCy as before, once; and it sends the domain only to the
action that reads it. Each test leaves Rasa as it found it (``rasa_unchanged``), and
compares with Rasa's own functions (``rasa_patches.RASA_ORIGINALS`` once replaced).
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import rasa.core.actions.action as rasa_action
import yaml
from aiohttp import web
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel

from channels import rasa_patches
from channels.settings import ChannelSettings

ROOT = Path(__file__).resolve().parents[2]
PATCHED = [
    (rasa_action.RemoteAction, "_validate_action_result"),
    (Event, "resolve_by_type"),
    (SpacyNLP, "load_model"),
    (RasaModel, "load"),
]


@pytest.fixture(autouse=True)
def rasa_unchanged(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test applies is undone after it (the descriptors themselves are restored)."""
    for owner, name in PATCHED:
        monkeypatch.setattr(owner, name, inspect.getattr_static(owner, name))
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


ANSWERS = [
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
