"""Understanding and checking answers: from what a citizen types to a field's clean value.

``normalize`` takes what a citizen wrote (or what a client submitted) and returns the
field's canonical value, or raises ``InvalidAnswer`` with a hint in German. Canonical values
are plain JSON values and normalize to themselves, so the backend can check a submission
with the very function the bot used. Solved problems are left to libraries: dates to
dateparser, IBANs to python-stdnum, phone numbers to phonenumbers, e-mail addresses to
email-validator, German numbers and dates to babel, number words to text2num.

An answer is more than a value: it may be a guess to confirm (``Proposal``: "Meinen Sie das
Goethe-Gymnasium?"), a "no" that ends the form (``NotEligible``), or a whole address that
answers the postal code and town questions too (``understand_answer``).
"""

from __future__ import annotations

import contextlib
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

from forms.names import is_first_name
from forms.numbers import halves_as_digits, numbers_in, persons, the_number, words_to_digits
from forms.spec import Field, FormSpec

Answers = dict[str, Any]

SKIP = ""  # the value of an optional field the citizen left out


class InvalidAnswer(ValueError):
    """An answer that does not fit the field; ``hint`` says what is expected, in German."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


class Proposal(InvalidAnswer):
    """An answer close to a value but not certain: the citizen confirms ``value`` first."""

    def __init__(
        self,
        value: Any,
        question: str,
        also: dict[str, Any] | None = None,
        otherwise: Any = None,
    ) -> None:
        super().__init__(question)
        self.value = value
        # Later fields answered too, when the citizen confirms.
        self.also = also or {}
        # The value when the citizen says no ("Hans Peter" is two first names), if any.
        self.otherwise = otherwise


def _did_you_mean(shown: str) -> str:
    """The question that proposes a value: "Meinen Sie „Goethe-Gymnasium“? …"."""
    return (
        f"Meinen Sie „{shown}“? Dann antworten Sie einfach mit „ja“, sonst mit der richtigen "
        "Angabe."
    )


class NotEligible(InvalidAnswer):
    """A truthful "no" to a question the case depends on: ``hint`` says where to go instead."""


@dataclass(frozen=True)
class Understood:
    """An answer's value, and the values of later fields the same message gave."""

    value: Any
    also: dict[str, Any] = field(default_factory=dict)


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

    def street(self, name: str, exact: bool = False) -> str | None:
        """The city's spelling of a street, forgiving case, umlauts and "Str."; with
        ``exact=False`` also small typos."""
        key = _street_key(name)
        if key in self._folded_streets:
            return self._folded_streets[key]
        if exact:
            return None
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
    r"\b(?:weiss (?:es |ich |das )*(?:\w+ )?nicht|keine ahnung|unsicher|nicht sicher|"
    r"vielleicht|versteh\w* (?:\w+ ){0,3}nicht)\b"
)
# An idiom that says yes: "ja gut, wenn's nicht anders geht".
_GRUDGING = re.compile(r"\bwenn\s?s?\s+(?:es\s+)?nicht\s+anders\s+geht\b")


def parse_yes_no(text: str) -> bool | None:
    """ "ja genau" -> True, "nein, das nicht" -> False, anything else -> None."""
    words = _GRUDGING.sub(" ", fold(text)).split()
    if not words or _UNSURE.search(" ".join(words)):
        return None
    if len(words) > 1 and words[0] == "na" and words[1] in _YES:
        words = words[1:]  # "na klar", "na gut"
    # "ne" is "no" only on its own; "wir haben ne Garage" is "eine".
    negated = (
        any(word in _NO and word != "ne" for word in words)
        or words[0] == "ne"
        or "stimmt nicht" in " ".join(words)
    )
    if words[:2] in (["stimmt", "nicht"], ["richtig", "nicht"], ["korrekt", "nicht"]):
        return False
    if negated and words[0] in _YES:
        # "Ja, aber kein regelmäßiges", "ja klar, warum nicht": better ask again.
        return None
    if negated:
        return False
    if words[0] in _YES or (len(words) > 1 and " ".join(words[:2]) == "trifft zu"):
        return True
    if words[-1] in {"ja", "jawohl", "okay", "ok"}:
        return True  # "na gut, wenn's sein muss, ja"
    return None


# ---------------------------------------------------------------------------------------
# The normalizers, one per field type

_SKIP_WORDS = {
    "keine", "kein", "keiner", "nein", "nichts", "entfaellt", "keine angabe", "nicht vorhanden",
    "habe ich nicht", "habe keine", "habe keinen", "ohne", "weiter", "ueberspringen",
}  # fmt: skip
_HEISSEN = r"hei(?:ß|ss)(?:e|t|en)?|hie(?:ß|ss)(?:en)?"
_NAME_LEAD = re.compile(
    r"^\s*(?:(?:hallo|hi|guten\s+tag|moin|ja|also|ok|okay)[\s,!.]+)?(?:"
    rf"(?:ich|er|sie|es|wir|die|der|das)\s+(?:{_HEISSEN})|"
    rf"(?:der|die|das|mein|meine|unser|unsere|sein|seine|ihr|ihre)\s+\w+\s+(?:{_HEISSEN})|"
    r"(?:(?:der|die|mein|meine|unser|unsere|sein|seine|ihr|ihre)\s+)?"
    r"(?:vor|nach|familien|zu|ruf|geburts|mädchen|maedchen)?name(?:n)?\s*(?:ist|lautet|:|(?=\s+\S))|"
    r"hier\s+(?:ist|schreibt|spricht)|(?:gerufen|genannt)\s+wird\s+(?:er|sie|es)(?:\s+aber)?|"
    r"(?:das\s+(?:ist|wäre|waere)|ich\s+bin)(?:\s+(?:der|die|frau|herr))?)\s*",
    re.IGNORECASE,
)
# "Bernd heiß ich", "Sonntag heiße ich mit Nachnamen", "Schneider-Öztürk, wie ich".
_NAME_TAIL = re.compile(
    rf"[\s,]+(?:hier(?:\s+am\s+apparat)?|(?:{_HEISSEN})\s+(?:ich|er|sie|es|wir)(?:\s+mit\s+(?:vor|nach|familien)?"
    r"namen)?|(?:so\s+)?wie\s+ich|wie\s+(?:mein|meine)\s+\w+|bitte|danke)\s*[.!]?$",
    re.IGNORECASE,
)
# Words that are never part of a name: a sentence the lead above did not take apart is
# asked again, never stored as the name.
_NOT_IN_NAMES = {
    "ich", "mein", "meine", "ist", "bin", "heisse", "heisst", "lautet", "name", "vorname",
    "nachname", "familienname", "wohne", "bitte", "danke", "gerne", "gern", "eigentlich",
    "moment", "sekunde", "augenblick", "weiss", "nicht", "keine", "ahnung", "steht", "oben",
    "geht", "nichts", "noch", "wir", "mich", "mir", "genauso", "auf", "sie", "ueberlegen",
    "und", "oder", "sondern", "hallo", "moin", "servus", "ja", "nein", "ok", "okay", "tag",
    "hier", "dran", "am", "apparat", "nochmal", "wieder", "aber", "wird", "er",
    "gerufen", "genannt", "kompliziert", "gesagt", "siehe", "egal", "genau", "richtig",
    "klar", "halt", "natuerlich", "selbst", "punkt", "so", "also", "eben", "jetzt",
}  # fmt: skip
# Words before a comma that introduce the name after it.
_NOT_NAMES_LEAD = {
    "unser", "unsere", "unseren", "der", "die", "das", "waere", "ist", "meister", "chef", "auf",
    "meinen", "meinem", "mutter", "vater", "mama", "papa", "oma", "opa", "mann", "frau", "sohn",
    "tochter", "ehemann", "ehefrau", "partner", "partnerin", "kollege", "kollegin", "am",
    "besten", "inhaber", "inhaberin",
}  # fmt: skip
# What a citizen adds after a name to explain it: "Jana, mit einem n", "Winter, wie die
# Jahreszeit", "Stefanie, aber alle sagen Steffi", "Schmitt mit Doppel-t".
_NAME_EXPLAINED = re.compile(
    r"^(?P<name>[^,.;:()]+?)\s*(?:[,.;:(]\s*|\s+(?=mit\s|wie\s+(?:das|der|die|ein|eine|im|in)\s))"
    r"(?:mit|wie|aber|also|ja|das|so|genau|ohne|nicht|geschrieben|bitte|danke|bin|ist|kein|"
    r"keine|nur)\b.*$",
    re.IGNORECASE,
)
# Titles and forms of address are not part of the name ("Dr. Eva Schulz", "Herr Baumann").
_NAME_TITLES = re.compile(
    r"^(?:(?:herrn?|frau|dr|prof|dipl|ing|med)\.?\s+)+(?=\S+\s+\S)", re.IGNORECASE
)
_NAME_HEDGE = re.compile(r"^(?:eigentlich|offiziell|richtig|korrekt)\s+", re.IGNORECASE)
_NAME_OK = re.compile(r"^[^\W\d_]+(?:[ '’.\-]+[^\W\d_]+)*\.?$")
_DATE_FILLER = re.compile(
    r"\b(?:am|ab|dem|den|zum|bis|seit|nächsten|nächster|kommenden|kommender|diesen|dieser|"
    r"letzten|letzter|letztem|vergangenen|vergangener|vergangenem|vorigen|voriger|vorigem|"
    r"nächstem|kommendem|diesem)\b"
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
    r"(?<![A-ZÄÖÜ])([A-ZÄÖÜ]{1,3})[\s-]+([A-Z]{1,2})[\s-]*([1-9]\d{0,3})\s*([EH]?)(?![A-Z0-9])"
)


