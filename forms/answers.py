"""Understanding and checking answers: from what a citizen types to a field's clean value.

``normalize`` takes what a citizen wrote (or what a client submitted) and returns the
field's canonical value, or raises ``InvalidAnswer`` with a hint in German. Canonical values
are plain JSON values and normalize to themselves, so the backend can check a submission
with the very function the bot used. Solved problems are left to libraries: dates to
dateparser, IBANs to python-stdnum, phone numbers to phonenumbers, e-mail addresses to
email-validator, German numbers and dates to babel.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import dateparser
import phonenumbers
import yaml
from babel.dates import format_date
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError

from forms.spec import Field, FormSpec

Answers = dict[str, Any]

SKIP = ""  # the value of an optional field the citizen left out


class InvalidAnswer(ValueError):
    """An answer that does not fit the field; ``hint`` says what is expected, in German."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


@dataclass(frozen=True)
class FormContext:
    """What checking an answer depends on besides the answer: the day and the city."""

    today: date
    city: str = "Musterstadt"
    postal_codes: frozenset[str] = frozenset()
    streets: tuple[str, ...] = ()
    _folded_streets: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._folded_streets.update({_street_key(name): name for name in self.streets})

    def street(self, name: str) -> str | None:
        """The city's spelling of a street, forgiving case, umlauts, "Str." and small typos."""
        key = _street_key(name)
        if key in self._folded_streets:
            return self._folded_streets[key]
        close = difflib.get_close_matches(key, list(self._folded_streets), n=1, cutoff=0.88)
        return self._folded_streets[close[0]] if close else None


