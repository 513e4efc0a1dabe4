"""Load benchmark of GovBot against a stock ``rasa init`` bot; writes docs/benchmarks.md.

    .venv-bot/bin/python -m tests.bench.load --output docs/benchmarks.md
    .venv-bot/bin/python -m tests.bench.load --levels 2 --conversations 4 --no-write  # smoke

Starts our stack (backend, action server, Rasa server; tests/stack.py) with the clock fixed
as in the integration tests, and a stock ``rasa init`` bot (created and trained once into
var/bench/stock-bot, reused afterwards), and measures for each: process start → first
answer (cold start), then, at each level of concurrent conversations, simulated citizens
talking over the REST channel (``POST /webhooks/rest/webhook``) from an asyncio httpx
client on the same machine. Each citizen runs one conversation after another, each with a
sender id of its own, and waits a short think time before every message. GovBot's citizens
ask about opening hours, fees, documents and locations, or fill in a whole form (the
scripts of tests/integration/test_forms.py) up to the submission; the stock bot's citizens
talk to the moodbot in English. The levels alternate between the two bots (stock first), so
that a change in the machine's background load hits both; after each of GovBot's levels
the backend's outbox is left to empty before the next level starts. Traffic goes to
127.0.0.1 only; every loop is bounded by the duration or the number of conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from bot.reporting import replace_block
from forms import FormSpec
from tests.bench.startup import machine
from tests.integration.conftest import FIXED_NOW
from tests.integration.test_forms import REFERENCE, SCRIPTS, SPECS, SUMMARY, Script, asked_field
from tests.stack import BOT_PYTHON, ROOT, START_TIMEOUT, Stack, _tree_rss_kb, free_port

PROGRAM = ".venv-bot/bin/python -m tests.bench.load"
BLOCK = "load"
PLOT_NAME = "bench-latency.png"
STOCK_DIR = ROOT / "var" / "bench" / "stock-bot"
STOCK_RECORD = "govbot-bench.json"  # training time of the stock bot, written when trained
# The web widget gives up on an answer after 45 s (channels/widget/govbot-widget.js).
TIMEOUT = 45.0
# Targets of issue 7.
P95_RATIO_TARGET = 1.5
P95_LEVEL = 50
NO_ERRORS_LEVEL = 200
RASA_RSS_TARGET_MB = 1.5 * 1024
CONFIRM = "Ja, bitte abschicken"


# ---------------------------------------------------------------------------------------
# Conversations: what a simulated citizen says, given the bot's last answer.


class Conversation(Protocol):
    kind: str
    # The conversation reached its end (a form: the reference number came back).
    finished: bool
    # Answers that were not the expected ones (wrong service, form derailed).
    unexpected: int

    def next_message(self, answer: list[str] | None) -> str | None:
        """The next message for the bot's answer to the last one (None: the first)."""


@dataclass(frozen=True)
class Turn:
    message: str
    expected: str = ""  # a piece of the answer; "" accepts any answer


@dataclass
class Scripted:
    """A fixed sequence of messages, each answer checked for an expected piece of text."""

    kind: str
    turns: Sequence[Turn]
    finished: bool = False
    unexpected: int = 0
    index: int = 0

    def next_message(self, answer: list[str] | None) -> str | None:
        if answer is not None and self.index > 0:
            expected = self.turns[self.index - 1].expected
            if expected and expected not in "\n\n".join(answer):
                self.unexpected += 1
        if self.index == len(self.turns):
            self.finished = True
            return None
        self.index += 1
        return self.turns[self.index - 1].message


