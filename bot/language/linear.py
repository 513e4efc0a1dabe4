"""Deterministic text classifiers for the NLU pipeline: word and character n-grams, a linear SVM.

Two components, registered in ``bot/config.yml``:

- ``LinearIntentClassifier``: the intent of a message;
- ``ServiceClassifier``: which service of the catalogue a message is about, as the
  ``service`` entity whose value is the service's slug (or none, when no service is named
  or the classifier is not sure). The answer needs the service, not the words that name it:
  "ich zieh nächsten Monat innerhalb der Stadt um" names no span a tagger could find, and
  the whole sentence still says "wohnsitz-ummelden".

They replace DIET, whose result depended on the machine that trained it: the same data,
config and seed gave a held-out intent accuracy of 0.955 on one machine of our kind and
0.918 on another (TensorFlow's CPU kernels round differently and run on several threads).
Here every step is exact or single-threaded:

- TF-IDF over words (1–2-grams of the case-folded text) and characters (2–5-grams within
  word boundaries, for typos, missing umlauts and compounds), by scikit-learn's vectorizers
  with a sorted vocabulary;
- a linear support vector machine trained by liblinear (plain C, double precision, one
  thread; its coordinate order comes from a fixed seed);
- confidences from a sigmoid per class fitted on fixed cross-validation folds
  (``CalibratedClassifierCV``), normalised over the classes, so that the FallbackClassifier's
  threshold means the same on every machine.

Training both takes seconds instead of DIET's minutes. ``docs/eval/`` records that repeated
trainings give the same predictions (``python -m bot.language.reproducibility``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_FILE = "linear.skops"
# A word for the word n-grams: any run of letters or digits, also of one character ("1").
WORD = r"(?u)\b\w+\b"
# The class of messages that name no service.
NO_SERVICE = "-"
# The parse result's list of plausible services (ServiceClassifier).
CANDIDATES = "service_candidates"
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def normalise(text: str) -> str:
    """What the classifiers read: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def build_pipeline(config: dict[str, Any]) -> Any:
    """The untrained scikit-learn pipeline for ``config`` (see ``DEFAULTS``)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, config["word_max_ngram"]),
        sublinear_tf=True,
        token_pattern=WORD,
        dtype=np.float64,
    )
    characters = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(config["char_min_ngram"], config["char_max_ngram"]),
        sublinear_tf=True,
        dtype=np.float64,
    )
    svm = LinearSVC(
        C=config["C"],
        class_weight=config["class_weight"],
        random_state=config["random_seed"],
        max_iter=10_000,
    )
    folds = StratifiedKFold(
        n_splits=config["calibration_folds"], shuffle=True, random_state=config["random_seed"]
    )
    calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, n_jobs=None)
    return make_pipeline(make_union(words, characters), calibrated)


def fit(config: dict[str, Any], texts: list[str], labels: list[str]) -> Any:
    """The trained pipeline (calibration folds reduced for a class with fewer examples)."""
    counts = np.unique(np.array(labels), return_counts=True)[1]
    folds = int(min(config["calibration_folds"], counts.min()))
    if len(counts) < 2 or folds < 2:
        raise ValueError("need at least two classes with two examples each")
    pipeline = build_pipeline({**config, "calibration_folds": folds})
    return pipeline.fit([normalise(t) for t in texts], np.array(labels))


def ranked(model: Any, texts: list[str]) -> list[list[tuple[str, float]]]:
    """Per text, (class, confidence) from the surest on; ties in the classes' order."""
    probabilities = model.predict_proba([normalise(t) for t in texts])
    names = list(model.classes_)
    return [
        [(names[i], float(row[i])) for i in np.argsort(-row, kind="stable")]
        for row in probabilities
    ]


DEFAULTS: dict[str, Any] = {
    "C": 1.0,
    "class_weight": None,
    "word_max_ngram": 2,
    "char_min_ngram": 2,
    "char_max_ngram": 5,
    "calibration_folds": 5,
    "random_seed": 42,
}


