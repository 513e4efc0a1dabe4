"""NLU evaluation: the held-out test file against the trained model, and cross-validation.

    python -m bot.evaluate --output docs/eval            # held-out + cross-validation + OOS
    python -m bot.evaluate --held-out-only --check       # CI gate on the held-out file
    python -m bot.evaluate --oos-only --output docs/eval # only the out-of-scope section

Out-of-scope rejection: the off-topic messages of tests/nlu/out_of_scope_fresh2.yml (the
target is judged on it) and of the earlier files (out_of_scope_fresh.yml, out_of_scope.yml),
and the in-scope
messages of the held-out file are parsed by the trained model (loaded once, in this
process). An off-topic message too close to a training example (content words, see
``near_duplicates``) is left out of the measure and listed in the report. A message counts
as rejected when the bot answers it with its out-of-scope or fallback answer: its top
intent is ``out_of_scope`` or ``nlu_fallback``, or its confidence is below the
FallbackClassifier threshold of bot/config.yml, or, outside a running form, its intent is
``inform`` (action_form_step answers a bare statement that no question asked for with the
out-of-scope answer). Off-topic messages open a conversation; held-out examples of the form
dialogue's intents answer a form's question, the others are asked outside a form.
``--oos-only`` rewrites only that section of the report's README.

The held-out file (tests/nlu/held_out.yml) repeats no training example. ``--check`` fails
when the held-out intent accuracy or the ``service`` F1 falls below the CI gates
(``GATE_*`` below, with the reason for each number). The ``service`` is judged per message,
as the answer uses it: the service values the model gives a message against the ones its
annotation names (``ServiceClassifier`` names the service of the whole message, not a span
of words). The report of ``make eval`` always compares with the targets themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from bot.model import CONFIG, ROOT, model_path

HELD_OUT = Path("tests/nlu/held_out.yml")
# Off-topic messages. The target is judged on the newest file, written blind after the
# earlier ones' failures had been listed in this report (newest first).
OUT_OF_SCOPE = Path("tests/nlu/out_of_scope_fresh2.yml")
OUT_OF_SCOPE_EARLIER = (
    Path("tests/nlu/out_of_scope_fresh.yml"),
    Path("tests/nlu/out_of_scope.yml"),
)
# Share of content words (see content_words) from which an off-topic message counts as a
# paraphrase of a training example rather than a test of generalisation.
NEAR_DUPLICATE = 0.6
TRAINING_NLU = Path("data/nlu")
TARGET_INTENT_ACCURACY = 0.95  # issue #7
TARGET_SERVICE_F1 = 0.90
# The CI gates (`make test-nlu`). Training is deterministic (bot/language/linear.py): the
# same data gives the same probabilities to the last bit on every run, with one or two
# threads and any hash seed (tests/bot/test_linear_nlu.py). What moves the numbers is the
# seed (liblinear's visiting order, the calibration folds) and the order of the examples:
# over five seeds the held-out intent accuracy ranged 0.943-0.949 and the service F1
# 0.977-0.981 (docs/eval/README.md, "Reproducibility"); the example order of `rasa train`
# moves them about as much (the trained model: 0.946 and 0.974). The gates sit 0.010 and
# 0.007 (two or three of the 331 held-out messages) below the trained model's values: below
# that whole spread, so that neither a machine nor a seed fails them, and close enough that
# a real loss does; a training set with a fifth of its intent labels and service
# annotations scrambled fails both (tests/integration/test_nlu_gate.py).
GATE_INTENT_ACCURACY = 0.936
GATE_SERVICE_F1 = 0.967
TARGET_OOS_REJECTION = 0.90
TARGET_IN_SCOPE_REJECTED = 0.03
OUT_OF_SCOPE_INTENT = "out_of_scope"
REJECTING_INTENTS = frozenset({OUT_OF_SCOPE_INTENT, "nlu_fallback"})
# Outside a running form, action_form_step (data/rules/forms.yml) answers these with
# "Dazu ist gerade keine Frage von mir offen" (cancel: "Gerade ist kein Antrag offen"), not
# with a service answer; a bare `inform` gets the out-of-scope answer itself.
FORM_DIALOGUE_INTENTS = frozenset({"affirm", "deny", "cancel", "correct_field", "inform"})
REJECTING_OUTSIDE_A_FORM = frozenset({"inform"})
# The out-of-scope section of docs/eval/README.md lies between these lines, so that
# `--oos-only` can rewrite it and keep the rest of the report.
SECTION_START = "<!-- out-of-scope:start -->"
SECTION_END = "<!-- out-of-scope:end -->"


@dataclass(frozen=True)
class ServiceScore:
    """The ``service`` per message: the values the model gives against the annotated ones."""

    messages: int
    true_positives: int
    false_positives: int
    false_negatives: int
    # (text, annotated values, predicted values) of every message that differs.
    differences: tuple[tuple[str, str, str], ...] = ()

    @property
    def precision(self) -> float:
        named = self.true_positives + self.false_positives
        return self.true_positives / named if named else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        counted = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / counted if counted else 0.0


def score_services(
    examples: Sequence[tuple[str, frozenset[str]]], predicted: Sequence[frozenset[str]]
) -> ServiceScore:
    tp = fp = fn = 0
    differences = []
    for (text, wanted), got in zip(examples, predicted, strict=True):
        tp += len(wanted & got)
        fp += len(got - wanted)
        fn += len(wanted - got)
        if wanted != got:
            differences.append((text, ", ".join(sorted(wanted)), ", ".join(sorted(got))))
    return ServiceScore(len(examples), tp, fp, fn, tuple(differences))


@dataclass
class Report:
    title: str
    intents: dict
    entities: dict
    services: ServiceScore | None = None

    @property
    def accuracy(self) -> float:
        return float(self.intents["accuracy"])

    def entity_f1(self, entity: str) -> float:
        return float(self.entities.get(entity, {}).get("f1-score", 0.0))

    @property
    def service_f1(self) -> float:
        return self.services.f1 if self.services else 0.0


# Rasa scores entities token by token. The ServiceClassifier names a message's service
# without a span, so its token scores mean nothing; ServiceScore judges it instead.
NOT_SPAN_EXTRACTORS = frozenset({"ServiceClassifier"})


def rasa_test_nlu(arguments: list[str], out: Path) -> Report:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "rasa", "test", "nlu", *arguments, "--out", str(out)]
    with (out / "rasa.log").open("w") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log, check=True)
    return Report(
        title="",
        intents=json.loads((out / "intent_report.json").read_text()),
        entities=entity_reports(out),
    )


def entity_reports(out: Path) -> dict[str, Any]:
    """Rasa's token-level report row of each entity, from the extractor that tags spans."""
    entities: dict[str, Any] = {}
    for report in sorted(out.glob("*_report.json")):
        extractor = report.name.removesuffix("_report.json")
        if extractor in {"intent", "response_selection", *NOT_SPAN_EXTRACTORS}:
            continue
        for name, row in json.loads(report.read_text()).items():
            if isinstance(row, dict) and not name.endswith(" avg"):
                entities.setdefault(name, row)
    return entities