@dataclass
class FormFilling:
    """A citizen filling in one form, as in tests/integration/test_forms.py.

    Starts with the script's request, answers the field the bot asks, gives the one
    answer that does not fit once, asks the question once when the second field comes
    up, changes one answer at the summary, and then confirms. Stops early (unexpected)
    when the bot asks something the script does not know.
    """

    script: Script
    kind: str = "form"
    finished: bool = False
    unexpected: int = 0
    asked: list[str] = field(default_factory=list)
    gave_invalid: bool = False
    asked_question: bool = False
    corrected: bool = False
    correcting: bool = False
    confirmed: bool = False
    steps: int = 0

    @property
    def spec(self) -> FormSpec:
        return SPECS[self.script.form]

    def next_message(self, answer: list[str] | None) -> str | None:
        if answer is None:
            return self.script.start
        if self.confirmed:
            self.finished = any(REFERENCE.search(text) for text in answer)
            self.unexpected += not self.finished
            return None
        self.steps += 1
        if self.steps > 3 * len(self.spec.fields) + 6:
            self.unexpected += 1
            return None
        said, corrected_field, new_text, _ = self.script.correction
        if answer and answer[-1] == SUMMARY:
            if not self.corrected:
                self.corrected = self.correcting = True
                return said
            self.confirmed = True
            return CONFIRM
        name = asked_field(self.spec, answer)
        if name is None:
            self.unexpected += 1
            return None
        if self.correcting and name == corrected_field:
            self.correcting = False
            return new_text
        if name == self.script.invalid[0] and not self.gave_invalid:
            self.gave_invalid = True
            return self.script.invalid[1]
        if name not in self.asked:
            self.asked.append(name)
        if len(self.asked) == 2 and not self.asked_question:
            self.asked_question = True
            return self.script.question[0]
        if name not in self.script.typed:
            self.unexpected += 1
            return None
        return self.script.typed[name]


# Natural questions of citizens (opening hours, fees, documents, locations) and a piece
# of the answer the bot gives with the catalogue in data/catalogue.
GREETINGS = [
    Turn("Hallo", "Guten Tag!"),
    Turn("Guten Tag", "Guten Tag!"),
    Turn("Hallo, ich hätte eine Frage", "Guten Tag!"),
]
QUESTIONS = [
    Turn("Wann hat das Bürgerbüro geöffnet?", "Öffnungszeiten Bürgerbüro:"),
    Turn("wann hat die zulassungsstelle auf", "Öffnungszeiten Straßenverkehrsamt:"),
    Turn("Wann kann ich wegen meinem Reisepass vorbeikommen?", "Öffnungszeiten Bürgerbüro:"),
    Turn("Was kostet ein Reisepass?", "Reisepass beantragen – Gebühren:"),
    Turn("Was kostet ein Führungszeugnis?", "Führungszeugnis beantragen – Gebühren:"),
    Turn("Wie teuer ist eine Gewerbeanmeldung?", "Gewerbeanmeldung – Gebühren:"),
    Turn("Welche Unterlagen brauche ich für einen Reisepass?", "bitte bringen Sie mit:"),
    Turn("Was brauche ich für ein Führungszeugnis?", "bitte bringen Sie mit:"),
    Turn("Wo finde ich das Standesamt?", "Standesamt: Rathaus"),
    Turn("Wo kann ich mein Gewerbe anmelden?", "Gewerbeamt: "),
    Turn("Wo bekomme ich einen Bewohnerparkausweis?", "Straßenverkehrsamt: Technisches Rathaus"),
    Turn("Wie lange dauert ein Führungszeugnis?", "Bearbeitungszeit:"),
]
GOODBYES = [
    Turn("Danke, das war's. Tschüss!"),
    Turn("Vielen Dank!", "Gern geschehen!"),
    Turn("Auf Wiedersehen", "Auf Wiedersehen!"),
]

# The stock moodbot's intents, with messages from its own training data.
STOCK_CONVERSATIONS = [
    [Turn("hello", "How are you?"), Turn("I am great", "carry on"), Turn("bye", "Bye")],
    [
        Turn("hi", "How are you?"),
        Turn("I am sad", "Did that help you?"),
        Turn("yes", "carry on"),
        Turn("goodbye", "Bye"),
    ],
    [Turn("good morning", "How are you?"), Turn("very sad", "Did that help"), Turn("no", "Bye")],
    [Turn("hey there", "How are you?"), Turn("wonderful", "carry on"), Turn("see you later")],
]


def faq_conversation(rng: random.Random) -> Scripted:
    turns: list[Turn] = []
    if rng.random() < 0.5:
        turns.append(rng.choice(GREETINGS))
    turns += rng.sample(QUESTIONS, rng.randint(1, 3))
    if rng.random() < 0.5:
        turns.append(rng.choice(GOODBYES))
    return Scripted("faq", turns)


def govbot_conversation(form_share: float) -> Callable[[random.Random], Conversation]:
    def make(rng: random.Random) -> Conversation:
        if rng.random() < form_share:
            return FormFilling(rng.choice(SCRIPTS))
        return faq_conversation(rng)

    return make


