"""Build the German spaCy pipeline that Rasa's SpacyNLP loads by path.

`de_core_news_sm` is not served by the package registries our machines reach, so the
default pipeline is a blank German one with the lookup lemmatizer from
spacy-lookups-data. When `de_core_news_sm` is installed, it is used as the base instead
(its tagger, parser and statistical lemmas are kept). In both cases an EntityRuler adds
the patterns of administrative identifiers citizens type: Kfz-Kennzeichen and the
reference numbers the backend hands out.

    python -m bot.language.build_spacy --output var/spacy/de_govbot
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

BASE_MODEL = "de_core_news_sm"

# Kfz-Kennzeichen: district code (1-3 letters), 1-2 letters, 1-4 digits, optional E/H suffix.
# Citizens write "PB-AB 123", "PB AB 123", "pb-ab123" or "PB-AB-123".
# Without a hyphen, only upper case counts: "es ab 10" is German, not a plate.
_DISTRICT = r"^[A-ZÄÖÜ]{1,3}$"
_LETTERS = r"^[A-Z]{1,2}$"
_NUMBER = r"^[0-9]{1,4}[EHeh]?$"
_DISTRICT_LETTERS = r"^[A-Za-zÄÖÜäöü]{1,3}-[A-Za-z]{1,2}$"
_LETTERS_NUMBER = r"^[A-Z]{1,2}[0-9]{1,4}[EH]?$"
_WHOLE_PLATE = r"^[A-Za-zÄÖÜäöü]{1,3}-[A-Za-z]{1,2}-?[0-9]{1,4}[EHeh]?$"

# Reference numbers issued by the backend: two to four letters, the year, a serial number,
# e.g. "BPA-2026-000123".
_REFERENCE = r"^[A-Za-z]{2,4}-20[0-9]{2}-[0-9]{4,8}$"
# spaCy's German tokenizer splits "BPA-2026-000123" into "BPA-2026", "-", "000123".
_REFERENCE_HEAD = r"^[A-Za-z]{2,4}-20[0-9]{2}$"
_REFERENCE_SERIAL = r"^[0-9]{4,8}$"


def entity_patterns() -> list[dict[str, Any]]:
    """Token patterns for the EntityRuler; labels are Rasa entity names."""
    plate = "kfz_kennzeichen"
    return [
        {"label": plate, "pattern": [{"TEXT": {"REGEX": _WHOLE_PLATE}}]},
        {
            "label": plate,
            "pattern": [{"TEXT": {"REGEX": _DISTRICT_LETTERS}}, {"TEXT": {"REGEX": _NUMBER}}],
        },
        {
            "label": plate,
            "pattern": [
                {"TEXT": {"REGEX": _DISTRICT_LETTERS}},
                {"TEXT": "-"},
                {"TEXT": {"REGEX": _NUMBER}},
            ],
        },
        {
            "label": plate,
            "pattern": [{"TEXT": {"REGEX": _DISTRICT}}, {"TEXT": {"REGEX": _LETTERS_NUMBER}}],
        },
        {
            "label": plate,
            "pattern": [
                {"TEXT": {"REGEX": _DISTRICT}},
                {"TEXT": {"REGEX": _LETTERS}},
                {"TEXT": {"REGEX": _NUMBER}},
            ],
        },
        {"label": "aktenzeichen", "pattern": [{"TEXT": {"REGEX": _REFERENCE}}]},
        {
            "label": "aktenzeichen",
            "pattern": [
                {"TEXT": {"REGEX": _REFERENCE_HEAD}},
                {"TEXT": "-"},
                {"TEXT": {"REGEX": _REFERENCE_SERIAL}},
            ],
        },
    ]


def build(base: str | None = None) -> Language:
    """Return the German pipeline; `base` names an installed spaCy package to start from."""
    if base is None and importlib.util.find_spec(BASE_MODEL) is not None:
        base = BASE_MODEL
    if base:
        nlp = spacy.load(base)
        before = "ner" if "ner" in nlp.pipe_names else None
        ruler = nlp.add_pipe("entity_ruler", before=before, config={"overwrite_ents": True})
    else:
        nlp = spacy.blank("de")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        ruler = nlp.add_pipe("entity_ruler")
        # Loads the German lookup table from spacy-lookups-data into the lemmatizer.
        nlp.initialize()
    # German keeps "123." as one (ordinal) token; split it so "PB-AB 123." is a plate.
    suffixes = [*(nlp.Defaults.suffixes or []), r"(?<=[0-9])\."]
    tokenizer: Any = nlp.tokenizer
    tokenizer.suffix_search = spacy.util.compile_suffix_regex(suffixes).search
    # initialize() clears the ruler, so patterns are added afterwards.
    ruler.add_patterns(entity_patterns())  # type: ignore[attr-defined]
    nlp.meta["name"] = "govbot"
    nlp.meta["description"] = f"GovBot German pipeline based on {base or 'blank de'}"
    return nlp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--base", default=None, help=f"spaCy package to start from ({BASE_MODEL})")
    args = parser.parse_args(argv)
    nlp = build(args.base)
    tmp = args.output.with_name(args.output.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(tmp)
    shutil.rmtree(args.output, ignore_errors=True)
    tmp.rename(args.output)
    print(f"spaCy pipeline {nlp.pipe_names} ({nlp.meta['description']}) -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