def annotated_services(path: Path = HELD_OUT) -> list[tuple[str, frozenset[str]]]:
    """Each example of a Rasa NLU file with the ``service`` values it annotates (synonyms
    of the training data resolved, as the model's synonym mapper would)."""
    from rasa.shared.nlu.training_data.loading import load_data

    synonyms = {
        key.casefold(): value
        for key, value in load_data(str(ROOT / TRAINING_NLU)).entity_synonyms.items()
    }
    data = load_data(str(ROOT / path), language="de")
    return [
        (
            example.get("text"),
            frozenset(
                synonyms.get(str(e["value"]).casefold(), str(e["value"]))
                for e in example.get("entities") or []
                if e.get("entity") == "service"
            ),
        )
        for example in data.intent_examples
    ]


def predicted_services(parsed: dict[str, Any]) -> frozenset[str]:
    return frozenset(
        str(e["value"]) for e in parsed.get("entities") or [] if e.get("entity") == "service"
    )


def held_out(out: Path, model: Path) -> Report:
    report = rasa_test_nlu(["--nlu", str(HELD_OUT), "--model", str(model)], out)
    report.title = f"Held-out test file `{HELD_OUT}` against the trained model"
    examples = annotated_services()
    parsed = parse(model, [text for text, _ in examples])
    predicted = [predicted_services(p) for p in parsed]
    report.services = score_services(examples, predicted)
    service_confusion(examples, predicted, out / "service_confusion_matrix.png")
    return report