def _clean(raw: Any) -> str:
    text = unicodedata.normalize("NFC", str(raw))
    text = "".join(char for char in text if unicodedata.category(char)[0] != "C" or char == " ")
    return " ".join(text.split())


# Said while looking something up, or instead of an answer: never stored as one.
_NO_ANSWER = re.compile(
    r"^(?:(?:einen\s+)?moment(?:\s+(?:bitte|mal|noch))?|(?:eine\s+)?sekunde|(?:einen\s+)?augenblick|"
    r"siehe\s+oben|s\.\s*o\.?|wie\s+(?:schon\s+)?(?:gesagt|oben|geschrieben)|k\.?\s*a\.?$|"
    r"keine\s+angabe$|(?:das\s+ist\s+)?(?:kompliziert|schwierig)$|(?:ach\s+so,?\s+)?egal$|"
    r"(?:ja|nein|jo|nee|ok|okay)$|"
    r"warte(?:n\s+sie)?(?:\s+mal)?|ae+h*m*|hm+|keine\s+ahnung|"
    r"(?:das\s+)?weiss\s+(?:ich\s+)?(?:es\s+|das\s+)?(?:nicht|grad\w*\s+nicht)|"
    r"schwer\s+zu\s+sagen|gute\s+frage|mal\s+sehen|"
    r"(?:da\s+|das\s+)?muss\s+ich\s+(?:erst\s+|mal\s+|noch\s+)*(?:nach\w*|gucken|schauen|suchen)|"
    r"(?:das\s+|es\s+)?steht\s+(?:doch\s+|schon\s+|alles\s+)*(?:oben|auf|im|in|unter|da)|"
    r"(?:hallo|hi|wie\s+bitte|was|hae+h?)$|weiss\s+ich\s+(?:noch\s+)?nicht|"
    r"(?:koennen|konnen|kannst)\s+(?:sie|du)\s+(?:die\s+frage|das)\s+(?:noch\s*mal|noch\s+einmal|wiederholen)|"
    r"(?:das\s+)?(?:moechte|will|mag)\s+ich\s+(?:lieber\s+)?(?:nicht|persoenlich)|"
    r"wo\s+steht\s+das|(?:das\s+)?hab(?:e)?\s+ich\s+(?:ihnen\s+|dir\s+|euch\s+)?(?:doch\s+)?"
    r"(?:vorhin\s+|eben\s+|oben\s+|gerade\s+)?(?:schon\s+|bereits\s+)+"
    r"(?:\w+\s+)?(?:gesagt|geschrieben|angegeben|genannt))\b"
)


def _text(spec_field: Field, text: str) -> str:
    if _NO_ANSWER.match(fold(text)) or text.rstrip().endswith("?"):
        raise InvalidAnswer(f"Das habe ich nicht als Antwort verstanden. {spec_field.hint}")
    if not re.search(r"\w", text):
        raise InvalidAnswer(spec_field.hint)
    if len(text) > spec_field.max_length:
        raise InvalidAnswer(
            f"Bitte fassen Sie sich etwas kürzer (höchstens {spec_field.max_length} Zeichen)."
        )
    return text


def _name(spec_field: Field, text: str) -> str:
    text = _NAME_TAIL.sub("", _NAME_LEAD.sub("", text)).strip(" .,!")
    text = _NAME_HEDGE.sub("", text)
    if explained := _NAME_EXPLAINED.match(text):
        text = explained.group("name").strip()
    text = _NAME_TITLES.sub("", text)
    if "," in text:
        # "das wäre unser Meister, Marek Kowalski": the name after a phrase that is none.
        head, _, tail = text.rpartition(",")
        if set(fold(head).split()) & (_NOT_IN_NAMES | _NOT_NAMES_LEAD):
            text = _NAME_TITLES.sub("", _NAME_LEAD.sub("", tail.strip(" .!")).strip())
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
    elif fold(text) in _TODAY or _DATE_POLITE.sub(" ", fold(text)).strip() in _TODAY:
        day = context.today
    elif (span := date_range(text)) is not None and text not in span:
        # The first day of "vom 15. bis 17. Januar" (the last one answers the end date), or
        # the last one at the end date's own question.
        return _date(spec_field, span[1] if spec_field.not_before else span[0], context)
    else:
        try:
            days = [
                _parse_date(spec_field, text, context, f) for f in _directions(spec_field, text)
            ]
        except InvalidAnswer:
            # "die Hochzeit war am 7. Juli 1990", "ab Neujahr", "Mittwoch nächste Woche",
            # "am achten März neunzehnhundertzweiundsiebzig", "gestern erst geholt"
            for phrase in _date_alternatives(text, context.today):
                try:
                    days = [
                        _parse_date(spec_field, phrase, context, f)
                        for f in _directions(spec_field, text)
                    ]
                    break
                except InvalidAnswer:
                    continue
            else:
                raise
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


_FEAST_DAYS = {"neujahr": "1.1.", "silvester": "31.12.", "heiligabend": "24.12.",
               "weihnachten": "25.12.", "tag der arbeit": "1.5.",
               "tag der deutschen einheit": "3.10."}  # fmt: skip
WEEKDAYS = ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")
_MONTHS = (
    r"januar|jan|februar|feb|maerz|märz|mrz|april|apr|mai|juni|jun|juli|jul|august|aug|"
    r"september|sept|sep|oktober|okt|november|nov|dezember|dez"
)
# "vom 15. bis 17. Januar", "15.-17.1.": the first and the last day.
_DATE_RANGE = re.compile(
    rf"(?<![\d.])\b(\d{{1,2}})\.?\s*(?:bis(?:\s+zum)?|-|–)\s*(\d{{1,2}})\.\s*((?:{_MONTHS})\.?|\d{{1,2}}\.)"
    r"(\s*\d{4})?",
    re.IGNORECASE,
)


def date_range(text: str) -> tuple[str, str] | None:
    """The first and the last day of a range said in one ("vom 15. bis 17. Januar"), as
    the date parsers read them; None when the answer names no such range."""
    found = _DATE_RANGE.search(text)
    if not found:
        return None
    first, last, month, year = found.groups()
    year = year or ""
    return f"{first}. {month}{year}".strip(), f"{last}. {month}{year}".strip()


