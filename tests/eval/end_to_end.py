"""What the citizen experiences: a blind test set through the whole running bot.

    .venv-bot/bin/python -m tests.eval.end_to_end                     # prints the report
    .venv-bot/bin/python -m tests.eval.end_to_end --output docs/eval  # and writes it

Starts the real backend, action server and Rasa server (tests/stack.py) with the trained
model, sends every message of the blind set (tests/nlu/blind_2026_12b.yml) as the first
message of a conversation of its own over the REST channel, and reads back from the Rasa
server's tracker what the bot did: which responses it sent (``utter_action`` of each bot
event), which service it settled on (the ``service`` slot), which buttons it offered. So a
service question counts as answered right only when the bot answered the expected aspect of
the expected service, whatever the NLU, the backend's search and the action made of it
together.

Outcomes of a service question:

- ``right``: an answer of the expected aspect about the expected service (for "apply" of a
  service with a form assistant, the form starting counts);
- ``asked, right offered``: "Welche Leistung meinen Sie?" with the expected service among
  the buttons;
- ``right service, other aspect``;
- ``wrong service``: an answer about another service (confidently wrong);
- ``asked, not offered``, ``rejected`` (out-of-scope or not-understood answers),
  ``other`` (anything else: small talk, a handoff, …).

General intents are judged by the intent the Rasa server logged; off-topic messages count
as rejected when the bot answered with its out-of-scope answer, asked to rephrase or
offered the affirmation step (nothing about a city service was claimed).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.reporting import replace_block
from tests.stack import ROOT, Stack

BLIND = Path("tests/nlu/blind_2026_12b.yml")
# The first blind set, whose failures were read on 2026-12-08: for finding kinds of error.
DEVELOPMENT = Path("tests/nlu/dev_2026_12.yml")
BLOCK = "end-to-end"
PROGRAM = ".venv-bot/bin/python -m tests.eval.end_to_end"

# The response of action_service_knowledge for each aspect of a service.
ANSWERS = {
    "fees": {"utter_service_fees"},
    "documents": {"utter_service_documents", "utter_service_no_documents"},
    "processing_time": {"utter_service_processing_time"},
    "apply": {"utter_service_apply"},  # and utter_intro_<form> when a form starts
    "info": {"utter_service_info"},
    "responsible_office": {"utter_office_responsible"},
    "location": {"utter_office_location"},
    "hours": {"utter_opening_hours"},
}
SERVICE_ANSWERS = set().union(*ANSWERS.values())
OFFICE_ANSWERS = {"utter_office_responsible", "utter_office_location", "utter_opening_hours"}
HANDOFF_FOR_TOPIC = "utter_handoff_intro_topic"
ASK_WHICH = "utter_ask_which_service"
REJECTIONS = {
    "utter_out_of_scope",
    "utter_ask_rephrase",
    "utter_ask_affirmation",
    "utter_default",
    "utter_referral",
}
ORDER = (
    "right",
    "asked, right offered",
    "right service, other aspect",
    "wrong service",
    "asked, not offered",
    "rejected",
    "other",
)


@dataclass(frozen=True)
class Turn:
    """What the bot did with one message."""

    text: str
    intent: str
    responses: tuple[str, ...]
    service: str | None
    offered: tuple[str, ...] = ()
    department: str | None = None


@dataclass
class Result:
    questions: list[tuple[dict[str, Any], Turn, str]] = field(default_factory=list)
    general: list[tuple[dict[str, Any], Turn]] = field(default_factory=list)
    off_topic: list[tuple[dict[str, Any], Turn]] = field(default_factory=list)

    def share(self, *outcomes: str) -> float:
        hits = sum(1 for _, _, o in self.questions if o in outcomes)
        return hits / len(self.questions) if self.questions else 0.0

    @property
    def service_found(self) -> float:
        """The right service answered about or offered, whatever the aspect."""
        return self.share("right", "asked, right offered", "right service, other aspect")

    @property
    def general_right(self) -> float:
        right = sum(1 for item, turn in self.general if turn.intent == item["intent"])
        return right / len(self.general) if self.general else 0.0

    @property
    def off_topic_rejected(self) -> float:
        hits = sum(1 for _, turn in self.off_topic if rejected(turn))
        return hits / len(self.off_topic) if self.off_topic else 0.0

    @property
    def in_scope_rejected(self) -> float:
        turns = [turn for _, turn, _ in self.questions] + [turn for _, turn in self.general]
        return sum(1 for turn in turns if rejected(turn)) / len(turns) if turns else 0.0


def rejected(turn: Turn) -> bool:
    return bool(REJECTIONS & set(turn.responses)) and not (SERVICE_ANSWERS & set(turn.responses))


def outcome(item: dict[str, Any], turn: Turn, departments: dict[str, str]) -> str:
    """``departments``: service slug → its office's slug (data/catalogue/services.yml)."""
    responses = set(turn.responses)
    answered = SERVICE_ANSWERS & responses or any(r.startswith("utter_intro_") for r in responses)
    if turn.service and HANDOFF_FOR_TOPIC in responses:
        # Topics that data/handoff.yml reserves for a person: the handoff is the answer.
        return "right" if turn.service == item["service"] else "wrong service"
    if answered and not turn.service and turn.department and OFFICE_ANSWERS & responses:
        # An office's hours, place or contact answered for the office itself.
        if turn.department != departments.get(item["service"]):
            return "wrong service"
        return "right" if ANSWERS[item["aspect"]] & responses else "right service, other aspect"
    if answered and turn.service:
        if turn.service != item["service"]:
            return "wrong service"
        form_started = any(r.startswith("utter_intro_") for r in responses)
        if ANSWERS[item["aspect"]] & responses or (item["aspect"] == "apply" and form_started):
            return "right"
        return "right service, other aspect"
    if ASK_WHICH in responses or "utter_service_unknown" in responses:
        return "asked, right offered" if item["service"] in turn.offered else "asked, not offered"
    if rejected(turn):
        return "rejected"
    return "other"