def service_confusion(
    examples: Sequence[tuple[str, frozenset[str]]],
    predicted: Sequence[frozenset[str]],
    picture: Path,
) -> None:
    """A confusion picture of services: annotated against named, per message ("–": none)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    def one(values: frozenset[str]) -> str:
        return ", ".join(sorted(values)) or "–"

    wanted = [one(values) for _, values in examples]
    got = [one(values) for values in predicted]
    labels = sorted(set(wanted) | set(got))
    figure, axes = plt.subplots(figsize=(14, 12))
    ConfusionMatrixDisplay.from_predictions(
        wanted, got, labels=labels, ax=axes, xticks_rotation="vertical", colorbar=False
    )
    axes.set_xlabel("service named by the model")
    axes.set_ylabel("service annotated")
    axes.set_title("Services on the held-out file, per message")
    figure.tight_layout()
    figure.savefig(picture, dpi=80)
    plt.close(figure)


def cross_validation(out: Path, folds: int) -> Report:
    report = rasa_test_nlu(
        ["--nlu", "data/nlu", "--config", str(CONFIG), "--cross-validation", "--folds", str(folds)],
        out,
    )
    report.title = f"{folds}-fold cross-validation of `data/nlu` with `{CONFIG}`"
    return report


# --- Out-of-scope rejection ------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    text: str
    label: str  # the category of an off-topic message, the intent of an in-scope one


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str
    intent: str
    confidence: float
    # The best intent other than nlu_fallback: what the model would have answered.
    runner_up: str = ""


def normalise(text: str) -> str:
    """The form in which two examples count as the same message."""
    return " ".join(text.casefold().split()).strip(" .,;:!?¿¡")


def fallback_threshold(config: Path) -> float:
    """The FallbackClassifier's ``threshold`` in the Rasa config (Rasa's default if unset)."""
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            if "threshold" in component:
                return float(component["threshold"])
            from rasa.core.constants import DEFAULT_NLU_FALLBACK_THRESHOLD

            return float(DEFAULT_NLU_FALLBACK_THRESHOLD)
    raise ValueError(f"{config}: the pipeline has no FallbackClassifier")


def is_rejected(intent: str, confidence: float, threshold: float, in_form: bool = False) -> bool:
    """Whether the bot answers with its out-of-scope or fallback answer.

    ``in_form``: the message answers a question of a running form, where ``inform`` is an
    answer; outside a form the bot answers a bare ``inform`` with the out-of-scope answer.
    """
    if intent in REJECTING_INTENTS or confidence < threshold:
        return True
    return not in_form and intent in REJECTING_OUTSIDE_A_FORM


def load_out_of_scope(path: Path, forbidden: Iterable[str] = ()) -> list[Message]:
    """The off-topic messages, ``examples: {category: [text, ...]}``.

    Refuses a message that appears twice, or that is also in ``forbidden`` (the texts of
    the held-out file): the two test files must stay independent. Overlap with the training
    data is not refused here: ``near_duplicates`` leaves those messages out of the measure.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = data.get("examples")
    if not isinstance(examples, dict) or not examples:
        raise ValueError(f"{path}: expected `examples:` mapping categories to lists of messages")
    messages: list[Message] = []
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for category, texts in examples.items():
        if not isinstance(texts, list):
            raise ValueError(f"{path}: category {category!r} is not a list of messages")
        for text in texts:
            if not isinstance(text, str) or not normalise(text):
                raise ValueError(f"{path}: {category}: not a message: {text!r}")
            key = normalise(text)
            if key in seen:
                duplicates.append(f"{text!r} ({category}; also in {seen[key]})")
            seen[key] = str(category)
            messages.append(Message(text=text, label=str(category)))
    if duplicates:
        raise ValueError(f"{path}: duplicate messages: " + "; ".join(duplicates))
    taken = {normalise(text) for text in forbidden}
    overlap = [m.text for m in messages if normalise(m.text) in taken]
    if overlap:
        raise ValueError(
            f"{path}: messages also in the held-out file or the training data: "
            + "; ".join(repr(text) for text in overlap)
        )
    return messages


