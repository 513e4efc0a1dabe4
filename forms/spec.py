"""The form spec: what ``data/forms/<id>.yml`` may say, loaded into typed objects and checked.

A spec that names an unknown field, type, option or department is refused when it is
loaded, with the file and the place in the message, so a broken spec never reaches a
citizen. The format is documented in ``docs/forms.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FIELD_TYPES = frozenset(
    {
        "text",  # one line of free text
        "long_text",  # a description in a few sentences
        "name",  # a person's or dog's name
        "date",  # a calendar date; relative dates ("nächsten Montag") are understood
        "boolean",  # ja / nein
        "choice",  # one of the options (with synonyms); "other: true" also takes free answers
        "integer",  # a whole number, with min / max
        "decimal",  # an amount such as "1.250,50 €", with min / max
        "iban",  # an IBAN, checked with python-stdnum
        "phone",  # a phone number, checked with phonenumbers (German numbers by default)
        "email",  # an e-mail address, checked with email-validator (syntax only)
        "postal_code",  # a German postal code; "in_city: true" limits it to the city's own
        "street",  # street and house number; "in_city: true" checks the city's street list
        "town",  # a town's name ("in Musterstadt" -> "Musterstadt")
        "kfz_kennzeichen",  # a German number plate such as "PB-AB 123"
    }
)
PERSONAL_DATA_CLASSES = frozenset(
    {"none", "basic", "contact", "identity", "financial", "health", "special"}
)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_ID = re.compile(r"^[a-z][a-z0-9-]{1,60}$")
_PREFIX = re.compile(r"^[A-Z]{2,4}$")


class SpecError(ValueError):
    """A form spec that cannot be used, with where and why."""


@dataclass(frozen=True)
class Condition:
    """When a field is asked or a route applies: a test on earlier answers.

    Exactly one of the forms below, as written in YAML:
    ``{field: x, equals: v}``, ``{field: x, in: [v, w]}``, ``{field: x, not_in: [...]}``,
    ``{field: x, is: true}``, ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``.
    """

    field: str | None = None
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    none_of: tuple[Any, ...] | None = None
    is_: bool | None = None
    all_of: tuple[Condition, ...] | None = None
    any_of: tuple[Condition, ...] | None = None
    negated: Condition | None = None

    def holds(self, answers: Mapping[str, Any]) -> bool:
        if self.all_of is not None:
            return all(part.holds(answers) for part in self.all_of)
        if self.any_of is not None:
            return any(part.holds(answers) for part in self.any_of)
        if self.negated is not None:
            return not self.negated.holds(answers)
        assert self.field is not None
        value = answers.get(self.field)
        if value is None or value == "":
            return False
        if self.one_of is not None:
            return value in self.one_of
        if self.none_of is not None:
            return value not in self.none_of
        if self.is_ is not None:
            return value is self.is_
        return bool(value == self.equals)

    def fields(self) -> set[str]:
        """The fields this condition looks at."""
        parts = (self.all_of or ()) + (self.any_of or ())
        names = {name for part in parts for name in part.fields()}
        if self.negated is not None:
            names |= self.negated.fields()
        if self.field is not None:
            names.add(self.field)
        return names


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    # Other words citizens use for this option ("Schäferhund-Mischling", "GmbH").
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    question: str
    # Said when an answer is not understood, before the question is asked again.
    hint: str
    section: str = "Angaben"
    required: bool = True
    when: Condition | None = None
    options: tuple[Option, ...] = ()
    other: bool = False
    # Words that name this field when a citizen wants to change it ("Adresse", "Anschrift").
    synonyms: tuple[str, ...] = ()
    personal_data: str = "basic"
    min: float | None = None
    max: float | None = None
    # Dates: earliest and latest allowed day, in days from today (negative: in the past).
    earliest_days: int | None = None
    latest_days: int | None = None
    max_length: int = 200
    # Dates: not before the date answered in this earlier date field ("bis" after "von").
    not_before: str | None = None
    in_city: bool = False
    # A boolean that must be "ja", such as a declaration that the answers are true.
    must_be_true: bool = False
    # The answer given by the service the citizen asked for (service slug -> option value).
    prefill_from_service: Mapping[str, str] = field(default_factory=dict)
    # Integers: what is counted; "persons" understands "nur ich" or "zwei Erwachsene und ein
    # Kind".
    counts: str | None = None
    # Streets: the later fields a whole address fills as well ("Lindenallee 12, 12345
    # Musterstadt"): {postal_code: <field>, town: <field>}.
    address: Mapping[str, str] = field(default_factory=dict)
    # A "must be yes" question whose "no" means this office cannot help: what to tell the
    # citizen instead (where to go). The form then ends.
    if_not: str | None = None
    # First names: the later surname field a whole name given here answers as well ("Markus
    # Vogel" at the first name: proposed as first name and surname, stored after "ja").
    surname: str | None = None
    # Names: the question asks for first name and surname together ("Anna Schmidt"); a lone
    # word ("Schmitt", "Frau Albers") is asked again.
    full_name: bool = False
    # Choices and integers: taken from the message that started the form when it says so
    # plainly ("zwei Exemplare", "per Post", "für meine Mutter"); shown at the summary.
    from_opener: bool = False
    # The unit a number is in. Decimals: "m2" takes "2 x 3 m" as 6 and refuses a length;
    # "euro_per_month" proposes a yearly amount as a twelfth. Integers: "years" (an age) takes
    # "8 Monate" as 0, "anderthalb" as 1 and "wird bald vier" as 3.
    unit: str | None = None

    def option(self, value: Any) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True)
class Route:
    """One department that receives the application, or a part of it."""

    department: str
    purpose: str
    fields: tuple[str, ...]
    # What the citizen is told will happen there.
    next_steps: str
    when: Condition | None = None


@dataclass(frozen=True)
class FormSpec:
    id: str
    title: str
    services: tuple[str, ...]
    reference_prefix: str
    intro: str
    fields: tuple[Field, ...]
    routes: tuple[Route, ...]
    sample_data: bool = True
    source: str = ""

    @property
    def key(self) -> str:
        """The spec's id as Rasa names may use it (``hilfe-zum-lebensunterhalt`` -> ``…_…``)."""
        return self.id.replace("-", "_")

    @property
    def form_name(self) -> str:
        return f"{self.key}_form"

    def slot(self, field_name: str) -> str:
        """The Rasa slot that holds a field's answer."""
        return f"{self.key}__{field_name}"

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def applies(self, item: Field | Route, answers: Mapping[str, Any]) -> bool:
        return item.when is None or item.when.holds(answers)

    def active_fields(self, answers: Mapping[str, Any]) -> list[Field]:
        """The fields this case needs, in the order they are asked."""
        return [candidate for candidate in self.fields if self.applies(candidate, answers)]

    def routes_for(self, answers: Mapping[str, Any]) -> list[Route]:
        """The departments that receive this application."""
        return [route for route in self.routes if self.applies(route, answers)]


