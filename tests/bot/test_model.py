"""A model is retrained exactly when config, domain, training data or language layer change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for folder in ["bot/domain", "data/nlu", "data/rules", "data/stories"]:
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "bot" / "language").mkdir(parents=True)
    (tmp_path / model.LANGUAGE_META).parent.mkdir(parents=True)
    (tmp_path / model.CATALOGUE_SERVICES).parent.mkdir(parents=True)
    for file in [model.CONFIG, model.LANGUAGE, model.LANGUAGE_META, *model.COMPONENTS,
                 model.CATALOGUE_SERVICES]:  # fmt: skip
        shutil.copy(ROOT / file, tmp_path / file)
    return tmp_path


def test_unchanged_files_give_the_same_model(project: Path) -> None:
    assert model.model_name(project) == model.model_name(project)
    (project / "README.md").write_text("not an input")
    (project / "bot" / "domain" / "_shared.yml").touch()
    assert model.fingerprint(project) == model.fingerprint(ROOT)


@pytest.mark.parametrize(
    "changed",
    ["bot/config.yml", "bot/domain/_shared.yml", "data/nlu/chitchat.yml",
     "data/rules/chitchat.yml", "bot/language/build_spacy.py", "bot/language/linear.py",
     "data/catalogue/services.yml",
     "var/spacy/de_govbot/meta.json"],
)  # fmt: skip
def test_any_input_change_gives_a_new_model(project: Path, changed: str) -> None:
    before = model.fingerprint(project)
    with (project / changed).open("a") as handle:
        handle.write("\n# changed\n")
    assert model.fingerprint(project) != before


def test_a_new_training_file_gives_a_new_model(project: Path) -> None:
    before = model.fingerprint(project)
    (project / "data" / "nlu" / "more.yml").write_text('version: "3.1"\nnlu: []\n')
    assert model.fingerprint(project) != before
