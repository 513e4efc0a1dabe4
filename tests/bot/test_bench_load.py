"""The pure parts of the load benchmark (tests/bench/load.py): numbers, targets, scripts."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter

import httpx
import pytest

from tests.bench import load
from tests.bench.load import (
    CONFIRM,
    FormFilling,
    LevelResult,
    LoadSettings,
    Scripted,
    Turn,
    evaluate_targets,
    percentile,
    ratio,
    startup_training,
)
from tests.integration.test_forms import SCRIPTS, SPECS, SUMMARY, Script
from tests.stack import ROOT


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - a simulation, not a secret


def test_percentile_interpolates_between_ranks() -> None:
    values = [0.4, 0.1, 0.3, 0.2, 0.5]
    assert percentile(values, 0.5) == 0.3
    assert percentile(values, 0.0) == 0.1
    assert percentile(values, 1.0) == 0.5
    assert percentile(values, 0.95) == pytest.approx(0.48)
    assert percentile([2.0], 0.99) == 2.0
    assert math.isnan(percentile([], 0.5))


def test_ratio_is_nan_without_a_baseline() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 1.0))
    assert math.isnan(ratio(1.0, math.nan))


def result(bot: str, level: int, latencies: list[float], **kwargs: object) -> LevelResult:
    return LevelResult(bot, level, latencies=latencies, **kwargs)  # type: ignore[arg-type]


def test_targets_met_and_missed() -> None:
    ours = {
        50: result("govbot", 50, [0.1] * 19 + [0.3], rss_mb={"rasa": 1400.0}),
        200: result("govbot", 200, [1.0], errors=Counter({"timeout": 2}), rss_mb={"rasa": 1600.0}),
    }
    stock = {50: result("stock", 50, [0.1] * 19 + [0.2]), 200: result("stock", 200, [0.5])}
    p95, errors, memory, cold = evaluate_targets(ours, stock, cold_ours=60.0, cold_stock=20.0)
    assert (p95.met, p95.measured) == (True, "1.05 ×")  # 0.110 s vs. 0.105 s
    assert (errors.met, errors.measured) == (False, "2 errors")
    assert (memory.met, memory.measured) == (False, "1600 MB at most")
    assert (cold.met, cold.measured) == (False, "60 s vs. 20 s")


def test_p95_target_missed() -> None:
    ours = {50: result("govbot", 50, [0.2] * 20)}
    stock = {50: result("stock", 50, [0.1] * 20)}
    p95 = evaluate_targets(ours, stock, cold_ours=1.0, cold_stock=1.0)[0]
    assert (p95.met, p95.measured) == (False, "2.00 ×")


def test_targets_of_levels_not_run_are_not_judged() -> None:
    ours = {10: result("govbot", 10, [0.5], rss_mb={"rasa": 1000.0})}
    stock = {10: result("stock", 10, [0.1])}
    p95, errors, memory, cold = evaluate_targets(ours, stock, cold_ours=10.0, cold_stock=20.0)
    assert (p95.met, p95.measured) == (None, "level not run")
    assert (errors.met, errors.measured) == (None, "level not run")
    assert memory.met is True
    assert cold.met is True


def test_our_training_time_comes_from_the_startup_block() -> None:
    document = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    found = startup_training(document)
    assert found is not None
    seconds, date = found
    assert seconds > 0
    assert len(date) == 10
    block = (
        "<!-- startup:begin -->\nMeasured 2026-11-28 on a machine.\n\n"
        "| training in a fresh clone (`make train`, empty Rasa cache) | 342 s |\n"
        "<!-- startup:end -->"
    )
    assert startup_training(block) == (342.0, "2026-11-28")
    assert startup_training("no block") is None


def test_a_scripted_conversation_counts_unexpected_answers() -> None:
    conversation = Scripted("mood", [Turn("hello", "How are you?"), Turn("bye")])
    assert conversation.next_message(None) == "hello"
    assert conversation.next_message(["Something else"]) == "bye"
    assert conversation.unexpected == 1
    assert conversation.next_message(["Bye"]) is None  # any answer is fine for "bye"
    assert conversation.finished
    assert conversation.unexpected == 1


def test_faq_conversations_are_reproducible_and_ask_one_to_three_questions() -> None:
    first = [load.faq_conversation(seeded(seed)).turns for seed in range(50)]
    again = [load.faq_conversation(seeded(seed)).turns for seed in range(50)]
    assert first == again
    for turns in first:
        assert 1 <= sum(turn in load.QUESTIONS for turn in turns) <= 3
    make = load.govbot_conversation(form_share=1.0)
    assert isinstance(make(seeded(1)), FormFilling)
    assert isinstance(load.govbot_conversation(form_share=0.0)(seeded(1)), Scripted)


class FakeFormBot:
    """Asks a script's fields in the spec's order the way the real form dialogue does."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.spec = SPECS[script.form]
        self.todo = [
            f.name
            for f in self.spec.fields
            if f.name in script.typed and f.name not in script.prefilled
        ]
        self.current: str | None = None
        self.submitted = 0

    def question(self, name: str) -> str:
        self.current = name
        return self.spec.field(name).question

    def answer(self, message: str) -> list[str]:
        script = self.script
        if message == script.start:
            return [self.spec.intro, self.question(self.todo.pop(0))]
        if message == CONFIRM:
            self.submitted += 1
            return ["Ihre Vorgangsnummer lautet AB-2026-000001.", "So geht es weiter: …"]
        if message == script.correction[0]:
            return ["Gern, dann ändern wir das.", self.question(script.correction[1])]
        if message == script.question[0]:
            return [f"Antwort mit {script.question[1]}", self.question(str(self.current))]
        if self.current == script.invalid[0] and message == script.invalid[1]:
            return ["Das passt leider nicht.", self.question(self.current)]
        assert message in (script.typed.get(str(self.current)), script.correction[2]), message
        if self.todo:
            return [self.question(self.todo.pop(0))]
        self.current = None
        return ["Zusammenfassung: …", SUMMARY]


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.form for script in SCRIPTS])
def test_a_form_filler_completes_every_form_script(script: Script) -> None:
    bot = FakeFormBot(script)
    filling = FormFilling(script)
    said: list[str] = []
    answer = None
    while (message := filling.next_message(answer)) is not None:
        said.append(message)
        answer = bot.answer(message)
    assert filling.finished
    assert filling.unexpected == 0
    assert bot.submitted == 1
    assert said.count(script.invalid[1]) == 1
    assert said.count(script.question[0]) == 1
    assert said.count(script.correction[0]) == 1
    assert said[-1] == CONFIRM