def stock_conversation(rng: random.Random) -> Conversation:
    return Scripted("mood", rng.choice(STOCK_CONVERSATIONS))


# ---------------------------------------------------------------------------------------
# Numbers.


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile, linearly interpolated between ranks (NaN without values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def ratio(ours: float, stock: float) -> float:
    """ours / stock; NaN when either is missing or the stock value is 0."""
    if math.isnan(ours) or math.isnan(stock) or stock == 0:
        return math.nan
    return ours / stock


@dataclass
class LevelResult:
    bot: str
    level: int
    seconds: float = 0.0
    answered: int = 0  # messages with a non-empty answer (HTTP 200)
    latencies: list[float] = field(default_factory=list)  # of every HTTP response
    errors: Counter[str] = field(default_factory=Counter)
    started: Counter[str] = field(default_factory=Counter)  # conversations, by kind
    finished: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0  # answers other than expected (not errors: the bot did answer)
    cut: int = 0  # conversations still running when the duration was over
    rss_mb: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else math.nan

    def p(self, share: float) -> float:
        return percentile(self.latencies, share)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True)
class Target:
    what: str
    measured: str
    met: bool | None  # None: not measured in this run


def evaluate_targets(
    ours: dict[int, LevelResult],
    stock: dict[int, LevelResult],
    cold_ours: float,
    cold_stock: float,
) -> list[Target]:
    """The targets of issue 7 that this benchmark measures."""
    targets = []
    what = f"p95 latency at {P95_LEVEL} concurrent conversations ≤ {P95_RATIO_TARGET} × stock"
    if P95_LEVEL in ours and P95_LEVEL in stock:
        value = ratio(ours[P95_LEVEL].p(0.95), stock[P95_LEVEL].p(0.95))
        met = None if math.isnan(value) else value <= P95_RATIO_TARGET
        targets.append(Target(what, f"{value:.2f} ×", met))
    else:
        targets.append(Target(what, "level not run", None))
    what = f"no errors at {NO_ERRORS_LEVEL} concurrent conversations"
    if NO_ERRORS_LEVEL in ours:
        errors = ours[NO_ERRORS_LEVEL].error_count
        targets.append(Target(what, f"{errors} errors", errors == 0))
    else:
        targets.append(Target(what, "level not run", None))
    rasa = max((r.rss_mb.get("rasa", 0.0) for r in ours.values()), default=0.0)
    what = f"Rasa server resident memory ≤ {RASA_RSS_TARGET_MB / 1024:.1f} GB"
    targets.append(Target(what, f"{rasa:.0f} MB at most", rasa <= RASA_RSS_TARGET_MB))
    targets.append(
        Target(
            "cold start no slower than the stock bot",
            f"{cold_ours:.0f} s vs. {cold_stock:.0f} s",
            cold_ours <= cold_stock,
        )
    )
    return targets


def startup_training(document: str) -> tuple[float, str] | None:
    """Our training time and its date from the startup block of docs/benchmarks.md."""
    begin, end = "<!-- startup:begin -->", "<!-- startup:end -->"
    if begin not in document or end not in document:
        return None
    block = document.split(begin, 1)[1].split(end, 1)[0]
    seconds = re.search(r"^\| training in a fresh clone [^|]*\| (\d+(?:\.\d+)?) s \|", block, re.M)
    date = re.search(r"Measured (\d{4}-\d\d-\d\d)", block)
    if seconds is None:
        return None
    return float(seconds.group(1)), date.group(1) if date else "?"


# ---------------------------------------------------------------------------------------
# The load generator.


def non_empty(messages: object) -> bool:
    return isinstance(messages, list) and any(
        isinstance(m, dict) and any(m.get(key) for key in ("text", "image", "buttons", "custom"))
        for m in messages
    )


@dataclass
class LoadSettings:
    duration: float | None  # seconds per level, or
    conversations: int | None  # conversations per level
    think: float  # mean think time before each message, s
    timeout: float
    seed: int


