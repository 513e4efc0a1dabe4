"""Matters of other authorities (data/referrals.yml): who is responsible, instead of a guess.

A message that names such a matter in its own words ("Kindergeld", "Steuererklärung")
gets "Dafür ist … zuständig" rather than a city service the NLU found similar, an
out-of-scope answer or a handoff. Words are compared whole, case-folded and without
umlauts, so that the city's own taxes ("Hundesteuer", "Grundsteuer") never match the
Finanzamt's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from actions.settings import get_settings
from forms.answers import fold


@dataclass(frozen=True)
class Referral:
    topic: str
    responsible: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Referrals:
    entries: tuple[Referral, ...]
    sample_data: bool

    def find(self, text: str) -> Referral | None:
        """The first referral one of whose words stands whole in ``text``."""
        padded = f" {fold(text)} "
        for entry in self.entries:
            if any(f" {word} " in padded for word in entry.words):
                return entry
        return None


def load_referrals(path: Path) -> Referrals:
    """The file's referrals; a missing file means none, a broken one refuses to start."""
    if not path.exists():
        return Referrals((), sample_data=False)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    for number, raw in enumerate(data.get("referrals") or [], start=1):
        if not isinstance(raw, dict) or not raw.get("topic") or not raw.get("responsible"):
            raise ValueError(f"{path}: referral {number} needs a topic and who is responsible")
        words = tuple(fold(str(w)) for w in raw.get("words") or [] if fold(str(w)))
        if not words:
            raise ValueError(f"{path}: referral {raw['topic']!r} has no words")
        entries.append(Referral(str(raw["topic"]), str(raw["responsible"]), words))
    return Referrals(tuple(entries), sample_data=bool(data.get("sample_data")))


@lru_cache
def referrals() -> Referrals:
    return load_referrals(get_settings().referrals_file)
