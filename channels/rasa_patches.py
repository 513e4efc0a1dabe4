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
schema is a constant: it is checked once, and each answer with the same validator.

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

``channels/__init__.py`` calls ``apply()``: Rasa imports the channels of
bot/credentials.yml after its server modules and before it loads the model. Processes that
import ``channels`` without running Rasa (the launcher bot/run_rasa.py, the readiness probe)
do not have Rasa loaded and are left alone rather than made to import it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from channels.settings import get_settings

logger = logging.getLogger(__name__)
ACTION_MODULE = "rasa.core.actions.action"
MARK = "govbot_patched"
# Logged once per process; tests/integration checks that the Rasa server logs it.
APPLIED = "GovBot's changes to Rasa are applied (channels/rasa_patches.py)"
# Rasa's own functions, as they were before apply() replaced them (for tests and debugging).
RASA_ORIGINALS: dict[str, Any] = {}


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

    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.core.events import Event
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


def answer_check(schema: dict[str, Any]) -> Callable[[Any, dict[str, Any]], bool]:
    """``RemoteAction._validate_action_result`` with the schema checked once, not per call."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    kind = validator_for(schema)
    kind.check_schema(schema)
    validator = kind(schema)

    def _validate_action_result(_action: Any, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
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