async def run_level(
    bot: str,
    url: str,
    level: int,
    make_conversation: Callable[[random.Random], Conversation],
    settings: LoadSettings,
    transport: httpx.AsyncBaseTransport | None = None,  # a stand-in of the bot in tests
) -> LevelResult:
    result = LevelResult(bot, level)
    remaining = [settings.conversations] if settings.conversations is not None else None
    deadline = time.monotonic() + (settings.duration or math.inf)
    limits = httpx.Limits(max_connections=level + 10, max_keepalive_connections=level + 10)

    def expired() -> bool:
        return remaining is None and time.monotonic() >= deadline

    def next_conversation(rng: random.Random) -> Conversation | None:
        if remaining is not None:
            if remaining[0] <= 0:
                return None
            remaining[0] -= 1
        elif expired():
            return None
        return make_conversation(rng)

    async def say(client: httpx.AsyncClient, sender: str, message: str) -> list[str] | None:
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message}),
                settings.timeout,
            )
        except asyncio.TimeoutError:
            result.errors["timeout"] += 1
            return None
        except httpx.HTTPError as error:
            result.errors[type(error).__name__] += 1
            return None
        result.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            result.errors[f"HTTP {response.status_code}"] += 1
            return None
        try:
            messages = response.json()
        except ValueError:
            messages = None
        if not non_empty(messages):
            result.errors["empty answer"] += 1
            return None
        result.answered += 1
        return [m.get("text") or "" for m in messages if isinstance(m, dict)]

    async def citizen(client: httpx.AsyncClient, index: int) -> None:
        rng = random.Random(f"{settings.seed}-{bot}-{level}-{index}")  # noqa: S311 - a simulation
        number = 0
        while (conversation := next_conversation(rng)) is not None:
            number += 1
            sender = f"bench-{bot}-{level}-{index}-{number}"
            result.started[conversation.kind] += 1
            answer: list[str] | None = None
            while (message := conversation.next_message(answer)) is not None:
                await asyncio.sleep(settings.think * rng.uniform(0.5, 1.5))
                if expired():
                    result.cut += 1
                    break
                answer = await say(client, sender, message)
                if answer is None:  # an error: this citizen gives up the conversation
                    break
            result.finished[conversation.kind] += conversation.finished
            result.unexpected += conversation.unexpected

    # The timeout that counts is the one around each request (asyncio.wait_for).
    timeout = httpx.Timeout(settings.timeout + 5)
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=timeout, transport=transport
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(citizen(client, index) for index in range(level)))
        result.seconds = time.perf_counter() - started
    return result


def converse(url: str, sender: str, conversation: Conversation) -> list[list[str]]:
    """One conversation without think time (warming up); the bot's answers."""
    answers: list[list[str]] = []
    answer: list[str] | None = None
    while (message := conversation.next_message(answer)) is not None:
        response = httpx.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        answer = [m.get("text") or "" for m in response.json()]
        answers.append(answer)
    return answers


# ---------------------------------------------------------------------------------------
# The two bots.


def first_answer(
    url: str, message: str, processes: dict[str, subprocess.Popen[bytes]], started: float
) -> float:
    """Seconds from ``started`` to the first non-empty answer to ``message``."""
    deadline = started + START_TIMEOUT
    while True:
        try:
            response = httpx.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": "bench-cold-start", "message": message},
                timeout=30,
            )
            if response.status_code == 200 and non_empty(response.json()):
                return time.monotonic() - started
        except (httpx.HTTPError, ValueError):
            pass
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} during start")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer from {url} after {START_TIMEOUT} s")
        time.sleep(0.25)


@dataclass
class StockTraining:
    seconds: float
    date: str
    trained_now: bool


