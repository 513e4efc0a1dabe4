"""Whether a word is a first name: to split "Markus Vogel" into first name and surname
without asking, and to tell a surname alone ("Schmitt") from a whole name.

The lexicon is the first-name dictionary of Jörg Michael's "gender" program (about 48,000
names with their frequency in 54 countries, GNU FDL), as packaged by ``gender-guesser``
(GPLv3, compatible with the EUPL). Only the names and their frequencies are used, never the
gender. It loads in about 0.4 s and 30 MB, on first use.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Where a citizen of this city's first name is common: a word used as a first name here is
# no safe surname ("Hans Werner" may be two first names).
_HERE = ("germany", "austria", "swiss", "east_frisia")


@lru_cache(maxsize=1)
def _names() -> dict[str, dict[str, str]]:
    from gender_guesser.detector import Detector

    detector = Detector(case_sensitive=False)
    return detector.names


@lru_cache(maxsize=1)
def _columns() -> tuple[int, ...]:
    from gender_guesser.detector import Detector

    return tuple(Detector.COUNTRIES.index(country) for country in _HERE)


def _parts(word: str) -> list[str]:
    return [part for part in re.split(r"[-\s]+", word.strip(" .").lower()) if part]


def is_first_name(word: str) -> bool:
    """A first name somewhere in the world; "Anna-Lena" when both parts are."""
    parts = _parts(word)
    return bool(parts) and all(part in _names() for part in parts)


def is_first_name_here(word: str) -> bool:
    """A first name that people here bear: "Walter", "Werner", "Kai" (not "Sommer" or
    "Yılmaz", which are first names elsewhere only)."""
    columns = _columns()
    for part in _parts(word):
        for values in _names().get(part, {}).values():
            if any(index < len(values) and values[index] != " " for index in columns):
                return True
    return False