def content_words(text: str) -> frozenset[str]:
    """The words of a message without German stop words, case-folded."""
    from spacy.lang.de.stop_words import STOP_WORDS

    return frozenset(w for w in re.findall(r"\w+", text.casefold()) if w not in STOP_WORDS)


def near_duplicates(
    messages: Sequence[Message], training: Iterable[str], threshold: float = NEAR_DUPLICATE
) -> dict[Message, str]:
    """Messages that repeat a training example or whose content words overlap one's by
    ``threshold`` (Jaccard) or more, with that example."""
    examples = [(normalise(text), content_words(text), text) for text in training]
    close: dict[Message, str] = {}
    for message in messages:
        same, words = normalise(message.text), content_words(message.text)
        for key, other, text in examples:
            if key == same or (
                words and other and len(words & other) / len(words | other) >= threshold
            ):
                close[message] = text
                break
    return close


def load_labelled(path: Path) -> list[Message]:
    """The examples of a Rasa NLU file or folder (entity annotations removed) with intents."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / path), language="de")
    return [
        Message(text=example.get("text"), label=example.get("intent"))
        for example in data.intent_examples
    ]


@dataclass
class Rejection:
    threshold: float
    off_topic: list[Prediction]
    in_scope: list[Prediction]
    source: Path = OUT_OF_SCOPE
    # Off-topic messages left out of the measure: message -> the close training example.
    left_out: dict[str, str] = field(default_factory=dict)

    def rejected(self, prediction: Prediction) -> bool:
        # Off-topic messages open a conversation; the held-out examples of the form
        # dialogue's intents answer a form's question, the others are asked outside one.
        in_form = prediction.label in FORM_DIALOGUE_INTENTS
        return is_rejected(prediction.intent, prediction.confidence, self.threshold, in_form)

    @property
    def oos_rejection_rate(self) -> float:
        return _share(self.off_topic, self.rejected)

    @property
    def in_scope_rejection_rate(self) -> float:
        return _share(self.in_scope, self.rejected)

    @property
    def not_rejected(self) -> list[Prediction]:
        """The off-topic messages that got a service answer instead, surest first."""
        missed = [p for p in self.off_topic if not self.rejected(p)]
        return sorted(missed, key=lambda p: -p.confidence)

    @property
    def wrongly_rejected(self) -> list[Prediction]:
        return [p for p in self.in_scope if self.rejected(p)]

    def by_label(self, predictions: Sequence[Prediction]) -> dict[str, tuple[int, int]]:
        """label -> (rejected, all)."""
        total = Counter(p.label for p in predictions)
        rejected = Counter(p.label for p in predictions if self.rejected(p))
        return {label: (rejected[label], total[label]) for label in sorted(total)}

    @property
    def meets_targets(self) -> bool:
        return (
            self.oos_rejection_rate >= TARGET_OOS_REJECTION
            and self.in_scope_rejection_rate <= TARGET_IN_SCOPE_REJECTED
        )


def answer_kind(intent: str) -> str:
    """What a message that was not rejected gets from the bot, roughly."""
    if intent.startswith("ask_") or intent == "choose_service":
        return "service"
    if intent in FORM_DIALOGUE_INTENTS:
        return "form dialogue"
    return "small talk or handoff"


def _share(predictions: Sequence[Prediction], counted: Any) -> float:
    if not predictions:
        return 0.0
    return sum(1 for p in predictions if counted(p)) / len(predictions)


def prediction(message: Message, parsed: dict[str, Any]) -> Prediction:
    """A Prediction from the dict of Rasa's ``Agent.parse_message``."""
    intent = parsed.get("intent") or {}
    ranking = parsed.get("intent_ranking") or []
    runner_up = next((i["name"] for i in ranking if i.get("name") != "nlu_fallback"), "")
    return Prediction(
        text=message.text,
        label=message.label,
        intent=str(intent.get("name") or ""),
        confidence=float(intent.get("confidence") or 0.0),
        runner_up=str(runner_up or ""),
    )


