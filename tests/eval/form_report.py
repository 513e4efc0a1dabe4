"""How many questions each form asks, and how well its answers are understood (docs/forms.md).

For each spec: the questions of the shortest and the longest case (every combination of the
answers its conditions look at), and of the typical cases, the realistic answer sets of
``tests/forms/test_specs.py``. A question is not counted when the service the citizen asked
for answers it, or when a whole address given at the street question answers it. Then the
answer corpus (``tests/forms/corpus/``): the share understood on the first try, by kind.

``python -m tests.eval.form_report`` rewrites the block ``form-report`` of docs/forms.md.
"""

from __future__ import annotations

import itertools
import statistics
from datetime import date
from pathlib import Path
from typing import Any

from bot.reporting import replace_block
from forms.answers import load_city, validate_submission
from forms.spec import FormSpec, load_specs
from tests.eval.form_answers import score
from tests.forms.test_specs import CASES

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "forms" / "corpus"


def _asked(spec: FormSpec, answers: dict[str, Any], whole_address: bool) -> int:
    fields = spec.active_fields(answers)
    skipped = {name for item in fields if item.prefill_from_service for name in [item.name]}
    if whole_address:
        skipped |= {name for item in fields for name in item.address.values()}
    return len([item for item in fields if item.name not in skipped])


def _conditions(spec: FormSpec) -> list[tuple[str, list[Any]]]:
    """The fields conditions look at, with the values that matter."""
    looked_at: list[str] = []
    for item in (*spec.fields, *spec.routes):
        if item.when is not None:
            looked_at += [name for name in item.when.fields() if name not in looked_at]
    values = []
    for name in looked_at:
        item = spec.field(name)
        if item.type == "boolean":
            values.append((name, [True, False]))
        elif item.type == "choice":
            values.append((name, [option.value for option in item.options]))
        else:  # integers in conditions: the values the conditions name, and one other
            named: set[Any] = set()
            for other in spec.fields:
                if other.when is not None and name in other.when.fields():
                    named |= set(other.when.one_of or ()) | set(other.when.none_of or ())
                    if other.when.equals is not None:
                        named.add(other.when.equals)
            values.append((name, [*sorted(named), -1]))
    return values


def paths(spec: FormSpec) -> tuple[int, int]:
    """Questions in the shortest and the longest case."""
    conditions = _conditions(spec)
    counts = []
    for combination in itertools.product(*(values for _, values in conditions)):
        answers = {name: value for (name, _), value in zip(conditions, combination, strict=True)}
        counts.append(_asked(spec, answers, whole_address=True))
        counts.append(_asked(spec, answers, whole_address=False))
    return min(counts), max(counts)


def typical(spec: FormSpec, today: date) -> list[int]:
    city = load_city(ROOT / "data" / "catalogue" / "city.yml", today)
    counted = []
    for case in CASES:
        if case.spec == spec.id:
            answers, _ = validate_submission(spec, case.answers, city)
            counted.append(_asked(spec, answers, whole_address=False))
    return counted


def report(today: date) -> str:
    specs = load_specs(ROOT / "data" / "forms")
    lines = [
        f"Measured {today.isoformat()} by `.venv-bot/bin/python -m tests.eval.form_report`.",
        "",
        "| form | fields | shortest case | typical cases (median, range) | longest case |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for spec in specs.values():
        shortest, longest = paths(spec)
        cases = typical(spec, today)
        middle = f"{statistics.median(cases):g} ({min(cases)}–{max(cases)})" if cases else "–"
        lines.append(f"| {spec.id} | {len(spec.fields)} | {shortest} | {middle} | {longest} |")
    lines += [
        "",
        "The shortest case counts a whole address given at the street question (postal code",
        "and town are then not asked); questions the requested service answers are not counted.",
        "",
        "Answers understood on the first try (value, proposal, question again or referral as a",
        "careful clerk would decide; `tests/forms/corpus/`):",
        "",
        "| corpus | right on first try | values stored that the citizen did not give |",
        "| --- | ---: | ---: |",
    ]
    city = ROOT / "data" / "catalogue" / "city.yml"
    results = {}
    for name in (
        "answers_blind2.yml",
        "answers_dev.yml",
        "answers_dev2.yml",
        "answers_dev3.yml",
        "answers_dev4.yml",
    ):
        result = score(CORPUS / name, specs, city)
        results[name] = result
        lines.append(
            f"| `{name}` | {result.right}/{result.total} ({result.accuracy:.3f}) | "
            f"{result.silently_wrong} |"
        )
    lines += [
        "",
        "By kind, on the blind corpus:",
        "",
        "| kind | right | answers |",
        "| --- | ---: | ---: |",
    ]
    for kind, (right, total) in results["answers_blind2.yml"].by("kind").items():
        lines.append(f"| {kind} | {right} | {total} |")
    return "\n".join(lines)


def main() -> None:
    replace_block(ROOT / "docs" / "forms.md", "form-report", report(date.today()))
    print("==> wrote the form-report block of docs/forms.md")


if __name__ == "__main__":
    main()