def test_a_form_filler_stops_when_the_bot_asks_something_unknown() -> None:
    filling = FormFilling(SCRIPTS[0])
    assert filling.next_message(None) == SCRIPTS[0].start
    assert filling.next_message(["Entschuldigung, das habe ich nicht verstanden."]) is None
    assert (filling.finished, filling.unexpected) == (False, 1)


def test_non_empty_answers() -> None:
    assert not load.non_empty([])
    assert not load.non_empty([{"recipient_id": "x", "text": ""}])
    assert not load.non_empty({"text": "hallo"})
    assert load.non_empty([{"recipient_id": "x", "image": "https://example.org/a.jpg"}])
    assert load.non_empty([{"recipient_id": "x", "text": "Hallo"}])


def test_a_level_counts_answers_and_each_kind_of_error() -> None:
    async def bot(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        if message == "hello":
            return httpx.Response(200, json=[{"text": "Hey! How are you?"}])
        if message == "I am great":
            return httpx.Response(200, json=[])
        if message == "bye":
            await asyncio.sleep(1)  # beyond the timeout
        return httpx.Response(500, text="boom")

    conversations = [
        [Turn("hello", "How are you?"), Turn("I am great")],  # empty answer
        [Turn("hello"), Turn("bye")],  # timeout
        [Turn("hello"), Turn("broken")],  # HTTP 500
        [Turn("hello", "How are you?")],  # fine
    ]
    queue = list(conversations)

    def make(rng: random.Random) -> Scripted:
        return Scripted("mood", queue.pop(0))

    settings = LoadSettings(duration=None, conversations=4, think=0.0, timeout=0.2, seed=1)
    transport = httpx.MockTransport(bot)
    measured = asyncio.run(load.run_level("stock", "http://bot", 4, make, settings, transport))
    assert measured.answered == 4
    assert measured.errors == Counter({"empty answer": 1, "timeout": 1, "HTTP 500": 1})
    assert measured.started == Counter({"mood": 4})
    assert measured.finished == Counter({"mood": 1})
    assert len(measured.latencies) == 6  # every HTTP response, the timeout not
    assert measured.per_second > 0


def test_the_report_names_targets_and_marks_smoke_runs() -> None:
    ours = {50: result("govbot", 50, [0.2, 0.4], answered=2, seconds=1.0)}
    stock = {50: result("stock", 50, [0.1, 0.2], answered=2, seconds=1.0)}
    settings = LoadSettings(duration=120.0, conversations=None, think=1.0, timeout=45.0, seed=7)
    training = load.StockTraining(120.0, "2026-12-01", trained_now=False)
    run = load.Run(ours, stock, 30.0, 10.0, training, (342.0, "2026-11-28"), settings, 0.25)
    text = load.render(run, "command", "bench-latency.png")
    assert "| GovBot | 50 | 2.0 | 300 ms |" in text
    assert "| 50 | 1.00 × | 2.00 × |" in text
    assert "cold start no slower than the stock bot: 30 s vs. 10 s — **missed**" in text
    assert "| 342 s (startup block above, 2026-11-28) | 120 s (trained 2026-12-01" in text
    assert "![Latency" in text
    assert "Smoke run" not in text
    run.smoke = True
    assert load.render(run, "command", None).startswith("**Smoke run")


def test_the_profile_counts_each_function_once_per_sample() -> None:
    from tests.bench.profile import shares

    raw = (
        "main (x.py:1);handle (/v/lib/python3.10/site-packages/rasa/core/a.py:10);f (b.py:3) 3\n"
        "main (x.py:1);f (b.py:4);f (b.py:9) 1\n"
        "\n"
    )
    total, inclusive, own = shares(raw)
    assert total == 4
    assert inclusive["main (x.py)"] == 4
    assert inclusive["handle (rasa/core/a.py)"] == 3
    assert inclusive["f (b.py)"] == 4  # recursion counts once per sample
    assert own == {"f (b.py)": 4}