@contextlib.contextmanager
def _in_root() -> Iterator[None]:
    """The model's spaCy pipeline is configured by a path relative to the project root."""
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


def parse(model: Path, texts: Sequence[str]) -> list[dict[str, Any]]:
    """Loads the model once and parses every text with it (Rasa's parse result)."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("rasa").setLevel(logging.ERROR)
    from rasa.core.agent import Agent

    with _in_root():
        agent = Agent.load(model_path=str(model))

        async def parse_all() -> list[dict[str, Any]]:
            return [await agent.parse_message(text) for text in texts]

        return asyncio.run(parse_all())


def predict(model: Path, messages: Sequence[Message]) -> list[Prediction]:
    """Loads the model once and parses every message with it."""
    parsed = parse(model, [m.text for m in messages])
    return [prediction(m, p) for m, p in zip(messages, parsed, strict=True)]


def out_of_scope(
    model: Path,
    config: Path = CONFIG,
    sources: Sequence[Path] = (OUT_OF_SCOPE, *OUT_OF_SCOPE_EARLIER),
) -> list[Rejection]:
    """The rejection measured on each off-topic file (the model is loaded once)."""
    held = load_labelled(HELD_OUT)
    training = [m.text for m in load_labelled(TRAINING_NLU)]
    in_scope = [m for m in held if m.label != OUT_OF_SCOPE_INTENT]
    files = []
    for source in sources:
        # A copy of a held-out message is an error in the test files; a training example
        # that matches an off-topic message (added later) leaves that message out.
        messages = load_out_of_scope(ROOT / source, forbidden=[m.text for m in held])
        close = near_duplicates(messages, training)
        files.append((source, [m for m in messages if m not in close], close))
    off_topic = [m for _, kept, _ in files for m in kept]
    predictions = predict(model, [*off_topic, *in_scope])
    threshold = fallback_threshold(ROOT / config)
    measured = predictions[len(off_topic) :]
    rejections, start = [], 0
    for source, kept, close in files:
        rejections.append(
            Rejection(
                threshold=threshold,
                off_topic=predictions[start : start + len(kept)],
                in_scope=measured,
                source=source,
                left_out={m.text: text for m, text in close.items()},
            )
        )
        start += len(kept)
    return rejections


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024**2:.0f} GB RAM"
    load = ""
    with contextlib.suppress(OSError, AttributeError):
        load = f", load average {os.getloadavg()[0]:.1f} at the start"
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}{load}; "
        f"Python {platform.python_version()}, Rasa {version('rasa')}"
    )


def rejection_markdown(
    rejections: Sequence[Rejection], command: str, model: Path, when: str
) -> str:
    """The report's out-of-scope section; the target is judged on the first file."""
    judged = rejections[0]
    threshold = judged.threshold
    wrong = judged.in_scope_rejection_rate

    def verdict(ok: bool) -> str:
        return "meets the target" if ok else "**below the target**"

    try:
        shown = model.resolve().relative_to(ROOT)
    except ValueError:
        shown = model
    lines = [
        SECTION_START,
        "## Out-of-scope rejection",
        "",
        f"Written by `{command}` on {when}, model `{shown}`; machine: {machine()}. "
        "The other sections of this file may come from another run: see their own lines.",
        "",
        f"Off-topic messages: `{judged.source}`, on which the target is judged (written blind "
        "by someone who had seen neither the training data, the other test files nor this "
        "report), and the earlier files below it (their failures were listed in earlier "
        "versions of this report, which the author of training examples could see). The rule "
        "of what counts is in each file's header. An off-topic message whose content words "
        f"overlap a training example's by {NEAR_DUPLICATE:.0%} or more (Jaccard, German stop "
        "words left out) is left out of the measure and listed. In-scope messages: every "
        f"example of `{HELD_OUT}` except `out_of_scope`. "
        "A message counts as rejected when the bot answers it with its out-of-scope or "
        "fallback answer: its top intent is `out_of_scope` or `nlu_fallback`, or its "
        f"confidence is below the FallbackClassifier threshold of `{CONFIG}` ({threshold:g}), "
        "or, outside a running form, its intent is `inform` (`action_form_step` answers a bare "
        "statement that no question asked for with the out-of-scope answer). Off-topic "
        "messages open a conversation; held-out examples of the form dialogue's intents "
        f"({', '.join(sorted(FORM_DIALOGUE_INTENTS))}) answer a form's question, the others "
        "are asked outside a form.",
        "",
    ]
    for number, rejection in enumerate(rejections):
        oos = rejection.oos_rejection_rate
        rejected_off = sum(1 for p in rejection.off_topic if rejection.rejected(p))
        judgement = (
            f"target ≥ {TARGET_OOS_REJECTION:.2f}) — {verdict(oos >= TARGET_OOS_REJECTION)}"
            if number == 0
            else "not judged)"
        )
        lines += [
            f"- out-of-scope rejection on `{rejection.source}`: **{oos:.3f}** ({rejected_off} "
            f"of {len(rejection.off_topic)}; {judgement}",
        ]
    lines += [
        f"- in-scope wrongly rejected: **{wrong:.3f}** ({len(judged.wrongly_rejected)} of "
        f"{len(judged.in_scope)}; target ≤ {TARGET_IN_SCOPE_REJECTED:.2f}) — "
        f"{verdict(wrong <= TARGET_IN_SCOPE_REJECTED)}",
        "",
        "In-scope messages wrongly rejected, by intent:",
        "",
    ]
    wrongly = {k: v for k, v in judged.by_label(judged.in_scope).items() if v[0]}
    if wrongly:
        lines += ["| intent | rejected | of |", "| --- | ---: | ---: |"]
        lines += [f"| {label} | {r} | {t} |" for label, (r, t) in wrongly.items()]
    else:
        lines.append("none")
    for rejection in rejections:
        lines += _file_markdown(rejection)
    lines.append(SECTION_END)
    return "\n".join(lines)


