"""The NLU gate of `make test-nlu` fails when the model really gets worse.

A model trained by Rasa from a deliberately damaged copy of data/nlu (a fifth of the
intent labels and a fifth of the service annotations moved to another, at random but the
same every run) must fail `python -m bot.evaluate --held-out-only --check` on both gates;
the model trained from the real data passes it in `make test-nlu`.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

from tests.stack import BOT_PYTHON, ROOT

SHARE = 0.2


def damaged_nlu(target: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"), language="de")
    chance = random.Random(26)  # noqa: S311 (a reproducible damage, not a secret)
    intents = sorted(data.intents)
    services = sorted(
        {str(e["value"]) for x in data.intent_examples for e in x.get("entities") or []
         if e["entity"] == "service"}
    )  # fmt: skip
    for example in data.intent_examples:
        if chance.random() < SHARE:
            example.set("intent", chance.choice([i for i in intents if i != example.get("intent")]))
        for entity in example.get("entities") or []:
            if entity["entity"] == "service" and chance.random() < SHARE:
                entity["value"] = chance.choice([s for s in services if s != entity["value"]])
    target.write_text(RasaYAMLWriter().dumps(data), encoding="utf-8")


def test_a_model_from_a_damaged_training_set_fails_the_gate(tmp_path: Path) -> None:
    nlu = tmp_path / "damaged.yml"
    damaged_nlu(nlu)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    trained = subprocess.run(
        [str(BOT_PYTHON), "-m", "rasa", "train", "nlu", "--config", "bot/config.yml",
         "--nlu", str(nlu), "--out", str(tmp_path), "--fixed-model-name", "damaged"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    checked = subprocess.run(
        [str(BOT_PYTHON), "-m", "bot.evaluate", "--held-out-only", "--check",
         "--model", str(tmp_path / "damaged.tar.gz"), "--results", str(tmp_path / "results")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    verdict = checked.stdout.strip().splitlines()[-1]
    assert checked.returncode == 1, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert verdict.startswith("==> NLU below the gate:")
    assert "intent accuracy" in verdict
    assert "service F1" in verdict
