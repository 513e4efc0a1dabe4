"""Scoring the answer extraction on a corpus of citizens' answers (tests/forms/corpus/).

Each item is an answer to one form question and what a careful clerk would do with it:
store a value (and the values of later fields the same message gave), propose a value to
confirm, ask again, or refer the citizen elsewhere. An item is right when the engine does
exactly that on the first try. The worst outcome is counted on its own: a value stored that
the citizen did not give ("silently wrong").

``python -m tests.eval.form_answers tests/forms/corpus/answers_blind2.yml`` prints the figures; with
``--failures`` also the items that went wrong (never for a blind set you still judge with).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from forms.answers import (
    FormContext,
    InvalidAnswer,
    NotEligible,
    Proposal,
    fold,
    load_city,
    understand_answer,
)
from forms.spec import FormSpec, load_specs

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = ("value", "propose", "reask", "refer")
_LOOSE = frozenset({"name", "text", "long_text", "town"})


@dataclass(frozen=True)
class Item:
    form: str
    field: str
    kind: str
    answer: str
    expect: dict[str, Any]

    @property
    def outcome(self) -> str:
        return next(key for key in OUTCOMES if key in self.expect)


@dataclass(frozen=True)
class Result:
    item: Item
    outcome: str  # what the engine did: value, propose, reask or refer
    value: Any = None
    also: dict[str, Any] = field(default_factory=dict)
    right: bool = False

    @property
    def silently_wrong(self) -> bool:
        """A value stored that is not the one the citizen gave (or none was given)."""
        return self.outcome == "value" and not self.right


@dataclass
class Score:
    results: list[Result]

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def right(self) -> int:
        return sum(result.right for result in self.results)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def silently_wrong(self) -> int:
        return sum(result.silently_wrong for result in self.results)

    def by(self, key: str) -> dict[str, tuple[int, int]]:
        """Right and total per kind or per form."""
        totals: Counter[str] = Counter()
        rights: Counter[str] = Counter()
        for result in self.results:
            name = getattr(result.item, key)
            totals[name] += 1
            rights[name] += result.right
        return {name: (rights[name], totals[name]) for name in sorted(totals)}


def load_items(path: Path) -> tuple[date, list[Item]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [
        Item(
            form=str(entry["form"]),
            field=str(entry["field"]),
            kind=str(entry.get("kind", "")),
            answer=str(entry["answer"]),
            expect=dict(entry["expect"]),
        )
        for entry in raw["items"]
    ]
    return date.fromisoformat(str(raw["today"])), items


def _e164(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, "DE")
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _same(kind: str, expected: Any, got: Any) -> bool:
    if kind in _LOOSE and isinstance(expected, str) and isinstance(got, str):
        return fold(expected) == fold(got)
    if kind == "decimal" and expected is not None and got is not None:
        return f"{float(expected):.2f}" == f"{float(got):.2f}"
    if kind == "email" and isinstance(expected, str) and isinstance(got, str):
        return expected.lower() == got.lower()
    if kind == "phone" and isinstance(expected, str) and isinstance(got, str):
        # The same number however it is written ("0176 1234567" and "+491761234567").
        return _e164(expected) == _e164(got)
    if kind == "street" and isinstance(expected, str) and isinstance(got, str):
        return re.sub(r"\s+", " ", expected).lower() == re.sub(r"\s+", " ", got).lower()
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    return str(expected) == str(got)


def judge(spec: FormSpec, item: Item, context: FormContext) -> Result:
    spec_field = spec.field(item.field)
    try:
        understood = understand_answer(spec, spec_field, item.answer, context)
    except NotEligible:
        return Result(item, "refer", right=item.outcome == "refer")
    except Proposal as proposal:
        right = item.outcome == "propose" and _same(
            spec_field.type, item.expect["propose"], proposal.value
        )
        return Result(item, "propose", proposal.value, right=right)
    except InvalidAnswer:
        return Result(item, "reask", right=item.outcome == "reask")
    right = item.outcome == "value" and _same(
        spec_field.type, item.expect["value"], understood.value
    )
    expected_also = item.expect.get("also") or {}
    for name, value in expected_also.items():
        kind = spec.field(name).type
        right = right and _same(kind, value, understood.also.get(name))
    if set(understood.also) - set(expected_also):
        right = False  # a part the clerk would not have taken from the message
    return Result(item, "value", understood.value, understood.also, right=right)


def score(path: Path, specs: dict[str, FormSpec], city: Path) -> Score:
    today, items = load_items(path)
    context = load_city(city, today)
    return Score([judge(specs[item.form], item, context) for item in items])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--failures", action="store_true", help="list the items that failed")
    args = parser.parse_args()
    specs = load_specs(ROOT / "data" / "forms")
    result = score(args.corpus, specs, ROOT / "data" / "catalogue" / "city.yml")
    print(
        f"{args.corpus}: {result.right}/{result.total} right on first try ({result.accuracy:.3f}),"
    )
    print(f"  silently wrong values: {result.silently_wrong}")
    for kind, (right, total) in result.by("kind").items():
        print(f"  {kind:20} {right:3}/{total:3}")
    if args.failures:
        for item_result in result.results:
            if not item_result.right:
                item = item_result.item
                print(
                    f"- {item.form}.{item.field} {item.answer!r}: expected {item.expect}, "
                    f"got {item_result.outcome} {item_result.value!r} {item_result.also or ''}"
                )


if __name__ == "__main__":
    main()