_DATE_IN_TEXT = re.compile(
    rf"\b(\d{{1,2}}\.\s?\d{{1,2}}\.(?:\s?\d{{4}}|\d{{2}}\b)?|\d{{1,2}}\.?\s+(?:{_MONTHS})\.?"
    r"(?:\s+\d{4})?|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)


_DATE_POLITE = re.compile(r"\b(?:bitte|erst|schon|genau|halt|eben|dann|danke)\b")
_RELATIVE_DAYS = ("vorgestern", "gestern", "heute", "morgen", "uebermorgen")


def _date_alternatives(text: str, today: date) -> list[str]:
    """Other readings of a date answer the parsers did not take: the date inside a sentence,
    the answer without polite words, with its number words as digits ("am achten März" ->
    "am 8. märz")."""
    plain = " ".join(_DATE_POLITE.sub(" ", text.lower()).split())
    digits = words_to_digits(plain)
    found: list[str] = []
    for candidate in (
        _date_in_sentence(text, today),
        plain,
        digits,
        _date_in_sentence(digits, today),
    ):
        if candidate and candidate != text and candidate not in found:
            found.append(candidate)
    return found


def _date_in_sentence(text: str, today: date) -> str | None:
    """The part of a sentence that is a date, as the parsers read it; None if there is none."""
    folded = fold(text)
    year = re.search(r"\b(?:19|20)\d{2}\b", folded)
    for name, day in _FEAST_DAYS.items():
        if re.search(rf"\b{name}\b", folded):
            return f"{day}{year.group()}" if year else day
    for index, weekday in enumerate(WEEKDAYS):
        if re.search(rf"\b{weekday}\b", folded) and re.search(r"\bnaechste\w* woche\b", folded):
            monday = today + timedelta(days=7 - today.weekday())
            return (monday + timedelta(days=index)).strftime("%d.%m.%Y")
    found = _DATE_IN_TEXT.findall(text)
    if not found:
        # "gestern erst geholt": one day named relative to today, and nothing else.
        words = folded.split()
        relative = [word for word in words if word in _RELATIVE_DAYS]
        if (
            len(relative) == 1
            and len(words) <= 4
            and not set(words) & (_NO | {"ab", "bis", "nach", "aber", "also", "ausser"})
            and not re.search(r"\d", folded)
        ):
            return _DATE_UMLAUTS.get(relative[0], relative[0])
    return found[0] if len(found) == 1 else None


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
    long_past = (spec_field.earliest_days is not None and spec_field.earliest_days < -7300) and (
        spec_field.latest_days is not None and spec_field.latest_days <= 0
    )
    if year_text is None and long_past:
        # A birth or a wedding: "am 5.2." says nothing of the year.
        raise InvalidAnswer(f"Bitte nennen Sie auch das Jahr. {spec_field.hint}")
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


_EXAMPLES = re.compile(r"zum\s+Beispiel\s+([^?]+)\?", re.IGNORECASE)
_EXAMPLE_FILLER = {
    "ein", "eine", "einen", "einer", "der", "die", "das", "als", "mit", "bei", "fuer", "wegen",
}  # fmt: skip


def _examples(question: str) -> list[tuple[str, ...]]:
    """The things a yes/no question gives as examples ("Einkommen, zum Beispiel Lohn, Rente
    oder Kindergeld?"), each as its folded words ("american", "bulldog")."""
    listed = _EXAMPLES.search(question)
    if not listed:
        return []
    found = []
    for part in re.split(r",|\boder\b|\bund\b", listed.group(1)):
        words = tuple(word for word in fold(part).split() if word not in _EXAMPLE_FILLER)
        if words and len("".join(words)) >= 4:
            found.append(words)
    return found


# Words that make an example named in an answer no plain yes.
_EXAMPLE_DOUBT = {
    "frueher", "abgelehnt", "beantragt", "erst", "bis", "war", "waren", "wurde", "geleast",
    "miete", "gehoert", "aber", "wie", "ob", "vielleicht", "bald", "noch", "fuer", "verkaufe",
}  # fmt: skip


def _same_word(said: str, example: str) -> bool:
    """The same word, maybe inflected: "Tischlerin" for "Tischler", "Friseur" for
    "Friseurin"; not "Bulldogge" for "Bulldog"."""
    endings = ("", "e", "n", "en", "s", "es", "in", "innen")
    trades = ("meister", "meisterin", "geselle", "gesellin", "betrieb", "firma")
    return (
        any(said == example + end for end in endings)
        or any(example == said + end for end in endings)
        or any(said == example + trade for trade in trades)  # "Elektrikermeister"
    )


def _names_an_example(spec_field: Field, text: str) -> bool:
    """ "nur das Kindergeld", "meine Rente, aber die ist klein", "ich bin Tischler": the answer
    names one of the question's own examples, and says no "nicht" or "kein"."""
    words = fold(text).split()
    if text.rstrip().endswith("?") or any(word in _NO for word in words):
        return False
    if _UNSURE.search(" ".join(words)):
        return False
    return any(
        all(any(_same_word(word, part) for word in words) for part in example)
        for example in _examples(spec_field.question)
    )


def _boolean(spec_field: Field, raw: Any) -> bool:
    value = raw if isinstance(raw, bool) else parse_yes_no(_clean(raw))
    if value is None and not isinstance(raw, bool) and _names_an_example(spec_field, _clean(raw)):
        words = fold(_clean(raw)).split()
        if len(words) > 4 or set(words) & _EXAMPLE_DOUBT:
            # "Kindergeld ist beantragt", "früher Bürgergeld": asked, not taken.
            raise Proposal(True, "Verstehe ich Sie richtig: Die Antwort ist „ja“?")
        value = True
    if value is None:
        raise InvalidAnswer(spec_field.hint)
    if spec_field.must_be_true and value is not True:
        if spec_field.if_not and not isinstance(raw, bool) and _plain_no(_clean(raw)):
            raise NotEligible(spec_field.if_not)
        raise InvalidAnswer(spec_field.hint)
    return value


# A "no" that ends a form must be one: it starts with no, and says nothing of "not yet",
# "but", or doubt ("Noch nicht, aber mein Chef schreibt sie mir", "Kein Problem").
_PLAIN_NO_START = {"nein", "nee", "ne", "noe", "no", "leider"}
_NOT_PLAIN = re.compile(
    r"\b(?:aber|noch|bald|spaeter|morgen|demnaechst|sicher|reicht|problem|vielleicht|"
    r"glaube|weiss|eigentlich|sondern|doch)\b"
)


def _plain_no(text: str) -> bool:
    folded = fold(text)
    words = folded.split()
    return (
        bool(words)
        and words[0] in _PLAIN_NO_START
        and not text.rstrip().endswith("?")
        and not _NOT_PLAIN.search(folded)
    )


# A misspelt option ("Goete-Gymnasium") is proposed above this similarity, never taken.
PROPOSE_SIMILARITY = 0.8


_ORDINALS = ("erste", "zweite", "dritte", "vierte", "fuenfte", "sechste", "letzte")
_ORDINAL_CHOICE = re.compile(
    rf"^(?:das|die|der|den|nehme|nehm|ich nehme)?\s*({'|'.join(_ORDINALS)})[nrs]?"
    r"(?:\s+(?:option|moeglichkeit|antwort|davon|bitte))*$"
)


def _several_named(candidates: list[tuple[int, str, str, int]]) -> bool:
    """Whether different options are named in different places of the answer."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for length, value, _, start in candidates:
        spans.setdefault(value, []).append((start, start + length))
    values = list(spans)
    return any(
        all(
            a_end <= b_start or b_end <= a_start
            for a_start, a_end in spans[first]
            for b_start, b_end in spans[second]
        )
        for i, first in enumerate(values)
        for second in values[i + 1 :]
    )


def _option_for_several(spec_field: Field) -> str | None:
    """The option that stands for more than one of the others ("Mehrere davon")."""
    for option in spec_field.options:
        if fold(option.value) == "mehrere" or fold(option.label).startswith("mehrere"):
            return option.value
    return None


_BAND = re.compile(
    r"^(?:(?P<low>[\d.]+)\s+bis\s+(?P<high>[\d.]+)|(?:bis|unter)\s+(?P<upto>[\d.]+)|"
    r"(?:über|ueber|mehr als|ab)\s+(?P<over>[\d.]+))\s*(?:€|euro)?$"
)
_ROUGHLY = re.compile(r"\b(?:ca|circa|etwa|ungefaehr|rund|so|knapp|gut)\b")


def _bands(spec_field: Field) -> list[tuple[Decimal, Decimal, str]] | None:
    """The options as ranges of amounts ("bis 40.000 €", "40.001 bis 60.000 €", "über
    80.000 €"), or None when the options are not such ranges."""
    bands = []
    for option in spec_field.options:
        match = _BAND.match(option.label.lower().strip())
        if not match:
            return None
        number = {k: Decimal(v.replace(".", "")) for k, v in match.groupdict().items() if v}
        low = number.get("low", number.get("over", Decimal("-Infinity")))
        high = number.get("high", number.get("upto", Decimal("Infinity")))
        bands.append((low, high, option.value))
    return bands or None


def _band(spec_field: Field, text: str) -> str | None:
    """The range option an amount falls in: "ca. 55.000 brutto im Jahr" -> "40.001 bis
    60.000 €"; the incomes of several people are added ("ich 38.000, meine Frau 30.000"). A
    monthly amount is proposed for the year (times 12); so is an amount said roughly close to
    a limit."""
    bands = _bands(spec_field)
    found = numbers_in(text) if bands else None
    if not bands or not found or len(found) != 1 or found[0] < 1000:
        return None  # "über 80", "58.000, davon 6.000 Kindergeld": asked again
    if re.search(r"\b(?:mal|je|x|à|mio|millionen?)\b|\d\s*x\s*\d", fold(text)):
        return None
    _gross_or_net(spec_field, text)
    total = found[0]
    monthly = bool(re.search(r"\b(?:im|pro|je|per)\s+monat\b|\bmonatlich", fold(text)))
    if monthly:
        total *= 12
    value = next((v for low, high, v in bands if low <= total <= high), None)
    if value is None:
        value = next(
            (v for low, high, v in bands if low <= total.to_integral_value() <= high), None
        )
    if value is None:
        return None
    near = any(
        abs(total - limit) <= limit * Decimal("0.05")
        for low, high, _ in bands
        for limit in (low, high)
        if limit.is_finite() and limit > 0
    )
    if monthly or (near and _ROUGHLY.search(fold(text))):
        label = next(o.label for o in spec_field.options if o.value == value)
        amount = format_decimal(total, format="#,##0", locale="de_DE")
        raise Proposal(value, f"Das sind im Jahr etwa {amount} € – also „{label}“, richtig?")
    return value


def _choice(spec_field: Field, text: str) -> str:
    folded = fold(text)
    if ordinal := _ORDINAL_CHOICE.match(folded):
        index = _ORDINALS.index(ordinal.group(1))
        options = spec_field.options
        if index == len(_ORDINALS) - 1 and options:
            return options[-1].value  # "die letzte"
        if index < len(options):
            return options[index].value  # "das erste", "die zweite Möglichkeit"
    candidates: list[tuple[int, str, str, int]] = []
    for option in spec_field.options:
        words = [option.value, option.label, *option.synonyms]
        for word in words:
            key = fold(word)
            if not key:
                continue
            if key == folded:
                return option.value
            if found := re.search(rf"\b{re.escape(key)}\b", folded):
                candidates.append((len(key), option.value, key, found.start()))
    many = _option_for_several(spec_field) if candidates else None
    if many is not None and _several_named(candidates):
        return many  # "Gehweg und zwei Parkplätze davor": "Mehrere davon"
    if candidates:
        candidates.sort(reverse=True)
        best = [value for length, value, _, _ in candidates if length == candidates[0][0]]
        if len(set(best)) == 1 and not _names_another(spec_field, text, candidates[0][2]):
            return best[0]
    labels = ", ".join(f"„{option.label}“" for option in spec_field.options)
    if not candidates and (band := _band(spec_field, text)) is not None:
        return band
    if close := _close_option(spec_field, folded):
        raise Proposal(close.value, _did_you_mean(close.label))
    if spec_field.other:
        return _text(spec_field, text)
    raise InvalidAnswer(f"Das kann ich keiner der Möglichkeiten zuordnen. Möglich sind: {labels}.")


# Words that may stand right before an option's name without changing what it names.
_BEFORE_OPTION = {
    "der", "die", "das", "dem", "den", "des", "ein", "eine", "einer", "einem", "einen", "im",
    "in", "ins", "am", "an", "auf", "aufs", "zum", "zur", "bei", "beim", "vom", "von", "mit",
    "per", "als", "ist", "sind", "geht", "gehen", "mein", "meine", "meinem", "unser",
    "unsere", "unserem", "bitte", "also", "ja", "nur", "eher", "lieber", "am besten", "es",
    "er", "sie", "wir", "ich", "nach", "fuer", "ueber", "bzw", "und", "oder", "besucht",
    "sehr", "ganz", "eigentlich", "wohl", "dann", "meines", "meiner", "seines", "seiner",
    "ihres", "ihrer", "unseres", "unserer", "deren", "dessen", "kein", "keine", "nicht",
    "nein", "doch", "ok", "okay", "genau", "gern", "gerne",
}  # fmt: skip


_PLACE_WORDS = {"am", "an", "im", "auf", "zum", "zur"}


def _names_another(spec_field: Field, text: str, key: str) -> bool:
    """Whether the answer names something the options do not have: "Schiller-Gymnasium" or
    "aufs Schiller Gymnasium" when only the "Goethe-Gymnasium" is listed, "Gesamtschule Nord"
    when only the "Gesamtschule Musterstadt" is. A word joined to the option's word by a
    hyphen tells, or, for a one-word option, a capitalised word right before it (not at the
    start) or right after it."""
    tokens = list(re.finditer(r"[^\W_]+", text))
    folded = [fold(token.group()) for token in tokens]
    size = len(key.split())
    known = {
        fold(name)
        for option in spec_field.options
        for name in (option.value, option.label, *option.synonyms)
    }
    for start in range(len(tokens) - size + 1):
        if " ".join(folded[start : start + size]) != key:
            continue
        end = start + size - 1
        neighbours = []
        if start > 0:
            gap = text[tokens[start - 1].end() : tokens[start].start()].strip()
            neighbours.append((start - 1, gap, start - 1 > 0, f"{folded[start - 1]} {key}"))
        if end + 1 < len(tokens):
            gap = text[tokens[end].end() : tokens[end + 1].start()].strip()
            neighbours.append((end + 1, gap, True, f"{key} {folded[end + 1]}"))
        if (
            end + 2 < len(tokens)
            and folded[end + 1] in _PLACE_WORDS
            and tokens[end + 2].group()[0].isupper()
            and not any(f"{key} {folded[end + 1]} {folded[end + 2]}" in n for n in known)
        ):
            return True  # "Gymnasium am Wall" is not the listed "Goethe-Gymnasium"
        for index, gap, inside, combined in neighbours:
            word = folded[index]
            if word in _BEFORE_OPTION or word.isdigit() or any(combined in n for n in known):
                continue
            hyphen = gap in ("-", "‐")
            named = size == 1 and inside and tokens[index].group()[0].isupper()
            if hyphen or named:
                return True
    return False


def _same_numbers(first: str, second: str) -> bool:
    """ "drei jahre" is no typo of "zwei jahre": a near miss must name the same numbers."""
    return numbers_in(first) == numbers_in(second)


def _close_option(spec_field: Field, folded: str) -> Any:
    """The one option whose label or synonym is spelt almost like the answer, if any."""
    scored: list[tuple[float, str]] = []
    for option in spec_field.options:
        for word in (option.label, *option.synonyms):
            key = fold(word)
            if len(key) >= 4:
                ratio = difflib.SequenceMatcher(None, key, folded).ratio()
                if ratio >= PROPOSE_SIMILARITY and _same_numbers(key, folded):
                    scored.append((ratio, option.value))
    if not scored:
        return None
    scored.sort(reverse=True)
    best = {value for ratio, value in scored if ratio >= scored[0][0] - 0.05}
    return spec_field.option(best.pop()) if len(best) == 1 else None


def _integer(spec_field: Field, raw: Any) -> int:
    if isinstance(raw, bool):
        raise InvalidAnswer(spec_field.hint)
    if isinstance(raw, int):
        value = raw
    else:
        # "1.000" is a thousand; "2,5", "zwei oder drei" and "2-3" are no whole number.
        text = str(raw)
        counted = persons(text) if spec_field.counts == "persons" else None
        if (
            counted is None
            and spec_field.counts == "persons"
            and (
                re.search(r"\d\D+\d", text)
                or re.search(r"[^\W\d_]{3,}", re.sub(r"(?i)personen|leute|menschen", "", text))
            )
            and the_number(text) is not None
        ):
            # Several numbers that are not a count of people: never one of them.
            raise InvalidAnswer(_number_hint(spec_field, text))
        number = the_number(text) if counted is None else Decimal(counted)
        if spec_field.unit == "years" and (age := _age(text)) is not None:
            number = Decimal(age)
        if number is None and re.match(
            r"^(?:gar |noch )?(?:kein|keine|keiner|keinen|niemand)\b", fold(text)
        ):
            number = Decimal(0)  # "keine", "keine Kinder", "niemand"
        if number is None:
            raise InvalidAnswer(_number_hint(spec_field, text))
        if number != number.to_integral_value():
            raise InvalidAnswer(f"Das ist keine ganze Zahl. {spec_field.hint}")
        value = int(number)
    _check_range(spec_field, value)
    return value


_HALF_YEARS = re.compile(r"\b(anderthalb|eineinhalb|(\w+?)einhalb)\b")
_YOUNGER = re.compile(r"(\d+)\s*(monat|woche|tag)")


def _age(text: str) -> int | None:
    """An age in whole years said otherwise: "8 Monate" 0, "anderthalb" 1, "der Kleine wird
    nächsten Monat vier" 3; None for an age said plainly (or not at all)."""
    folded = fold(text)
    if re.search(r"\b(?:ein\s+)?halbes\s+jahr\b", folded):
        return 0
    if half := _HALF_YEARS.search(folded):
        if half.group(1) in ("anderthalb", "eineinhalb"):
            return 1
        whole = the_number(half.group(2))
        return int(whole) if whole is not None else None
    converted = words_to_digits(folded)
    if younger := _YOUNGER.search(converted):
        months = int(younger.group(1)) if younger.group(2) == "monat" else 0
        return months // 12
    if re.search(r"\bwird\b", converted) and not re.search(r"\b(?:ist|bin)\b", converted):
        number = the_number(converted)
        if number is not None and number >= 1:
            return int(number) - 1  # "wird bald vier": three now
    return None


def _number_hint(spec_field: Field, text: str) -> str:
    """What was wrong with an answer that gave no single number."""
    if re.search(r"\d[.,]\d+[.,]\d", text):
        return f"Diese Zahl kann ich nicht lesen. {spec_field.hint}"
    if re.search(r"\d|\b(?:oder|bis)\b", text):
        return f"Das sind mehrere Zahlen oder eine Spanne. {spec_field.hint}"
    return spec_field.hint


def _gross_or_net(spec_field: Field, text: str) -> None:
    """A net amount where the question asks for the gross one (or the other way round) is
    asked again: the two differ by a third."""
    asked = fold(f"{spec_field.label} {spec_field.question}")
    said = fold(text)
    for wanted, other in (("brutto", "netto"), ("netto", "brutto")):
        if re.search(rf"\b{wanted}\w*", asked) and re.search(rf"\b{other}\w*", said):
            raise InvalidAnswer(
                f"Gefragt ist der {wanted.capitalize()}betrag, nicht der {other.capitalize()}"
                f"betrag. {spec_field.hint}"
            )


def _decimal(spec_field: Field, raw: Any) -> str:
    if isinstance(raw, bool):
        raise InvalidAnswer(spec_field.hint)
    if isinstance(raw, (int, float)):
        value = Decimal(str(raw))
    else:
        text = halves_as_digits(str(raw).strip())
        if _CANONICAL_DECIMAL.match(text):
            value = Decimal(text)
        elif spec_field.unit == "m2" and (area := _area(spec_field, text)) is not None:
            value = area
        elif _UNSURE.search(fold(text)):
            # "450 kalt, Nebenkosten weiß ich grad nicht": not the whole amount.
            raise InvalidAnswer(f"Eine Schätzung genügt. {spec_field.hint}")
        else:
            plain = re.sub(r"(?i)\s*(€|euro|eur|eu)\s*", "", text).replace(" ", "")
            plain = re.sub(r",-+$", "", plain)
            try:
                value = parse_decimal(plain, locale="de_DE", strict=True)
            except (NumberFormatError, InvalidOperation, ValueError):
                # "etwa 1.250 Euro netto im Monat", "zwölf Quadratmeter", "480 plus 130"
                number = the_number(re.sub(r"(?<=\d),-+", "", text))
                if number is None:
                    number = _sum(text)
                if (
                    number is None
                    and (
                        _NOTHING.match(fold(re.split(r"[,;.!]", text)[0]))
                        or _PAYS_NOTHING.search(fold(text))
                    )
                    and not re.search(r"\d", text)
                ):
                    number = Decimal(0)  # "ich zahle keine Miete", "nichts"
                if number is None:
                    raise InvalidAnswer(_number_hint(spec_field, text)) from None
                value = number
        if spec_field.unit == "euro_per_month" and _YEARLY.search(fold(text)) and value:
            monthly = (value / 12).quantize(Decimal("0.01"))
            raise Proposal(
                str(monthly),
                f"Im Monat sind das {format_decimal(monthly, format='#,##0.00', locale='de_DE')} € "
                "– richtig?",
            )
    if not value.is_finite():
        raise InvalidAnswer(spec_field.hint)
    if isinstance(raw, str):
        _gross_or_net(spec_field, raw)
    _check_range(spec_field, value)
    return str(value.quantize(Decimal("0.01")))


_NOTHING = re.compile(
    r"^(?:ich\s+|wir\s+)?(?:zahle\s+|zahl\s+|zahlen\s+|habe\s+|hab\s+|haben\s+|bekomme\s+|"
    r"krieg\w*\s+|verdiene\s+)?"
    r"(?:gar\s+|ueberhaupt\s+)?(?:(?:keine|keinen|kein)(?:\s+(?:miete|einkommen|kosten|geld|"
    r"lohn|gehalt|rente|euro|wohnkosten|mietkosten|nebenkosten))?|nichts|nix|null)$"
)
_PAYS_NOTHING = re.compile(
    r"\b(?:zahle|zahl|zahlen|bezahle)\s+(?:gar\s+|ueberhaupt\s+)?(?:nix|nichts|keine\s+miete)$"
)
_YEARLY = re.compile(r"\b(?:im|pro|per|je|jedes|das)\s+jahr\b|\bjaehrlich\w*|\bjahres\w*")
# Kinds of income a sum may list with "und": "Rente 850 und Wohngeld 120".
_INCOME_WORDS = {
    "rente", "lohn", "gehalt", "wohngeld", "kindergeld", "unterhalt", "krankengeld",
    "elterngeld", "pension", "minijob", "arbeitslosengeld", "buergergeld", "witwenrente",
    "kinderzuschlag", "bafoeg", "nebenjob",
}  # fmt: skip
_AMOUNT_WORDS = {
    "euro", "eur", "eu", "kalt", "warm", "miete", "kaltmiete", "warmmiete", "nebenkosten",
    "heizung", "heizkosten", "strom", "netto", "brutto", "im", "monat", "monatlich", "fuer",
    "die", "das", "der", "ca", "etwa", "rund", "so", "plus", "zzgl", "zuzueglich", "und", "nk",
    "bk", "betriebskosten", "warmwasser", "mein", "meine", "meinen", "dazu", "noch", "mit",
    "inkl", "inklusive", "alles",
}  # fmt: skip


def _sum(text: str) -> Decimal | None:
    """The total of amounts added up in words: "480 kalt plus 130 Nebenkosten plus 60
    Heizung" is 670. Only "plus" or "+" adds; "und" may list other things."""
    words = set(re.findall(r"[^\W\d_]+", fold(text)))
    incomes = words & _INCOME_WORDS
    # "und" adds up only kinds of income, each with its amount ("Rente 850 und Wohngeld 120").
    joiner = r"\bplus\b|\+|\bzuzüglich\b|\bzzgl\.?" + (r"|\bund\b|,\s" if incomes else "")
    parts = [part for part in re.split(rf"\s*(?:{joiner})\s*", text, flags=re.I) if part.strip()]
    if len(parts) < 2:
        return None
    numbers = [the_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    if not words - incomes <= _AMOUNT_WORDS:
        return None  # "1200 + 13. Gehalt", "480 plus drei Monatsmieten Kaution"
    return sum((number for number in numbers if number is not None), Decimal(0))


_SIDES = re.compile(
    r"(?<![\d,])(\d+(?:,\d+)?)\s*(?:m\s*)?(?:x|mal|\*|×)\s*(\d+(?:,\d+)?)\s*m?\b(?!\s*(?:x|mal|\*|×))"
)
_LENGTH = re.compile(r"\b(?:m|meter|metern|lang|breit|tief|hoch|laenge|breite|kubik\w*|m3)\b")
_SQUARE = re.compile(r"(?:m²|m2\b|qm|quadrat)", re.IGNORECASE)


# Things counted instead of measured: "zwei Parkplätze" is no area of 2 m².
_COUNTED_THINGS = re.compile(
    r"\b(?:parkpl\w*|stellpl\w*|parkbuchten?|tische?n?|stuehle?n?|baenke?n?|autos?|fahrzeuge?n?|"
    r"container|stueck|staende?n?|buden?|zelte?n?|pavillons?|paletten?)\b"
)


def _area(spec_field: Field, text: str) -> Decimal | None:
    """An area in square metres: "2 x 3 m" is 6; a length ("10 Meter lang") is refused."""
    if sides := _SIDES.search(words_to_digits(text)):
        first, second = (Decimal(side.replace(",", ".")) for side in sides.groups())
        return first * second
    if _COUNTED_THINGS.search(fold(text)) and not _SQUARE.search(text):
        raise InvalidAnswer(
            f"Wie groß ist das in Quadratmetern? Ein Parkplatz hat etwa 12 m². {spec_field.hint}"
        )
    if _LENGTH.search(fold(text)) and not _SQUARE.search(text):
        raise InvalidAnswer(
            f"Das klingt nach einer Länge. Bitte nennen Sie die Fläche in Quadratmetern, "
            f"bei einem Rechteck zum Beispiel „2 x 3 m“. {spec_field.hint}"
        )
    return None


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


_IBAN_IN_TEXT = re.compile(r"\b[A-Z]{2}\s?\d{2}(?:\s?[A-Z0-9]){10,32}")


def _iban(spec_field: Field, text: str) -> str:
    """An IBAN alone or in a sentence ("meine IBAN lautet DE89 3704 ...")."""
    candidates = [text] + [match.group() for match in _IBAN_IN_TEXT.finditer(text.upper())]
    for candidate in candidates:
        words = candidate.split()
        # Trailing words of the sentence may have been taken along: drop them one by one.
        for end in range(len(words), 0, -1):
            try:
                return str(stdnum_iban.validate(" ".join(words[:end])))
            except StdnumValidationError:
                continue
    if re.search(r"\b[A-Z]{2}\s?\d{2}", text.upper()):
        raise InvalidAnswer(
            f"Diese IBAN ist nicht gültig; bitte prüfen Sie sie noch einmal. {spec_field.hint}"
        )
    raise InvalidAnswer(spec_field.hint)


def _phone(spec_field: Field, text: str) -> str:
    """A phone number alone or in a sentence ("meine Nummer ist 0176 ...")."""
    try:
        number = phonenumbers.parse(text, "DE")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        found = [match.number for match in phonenumbers.PhoneNumberMatcher(text, "DE")]
        if len(found) != 1 or not phonenumbers.is_valid_number(found[0]):
            raise InvalidAnswer(spec_field.hint)
        number = found[0]
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# "hans punkt meier at gmx punkt de", as said to a voice assistant.
_SPOKEN_EMAIL = (
    (r"\s*(?:\(at\)|\[at\]|\bat\b|\bät\b)\s*", "@"),
    (r"\s*(?:\bpunkt\b|\bdot\b)\s*", "."),
)


def _email(spec_field: Field, text: str) -> str:
    """An e-mail address alone or in a sentence ("schreiben Sie an anna@beispiel.de")."""
    candidates = [text] + [word.strip(".,;:!?()<>\"'") for word in text.split() if "@" in word]
    if "@" not in text:
        spoken = text
        for pattern, replacement in _SPOKEN_EMAIL:
            spoken = re.sub(pattern, replacement, spoken, flags=re.IGNORECASE)
        candidates += [word for word in spoken.split() if "@" in word]
    for candidate in candidates:
        try:
            return str(validate_email(candidate, check_deliverability=False).normalized)
        except EmailNotValidError:
            continue
    raise InvalidAnswer(spec_field.hint)


def _postal_code(spec_field: Field, text: str, context: FormContext) -> str:
    codes = re.findall(r"(?<!\d)\d{5}(?!\d)", text)
    if not codes:
        codes = re.findall(
            r"(?<!\d)(?<!\d )\d{2} \d{3}(?!\d)(?! \d)", text
        )  # "12 347", as said aloud
        codes = [code.replace(" ", "") for code in codes]
    if len(codes) != 1:
        raise InvalidAnswer(spec_field.hint)
    if spec_field.in_city and codes[0] not in context.postal_codes:
        known = ", ".join(sorted(context.postal_codes))
        raise InvalidAnswer(
            f"Die Postleitzahl {codes[0]} gehört nicht zu {context.city}. "
            f"Postleitzahlen in {context.city}: {known}."
        )
    return codes[0]


# What citizens put before an address: "ich wohne in der", "Adresse:", "das ist die".
_ADDRESS_LEAD = re.compile(
    r"^(?:(?:ich|wir)\s+(?:wohnen|wohne|wohn|leben|lebe|sitzen|sitze)\b|wohnen\b|wohne\b|wohn\b|"
    r"wohnhaft\b|"
    r"(?:meine|unsere|die)\s+(?:adresse|anschrift)(?:\s+(?:ist|lautet))?|adresse|anschrift|"
    r"(?:der\s+)?(?:betrieb|sitz|firmensitz)(?:\s+(?:ist|liegt))?|wir\s+sind|"
    r"das\s+ist|es\s+ist|bitte\s+an|an\s+die|nach)[\s:,]*",
    re.IGNORECASE,
)
_PLACE_PREPOSITION = re.compile(r"^(?:in\s+der|in\s+dem|im|in|an\s+der|auf\s+der|bei)\s+", re.I)
_ONE_NUMBER = r"\d{1,4}(?:\s*[a-zA-Z](?![a-zA-Z]))?"
_HOUSE_NUMBER = rf"{_ONE_NUMBER}(?:\s*[-/]\s*{_ONE_NUMBER})?"
_ADDRESS = re.compile(
    rf"^(?P<street>[^\d]*?[^\W\d_][^\d]*?)[\s,]*(?i:nr\.?|nummer|hausnummer)?\s*"
    rf"(?P<number>{_HOUSE_NUMBER})"
    r"(?:(?:[\s,]+(?:in\s+)?(?P<postal>\d{5})(?:[\s,]+(?P<town>[^\W\d_][^\d,]*?))?)|"
    r"(?:[\s,]+(?:hier\s+)?in\s+(?P<town_in>[^\W\d_][^\d,]*?)))?[\s.!]*$"
)
_ADDRESS_DETAIL = re.compile(
    r"(?i)^\s*(?:\d+\.\s*(?:og|etage|stock)\b|(?:og|eg|ug|dg)\b|(?:erd|dach|unter)geschoss\b|"
    r"(?:hinter|vorder)haus\b|seitenfl\w+|wohnung\b|whg\b\.?|apartment\b|app\.?\s|zimmer\b|"
    r"laden\w*\b|büro\b|buero\b|c/o\b|bei\s+\w+\s*$|links\b|rechts\b|mitte\b|eingang\b)"
)


_POSTAL_AND_TOWN = re.compile(r"^\s*(?:in\s+)?\d{5}\b")
_STREET_AND_NUMBER = re.compile(
    rf"^\s*(?!(?:nr|nummer|hausnummer)\b)[^\W\d_][^\d]*?[^\W\d_]\.?\s*(?:nr\.?\s*)?"
    rf"{_HOUSE_NUMBER}\s*$",
    re.IGNORECASE,
)


_DETAIL_AFTER_NUMBER = re.compile(
    rf"^(.*?[^\W\d_].*?\s*{_HOUSE_NUMBER})\s+(?:im\s+|in\s+der\s+|am\s+)?"
    r"(?:halle|hinterhaus|vorderhaus|hof|innenhof|hinterhof|og|eg|ug|dg|etage|stock|whg|"
    r"wohnung|zimmer|büro|buero|laden|gebäude|gebaeude|tor|eingang|links|rechts|"
    r"\d+\.\s*(?:og|etage|stock))\b.*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Address:
    street: str
    number: str
    postal_code: str | None = None
    town: str | None = None


def parse_address(text: str) -> Address | None:
    """Street, number and, if given, postal code and town, from "ich wohne in der
    Lindenallee 12, 12345 Musterstadt"; None when there is no street with a number."""
    text = re.sub(r"\([^)]*\)", " ", text)  # "Amselweg 2 (in der Garage)"
    # "bei meiner Schwester, Rosenweg 3", "bitte an meine Tochter: Eschenweg 4, 33602 Bielefeld":
    # the address starts with the first part that is a street and a house number.
    text = re.sub(r"(?i)(str\.)(?=\d)", r"\1 ", text)  # "Bahnhofstr.22"
    parts = re.split(r"[,:;]", text)
    first = next((i for i, part in enumerate(parts) if _STREET_AND_NUMBER.match(part)), None)
    if first is not None:
        # After the street, only a postal code and town ("industriestraße 8, halle 2 hinten
        # im hof", "Marktplatz 1, gegenüber vom Rathaus": directions are left out).
        later = [part for part in parts[first + 1 :] if _POSTAL_AND_TOWN.match(part)]
        text = ",".join([parts[first], *later])
    # "Gartenstr. 22, 3. OG links", "bei Schneider, Eschenweg 4": details for the postman.
    segments = [part for part in text.split(",") if not _ADDRESS_DETAIL.search(part)]
    text = ",".join(segments) if segments else text
    text = _ADDRESS_LEAD.sub("", text.strip(" .,!"))
    match = _ADDRESS.match(text.strip(" .,!"))
    if not match and (detail := _DETAIL_AFTER_NUMBER.match(text.strip(" .,!"))):
        # "Industriestraße 8 Halle 3", "Hauptstr. 101 im Hinterhaus"
        match = _ADDRESS.match(detail.group(1))
    if not match:
        return None
    street = " ".join(match.group("street").split()).strip(" ,:")
    street = re.sub(r"(?i)str\.?$", "straße", street)
    number = re.sub(r"\s+", "", match.group("number")).lower()
    town = match.group("town") or match.group("town_in")
    return Address(street, number, match.group("postal"), town.strip(" .") if town else None)


# Words that may stand before a street's name without being part of it.
_STREET_LEAD_WORDS = {
    "ich", "wir", "wohne", "wohnen", "lebe", "leben", "in", "im", "der", "dem", "die", "an",
    "am", "auf", "bei", "zur", "zum", "nach", "bitte", "also", "ja", "sitzt", "sitzen", "liegt",
    "ist", "sind", "unser", "unsere", "betrieb", "firma", "das", "es", "haus", "vorm", "vor",
    "beim", "hinterm", "neben", "direkt", "gleich", "genau",
}  # fmt: skip


def _street_name(street: str, context: FormContext, exact: bool = True) -> str | None:
    """The city's spelling of a street named at the end of a phrase ("wohne am Markt"); the
    words left out must be such a phrase ("Neue Hauptstraße" is not the "Hauptstraße")."""
    words = street.split()
    for start in range(len(words)):
        if any(fold(word) not in _STREET_LEAD_WORDS for word in words[:start]):
            break
        known = context.street(" ".join(words[start:]), exact=exact)
        if known is not None:
            return known
    return None


def _elsewhere(address: Address, context: FormContext) -> bool:
    """Whether an address names a postal code or town that is not the city's."""
    if address.postal_code and context.postal_codes:
        return address.postal_code not in context.postal_codes
    return bool(address.town) and fold(str(address.town)) != fold(context.city)


def _street(spec_field: Field, text: str, context: FormContext) -> str:
    address = parse_address(text)
    if address is None:
        if re.search(r"[^\W\d_]{3,}", text) and not re.search(r"\d", text):
            raise InvalidAnswer(f"Mir fehlt die Hausnummer. {spec_field.hint}")
        raise InvalidAnswer(spec_field.hint)
    street = _PLACE_PREPOSITION.sub("", address.street)
    if spec_field.in_city and _elsewhere(address, context):
        # "Bahnhofstraße 5 in 33602 Bielefeld": a street of the same name, in another town.
        raise InvalidAnswer(
            f"Diese Adresse liegt nicht in {context.city}. Für diesen Antrag brauche ich Ihre "
            f"Adresse in {context.city}. {spec_field.hint}"
        )
    if spec_field.in_city:
        known = _street_name(address.street, context)
        if known is None and (close := _street_name(address.street, context, exact=False)):
            # "Lindenalle 4": the city's street is proposed, not taken without asking.
            raise Proposal(f"{close} {address.number}", _did_you_mean(f"{close} {address.number}"))
        if known is None:
            raise InvalidAnswer(
                f"Die Straße „{street}“ finde ich in {context.city} nicht. Bitte prüfen Sie "
                "die Schreibweise und nennen Sie Straße und Hausnummer, zum Beispiel "
                "„Rathausplatz 1“."
            )
        street = known
    else:
        # "unser Betrieb sitzt in der Werkstraße, Nummer 40": the street after the phrase.
        words = street.split()
        for start in range(1, len(words)):
            lead = {fold(word) for word in words[:start]}
            if lead <= _STREET_LEAD_WORDS and lead & {"sitzt", "sitzen", "liegt", "wohne", "ist"}:
                street = " ".join(words[start:])
        street = _PLACE_PREPOSITION.sub("", street)
        if not re.search(r"[^\W\d_]{2,}", street):
            raise InvalidAnswer(spec_field.hint)
        street = street[0].upper() + street[1:]
    return f"{street} {address.number}"


_TOWN = re.compile(r"^[^\W\d_]+(?:[ .'’()/\-]+[^\W\d_]+)*\.?\)?$")
_TOWN_LEAD = re.compile(
    r"^(?:(?:ich\s+wohne|wir\s+wohnen|wohne|der\s+ort\s+ist|ort:?|das\s+ist|es\s+ist)\s+)?"
    r"(?:(?:in|nach|bei)\s+)?(?:\d{5}\s+)?",
    re.IGNORECASE,
)


_TOWN_TAIL = re.compile(r"(?:[\s,]+(?:natuerlich|natürlich|bitte|halt|eben|danke))+$", re.I)


def _town(spec_field: Field, text: str) -> str:
    town = _TOWN_LEAD.sub("", _TOWN_TAIL.sub("", text.strip(" .,!"))).strip(" ,")
    if parse_yes_no(town) is not None or _NO_ANSWER.match(fold(town)):
        raise InvalidAnswer(spec_field.hint)
    if not town or len(town) > spec_field.max_length or not _TOWN.match(town):
        raise InvalidAnswer(spec_field.hint)
    if set(fold(town).split()) & _NOT_IN_NAMES:
        raise InvalidAnswer(spec_field.hint)
    return town


def from_opener(spec_field: Field, text: str) -> Any:
    """The value a field's ``from_opener`` takes from the message that started the form, or
    None. Stricter than an answer: an option only when exactly one is named by a word of at
    least five letters; a number only right before a word of the field ("zwei Exemplare")."""
    if not spec_field.from_opener or not text:
        return None
    folded = fold(text)
    if spec_field.type == "choice":
        named = set()
        for option in spec_field.options:
            for word in (option.label, *option.synonyms):
                key = fold(word)
                if (
                    len(key) >= 5
                    and re.search(rf"\b{re.escape(key)}\b", folded)
                    and not re.search(rf"\b(?:nicht|kein|keine|ohne)\s+{re.escape(key)}\b", folded)
                    and not _names_another(spec_field, text, key)
                ):
                    named.add(option.value)
        return named.pop() if len(named) == 1 else None
    if spec_field.type == "integer":
        nouns = "|".join(re.escape(fold(word)) for word in spec_field.synonyms if len(word) >= 4)
        found = (
            re.findall(rf"\b(\d+)\s+(?:{nouns})\b", fold(words_to_digits(text))) if nouns else []
        )
        if len(found) == 1:
            try:
                return _integer(spec_field, found[0])
            except InvalidAnswer:
                return None
    return None


_SURNAME_PARTICLES = {"von", "van", "de", "del", "della", "da", "di", "du", "zu", "vom", "zur",
                      "ten", "ter", "le", "la", "al", "el", "bin", "ibn"}  # fmt: skip
_SURNAME_FIRST = re.compile(r"^\s*([^\W\d_][^\W\d_'’\- ]*?)\s*,\s*([^\W\d_][^\W\d_'’\-]*)\s*$")


def _split_confidently(first: str, surname: str) -> bool:
    """Every first-name word is a known first name and the surname is none people here bear
    ("Markus Vogel", not "Hans Peter" or "Thomas Walter")."""
    words = [w for w in surname.split() if w.lower() not in _SURNAME_PARTICLES]
    return (
        all(is_first_name(word) for word in first.split())
        and not set(fold(first).split()) & (_NOT_NAMES_LEAD | _ADDRESSES_AND_TITLES)
        and bool(words)
        and not any(is_first_name(word) for word in words)  # "Mehmet Ali", "Emre Can"
    )


# Forms of address, titles and relations that the first-name lexicon also lists.
_ADDRESSES_AND_TITLES = {
    "pastor", "pfarrer", "pfarrerin", "oma", "opa", "tante", "onkel", "mama", "papa", "herr",
    "frau", "doktor", "dr", "prof", "professor", "schwester", "bruder", "kapitaen", "meister",
}  # fmt: skip


def _first_and_surname(words: list[str]) -> tuple[str, str]:
    """A whole name split where its surname starts: at a particle ("Ludwig van der Berg"),
    else before the last word."""
    cut = next((i for i, w in enumerate(words) if i and w.lower() in _SURNAME_PARTICLES), None)
    return " ".join(words[: cut or -1]), " ".join(words[cut or -1 :])


def _both(surname_field: str, first: str, surname: str, otherwise: str | None = None) -> Understood:
    """First name and surname taken when sure (``_split_confidently``), else proposed."""
    if _split_confidently(first, surname):
        return Understood(first, {surname_field: surname})
    raise Proposal(
        first,
        f"Dann ist der Vorname „{first}“ und der Nachname „{surname}“ – richtig?",
        also={surname_field: surname},
        otherwise=otherwise,
    )


def _whole_name(spec_field: Field, text: str, value: str) -> Understood | None:
    """A first and last name given at the first-name question: taken as both when the first
    names are known ones and the surname is no first name here, else proposed as both."""
    assert spec_field.surname is not None
    if re.search(r"(?i)vornamen|beides|zweiter vorname|doppelname", text):
        return None
    if re.match(r"(?i)^(?:herrn?|frau)\b", value):
        raise InvalidAnswer(spec_field.hint)  # "Herr Müller" gives no first name
    if reverse := _SURNAME_FIRST.match(text):
        surname, first = reverse.group(1).strip(), reverse.group(2).strip()
        if set(fold(f"{surname} {first}").split()) & _NOT_IN_NAMES:
            return None
        return _both(spec_field.surname, first, surname)
    words = value.split()
    if len(words) < 2:
        return None
    first, surname = _first_and_surname(words)
    return _both(spec_field.surname, first, surname, otherwise=value)


def _surname_alone(value: str) -> str:
    """At the surname question, the surname of a whole name ("Sebastian Klein"): the words
    that are known first names are left out when the rest is no first name anywhere."""
    words = value.split()
    if len(words) >= 2:
        first, surname = _first_and_surname(words)
        if _split_confidently(first, surname):
            return surname
    return value


_ADDRESSED = re.compile(r"(?i)^(?:herrn?|frau)\b")


def _full_name(spec_field: Field, value: str) -> None:
    """A question for first name and surname: one word alone ("Schmitt", "Frau Albers") is
    asked again."""
    words = value.split()
    if len(words) < 2 or (_ADDRESSED.match(value) and len(words) == 2):
        raise InvalidAnswer(
            "Bitte nennen Sie Vor- und Nachnamen zusammen, zum Beispiel „Anna Schmidt“."
        )


_YES_NO_LEAD = re.compile(
    r"^\W*(?:(?:ja|jawohl|genau|gern|gerne|klar|sicher|nein|nee|doch|bitte)\b\W*)+",
    re.IGNORECASE,
)


def _choice_after_yes_no(
    spec: FormSpec, spec_field: Field, value: bool, text: str, context: FormContext
) -> dict[str, Any]:
    """The choice asked next that a yes or no already answered: "ja, über das Jobcenter" at
    "Bekommen Sie Leistungen für Bildung und Teilhabe?" also answers which office. Only an
    option named plainly counts (a near miss is asked as usual)."""
    rest = _YES_NO_LEAD.sub("", text)
    if not re.search(r"[^\W\d_]{3,}", rest):
        return {}
    found: dict[str, Any] = {}
    for later in spec.fields:
        condition = later.when
        if (
            later.type != "choice"
            or later.other
            or condition is None
            or condition.field != spec_field.name
            or condition.is_ is not value
        ):
            continue
        try:
            found[later.name] = normalize(later, rest, context)
        except InvalidAnswer:  # also a proposal: the question comes as usual
            continue
    return found


def understand_answer(
    spec: FormSpec, spec_field: Field, raw: Any, context: FormContext
) -> Understood:
    """An answer's value and what else the same message answered (the postal code and town
    of a whole address given at the street question). Parts that do not fit their own
    field are left out: that question is then asked as usual."""
    text = _clean(raw) if isinstance(raw, str) else None
    at_surname = text is not None and any(other.surname == spec_field.name for other in spec.fields)
    if (
        spec_field.surname
        and text is not None
        and _SURNAME_FIRST.match(text)
        and (whole := _whole_name(spec_field, text, text))
    ):
        return whole
    if (
        at_surname
        and text is not None
        and (reverse := _SURNAME_FIRST.match(text))
        and _split_confidently(reverse.group(2), reverse.group(1))
    ):
        raw = reverse.group(1)  # "Klein, Sebastian" at the surname
    value = normalize(spec_field, raw, context)
    if (
        spec_field.surname
        and text is not None
        and (whole := _whole_name(spec_field, text, str(value)))
    ):
        return whole
    if at_surname and (alone := _surname_alone(str(value))) != value:
        # "Sebastian Klein" at the surname: "Klein" is proposed ("Martin García" may be a
        # double surname).
        raise Proposal(alone, f"Ist Ihr Nachname „{alone}“?", otherwise=value)
    if spec_field.full_name:
        _full_name(spec_field, str(value))
    also: dict[str, Any] = {}
    if spec_field.type == "boolean" and isinstance(value, bool) and text is not None:
        also.update(_choice_after_yes_no(spec, spec_field, value, text, context))
    if spec_field.type == "date" and text is not None and (span := date_range(text)):
        for later in spec.fields:
            if later.type == "date" and later.not_before == spec_field.name:
                with contextlib.suppress(InvalidAnswer):
                    also[later.name] = normalize(later, span[1], context)
    if spec_field.type == "street" and spec_field.address and isinstance(raw, str):
        address = parse_address(_clean(raw))
        parts = {"postal_code": address.postal_code, "town": address.town} if address else {}
        for part, name in spec_field.address.items():
            if parts.get(part):
                try:
                    also[name] = normalize(spec.field(name), parts[part], context)
                except InvalidAnswer:
                    continue
    return Understood(value, also)


def _plate(spec_field: Field, text: str) -> str:
    found = _PLATE.findall(re.sub(r"[‐‑‒–—−]", "-", text.upper()))
    if len(found) != 1:
        raise InvalidAnswer(spec_field.hint)
    district, letters, digits, suffix = found[0]
    if len(district + letters + digits + suffix) > 9:
        raise InvalidAnswer(spec_field.hint)
    return f"{district}-{letters} {digits}{suffix}"


_ASKS_BACK = re.compile(
    r"^(?:(?:und|aber|also|hm+|aeh+m?)\s+)?(?:was|wie|wo|wer|wen|wem|welche\w*|warum|wieso|weshalb|"
    r"wozu|wofuer|woher|wohin|wann|muss|muessen|kann|koennen|darf|duerfen|soll|sollen|zaehlt|"
    r"zaehlen|gilt|gelten|gibt|geht|ist|sind|brauche|braucht)\b"
)


def normalize(spec_field: Field, raw: Any, context: FormContext) -> Any:
    """The canonical value of an answer, or ``InvalidAnswer`` with a German hint."""
    if raw is None:
        raise InvalidAnswer(spec_field.hint)
    if isinstance(raw, str) and _ASKS_BACK.match(fold(raw)) and raw.rstrip().endswith("?"):
        # "Was ist der Unterschied zwischen GbR und UG?", "Was zählt da dazu? Wir haben ne
        # Garage": a question back names words of an answer without giving one.
        raise InvalidAnswer(f"Das habe ich als Rückfrage verstanden. {spec_field.hint}")
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
    if kind == "town":
        return _town(spec_field, text)
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
