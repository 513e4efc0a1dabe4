"""How much the NLU's classifiers depend on the training run: seeds, threads, machines.

    python -m bot.language.reproducibility                    # the seeds of SEEDS, a table
    python -m bot.language.reproducibility --seeds 42 --digest

Trains the intent and service classifiers of bot/language/linear.py on data/nlu exactly as
the Rasa components do (same configuration from bot/config.yml, same labels), for each
seed (the order liblinear visits the examples in, and the calibration folds), and scores
them on the held-out file as ``make test-nlu`` does: intent accuracy with the
FallbackClassifier's threshold, the ``service`` per message with the ServiceClassifier's
threshold. ``--digest`` prints a SHA-256 of every probability the classifiers give the
held-out messages, so that two runs (other threads, other processes, other machines) can be
compared to the last bit.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.evaluate import HELD_OUT, annotated_services, fallback_threshold, score_services
from bot.language.linear import (
    NO_SERVICE,
    LinearIntentClassifier,
    ServiceClassifier,
    catalogue_texts,
    fit,
    normalise,
    service_labels,
)
from bot.model import CONFIG, ROOT, TRAINING_DATA

SEEDS = (42, 1, 2, 3, 4)


def component_config(name: str, config: Path = ROOT / CONFIG) -> dict[str, Any]:
    """The component's configuration in bot/config.yml over its defaults."""
    defaults = {
        "LinearIntentClassifier": LinearIntentClassifier.get_default_config(),
        "ServiceClassifier": ServiceClassifier.get_default_config(),
    }[name]
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    for component in pipeline:
        if str(component.get("name", "")).rsplit(".", 1)[-1] == name:
            return {**defaults, **{k: v for k, v in component.items() if k != "name"}}
    raise ValueError(f"{config}: no {name} in the pipeline")


@dataclass(frozen=True)
class Run:
    seed: int
    intent_accuracy: float
    service_f1: float
    digest: str


def run(seed: int, nlu: Path = ROOT / TRAINING_DATA[0]) -> Run:
    from rasa.shared.nlu.training_data.loading import load_data

    training = load_data(str(nlu), language="de")
    held_out = load_data(str(ROOT / HELD_OUT), language="de").intent_examples
    texts = [m.get("text") for m in held_out]
    digest = hashlib.sha256()

    intent_config = {**component_config("LinearIntentClassifier"), "random_seed": seed}
    examples = [e for e in training.intent_examples if e.get("intent") and e.get("text")]
    intents = fit(
        intent_config, [e.get("text") for e in examples], [e.get("intent") for e in examples]
    )
    probabilities = intents.predict_proba([normalise(t) for t in texts])
    digest.update(np.ascontiguousarray(probabilities).tobytes())
    threshold = fallback_threshold(ROOT / CONFIG)
    best = probabilities.argmax(axis=1)
    correct = [
        intents.classes_[i] == m.get("intent") and probabilities[row, i] >= threshold
        for row, (i, m) in enumerate(zip(best, held_out, strict=True))
    ]

    service_config = {**component_config("ServiceClassifier"), "random_seed": seed}
    catalogue = catalogue_texts(ROOT / service_config["catalogue"])
    services = fit(service_config, *service_labels(training, service_config["entity"], catalogue))
    service_probabilities = services.predict_proba([normalise(t) for t in texts])
    digest.update(np.ascontiguousarray(service_probabilities).tobytes())
    predicted = []
    for row in service_probabilities:
        i = int(row.argmax())
        name = str(services.classes_[i])
        sure = name != NO_SERVICE and row[i] >= service_config["threshold"]
        predicted.append(frozenset({name}) if sure else frozenset())
    score = score_services(annotated_services(), predicted)
    return Run(seed, sum(correct) / len(correct), score.f1, digest.hexdigest())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--digest", action="store_true", help="print only the digests")
    args = parser.parse_args(argv)
    runs = [run(seed) for seed in args.seeds]
    if args.digest:
        for r in runs:
            print(f"DIGEST {r.seed} {r.digest}")
        return 0
    print("| seed | intent accuracy | service F1 | digest of the probabilities |")
    print("| ---: | ---: | ---: | --- |")
    for r in runs:
        print(f"| {r.seed} | {r.intent_accuracy:.3f} | {r.service_f1:.3f} | `{r.digest[:16]}` |")
    for name, values in (
        ("intent accuracy", [r.intent_accuracy for r in runs]),
        ("service F1", [r.service_f1 for r in runs]),
    ):
        print(
            f"\n{name}: mean {statistics.mean(values):.3f}, "
            f"min {min(values):.3f}, max {max(values):.3f} over {len(values)} seeds"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