def _fail(where: str, message: str) -> SpecError:
    return SpecError(f"{where}: {message}")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(where, "expected a list of texts")
    return tuple(value)


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{key}' must be a non-empty text")
    return value.strip()


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, "a condition must be a mapping")
    if set(raw) == {"all"} or set(raw) == {"any"}:
        key = next(iter(raw))
        parts = raw[key]
        if not isinstance(parts, list) or not parts:
            raise _fail(where, f"'{key}' needs a list of conditions")
        built = tuple(_condition(part, f"{where}.{key}[{i}]") for i, part in enumerate(parts))
        return Condition(all_of=built) if key == "all" else Condition(any_of=built)
    if set(raw) == {"not"}:
        return Condition(negated=_condition(raw["not"], f"{where}.not"))
    tests = set(raw) - {"field"}
    if "field" not in raw or len(tests) != 1 or not tests <= {"equals", "in", "not_in", "is"}:
        raise _fail(where, "use {field, equals|in|not_in|is}, {all: [...]}, {any: [...]}")
    name = raw["field"]
    if "equals" in raw:
        return Condition(field=name, equals=raw["equals"])
    if "is" in raw:
        if not isinstance(raw["is"], bool):
            raise _fail(where, "'is' takes true or false")
        return Condition(field=name, is_=raw["is"])
    values = raw.get("in", raw.get("not_in"))
    if not isinstance(values, list) or not values:
        raise _fail(where, "'in' / 'not_in' need a list of values")
    if "in" in raw:
        return Condition(field=name, one_of=tuple(values))
    return Condition(field=name, none_of=tuple(values))