def _file_markdown(rejection: Rejection) -> list[str]:
    lines = [
        "",
        f"### `{rejection.source}`",
        "",
        "| category of the off-topic messages | rejected | of |",
        "| --- | ---: | ---: |",
    ]
    for label, (rejected, total) in rejection.by_label(rejection.off_topic).items():
        lines.append(f"| {label} | {rejected} | {total} |")
    lines += ["", f"Left out as too close to a training example: {len(rejection.left_out)}", ""]
    if rejection.left_out:
        lines += ["| message | close training example |", "| --- | --- |"]
        for text, example in rejection.left_out.items():
            lines.append(f"| {_cell(text)} | {_cell(example)} |")
        lines.append("")
    missed = rejection.not_rejected
    kinds = Counter(answer_kind(p.intent) for p in missed)
    lines += [
        "Off-topic messages that were **not** rejected, surest first. Kind of the predicted "
        f"intent: service {kinds['service']}, form dialogue {kinds['form dialogue']} (outside "
        "a running form the bot answers those with „Dazu ist gerade keine Frage von mir "
        "offen“ or „Gerade ist kein Antrag offen“, not with a service answer), small talk "
        "or handoff "
        f"{kinds['small talk or handoff']}.",
        "",
    ]
    if missed:
        lines += ["| message | category | predicted intent | kind | confidence |"]
        lines += ["| --- | --- | --- | --- | ---: |"]
        for p in missed:
            lines.append(
                f"| {_cell(p.text)} | {p.label} | {p.intent} | {answer_kind(p.intent)} "
                f"| {p.confidence:.2f} |"
            )
    else:
        lines.append("none")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def replace_section(document: str, section: str) -> str:
    """The document with its out-of-scope section replaced (appended when it has none)."""
    start, end = document.find(SECTION_START), document.find(SECTION_END)
    if start == -1 or end == -1 or end < start:
        return document.rstrip("\n") + "\n\n" + section + "\n"
    return document[:start] + section + document[end + len(SECTION_END) :]


