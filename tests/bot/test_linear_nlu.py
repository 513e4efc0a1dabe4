"""The deterministic NLU classifiers (bot/language/linear.py) as Rasa components."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.linear import (
    NO_SERVICE,
    LinearIntentClassifier,
    ServiceClassifier,
    catalogue_texts,
    service_labels,
)
from bot.language.reproducibility import component_config

ROOT = Path(__file__).resolve().parents[2]

NLU = """
version: "3.1"
nlu:
  - synonym: reisepass
    examples: |
      - Pass
      - Reisepässe
  - intent: ask_fees
    examples: |
      - Was kostet ein [Reisepass]{"entity": "service", "value": "reisepass"}?
      - Wie teuer ist der [Pass](service)?
      - Was muss ich für den [Hund]{"entity": "service", "value": "hundeanmeldung"} zahlen?
      - Gebühren für die [Hundesteuer]{"entity": "service", "value": "hundeanmeldung"}
      - was kostet das
      - wie teuer ist das
  - intent: ask_apply
    examples: |
      - Ich möchte einen [Reisepass]{"entity": "service", "value": "reisepass"} beantragen
      - wie bekomme ich einen neuen [Pass](service)
      - Ich will meinen [Hund anmelden]{"entity": "service", "value": "hundeanmeldung"}
      - [Hund]{"entity": "service", "value": "hundeanmeldung"} anmelden, wie geht das
      - Wie beantrage ich das?
      - wo stelle ich den antrag
  - intent: greet
    examples: |
      - Hallo
      - Guten Tag
      - Moin
      - Hi
      - Servus
      - Guten Morgen
