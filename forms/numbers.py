"""Numbers in citizens' answers: digits, German number words and counts of people.

German number words ("zwölf", "dreihundertfünfzig", "zwei komma fünf") are turned into
digits by text2num; this module decides which of the numbers in an answer is *the* answer,
and says no when an answer gives a range or several numbers ("zwei oder drei", "2-3").
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from text_to_num import alpha2digit

# Spellings without umlauts that text2num does not know; "eine"/"einen" count as one.
_SPELLINGS = {
    "zwoelf": "zwölf", "fuenf": "fünf", "fuenfzehn": "fünfzehn", "fuenfzig": "fünfzig",
    "fuffzig": "fünfzig", "eine": "ein", "einen": "ein", "einem": "ein", "einer": "ein",
    "zwo": "zwei",
}  # fmt: skip
# Words that make a number vague or one of several: never a value of their own.
_VAGUE = re.compile(
    r"\b(?:oder|bis|zwischen|paar|einige|mehrere|ein\s*paar|weiss\s+nicht|weiß\s+nicht|"
    r"weiss\s+ich\s+nicht|weiß\s+ich\s+nicht|ungefähr\s+oder|"
    r"keine\s+ahnung|vielleicht|halb\w*|anderthalb|eineinhalb|zweieinhalb|dutzend\w*)\b"
)
_RANGE = re.compile(r"\d\s*(?:-|–|/)\s*\d")
# A number: German thousands ("1.250") and decimal comma ("12,50"), or plain digits.
_NUMBER = re.compile(r"(?<![\w,.])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(?![\w])")
_GERMAN_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?")
_GROUP = {
    "zweit": 2, "dritt": 3, "viert": 4, "fuenft": 5, "fünft": 5, "sechst": 6, "siebt": 7,
    "acht": 8, "neunt": 9, "zehnt": 10,
}  # fmt: skip
_ALONE = re.compile(
    r"^(?:(?:nur|bloss|bloß|lediglich)\s+(?:ich|mich)(?:\s+(?:allein|alleine|selbst))?|"
    r"(?:ich\s+)?(?:ganz\s+)?(?:allein|alleine)(?:stehend)?|ich(?:\s+(?:allein|alleine|selbst))?|"
    r"(?:nur\s+)?ich\s+(?:wohne|lebe)\s+(?:ganz\s+)?(?:allein|alleine))$"
)
_MULTIPLES = {"zwillinge": "2 kinder", "drillinge": "3 kinder"}
_ZU = re.compile(r"\bzu\s+(zweit|dritt|viert|fuenft|fünft|sechst|siebt|acht|neunt|zehnt)\b")
# People named without a number: "ich und meine Frau", "mein Mann, ich und 2 Kinder".
_ONE_PERSON = re.compile(
    r"\b(?:ich|mein(?:e)?\s+(?:frau|mann|ehefrau|ehemann|partner(?:in)?|freund(?:in)?|"
    r"sohn|tochter|mutter|vater|mama|papa|oma|opa|kind|baby|lebensgefaehrt(?:e|in)|"
    r"lebensgefährt(?:e|in)|schwester|bruder))\b"
)
_PERSON_WORDS = re.compile(
    r"^(?:personen?|leute|menschen|erwachsene?|kinder|kind|babys?|jugendliche?|"
    r"wir|sind|es|insgesamt|zusammen|und|mit|mir|ich|davon|inklusive|einschliesslich|"
    r"einschließlich|mitgezählt|mitgezaehlt|im|haushalt|leben|wohnen|da|also|"
    r"meine?n?|unsere?n?|die|der|frau|mann|ehefrau|ehemann|partner(?:in)?|sohn|tochter|söhne|soehne|"
    r"töchter|toechter|enkel|enkelin|eltern|mutter|vater|oma|opa|großeltern|ca|circa|"
    r"etwa|genau|nur|noch|dazu|plus|\+|,|\.)$"
)


def words_to_digits(text: str) -> str:
    """The text with German number words written as digits ("zwölf Stück" -> "12 Stück")."""
    words = re.split(r"(\s+)", re.sub(r"fuffzig", "fünfzig", text.lower()))
    words = [_SPELLINGS.get(word, word) for word in words]
    return str(alpha2digit("".join(words), "de", threshold=0))


_HALVES = re.compile(
    r"\b(?:(anderthalb|eineinhalb)|([^\W\d_]+?)einhalb|ein(?:e|en|er)?\s+halbe[nrs]?)\b"
)


def halves_as_digits(text: str) -> str:
    """Amounts with a half in words as digits: "zweieinhalb Quadratmeter" -> "2,5 ...",
    "anderthalb" -> "1,5", "ein halber" -> "0,5" (for decimals; a count stays vague)."""

    def digits(match: re.Match[str]) -> str:
        if match.group(1):
            return "1,5"
        if match.group(2):
            whole = the_number(match.group(2))
            return f"{int(whole)},5" if whole is not None else match.group(0)
        return "0,5"

    return _HALVES.sub(digits, text)


def _value(match: re.Match[str]) -> Decimal:
    whole = match.group(1).replace(".", "")
    fraction = match.group(2)
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:  # pragma: no cover - the pattern only matches digits
        return Decimal("NaN")


def numbers_in(text: str) -> list[Decimal] | None:
    """The numbers an answer gives, or None when it gives a range or is vague."""
    converted = words_to_digits(text)
    if _VAGUE.search(converted) or _RANGE.search(converted):
        return None
    converted = re.sub(r"(?<![\d.,])(\d{1,3})\s?k\b", r"\g<1>000", converted)  # "85k"
    # "1,250.50" is no German number: every group of digits and separators must be one.
    for cluster in re.findall(r"\d[\d.,]*\d", converted):
        if not _GERMAN_NUMBER.fullmatch(cluster):
            return None
    return [_value(match) for match in _NUMBER.finditer(converted)]


def the_number(text: str) -> Decimal | None:
    """The one number of an answer ("acht", "ca. 8 m²", "zwölf Stück"), else None."""
    found = numbers_in(text)
    if not found or len(found) != 1:
        return None
    return found[0]


def persons(text: str) -> int | None:
    """How many people an answer counts: "nur ich" 1, "zu viert" 4, "drei Erwachsene und ein
    Kind" 4, "ich und meine Frau" 2; None when it cannot tell."""
    if _RANGE.search(text) or re.search(r"\d,\d", text):
        return None  # "3-4", "2,5 Personen"
    lowered = " ".join(re.sub(r"[^\w+]+", " ", text.lower()).split())
    lowered = re.sub(r"\b(zwillinge|drillinge)\b", lambda m: _MULTIPLES[m.group(1)], lowered)
    if _ALONE.match(lowered):
        return 1
    if group := _ZU.search(lowered):
        return _GROUP[group.group(1)]
    if heads := re.search(r"\b(\w+?)koepfig\w*|\b(\w+?)köpfig\w*", lowered):
        # "wir sind eine fünfköpfige Familie"
        counted = the_number(heads.group(1) or heads.group(2))
        if counted is not None and counted == counted.to_integral_value():
            return int(counted)
    converted = words_to_digits(lowered)
    if _VAGUE.search(converted) or _RANGE.search(converted):
        return None
    found = [_value(match) for match in _NUMBER.finditer(converted)]
    if any(value != value.to_integral_value() for value in found):
        return None  # "2,5 Personen"
    numbers = [int(value) for value in found]
    rest = _NUMBER.sub(" ", converted)
    # Every other word must be about people, or the sentence says something else.
    if not all(_PERSON_WORDS.match(word) for word in rest.split()):
        return None
    unnumbered = len(_ONE_PERSON.findall(rest))
    if not numbers:
        return unnumbered or None
    if re.search(
        r"\b(?:insgesamt|zusammen|inklusive|einschliesslich|einschließlich|davon)\b", rest
    ) or ("(" in text):
        # "insgesamt 4, mit mir", "4 Personen, davon 2 Kinder": the first number is the total.
        return numbers[0]
    if len(numbers) == 1 and re.fullmatch(r"(?:wir sind |es sind )?\d+(?: \w+)?", converted):
        return numbers[0]
    return sum(numbers) + unnumbered
