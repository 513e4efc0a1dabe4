"""Find offices and services by the words citizens use.

Names and synonyms are compared after folding: case, umlauts (ä, ae and a alike), ß,
punctuation and spacing don't matter, so "Anwohner Parkausweis", "anwohnerparkausweis"
and "Anwohner-Parkausweis" are the same. A query may be a whole sentence: any run of up
to four of its words that equals a folded name counts, the longest match ranking first.

Only when nothing matches that way, a word of the query that ends a longer word of a
name counts too, since German compounds end in their head: "Urkunde" finds
"Geburtsurkunde", "Eheurkunde" and "Sterbeurkunde", and the citizen is asked which one.
A word that merely equals a word of a name ("beantragen" in "Reisepass beantragen") does
not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TypeVar

MAX_SPAN = 4
# Shorter words are too often the end of unrelated compounds ("Pass" in "Reisepass" and
# "Kompass").
MIN_HEAD = 5
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_SPELLED_UMLAUT = re.compile(r"(?<=[aou])e")


def fold_word(word: str) -> str:
    word = unicodedata.normalize("NFC", word.casefold()).translate(_UMLAUTS)
    word = _SPELLED_UMLAUT.sub("", word)
    plain = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in plain if ch.isalnum())


def fold(text: str) -> str:
    """One comparable key for a name: folded words without spaces."""
    return "".join(fold_word(w) for w in re.split(r"[\s\-/]+", text))


_WORD_SPLIT = re.compile(r"[\s\-/,.;:!?()\"']+")


def _spans(text: str) -> set[str]:
    words = [w for w in (fold_word(w) for w in _WORD_SPLIT.split(text)) if w]
    return {
        "".join(words[i : i + n]) for n in range(1, MAX_SPAN + 1) for i in range(len(words) - n + 1)
    }


T = TypeVar("T")


def rank(query: str, candidates: Iterable[tuple[T, Sequence[str]]]) -> list[T]:
    """Candidates whose names occur in ``query``, best (longest) match first."""
    whole = fold(query)
    spans = _spans(query)
    scored: list[tuple[int, int, T]] = []
    candidates_list = list(candidates)
    for position, (item, names) in enumerate(candidates_list):
        keys = [fold(name) for name in names if fold(name)]
        if whole in keys:
            scored.append((10_000, -position, item))
            continue
        matches = [len(key) for key in keys if key in spans]
        if matches:
            scored.append((max(matches), -position, item))
    if not scored:
        return _by_compound_head(query, candidates_list)
    scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [item for _, _, item in scored]


def _by_compound_head(query: str, candidates: list[tuple[T, Sequence[str]]]) -> list[T]:
    heads = {w for w in (fold_word(w) for w in _WORD_SPLIT.split(query)) if len(w) >= MIN_HEAD}
    return [
        item
        for item, names in candidates
        if any(
            len(word) > len(head) and word.endswith(head)
            for name in names
            for word in (fold_word(w) for w in _WORD_SPLIT.split(name))
            for head in heads
        )
    ]