def _option(raw: Any, where: str) -> Option:
    if isinstance(raw, str):
        raise _fail(where, "an option needs 'value' and 'label'")
    value = _text(raw, "value", where)
    return Option(
        value=value,
        label=_text(raw, "label", where),
        synonyms=_strings(raw.get("synonyms"), f"{where}.synonyms"),
    )


_FIELD_KEYS = {
    "name", "type", "label", "question", "hint", "section", "required", "when", "options",
    "other", "synonyms", "personal_data", "min", "max", "earliest_days", "latest_days",
    "max_length", "not_before", "in_city", "must_be_true", "prefill_from_service", "counts",
    "address", "if_not", "unit", "from_opener", "surname", "full_name",
}  # fmt: skip
UNITS = {"decimal": frozenset({"m2", "euro_per_month"}), "integer": frozenset({"years"})}
COUNTS = frozenset({"persons"})
ADDRESS_PARTS = {"postal_code": "postal_code", "town": "town"}  # part -> field type


def _field(raw: Any, where: str) -> Field:
    if not isinstance(raw, dict):
        raise _fail(where, "a field must be a mapping")
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    name = _text(raw, "name", where)
    where = f"{where} ({name})"
    if not _NAME.match(name):
        raise _fail(where, "field names are lower-case letters, digits and '_'")
    kind = _text(raw, "type", where)
    if kind not in FIELD_TYPES:
        raise _fail(where, f"unknown type '{kind}'; known: {', '.join(sorted(FIELD_TYPES))}")
    options = tuple(
        _option(item, f"{where}.options[{i}]") for i, item in enumerate(raw.get("options") or [])
    )
    if kind == "choice" and len(options) < 2:
        raise _fail(where, "a choice needs at least two options")
    if kind != "choice" and options:
        raise _fail(where, "only choice fields have options")
    if len({option.value for option in options}) != len(options):
        raise _fail(where, "option values must be unique")
    personal_data = raw.get("personal_data", "basic")
    if personal_data not in PERSONAL_DATA_CLASSES:
        raise _fail(where, f"personal_data must be one of {sorted(PERSONAL_DATA_CLASSES)}")
    prefill = raw.get("prefill_from_service") or {}
    if not isinstance(prefill, dict) or any(
        options and value not in {option.value for option in options} for value in prefill.values()
    ):
        raise _fail(where, "prefill_from_service maps service slugs to option values")
    counts = raw.get("counts")
    if counts is not None and (kind != "integer" or counts not in COUNTS):
        raise _fail(where, f"'counts' is for integers and one of {sorted(COUNTS)}")
    address = raw.get("address") or {}
    if address and (
        kind != "street"
        or not isinstance(address, dict)
        or not set(address) <= set(ADDRESS_PARTS)
        or not all(isinstance(value, str) for value in address.values())
    ):
        raise _fail(where, "'address' is for streets: {postal_code: <field>, town: <field>}")
    surname = raw.get("surname")
    if surname is not None and (kind != "name" or not isinstance(surname, str)):
        raise _fail(where, "'surname' is for names: the later surname field")
    full_name = bool(raw.get("full_name", False))
    if full_name and (kind != "name" or surname is not None):
        raise _fail(where, "'full_name' is for names that ask for first name and surname at once")
    from_opener = bool(raw.get("from_opener", False))
    if from_opener and kind not in ("choice", "integer"):
        raise _fail(where, "'from_opener' is for choices and integers")
    unit = raw.get("unit")
    if unit is not None and unit not in UNITS.get(kind, ()):
        raise _fail(where, f"'unit' is one of {sorted(UNITS.get(kind, ()))} for a {kind}")
    if_not = raw.get("if_not")
    if if_not is not None and (kind != "boolean" or not raw.get("must_be_true")):
        raise _fail(where, "'if_not' is for booleans with must_be_true")
    return Field(
        name=name,
        type=kind,
        label=_text(raw, "label", where),
        question=_text(raw, "question", where),
        hint=_text(raw, "hint", where),
        section=_text(raw, "section", where, default="Angaben"),
        required=bool(raw.get("required", True)),
        when=_condition(raw["when"], f"{where}.when") if "when" in raw else None,
        options=options,
        other=bool(raw.get("other", False)),
        synonyms=_strings(raw.get("synonyms"), f"{where}.synonyms"),
        personal_data=personal_data,
        min=raw.get("min"),
        max=raw.get("max"),
        earliest_days=raw.get("earliest_days"),
        latest_days=raw.get("latest_days"),
        max_length=int(raw.get("max_length", 2000 if kind == "long_text" else 200)),
        not_before=raw.get("not_before"),
        in_city=bool(raw.get("in_city", False)),
        must_be_true=bool(raw.get("must_be_true", False)),
        prefill_from_service=dict(prefill),
        counts=counts,
        address=dict(address),
        if_not=_text(raw, "if_not", where) if if_not is not None else None,
        unit=unit,
        from_opener=from_opener,
        surname=surname,
        full_name=full_name,
    )