def load_city(path: Path, today: date) -> FormContext:
    """The city's postal codes and streets (``data/catalogue/city.yml``)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return FormContext(
        today=today,
        city=str(raw["name"]),
        postal_codes=frozenset(str(code) for code in raw["postal_codes"]),
        streets=tuple(str(street) for street in raw["streets"]),
    )


def fold(text: str) -> str:
    """Lower case without umlauts, accents or punctuation, for comparing words."""
    text = text.lower().replace("ß", "ss")
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _street_key(name: str) -> str:
    key = fold(name)
    key = re.sub(r"(str|strasse)\b", "strasse", key)
    return key.replace(" ", "")


# ---------------------------------------------------------------------------------------
# Yes and no

_YES = {
    "ja", "jaa", "jo", "jup", "jap", "jawohl", "genau", "richtig", "stimmt", "korrekt",
    "klar", "sicher", "natuerlich", "gern", "gerne", "yes", "ok", "okay", "zutreffend",
    "selbstverstaendlich", "bestaetigt", "einverstanden", "absolut", "logo", "true",
}  # fmt: skip
_NO = {
    "nein", "ne", "nee", "noe", "no", "nicht", "kein", "keine", "keinen", "niemals",
    "nie", "false", "falsch", "negativ",
}  # fmt: skip


# "weiß ich nicht" is no answer at all, though it contains "nicht".
_UNSURE = re.compile(
    r"\b(?:weiss (?:es |ich )?(?:es )?nicht|keine ahnung|unsicher|nicht sicher|vielleicht)\b"
)


def parse_yes_no(text: str) -> bool | None:
    """ "ja genau" -> True, "nein, das nicht" -> False, anything else -> None."""
    words = fold(text).split()
    if not words or _UNSURE.search(" ".join(words)):
        return None
    negated = any(word in _NO for word in words) or "stimmt nicht" in " ".join(words)
    if words[:2] in (["stimmt", "nicht"], ["richtig", "nicht"], ["korrekt", "nicht"]):
        return False
    if negated and words[0] in _YES:
        # "Ja, aber kein regelmäßiges", "ja klar, warum nicht": better ask again.
        return None
    if negated:
        return False
    if words[0] in _YES or (len(words) > 1 and " ".join(words[:2]) == "trifft zu"):
        return True
    return None


# ---------------------------------------------------------------------------------------
# The normalizers, one per field type

_SKIP_WORDS = {
    "keine", "kein", "keiner", "nein", "nichts", "entfaellt", "keine angabe", "nicht vorhanden",
    "habe ich nicht", "habe keine", "habe keinen", "ohne", "weiter", "ueberspringen",
}  # fmt: skip
_NAME_LEAD = re.compile(
    r"^\s*(?:ich\s+hei(?:ß|ss)e|er\s+hei(?:ß|ss)t|sie\s+hei(?:ß|ss)t|es\s+hei(?:ß|ss)t|"
    r"(?:der|die|das|mein|meine|unser|unsere|sein|seine|ihr|ihre)\s+\w+\s+hei(?:ß|ss)t|"
    r"(?:(?:der|die|mein|meine|unser|unsere|sein|seine|ihr|ihre)\s+)?"
    r"(?:vor|nach|familien|zu|ruf|geburts|mädchen|maedchen)?name(?:n)?\s*(?:ist|lautet|:)|"
    r"(?:das\s+ist|ich\s+bin)(?:\s+(?:der|die|frau|herr))?)\s*",
    re.IGNORECASE,
)
# Words that are never part of a name: a sentence the lead above did not take apart is
# asked again, never stored as the name.
_NOT_IN_NAMES = {
    "ich", "mein", "meine", "ist", "bin", "heisse", "heisst", "lautet", "name", "vorname",
    "nachname", "familienname", "wohne", "bitte", "danke", "gerne", "gern",
}  # fmt: skip
_NAME_OK = re.compile(r"^[^\W\d_]+(?:[ '’.\-]+[^\W\d_]+)*\.?$")
_NUMBER_WORDS = {
    "null": 0, "kein": 0, "keine": 0, "eins": 1, "ein": 1, "eine": 1, "einen": 1, "zwei": 2,
    "drei": 3, "vier": 4, "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9,
    "zehn": 10, "elf": 11, "zwoelf": 12,
}  # fmt: skip
_DATE_FILLER = re.compile(
    r"\b(?:am|ab|dem|den|zum|bis|seit|nächsten|nächster|kommenden|kommender|diesen|dieser|"
    r"letzten|letzter|vergangenen|vergangener|vorigen|voriger)\b"
)
_FUTURE_WORDS = re.compile(r"\b(?:naechst|uebernaechst|kommend)\w*\b")
_PAST_WORDS = re.compile(r"\b(?:letzt\w*|vergangen\w*|vorig\w*|seit)\b")
_DATE_LEAD = re.compile(r"^\s*(?:am|ab dem|ab|zum|den|seit dem|seit)\s+", re.IGNORECASE)
# dateparser knows "übermorgen" and "März" but not their spellings without umlauts.
_DATE_UMLAUTS = {
    "uebermorgen": "übermorgen", "maerz": "märz", "naechsten": "nächsten",
    "naechster": "nächster",
}  # fmt: skip
_TODAY = {"heute", "sofort", "ab sofort", "ab heute", "jetzt", "ab jetzt", "umgehend", "gleich"}
_NUMERIC_DATE = re.compile(r"^(\d{1,2})\.\s*(\d{1,2})\.?\s*(\d{4}|\d{2})?\.?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.,])")
_CANONICAL_DECIMAL = re.compile(r"^-?\d+\.\d{2}$")
_PLATE = re.compile(
    r"(?<![A-ZÄÖÜ])([A-ZÄÖÜ]{1,3})[\s-]*([A-Z]{1,2})[\s-]*([1-9]\d{0,3})\s*([EH]?)(?![A-Z0-9])"
)
_STREET = re.compile(
    r"^(?P<street>[^\d,]*[^\W\d_][^\d,]*?)[\s,]*(?P<number>\d{1,4}\s*[a-zA-Z]?"
    r"(?:\s*[-/]\s*\d{1,4}\s*[a-zA-Z]?)?)$"
)


def _clean(raw: Any) -> str:
    text = unicodedata.normalize("NFC", str(raw))
    text = "".join(char for char in text if unicodedata.category(char)[0] != "C" or char == " ")
    return " ".join(text.split())


def _text(spec_field: Field, text: str) -> str:
    if not re.search(r"\w", text):
        raise InvalidAnswer(spec_field.hint)
    if len(text) > spec_field.max_length:
        raise InvalidAnswer(
            f"Bitte fassen Sie sich etwas kürzer (höchstens {spec_field.max_length} Zeichen)."
        )
    return text


def _name(spec_field: Field, text: str) -> str:
    text = _NAME_LEAD.sub("", text).strip(" .,!")
    if not text or len(text) > 100 or not _NAME_OK.match(text):
        raise InvalidAnswer(spec_field.hint)
    if set(fold(text).split()) & _NOT_IN_NAMES:
        raise InvalidAnswer(spec_field.hint)
    return text


def _date(spec_field: Field, text: str, context: FormContext) -> str:
    if _ISO_DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as error:
            raise InvalidAnswer(spec_field.hint) from error
    elif fold(text) in _TODAY:
        day = context.today
    else:
        days = [_parse_date(spec_field, text, context, f) for f in _directions(spec_field, text)]
        fitting = [day for day in days if _within(spec_field, day, context)] or days
        day = fitting[0]
        if len(fitting) == 2:  # the next one, unless it is over a week away and the last is nearer
            ahead, back = ((candidate - context.today).days for candidate in fitting)
            if ahead > 7 and -back < ahead:
                day = fitting[1]
    if spec_field.earliest_days is not None:
        earliest = context.today + timedelta(days=spec_field.earliest_days)
        if day < earliest:
            raise InvalidAnswer(f"Das Datum darf nicht vor dem {_german_date(earliest)} liegen.")
    if spec_field.latest_days is not None:
        latest = context.today + timedelta(days=spec_field.latest_days)
        if day > latest:
            raise InvalidAnswer(f"Das Datum darf nicht nach dem {_german_date(latest)} liegen.")
    return day.isoformat()


def _directions(spec_field: Field, text: str) -> tuple[bool, ...]:
    """Whether "Montag" or "15.1." means the next one (True) or the last one (False).

    The citizen's own word decides ("nächsten", "letzten", "seit"), then the field's range; in a
    field that allows both past and future days, both are tried (see ``_date``).
    """
    folded = fold(text)
    if _FUTURE_WORDS.search(folded):
        return (True,)
    if _PAST_WORDS.search(folded):
        return (False,)
    if spec_field.earliest_days is not None and spec_field.earliest_days >= 0:
        return (True,)
    if spec_field.latest_days is not None and spec_field.latest_days <= 0:
        return (False,)
    return (True, False)


def _within(spec_field: Field, day: date, context: FormContext) -> bool:
    low, high = spec_field.earliest_days, spec_field.latest_days
    return (low is None or day >= context.today + timedelta(days=low)) and (
        high is None or day <= context.today + timedelta(days=high)
    )


def _parse_date(spec_field: Field, text: str, context: FormContext, future: bool) -> date:
    if numeric := _NUMERIC_DATE.match(_DATE_LEAD.sub("", text)):
        return _numeric_date(spec_field, numeric, context, future)
    prepared = _DATE_FILLER.sub(" ", _date_words(text)) if not re.search(r"\d", text) else text
    prepared = _DATE_LEAD.sub("", prepared)
    parsed = dateparser.parse(
        prepared,
        languages=["de"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future" if future else "past",
            "RELATIVE_BASE": datetime.combine(context.today, datetime.min.time()),
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    if parsed is None:
        raise InvalidAnswer(spec_field.hint)
    return parsed.date()


def _date_words(text: str) -> str:
    """Lower-case words with their umlauts, which dateparser needs ("übermorgen")."""
    words = re.sub(r"[^\w]+", " ", text.lower()).split()
    return " ".join(_DATE_UMLAUTS.get(word, word) for word in words)


def _numeric_date(
    spec_field: Field, match: re.Match[str], context: FormContext, future: bool
) -> date:
    """ "15.12.", "15.12.26", "15.12.2026": dateparser reads "15.12" as a time of day."""
    day_of_month, month, year_text = int(match[1]), int(match[2]), match[3]
    if year_text is None:
        year = context.today.year
    elif len(year_text) == 2:
        year = 2000 + int(year_text)
        if year > context.today.year + (10 if future else 0):
            year -= 100
    else:
        year = int(year_text)
    try:
        day = date(year, month, day_of_month)
        if year_text is None and future and day < context.today:
            day = date(year + 1, month, day_of_month)
        elif year_text is None and not future and day > context.today:
            day = date(year - 1, month, day_of_month)
    except ValueError as error:
        raise InvalidAnswer(spec_field.hint) from error
    return day


def _german_date(day: date) -> str:
    return format_date(day, "d. MMMM y", locale="de_DE")


def _boolean(spec_field: Field, raw: Any) -> bool:
    value = raw if isinstance(raw, bool) else parse_yes_no(_clean(raw))
    if value is None:
        raise InvalidAnswer(spec_field.hint)
    if spec_field.must_be_true and value is not True:
        raise InvalidAnswer(spec_field.hint)
    return value


def _choice(spec_field: Field, text: str) -> str:
    folded = fold(text)
    candidates: list[tuple[int, str]] = []
    for option in spec_field.options:
        words = [option.value, option.label, *option.synonyms]
        for word in words:
            key = fold(word)
            if not key:
                continue
            if key == folded:
                return option.value
            if re.search(rf"\b{re.escape(key)}\b", folded):
                candidates.append((len(key), option.value))
    if candidates:
        candidates.sort(reverse=True)
        best = [value for length, value in candidates if length == candidates[0][0]]
        if len(set(best)) == 1:
            return best[0]
    if spec_field.other:
        return _text(spec_field, text)
    labels = ", ".join(f"„{option.label}“" for option in spec_field.options)
    raise InvalidAnswer(f"{spec_field.hint} Möglich sind: {labels}.")


def _integer(spec_field: Field, raw: Any) -> int:
    if isinstance(raw, bool):
        raise InvalidAnswer(spec_field.hint)
    if isinstance(raw, int):
        value = raw
    else:
        # "1.000" is a thousand; "2,5" and "zwei oder drei" are no whole number.
        text = _THOUSANDS.sub(lambda match: match[0].replace(".", ""), str(raw))
        if re.search(r"\d\s*[,.]\s*\d", text):
            raise InvalidAnswer(spec_field.hint)
        folded = fold(text)
        digits = re.fullmatch(r"(?:ca |etwa |circa )?(\d{1,9})(?: [^\W\d_]+)?", folded)
        words = folded.split()
        if digits:
            value = int(digits.group(1))
        elif (
            words
            and words[0] in _NUMBER_WORDS
            and len(words) <= 2
            and not any(word in _NUMBER_WORDS or word.isdigit() for word in words[1:])
        ):
            value = _NUMBER_WORDS[words[0]]
        else:
            raise InvalidAnswer(spec_field.hint)
    _check_range(spec_field, value)
    return value


def _decimal(spec_field: Field, raw: Any) -> str:
    if isinstance(raw, bool):
        raise InvalidAnswer(spec_field.hint)
    if isinstance(raw, (int, float)):
        value = Decimal(str(raw))
    else:
        text = str(raw).strip()
        if _CANONICAL_DECIMAL.match(text):
            value = Decimal(text)
        else:
            text = re.sub(r"(?i)\s*(€|euro|eur|eu)\s*", "", text).replace(" ", "")
            text = re.sub(r",-+$", "", text)
            try:
                value = parse_decimal(text, locale="de_DE", strict=True)
            except (NumberFormatError, InvalidOperation, ValueError) as error:
                raise InvalidAnswer(spec_field.hint) from error
    if not value.is_finite():
        raise InvalidAnswer(spec_field.hint)
    _check_range(spec_field, value)
    return str(value.quantize(Decimal("0.01")))


def _check_range(spec_field: Field, value: Decimal | int) -> None:
    low, high = spec_field.min, spec_field.max
    if (low is not None and value < Decimal(str(low))) or (
        high is not None and value > Decimal(str(high))
    ):
        bounds = []
        if low is not None:
            bounds.append(f"mindestens {format_decimal(low, locale='de_DE')}")
        if high is not None:
            bounds.append(f"höchstens {format_decimal(high, locale='de_DE')}")
        raise InvalidAnswer(f"{spec_field.hint} Erlaubt ist {' und '.join(bounds)}.")


def _iban(spec_field: Field, text: str) -> str:
    try:
        return str(stdnum_iban.validate(text))
    except StdnumValidationError as error:
        raise InvalidAnswer(spec_field.hint) from error


def _phone(spec_field: Field, text: str) -> str:
    try:
        number = phonenumbers.parse(text, "DE")
    except phonenumbers.NumberParseException as error:
        raise InvalidAnswer(spec_field.hint) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidAnswer(spec_field.hint)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _email(spec_field: Field, text: str) -> str:
    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise InvalidAnswer(spec_field.hint) from error


def _postal_code(spec_field: Field, text: str, context: FormContext) -> str:
    codes = re.findall(r"(?<!\d)\d{5}(?!\d)", text)
    if len(codes) != 1:
        raise InvalidAnswer(spec_field.hint)
    if spec_field.in_city and codes[0] not in context.postal_codes:
        known = ", ".join(sorted(context.postal_codes))
        raise InvalidAnswer(
            f"Die Postleitzahl {codes[0]} gehört nicht zu {context.city}. "
            f"Postleitzahlen in {context.city}: {known}."
        )
    return codes[0]


def _street(spec_field: Field, text: str, context: FormContext) -> str:
    match = _STREET.match(text.strip(" .,"))
    if not match:
        raise InvalidAnswer(spec_field.hint)
    street = " ".join(match.group("street").split()).strip(" ,")
    street = re.sub(r"(?i)str\.?$", "straße", street)
    number = re.sub(r"\s+", "", match.group("number")).lower()
    if spec_field.in_city:
        known = context.street(street)
        if known is None:
            raise InvalidAnswer(
                f"Die Straße „{street}“ finde ich in {context.city} nicht. Bitte prüfen Sie "
                "die Schreibweise und nennen Sie Straße und Hausnummer, zum Beispiel "
                "„Rathausplatz 1“."
            )
        street = known
    return f"{street} {number}"


def _plate(spec_field: Field, text: str) -> str:
    found = _PLATE.findall(text.upper())
    if len(found) != 1:
        raise InvalidAnswer(spec_field.hint)
    district, letters, digits, suffix = found[0]
    if len(district + letters + digits + suffix) > 9:
        raise InvalidAnswer(spec_field.hint)
    return f"{district}-{letters} {digits}{suffix}"


def normalize(spec_field: Field, raw: Any, context: FormContext) -> Any:
    """The canonical value of an answer, or ``InvalidAnswer`` with a German hint."""
    if raw is None:
        raise InvalidAnswer(spec_field.hint)
    if spec_field.type == "boolean":
        return _boolean(spec_field, raw)
    if spec_field.type == "integer":
        return _integer(spec_field, raw if isinstance(raw, int) else _clean(raw))
    if spec_field.type == "decimal":
        return _decimal(spec_field, raw if isinstance(raw, (int, float)) else _clean(raw))
    if not isinstance(raw, str):
        raise InvalidAnswer(spec_field.hint)
    text = _clean(raw)
    if not spec_field.required and (text == SKIP or fold(text) in _SKIP_WORDS):
        return SKIP
    if not text:
        raise InvalidAnswer(spec_field.hint)
    if len(text) > max(spec_field.max_length, 200) * 2:
        raise InvalidAnswer(
            f"Bitte fassen Sie sich kürzer (höchstens {spec_field.max_length} Zeichen)."
        )
    kind = spec_field.type
    if kind in ("text", "long_text"):
        return _text(spec_field, text)
    if kind == "name":
        return _name(spec_field, text)
    if kind == "date":
        return _date(spec_field, text, context)
    if kind == "choice":
        return _choice(spec_field, text)
    if kind == "iban":
        return _iban(spec_field, text)
    if kind == "phone":
        return _phone(spec_field, text)
    if kind == "email":
        return _email(spec_field, text)
    if kind == "postal_code":
        return _postal_code(spec_field, text, context)
    if kind == "street":
        return _street(spec_field, text, context)
    if kind == "kfz_kennzeichen":
        return _plate(spec_field, text)
    raise AssertionError(f"no normalizer for {kind}")


def check_against(spec: FormSpec, spec_field: Field, value: Any, answers: Answers) -> None:
    """Checks between fields, such as an end date not before the start date."""
    if spec_field.not_before and value not in (None, SKIP):
        start = answers.get(spec_field.not_before)
        if start not in (None, SKIP) and str(value) < str(start):
            label = spec.field(spec_field.not_before).label
            raise InvalidAnswer(
                f"Das Datum darf nicht vor „{label}“ liegen "
                f"({_german_date(date.fromisoformat(str(start)))})."
            )


def display(spec_field: Field, value: Any) -> str:
    """How an answer reads in the summary and the PDF."""
    if value is None or value == SKIP:
        return "keine Angabe"
    kind = spec_field.type
    if kind == "boolean":
        return "ja" if value is True else "nein"
    if kind == "choice":
        option = spec_field.option(value)
        return option.label if option else str(value)
    if kind == "date":
        return format_date(date.fromisoformat(str(value)), "EEEE, d. MMMM y", locale="de_DE")
    if kind == "decimal":
        return format_decimal(Decimal(str(value)), format="#,##0.00", locale="de_DE")
    if kind == "iban":
        return str(stdnum_iban.format(str(value)))
    if kind == "phone":
        number = phonenumbers.parse(str(value), "DE")
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    return str(value)


def validate_submission(
    spec: FormSpec, data: Mapping[str, Any], context: FormContext
) -> tuple[Answers, dict[str, str]]:
    """Check a whole application against its spec, as the backend does on submission.

    Returns the clean answers of the fields this case needs and, per field, what is wrong.
    A field the case does not need must not be sent; an unknown field is an error too.
    """
    errors: dict[str, str] = {}
    known = {item.name for item in spec.fields}
    for name in data:
        if name not in known:
            errors[name] = "Dieses Feld gibt es im Antrag nicht."
    answers: Answers = {}
    for item in spec.fields:
        given = data.get(item.name)
        if not spec.applies(item, answers):
            if given not in (None, SKIP):
                errors[item.name] = "Dieses Feld wird in diesem Fall nicht gefragt."
            continue
        if given is None:
            if item.required:
                errors[item.name] = "Diese Angabe fehlt."
            else:
                answers[item.name] = SKIP
            continue
        try:
            value = normalize(item, given, context)
            check_against(spec, item, value, answers)
            answers[item.name] = value
        except InvalidAnswer as invalid:
            errors[item.name] = invalid.hint
    return answers, errors