# --- Report --------------------------------------------------------------------------


def markdown(report: Report) -> str:
    lines = [
        f"## {report.title}",
        "",
        f"- intent accuracy: **{report.accuracy:.3f}**",
        f"- intent macro F1: {report.intents['macro avg']['f1-score']:.3f}",
        *(
            [
                f"- `service` per message: F1 **{report.services.f1:.3f}** (precision "
                f"{report.services.precision:.3f}, recall {report.services.recall:.3f}; "
                f"{len(report.services.differences)} of {report.services.messages} messages "
                "differ from the annotation)"
            ]
            if report.services
            else []
        ),
        f"- `department` entity F1 (token spans): {report.entity_f1('department'):.3f}",
        "",
        "| intent | precision | recall | F1 | examples |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in sorted(report.intents.items()):
        if name in {"accuracy", "macro avg", "weighted avg", "micro avg"}:
            continue
        lines.append(
            f"| {name} | {row['precision']:.2f} | {row['recall']:.2f} | "
            f"{row['f1-score']:.2f} | {row['support']} |"
        )
    if report.services and report.services.differences:
        lines += ["", "Messages whose service differs (annotated → predicted; none: `–`):", ""]
        lines += [
            f"- {_cell(text)}: {wanted or '–'} → {got or '–'}"
            for text, wanted, got in report.services.differences
        ]
    return "\n".join(lines)


def check(report: Report | None, rejections: Sequence[Rejection]) -> list[str]:
    """What falls below the CI gates (held-out file) and the out-of-scope targets."""
    failed = []
    if report is not None:
        if report.accuracy < GATE_INTENT_ACCURACY:
            failed.append(f"intent accuracy {report.accuracy:.3f} < {GATE_INTENT_ACCURACY}")
        if report.service_f1 < GATE_SERVICE_F1:
            failed.append(f"service F1 {report.service_f1:.3f} < {GATE_SERVICE_F1}")
    if rejections:
        rejection = rejections[0]  # the target is judged on the fresh file
        if rejection.oos_rejection_rate < TARGET_OOS_REJECTION:
            failed.append(
                f"out-of-scope rejection {rejection.oos_rejection_rate:.3f} "
                f"< {TARGET_OOS_REJECTION}"
            )
        if rejection.in_scope_rejection_rate > TARGET_IN_SCOPE_REJECTED:
            failed.append(
                f"in-scope wrongly rejected {rejection.in_scope_rejection_rate:.3f} "
                f"> {TARGET_IN_SCOPE_REJECTED}"
            )
    return failed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("docs/eval"))
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--held-out-only", action="store_true")
    only.add_argument(
        "--oos-only",
        action="store_true",
        help="only the out-of-scope rejection; rewrites only its section of the README",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="model archive (default: the current one)"
    )
    parser.add_argument(
        "--results", type=Path, default=ROOT / "results" / "eval", help="Rasa's test output"
    )
    parser.add_argument("--check", action="store_true", help="fail below the CI gates")
    parser.add_argument("--folds", type=int, default=2)
    args = parser.parse_args(argv)
    model = args.model.resolve() if args.model else model_path()
    command = " ".join(["python -m bot.evaluate", *argv])
    when = time.strftime("%Y-%m-%d")
    results = args.results.resolve()
    reports = []
    if not args.oos_only:
        reports.append(held_out(results / "held_out", model))
    if not (args.held_out_only or args.oos_only):
        reports.append(cross_validation(results / "cross_validation", args.folds))
    for report in reports:
        print(markdown(report), "\n", flush=True)

    rejections: list[Rejection] = []
    section = ""
    if not args.held_out_only:
        rejections = out_of_scope(model)
        section = rejection_markdown(rejections, command, model, when)
        print(section, "\n", flush=True)
        results.mkdir(parents=True, exist_ok=True)
        (results / "out_of_scope.json").write_text(
            json.dumps(
                [
                    {
                        "source": str(rejection.source),
                        "threshold": rejection.threshold,
                        "oos_rejection_rate": rejection.oos_rejection_rate,
                        "in_scope_rejection_rate": rejection.in_scope_rejection_rate,
                        "left_out": rejection.left_out,
                        "off_topic": [asdict(p) for p in rejection.off_topic],
                        "in_scope": [asdict(p) for p in rejection.in_scope],
                    }
                    for rejection in rejections
                ],
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )

    readme = args.output / "README.md"
    if args.oos_only:
        args.output.mkdir(parents=True, exist_ok=True)
        before = readme.read_text(encoding="utf-8") if readme.exists() else "# NLU evaluation\n"
        readme.write_text(replace_section(before, section), encoding="utf-8")
        print(f"==> wrote the out-of-scope section of {readme}")
    elif not args.held_out_only:
        args.output.mkdir(parents=True, exist_ok=True)
        for name, out in (("held_out", "held_out"), ("cross_validation", "cross_validation")):
            for picture in (
                "intent_confusion_matrix.png",
                "CRFEntityExtractor_confusion_matrix.png",
                "service_confusion_matrix.png",
            ):
                if (results / out / picture).exists():
                    shutil.copy(results / out / picture, args.output / f"{name}_{picture}")
        body = "\n\n".join(markdown(r) for r in reports)
        readme.write_text(
            f"# NLU evaluation\n\nWritten by `make eval` ({command}) on {when}, model "
            f"`{model.name}`; machine: {machine()}. Targets: intent accuracy ≥ "
            f"{TARGET_INTENT_ACCURACY} and `service` F1 ≥ {TARGET_SERVICE_F1} on the "
            f"held-out file.\n\n{body}\n\n{section}\n\nConfusion matrices: "
            "`held_out_intent_confusion_matrix.png`, "
            "`cross_validation_intent_confusion_matrix.png` (and the entity ones) in this "
            "folder; services: `held_out_service_confusion_matrix.png`.\n",
            encoding="utf-8",
        )
        print(f"==> wrote {readme}")

    if args.check:
        failed = check(reports[0] if not args.oos_only else None, rejections)
        if failed:
            print("==> NLU below the gate: " + "; ".join(failed))
            return 1
        print(
            f"==> NLU meets the gates (intent accuracy ≥ {GATE_INTENT_ACCURACY}, "
            f"service F1 ≥ {GATE_SERVICE_F1})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