def _route(raw: Any, where: str, field_names: list[str]) -> Route:
    if not isinstance(raw, dict):
        raise _fail(where, "a route must be a mapping")
    department = _text(raw, "department", where)
    where = f"{where} ({department})"
    fields = raw.get("fields")
    if fields == "all":
        names = tuple(field_names)
    else:
        names = _strings(fields, f"{where}.fields")
        if not names:
            raise _fail(where, "a route needs 'fields': a list of field names or 'all'")
    return Route(
        department=department,
        purpose=_text(raw, "purpose", where),
        fields=names,
        next_steps=_text(raw, "next_steps", where),
        when=_condition(raw["when"], f"{where}.when") if "when" in raw else None,
    )


def _check_references(spec: FormSpec, where: str) -> None:
    seen: dict[str, Field] = {}
    for item in spec.fields:
        if item.name in seen:
            raise _fail(where, f"field '{item.name}' is defined twice")
        if item.not_before is not None:
            earlier = seen.get(item.not_before)
            if item.type != "date" or earlier is None or earlier.type != "date":
                raise _fail(where, f"'{item.name}': not_before names an earlier date field")
        if item.when is not None:
            for name in item.when.fields():
                if name not in seen:
                    raise _fail(where, f"field '{item.name}' depends on '{name}', "
                                "which is not an earlier field")  # fmt: skip
                _check_values(item.when, seen, f"{where} ({item.name}.when)")
        seen[item.name] = item
    for item in spec.fields:
        if item.surname is not None:
            later = [other for other in spec.fields[spec.fields.index(item) + 1 :]]
            target = next((other for other in later if other.name == item.surname), None)
            if target is None or target.type != "name" or target.when != item.when:
                raise _fail(where, f"'{item.name}': surname '{item.surname}' must be a later "
                            "name field asked in the same case")  # fmt: skip
        for part, name in item.address.items():
            target = next((later for later in spec.fields if later.name == name), None)
            if target is None or target.type != ADDRESS_PARTS[part] or target.when != item.when:
                raise _fail(where, f"'{item.name}': address {part} names '{name}', which must "
                            f"be a {ADDRESS_PARTS[part]} field asked in the same case")  # fmt: skip
            if spec.fields.index(target) < spec.fields.index(item):
                raise _fail(where, f"'{item.name}': address {part} '{name}' comes before it")
    for route in spec.routes:
        for name in route.fields:
            if name not in seen:
                raise _fail(where, f"route to '{route.department}' names unknown field '{name}'")
        if route.when is not None:
            for name in route.when.fields():
                if name not in seen:
                    raise _fail(where, f"route to '{route.department}' depends on '{name}'")
            _check_values(route.when, seen, f"{where} (route {route.department})")
    routed = {name for route in spec.routes for name in route.fields}
    unrouted = [item.name for item in spec.fields if item.name not in routed]
    if unrouted:
        raise _fail(where, f"fields no department receives: {', '.join(unrouted)}")