def bot_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def ensure_stock_bot(folder: Path, retrain: bool) -> StockTraining:
    """The stock ``rasa init`` bot, created and trained (timed) only when missing."""
    record = folder / STOCK_RECORD
    if not retrain and record.exists() and list((folder / "models").glob("*.tar.gz")):
        data = json.loads(record.read_text())
        return StockTraining(float(data["seconds"]), str(data["date"]), trained_now=False)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = folder.parent / "stock-bot-init.log"
    print(f"==> rasa init --no-prompt --init-dir {folder.relative_to(ROOT)} (log: {log})")
    started = time.monotonic()
    with log.open("wb") as out:
        subprocess.run(
            [str(BOT_PYTHON), "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=ROOT,
            env={**bot_env(), "TQDM_DISABLE": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    seconds = time.monotonic() - started
    date = time.strftime("%Y-%m-%d")
    record.write_text(json.dumps({"seconds": seconds, "date": date, "machine": machine()}))
    return StockTraining(seconds, date, trained_now=True)


@dataclass
class StockBot:
    folder: Path
    state: Path
    port: int = 0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        command = [
            str(BOT_PYTHON), "-m", "rasa", "run",
            "--model", "models",
            "--credentials", "credentials.yml",
            "--endpoints", "endpoints.yml",
            "--interface", "127.0.0.1",
            "--port", str(self.port),
        ]  # fmt: skip
        with (self.state / "stock-rasa.log").open("wb") as out:
            self.processes["rasa"] = subprocess.Popen(
                command, cwd=self.folder, env=bot_env(), stdout=out, stderr=subprocess.STDOUT
            )

    def rss_mb(self) -> dict[str, float]:
        return {name: _tree_rss_kb(p.pid) / 1024 for name, p in self.processes.items()}

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def our_stack(state: Path) -> Stack:
    return Stack(
        state=state,
        env={
            # The form scripts' dates ("nächsten Montag") as in the integration tests.
            "BACKEND_FIXED_NOW": FIXED_NOW,
            "ACTIONS_FIXED_NOW": FIXED_NOW,
            "BACKEND_DMS_FOLDER": str(state / "dms"),
        },
    )


def wait_for_outbox(stack: Stack, limit: float = 300.0) -> float:
    """Seconds until the backend delivered every submitted application (at most ``limit``)."""
    started = time.monotonic()
    query = "SELECT count(*) FROM delivery WHERE status IN ('pending', 'delivering')"
    while time.monotonic() - started < limit:
        with sqlite3.connect(stack.state / "backend.sqlite3") as db:
            if not db.execute(query).fetchone()[0]:
                break
        time.sleep(0.5)
    return time.monotonic() - started


def warm_up(bot: str, url: str, conversations: list[Conversation]) -> None:
    """One conversation of each kind, one message at a time; fails when a form fails."""
    for number, conversation in enumerate(conversations):
        answers = converse(url, f"bench-{bot}-warm-up-{number}", conversation)
        if isinstance(conversation, FormFilling) and not conversation.finished:
            raise RuntimeError(f"warm-up form {conversation.script.form} did not finish: {answers}")
        if conversation.unexpected:
            print(f"    warm-up {bot} {conversation.kind}: unexpected answer in {answers}")


# ---------------------------------------------------------------------------------------
# Report.


def ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def times(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f} ×"


def errors_text(result: LevelResult) -> str:
    if not result.errors:
        return "0"
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.errors.items()))
    return f"{result.error_count} ({kinds})"


def conversations_text(result: LevelResult) -> str:
    parts = [f"{kind} {result.finished[kind]}/{n}" for kind, n in sorted(result.started.items())]
    text = ", ".join(parts) or "–"
    return f"{text} ({result.cut} cut off at the end)" if result.cut else text


@dataclass
class Run:
    ours: dict[int, LevelResult]
    stock: dict[int, LevelResult]
    cold_ours: float
    cold_stock: float
    stock_training: StockTraining
    our_training: tuple[float, str] | None
    settings: LoadSettings
    form_share: float
    smoke: bool = False


def render(run: Run, command: str, plot: str | None) -> str:
    settings = run.settings
    per_level = (
        f"{settings.conversations} conversations"
        if settings.conversations is not None
        else f"{settings.duration:.0f} s"
    )
    rows = []
    if run.smoke:
        rows += ["**Smoke run with tiny parameters: not a measurement.**", ""]
    rows += [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `{command}`.",
        "",
        f"Per level and bot: {per_level}; think time {settings.think * 0.5:.1f}–"
        f"{settings.think * 1.5:.1f} s before each message; an answer later than "
        f"{settings.timeout:.0f} s counts as a timeout; GovBot conversations are forms with "
        f"a share of {run.form_share:.0%}, the others questions.",
        "",
        "| bot | concurrent conversations | messages/s | p50 | p95 | p99 | errors "
        "| conversations finished | unexpected answers | resident memory at the end |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for level in sorted(set(run.ours) | set(run.stock)):
        for bot, results in (("GovBot", run.ours), ("stock", run.stock)):
            if level not in results:
                continue
            r = results[level]
            memory = ", ".join(f"{name} {mb:.0f} MB" for name, mb in r.rss_mb.items())
            rows.append(
                f"| {bot} | {level} | {r.per_second:.1f} | {ms(r.p(0.5))} | {ms(r.p(0.95))} "
                f"| {ms(r.p(0.99))} | {errors_text(r)} | {conversations_text(r)} "
                f"| {r.unexpected} | {memory} |"
            )
    rows += [
        "",
        "GovBot as a multiple of the stock bot:",
        "",
        "| concurrent conversations | messages/s | p50 | p95 | p99 |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for level in sorted(set(run.ours) & set(run.stock)):
        ours, stock = run.ours[level], run.stock[level]
        cells = [times(ratio(ours.per_second, stock.per_second))]
        cells += [times(ratio(ours.p(share), stock.p(share))) for share in (0.5, 0.95, 0.99)]
        rows.append(f"| {level} | " + " | ".join(cells) + " |")
    training = run.stock_training
    stock_training = f"{training.seconds:.0f} s"
    if not training.trained_now:
        stock_training += f" (trained {training.date}, when var/bench/stock-bot was created)"
    if run.our_training is not None:
        seconds, date = run.our_training
        our_training = f"{seconds:.0f} s (startup block above, {date})"
        training_ratio = times(ratio(seconds, training.seconds))
    else:
        our_training, training_ratio = "–", "–"
    rows += [
        "",
        "| | GovBot | stock | ratio |",
        "| --- | ---: | ---: | ---: |",
        f"| cold start: processes started → first answer | {run.cold_ours:.0f} s "
        f"| {run.cold_stock:.0f} s | {times(ratio(run.cold_ours, run.cold_stock))} |",
        f"| training (empty Rasa cache) | {our_training} | {stock_training} | {training_ratio} |",
        "",
        "Targets (issue 7):",
        "",
    ]
    verdict = {True: "met", False: "**missed**", None: "not measured"}
    for target in evaluate_targets(run.ours, run.stock, run.cold_ours, run.cold_stock):
        rows.append(f"- {target.what}: {target.measured} — {verdict[target.met]}")
    if plot:
        rows += ["", f"![Latency per message by level, GovBot and the stock bot]({plot})"]
    return "\n".join(rows)


def draw(run: Run, path: Path) -> None:
    import matplotlib  # type: ignore[import-untyped]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-untyped]
    from matplotlib.ticker import (  # type: ignore[import-untyped]
        FuncFormatter,
        LogLocator,
        NullLocator,
    )

    figure, axes = plt.subplots(figsize=(7.5, 4.5))
    bots = ((run.ours, "GovBot", "-", "o"), (run.stock, "stock rasa init", "--", "s"))
    for results, label, style, marker in bots:
        levels = sorted(results)
        for share, colour in ((0.5, "tab:blue"), (0.95, "tab:orange"), (0.99, "tab:red")):
            axes.plot(
                levels,
                [results[level].p(share) * 1000 for level in levels],
                linestyle=style,
                marker=marker,
                color=colour,
                label=f"{label} p{round(share * 100)}",
            )
    levels = sorted(set(run.ours) | set(run.stock))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(levels)
    axes.set_xticklabels([str(level) for level in levels])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_locator(NullLocator())
    axes.set_xlabel("concurrent conversations")
    axes.set_ylabel("latency per message (ms)")
    axes.set_title("Latency over the REST channel, same machine, same run")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small", ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# ---------------------------------------------------------------------------------------


def level_line(result: LevelResult) -> str:
    memory = ", ".join(f"{name} {mb:.0f} MB" for name, mb in result.rss_mb.items())
    return (
        f"==> {result.bot}, {result.level} concurrent: {result.answered} answers in "
        f"{result.seconds:.1f} s = {result.per_second:.1f}/s, p50 {ms(result.p(0.5))}, "
        f"p95 {ms(result.p(0.95))}, p99 {ms(result.p(0.99))}, errors {errors_text(result)}, "
        f"finished {conversations_text(result)}, unexpected {result.unexpected}; "
        f"{memory}"
    )


def measure(
    levels: list[int], settings: LoadSettings, form_share: float, retrain: bool, workdir: Path
) -> tuple[dict[int, LevelResult], dict[int, LevelResult], float, float, StockTraining]:
    training = ensure_stock_bot(STOCK_DIR, retrain)
    print(f"==> stock bot training: {training.seconds:.0f} s ({training.date})", flush=True)
    ours_conversation = govbot_conversation(form_share)
    stock = StockBot(STOCK_DIR, workdir)
    stack = our_stack(workdir / "stack")
    (workdir / "stack").mkdir()
    try:
        started = time.monotonic()
        stock.start()
        cold_stock = first_answer(stock.url, "hello", stock.processes, started)
        print(f"==> stock bot cold start: {cold_stock:.1f} s", flush=True)
        started = time.monotonic()
        stack.start()
        cold_ours = first_answer(stack.rasa_url, "Hallo", stack.processes, started)
        stack.wait_healthy()
        print(f"==> GovBot cold start: {cold_ours:.1f} s", flush=True)

        warm_up("stock", stock.url, [Scripted("mood", turns) for turns in STOCK_CONVERSATIONS])
        warm_up("govbot", stack.rasa_url, [Scripted("faq", QUESTIONS), FormFilling(SCRIPTS[0])])
        print("==> warmed up (one form filled in and submitted)", flush=True)

        ours: dict[int, LevelResult] = {}
        baseline: dict[int, LevelResult] = {}
        for level in levels:
            result = asyncio.run(run_level("stock", stock.url, level, stock_conversation, settings))
            result.rss_mb = stock.rss_mb()
            baseline[level] = result
            print(level_line(result), flush=True)
            result = asyncio.run(
                run_level("govbot", stack.rasa_url, level, ours_conversation, settings)
            )
            result.rss_mb = stack.rss_mb()
            ours[level] = result
            print(level_line(result), flush=True)
            drained = wait_for_outbox(stack)
            print(f"    outbox empty after {drained:.1f} s", flush=True)
    except Exception:
        logs = {f"GovBot {name}": stack.log(name) for name in ("rasa", "actions", "backend")}
        logs["stock rasa"] = workdir / "stock-rasa.log"
        for name, log in logs.items():
            if log.exists():
                tail = log.read_text(errors="replace")[-4000:]
                print(f"--- {name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        stock.stop()
    return ours, baseline, cold_ours, cold_stock, training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="the document with the marker block")
    parser.add_argument("--levels", default="10,50,200", help="concurrent conversations")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per level")
    parser.add_argument(
        "--conversations", type=int, help="conversations per level (instead of --duration)"
    )
    parser.add_argument("--think", type=float, default=1.0, help="mean think time, s")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="answer timeout, s")
    parser.add_argument("--form-share", type=float, default=0.25, help="share of form fillers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--block",
        default=BLOCK,
        help=f"the marker block of --output (default {BLOCK}; another one for another pace)",
    )
    parser.add_argument("--retrain-stock", action="store_true", help="create the stock bot anew")
    parser.add_argument(
        "--no-write", action="store_true", help="smoke run: print the block, write no docs"
    )
    args = parser.parse_args(argv)
    if args.output is None and not args.no_write:
        parser.error("--output is required unless --no-write")
    levels = [int(level) for level in args.levels.split(",")]
    settings = LoadSettings(
        duration=None if args.conversations else args.duration,
        conversations=args.conversations,
        think=args.think,
        timeout=args.timeout,
        seed=args.seed,
    )
    workdir = Path(tempfile.mkdtemp(prefix="govbot-bench-load-"))
    try:
        ours, stock, cold_ours, cold_stock, training = measure(
            levels, settings, args.form_share, args.retrain_stock, workdir
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # GovBot's training time: from the startup block (of docs/benchmarks.md in a smoke run).
    document_path = args.output or ROOT / "docs" / "benchmarks.md"
    document = document_path.read_text(encoding="utf-8") if document_path.exists() else ""
    run = Run(
        ours,
        stock,
        cold_ours,
        cold_stock,
        training,
        startup_training(document),
        settings,
        args.form_share,
        smoke=args.no_write,
    )
    command = " ".join([PROGRAM, *(sys.argv[1:] if argv is None else argv)])
    if args.no_write:
        plot = ROOT / "var" / "bench" / "bench-latency-smoke.png"
        draw(run, plot)
        print(render(run, command, plot=None))
        print(f"==> smoke run: nothing written to the docs; plot in {plot.relative_to(ROOT)}")
        return 0
    name = PLOT_NAME if args.block == BLOCK else f"bench-latency-{args.block}.png"
    plot = args.output.parent / name
    draw(run, plot)
    replace_block(args.output, args.block, render(run, command, name))
    print(f"==> wrote {args.output} and {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