class _LinearComponent(GraphComponent):
    """Configuration, persistence and loading shared by both classifiers."""

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Any = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "skops"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _LinearComponent:
        return cls(config, model_storage, resource)

    def _train(self, texts: list[str], labels: list[str]) -> Resource:
        if len(set(labels)) < 2:
            logger.warning("%s: fewer than two classes, nothing to learn", type(self).__name__)
            return self._resource
        self.model = fit(self.config, texts, labels)
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> _LinearComponent:
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                # The file was written by this component into the model archive, which is
                # trusted like every other part of a Rasa model.
                model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        except ValueError:
            logger.debug("%s: no trained model, predicts nothing", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(_LinearComponent, IntentClassifier):
    """The intent by a calibrated linear SVM over word and character n-grams."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DEFAULTS, "ranking_length": 10, "question_sentence": True}

    def _with_the_question(
        self, texts: list[str], rankings: list[list[tuple[str, float]]]
    ) -> list[list[tuple[str, float]]]:
        """For a message of several sentences, some of them questions ("Ich will meinen Hund
        anmelden. Wo ist das Steueramt?"), the mean of the confidences for the whole message
        and for its questions: the aspect is what the citizen asks, not the wish they state."""
        questions = {i: question for i, text in enumerate(texts) if (question := _questions(text))}
        if not questions:
            return rankings
        asked = dict(zip(questions, ranked(self.model, list(questions.values())), strict=True))
        combined = []
        for i, ranking in enumerate(rankings):
            if i not in asked:
                combined.append(ranking)
                continue
            scores = {name: confidence / 2 for name, confidence in ranking}
            for name, confidence in asked[i]:
                scores[name] = scores.get(name, 0.0) + confidence / 2
            order = {name: place for place, (name, _) in enumerate(ranking)}
            combined.append(sorted(scores.items(), key=lambda item: (-item[1], order[item[0]])))
        return combined

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        return self._train([e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples])

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        length = self.config["ranking_length"]
        texts = [m.get(TEXT) or "" for m in messages]
        rankings = ranked(self.model, texts)
        if self.config["question_sentence"]:
            rankings = self._with_the_question(texts, rankings)
        for message, ranking in zip(messages, rankings, strict=True):
            intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
            message.set(INTENT, intents[0], add_to_output=True)
            message.set(
                INTENT_RANKING_KEY, intents[:length] if length else intents, add_to_output=True
            )
        return messages


def _questions(text: str) -> str | None:
    """The question sentences of a message that also has others, or None."""
    sentences = [part for part in SENTENCE_END.split(text.strip()) if part]
    asked = [sentence for sentence in sentences if sentence.rstrip().endswith("?")]
    return " ".join(asked) if asked and len(asked) < len(sentences) else None


def catalogue_texts(path: Path) -> list[tuple[str, str]]:
    """(text, slug) from the catalogue: each service's name and each sentence of its
    description and eligibility, so that a service is understood from what the city says
    about it, also without hand-written examples."""
    if not path.exists():
        return []
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("services") or []
    texts = []
    for entry in entries:
        slug = str(entry["slug"])
        texts.append((str(entry["name"]), slug))
        for field in ("description", "eligibility"):
            for sentence in SENTENCE_END.split(str(entry.get(field) or "")):
                if len(sentence.split()) >= 3:
                    texts.append((sentence.strip(), slug))
    return texts


def service_labels(
    training_data: TrainingData, entity: str, catalogue: Sequence[tuple[str, str]] = ()
) -> tuple[list[str], list[str]]:
    """Texts and the service each names (``NO_SERVICE`` for none), for training.

    Every example with an intent counts: one that annotates the entity teaches its value
    (synonyms resolved, as the EntitySynonymMapper would), one that does not teaches "no
    service". Each synonym of a service value ("Anwohnerparkausweis" for
    "bewohnerparkausweis") is an example of that service too, and so are the catalogue's
    texts about it (``catalogue_texts``).
    """
    synonyms = {key.casefold(): value for key, value in training_data.entity_synonyms.items()}
    texts: list[str] = []
    labels: list[str] = []
    for example in training_data.intent_examples:
        text = example.get(TEXT)
        if not text:
            continue
        values = [
            str(e.get(ENTITY_ATTRIBUTE_VALUE))
            for e in example.get(ENTITIES) or []
            if e.get(ENTITY_ATTRIBUTE_TYPE) == entity
        ]
        values = [synonyms.get(v.casefold(), v) for v in values]
        texts.append(text)
        labels.append(values[0] if values else NO_SERVICE)
    known = {slug for _, slug in catalogue}
    named = (set(labels) - {NO_SERVICE}) | known
    for synonym, value in sorted(training_data.entity_synonyms.items()):
        if value in named:
            texts.append(synonym)
            labels.append(value)
    for text, slug in catalogue:
        texts.append(text)
        labels.append(slug)
    return texts, labels


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class ServiceClassifier(_LinearComponent, EntityExtractorMixin):
    """The ``service`` entity from the whole message, by a calibrated linear SVM.

    Replaces whatever the extractors before it found for that entity: a message gets the
    service the classifier is at least ``threshold`` sure of, or none (then the action asks
    the backend's search, and asks back when that is unclear). The services it gives at
    least ``candidate_threshold`` (at most ``candidates``, surest first) are in the parse
    result as ``service_candidates``: what "Welche Leistung meinen Sie?" offers.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DEFAULTS,
            "entity": "service",
            "threshold": 0.4,
            "candidate_threshold": 0.1,
            "candidates": 3,
            "catalogue": "data/catalogue/services.yml",
        }

    def train(self, training_data: TrainingData) -> Resource:
        catalogue = catalogue_texts(Path(self.config["catalogue"]))
        return self._train(*service_labels(training_data, self.config["entity"], catalogue))

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        entity = self.config["entity"]
        rankings = ranked(self.model, [m.get(TEXT) or "" for m in messages])
        for message, ranking in zip(messages, rankings, strict=True):
            kept = [
                e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE) != entity
            ]
            candidates = [
                {"value": name, "confidence": confidence}
                for name, confidence in ranking
                if name != NO_SERVICE and confidence >= self.config["candidate_threshold"]
            ][: self.config["candidates"]]
            message.set(CANDIDATES, candidates, add_to_output=True)
            value, confidence = ranking[0]
            if value != NO_SERVICE and confidence >= self.config["threshold"]:
                text = message.get(TEXT) or ""
                kept.append(
                    {
                        ENTITY_ATTRIBUTE_TYPE: entity,
                        ENTITY_ATTRIBUTE_VALUE: value,
                        # The whole message is the evidence; no span of it is the name.
                        ENTITY_ATTRIBUTE_START: 0,
                        ENTITY_ATTRIBUTE_END: len(text),
                        ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: confidence,
                        EXTRACTOR: type(self).__name__,
                    }
                )
            message.set(ENTITIES, kept, add_to_output=True)
        return messages