"""


def training_data() -> TrainingData:
    return RasaYAMLReader().reads(NLU)


def trained(component: type[Any], tmp_path: Path, **config: Any) -> Any:
    storage = LocalModelStorage(tmp_path)
    resource = Resource(component.__name__)
    context = ExecutionContext(GraphSchema({}), "test")
    full = {**component.get_default_config(), **config}
    component.create(full, storage, resource, context).train(training_data())
    # What the Rasa server does: a new instance from the stored model.
    return component.load(full, storage, resource, context)


def message(text: str, entities: list[dict[str, Any]] | None = None) -> Message:
    built = Message(data={"text": text})
    if entities:
        built.set("entities", entities)
    return built


def test_the_intent_comes_with_a_ranking_of_calibrated_confidences(tmp_path: Path) -> None:
    classifier = trained(LinearIntentClassifier, tmp_path)
    [parsed] = classifier.process([message("Was kostet denn ein Reisepass?")])
    intent, ranking = parsed.get("intent"), parsed.get("intent_ranking")
    assert intent["name"] == "ask_fees"
    assert ranking[0] == intent
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert {r["name"] for r in ranking} == {"ask_fees", "ask_apply", "greet"}
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-9
    [greeting] = classifier.process([message("Hallo zusammen")])
    assert greeting.get("intent")["name"] == "greet"


def test_the_question_of_a_longer_message_weighs_as_much_as_the_whole(tmp_path: Path) -> None:
    text = "Ich will meinen Hund anmelden. Was kostet das?"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole_only = trained(LinearIntentClassifier, tmp_path / "a", question_sentence=False)
    [plain] = whole_only.process([message(text)])
    classifier = trained(LinearIntentClassifier, tmp_path / "b")
    [parsed] = classifier.process([message(text)])
    # The wish stated first says "apply"; the question asks for the fees.
    assert plain.get("intent")["name"] == "ask_apply"
    assert parsed.get("intent")["name"] == "ask_fees"
    ranking = parsed.get("intent_ranking")
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-9
    # One sentence, or questions only: the whole message alone, as before.
    [single] = classifier.process([message("Was kostet ein Reisepass?")])
    [alone] = whole_only.process([message("Was kostet ein Reisepass?")])
    assert single.get("intent_ranking") == alone.get("intent_ranking")


def test_the_service_is_named_by_its_slug_and_replaces_tagged_spans(tmp_path: Path) -> None:
    classifier = trained(ServiceClassifier, tmp_path, threshold=0.3)
    tagged = [
        {"entity": "service", "value": "Reise", "start": 16, "end": 21, "extractor": "CRF"},
        {"entity": "department", "value": "buergerbuero", "start": 0, "end": 3},
    ]
    [parsed] = classifier.process([message("Ich möchte den Reisepass beantragen", tagged)])
    entities = parsed.get("entities")
    assert [e for e in entities if e["entity"] == "department"] == [tagged[1]]
    [service] = [e for e in entities if e["entity"] == "service"]
    assert service["value"] == "reisepass"
    assert service["extractor"] == "ServiceClassifier"
    assert 0.3 <= service["confidence_entity"] <= 1.0
    # A message about no service gets none, and a tagger's guess is dropped.
    [plain] = classifier.process([message("Guten Tag", tagged[:1])])
    assert plain.get("entities") == []


def test_a_doubtful_service_is_not_named(tmp_path: Path) -> None:
    classifier = trained(ServiceClassifier, tmp_path, threshold=1.01)
    [parsed] = classifier.process([message("Ich möchte den Reisepass beantragen")])
    assert parsed.get("entities") == []


def test_service_labels_resolve_synonyms_and_teach_no_service() -> None:
    texts, labels = service_labels(training_data(), "service")
    by_text = dict(zip(texts, labels, strict=True))
    assert by_text["Wie teuer ist der Pass?"] == "reisepass"  # synonym resolved
    assert by_text["Gebühren für die Hundesteuer"] == "hundeanmeldung"
    assert by_text["Hallo"] == NO_SERVICE
    assert by_text["was kostet das"] == NO_SERVICE
    # The synonyms themselves are examples of their service.
    assert by_text["Reisepässe"] == "reisepass"


def test_an_untrained_component_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    config = LinearIntentClassifier.get_default_config()
    loaded = LinearIntentClassifier.load(config, storage, Resource("none"), context)
    [parsed] = loaded.process([message("Hallo")])
    assert parsed.get("intent") is None


def test_the_components_are_configured_in_the_rasa_config() -> None:
    assert component_config("LinearIntentClassifier")["C"] > 0
    assert 0 < component_config("ServiceClassifier")["threshold"] < 1


def digests(threads: str, hash_seed: str) -> list[str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONHASHSEED": hash_seed,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.language.reproducibility", "--seeds", "42", "--digest"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if line.startswith("DIGEST ")]


def test_training_gives_the_same_probabilities_with_any_threads_and_hash_seed() -> None:
    # Every probability the trained classifiers give the held-out messages, to the last bit.
    one = digests("1", "1")
    assert len(one) == 1
    assert digests("2", "2") == one


CATALOGUE = """
services:
  - slug: baumfaellgenehmigung
    name: Baumfällgenehmigung
    description: >-
      Wer auf seinem Grundstück einen geschützten Baum fällen oder stark zurückschneiden
      will, braucht vorher eine Genehmigung. Das gilt für Laubbäume und Nadelbäume ab einem
      Stammumfang von 80 Zentimetern.
    eligibility: Den Antrag stellen Eigentümer des Grundstücks oder Mieter mit ihrer Zustimmung.
"""


def test_a_service_only_in_the_catalogue_is_learned_from_its_texts(tmp_path: Path) -> None:
    catalogue = tmp_path / "services.yml"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    texts = catalogue_texts(catalogue)
    assert ("Baumfällgenehmigung", "baumfaellgenehmigung") in texts
    assert sum(1 for _, slug in texts if slug == "baumfaellgenehmigung") == 4  # name, 3 sentences
    assert catalogue_texts(tmp_path / "missing.yml") == []

    classifier = trained(
        ServiceClassifier, tmp_path, catalogue=str(catalogue), threshold=0.3, candidates=2
    )
    [parsed] = classifier.process(
        [message("muss ich das amt fragen, bevor ich einen baum auf meinem grundstück fälle?")]
    )
    assert [e["value"] for e in parsed.get("entities")] == ["baumfaellgenehmigung"]
    candidates = parsed.get("service_candidates")
    assert candidates[0]["value"] == "baumfaellgenehmigung"
    assert len(candidates) <= 2
    assert all(c["confidence"] >= 0.1 for c in candidates)