def turn_of(tracker: dict[str, Any], text: str) -> Turn:
    """The first user message of a conversation and what the bot did until it listened."""
    intent, responses, offered = "", [], []
    service = department = None
    seen_user = False
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "user" and not seen_user:
            seen_user = True
            intent = str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
        elif not seen_user:
            continue
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            responses.append(str(metadata.get("utter_action") or ""))
            for button in (event.get("data") or {}).get("buttons") or []:
                payload = str(button.get("payload") or "")
                if '"service"' in payload:
                    offered.append(payload.split('"service": "', 1)[-1].split('"', 1)[0])
        elif kind == "slot" and event.get("name") == "service":
            service = event.get("value")
        elif kind == "slot" and event.get("name") == "department":
            department = event.get("value")
    return Turn(text, intent, tuple(responses), service, tuple(offered), department)


def load(path: Path = ROOT / BLIND) -> dict[str, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: list(data.get(key) or []) for key in ("service_questions", "general", "off_topic")}


def departments() -> dict[str, str]:
    catalogue = yaml.safe_load((ROOT / "data/catalogue/services.yml").read_text("utf-8"))
    return {str(s["slug"]): str(s["department"]) for s in catalogue["services"]}


def run(stack: Stack, token: str, data: dict[str, list[dict[str, Any]]]) -> Result:
    result = Result()
    offices = departments()
    with httpx.Client(timeout=60) as client:

        def ask(number: int, text: str) -> Turn:
            sender = f"blind-{number}-{secrets.token_hex(4)}"
            reply = client.post(
                f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
            reply.raise_for_status()
            tracker = client.get(
                f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": token}
            )
            tracker.raise_for_status()
            return turn_of(tracker.json(), text)

        number = 0
        for item in data["service_questions"]:
            number += 1
            turn = ask(number, item["text"])
            result.questions.append((item, turn, outcome(item, turn, offices)))
        for item in data["general"]:
            number += 1
            result.general.append((item, ask(number, item["text"])))
        for item in data["off_topic"]:
            number += 1
            result.off_topic.append((item, ask(number, item["text"])))
    return result


def markdown(result: Result, model: str, seconds: float, chosen: Path = BLIND) -> str:
    n = len(result.questions)
    wrong = result.share("wrong service")
    which = "blind" if chosen == BLIND else "development"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} by `{PROGRAM} --output docs/eval` with model "
        f"`{model}` on the {which} set `{chosen}` ({n} service questions, {len(result.general)} "
        f"general messages, {len(result.off_topic)} off-topic messages; {seconds:.0f} s). "
        "Each message opens a conversation of its own on the real stack.",
        "",
        "| measure | value | target (issue 17) |",
        "| --- | ---: | ---: |",
        f"| right service and aspect, end to end | {result.share('right'):.3f} | ≥ 0.90 |",
        "| … or asked back with the right service among the buttons | "
        f"{result.share('right', 'asked, right offered'):.3f} | ≥ 0.95 |",
        f"| right service found at all | {result.service_found:.3f} | ≥ 0.95 |",
        f"| confidently wrong (an answer about another service) | {wrong:.3f} | ≤ 0.03 |",
        f"| general intents right | {result.general_right:.3f} | ≥ 0.95 |",
        f"| off-topic messages rejected | {result.off_topic_rejected:.3f} | ≥ 0.90 |",
        f"| in-scope messages rejected | {result.in_scope_rejected:.3f} | ≤ 0.03 |",
        "",
        "Service questions by outcome:",
        "",
        "| outcome | messages |",
        "| --- | ---: |",
    ]
    counts = Counter(o for _, _, o in result.questions)
    lines += [f"| {name} | {counts.get(name, 0)} |" for name in ORDER]
    by_aspect: dict[str, Counter[str]] = defaultdict(Counter)
    for item, _, o in result.questions:
        by_aspect[item["aspect"]][o] += 1
    lines += [
        "",
        "Right end to end, by aspect:",
        "",
        "| aspect | right | messages |",
        "| --- | ---: | ---: |",
    ]
    for aspect in sorted(by_aspect):
        total = sum(by_aspect[aspect].values())
        lines.append(f"| {aspect} | {by_aspect[aspect]['right']} | {total} |")
    kinds: dict[str, list[bool]] = defaultdict(list)
    for item, turn in result.off_topic:
        kinds[item.get("kind", "?")].append(rejected(turn))
    lines += [
        "",
        "Off-topic messages rejected, by kind:",
        "",
        "| kind | rejected | messages |",
        "| --- | ---: | ---: |",
    ]
    for kind in sorted(kinds):
        lines.append(f"| {kind} | {sum(kinds[kind])} | {len(kinds[kind])} |")
    lines += [
        "",
        "This set judges; its failures are not listed here on purpose, so that no training "
        f"example is written from them (`results/eval/end_to_end_{chosen.stem}.yml` has every "
        "message's outcome for debugging the code, not the data).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bot.model import model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=None, help="folder of the report README")
    parser.add_argument(
        "--development",
        action="store_true",
        help=f"run {DEVELOPMENT} instead of the blind set (never written to the README)",
    )
    args = parser.parse_args(argv)
    chosen = DEVELOPMENT if args.development else BLIND
    model = model_path()
    if not model.exists():
        print("==> no trained model: run `make train` first", file=sys.stderr)
        return 1
    data = load(ROOT / chosen)
    token = secrets.token_hex(24)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="govbot-e2e-") as state:
        stack = Stack(state=Path(state), env={"RASA_ENABLE_API": "true", "RASA_TOKEN": token})
        stack.start()
        try:
            stack.wait_healthy()
            result = run(stack, token, data)
        finally:
            stack.stop()
    report = markdown(result, model.name, time.monotonic() - started, chosen)
    print(report)
    details = ROOT / "results" / "eval" / f"end_to_end_{chosen.stem}.yml"
    details.parent.mkdir(parents=True, exist_ok=True)
    details.write_text(
        yaml.safe_dump(
            [
                {"text": t.text, **item, "outcome": o, "intent": t.intent,
                 "responses": list(t.responses), "service_answered": t.service,
                 "offered": list(t.offered)}
                for item, t, o in result.questions
            ],
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )  # fmt: skip
    if args.output and chosen == BLIND:
        readme = args.output / "README.md"
        replace_block(readme, BLOCK, report)
        print(f"==> wrote the end-to-end block of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
