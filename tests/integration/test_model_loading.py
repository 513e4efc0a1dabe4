"""GovBot's changes to Rasa predict exactly what Rasa's own code does.

channels/rasa_patches.py builds Rasa's neural models (DIET; TED too, when a config has one)
by a prediction instead of a training step before it restores their weights, copies slots
its own way, computes a growing conversation's states for its new turns only, and gives the
RulePolicy the states of the last turns only. Rasa with and
without the changes runs in processes of its own (the changes are process-wide) on the
trained model; every intent confidence, entity and policy probability must be the same to
the last digit, also along conversations far longer than any rule.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from bot.model import model_path
from channels import rasa_patches, tracker_store
from tests.stack import BOT_PYTHON, ROOT, Stack


def predictions(*flags: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(BOT_PYTHON), "-m", "tests.integration.model_predictions", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(row for row in done.stdout.splitlines() if row.startswith("PREDICTIONS "))
    return dict(json.loads(line.removeprefix("PREDICTIONS ")))


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, Any], dict[str, Any]]:
    assert model_path().exists(), "run `make train` first"
    return predictions(), predictions("--patched")


def test_the_nlu_predicts_the_same(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    rasa, ours = both
    assert ours["parsed"] == rasa["parsed"]
    # Not a vacuous comparison: the messages get different intents, some with entities.
    assert len({p["ranking"][0][0] for p in rasa["parsed"]}) >= 8
    assert any(p["entities"] for p in rasa["parsed"])


def test_the_policies_predict_the_same(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    rasa, ours = both
    # The rules and memoised stories of bot/config.yml decide on the intents DIET predicts.
    assert any("RulePolicy" in name for name in rasa["policies"])
    assert ours["steps"] == rasa["steps"]
    assert ours["history"] == rasa["history"]
    # Long conversations (GovBot's longest rule has 3 states), in which different actions
    # are predicted.
    assert max(map(len, rasa["history"])) > 50
    predicted = {
        max(range(len(p["probabilities"])), key=p["probabilities"].__getitem__)
        for conversation in rasa["history"]
        for step in conversation
        for p in step.values()
    }
    assert len(predicted) > 20
    # Also the turns the rules hide from the stories' policies (hide_rule_turn).
    decisions = [
        p for conversation in rasa["history"] for step in conversation for p in step.values()
    ]
    assert any(p["hide_rule_turn"] for p in decisions)
    assert any(not p["hide_rule_turn"] for p in decisions)
    # Those turns were logged hidden, so the states the policies saw after them hid them.
    assert ours["hidden"] == rasa["hidden"] > 20
    print(f"model loaded in {rasa['seconds']:.1f} s by Rasa, {ours['seconds']:.1f} s by GovBot")


def test_the_rasa_server_runs_with_govbots_changes(stack: Stack) -> None:
    # Rasa imports the channels (bot/credentials.yml), whose package applies the changes.
    log = stack.log("rasa").read_text(errors="replace")
    assert rasa_patches.APPLIED in log
    # bot/endpoints.yml names GovBot's tracker store; Rasa would fall back to one in memory
    # with only a warning if it could not load it.
    assert tracker_store.STARTED in log
