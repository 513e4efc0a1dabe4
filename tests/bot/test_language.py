"""The German spaCy pipeline Rasa loads, and the training data derived from the catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot import generate
from bot.language.build_spacy import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return build(base=None)


def test_lemmas_come_from_the_german_lookup_table(nlp) -> None:  # type: ignore[no-untyped-def]
    doc = nlp("Wann hat das Bürgerbüro geöffnet? Ich habe Kinder.")
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["hat"] == "haben"
    assert lemmas["geöffnet"] == "öffnen"
    assert lemmas["Kinder"] == "Kind"


@pytest.mark.parametrize(
    ("text", "entity", "label"),
    [
        ("Mein Auto hat das Kennzeichen PB-AB 123.", "PB-AB 123", "kfz_kennzeichen"),
        ("kennzeichen pb-ab-1234e", "pb-ab-1234e", "kfz_kennzeichen"),
        ("Es ist PB AB 12", "PB AB 12", "kfz_kennzeichen"),
        ("Wie ist der Stand von BPA-2026-000123?", "BPA-2026-000123", "aktenzeichen"),
    ],
)
def test_entity_ruler_finds_identifiers(nlp, text: str, entity: str, label: str) -> None:  # type: ignore[no-untyped-def]
    assert [(e.text, e.label_) for e in nlp(text).ents] == [(entity, label)]


@pytest.mark.parametrize("text", ["Hat es ab 10 Uhr offen?", "ich bin ab 12 da"])
def test_ordinary_german_is_no_licence_plate(nlp, text: str) -> None:  # type: ignore[no-untyped-def]
    assert list(nlp(text).ents) == []


def test_generated_training_data_is_in_sync() -> None:
    assert generate.main(["--check"]) == 0, "run `make generate` and commit the result"


def test_a_new_department_gets_synonyms_without_code_changes(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "data" / "catalogue", tmp_path / "data" / "catalogue")
    path = tmp_path / "data" / "catalogue" / "departments.yml"
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    catalogue["departments"].append(
        {"slug": "stadtkasse", "name": "Stadtkasse", "synonyms": ["Kämmerei"]}
    )
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    assert generate.main(["--root", str(tmp_path)]) == 0
    written = yaml.safe_load(
        (tmp_path / "data" / "nlu" / "generated" / "departments.yml").read_text(encoding="utf-8")
    )
    synonyms = {e["synonym"]: e["examples"] for e in written["nlu"] if "synonym" in e}
    assert "- Kämmerei\n" in synonyms["stadtkasse"]
    assert "- kaemmerei\n" in synonyms["stadtkasse"]