def _check_values(condition: Condition, fields: Mapping[str, Field], where: str) -> None:
    """A condition on a choice may only name that choice's options."""
    for part in (condition.all_of or ()) + (condition.any_of or ()):
        _check_values(part, fields, where)
    if condition.negated is not None:
        _check_values(condition.negated, fields, where)
    if condition.field is None:
        return
    target = fields[condition.field]
    if target.type == "boolean" and condition.is_ is None:
        raise _fail(where, f"test the boolean '{target.name}' with 'is: true|false'")
    if target.type == "choice" and not target.other:
        values = [condition.equals] if condition.equals is not None else []
        values += list(condition.one_of or ()) + list(condition.none_of or ())
        known = {option.value for option in target.options}
        unknown = [value for value in values if value not in known]
        if unknown:
            raise _fail(where, f"'{target.name}' has no option {unknown}")


def load_spec(path: Path) -> FormSpec:
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise _fail(where, f"not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise _fail(where, "a form spec is a mapping")
    spec_id = _text(raw, "id", where)
    if not _ID.match(spec_id) or spec_id != path.stem:
        raise _fail(where, "'id' is lower-case letters, digits and '-', and names the file")
    fields = tuple(
        _field(item, f"{where} fields[{i}]") for i, item in enumerate(raw.get("fields") or [])
    )
    if not fields:
        raise _fail(where, "a form needs fields")
    names = [item.name for item in fields]
    routes = tuple(
        _route(item, f"{where} routes[{i}]", names)
        for i, item in enumerate(raw.get("routes") or [])
    )
    if not routes:
        raise _fail(where, "a form needs at least one route")
    prefix = _text(raw, "reference_prefix", where)
    if not _PREFIX.match(prefix):
        raise _fail(where, "'reference_prefix' is 2 to 4 capital letters")
    spec = FormSpec(
        id=spec_id,
        title=_text(raw, "title", where),
        services=_strings(raw.get("services"), f"{where}.services"),
        reference_prefix=prefix,
        intro=_text(raw, "intro", where),
        fields=fields,
        routes=routes,
        sample_data=bool(raw.get("sample_data", True)),
        source=where,
    )
    _check_references(spec, where)
    return spec


def load_specs(directory: Path) -> dict[str, FormSpec]:
    """Every spec in ``directory`` (files starting with '_' are not specs), by id."""
    specs = {}
    for path in sorted(directory.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        spec = load_spec(path)
        specs[spec.id] = spec
    prefixes = [spec.reference_prefix for spec in specs.values()]
    duplicates = {prefix for prefix in prefixes if prefixes.count(prefix) > 1}
    if duplicates:
        raise SpecError(f"{directory}: reference prefixes used twice: {sorted(duplicates)}")
    return specs


def check_departments(specs: Iterable[FormSpec], known: Iterable[str]) -> None:
    """Refuse specs that route to a department the catalogue does not have."""
    known_set = set(known)
    for spec in specs:
        for route in spec.routes:
            if route.department not in known_set:
                raise SpecError(f"{spec.source}: unknown department '{route.department}'")
