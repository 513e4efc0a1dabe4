"""Keep only ``service`` entities that name a service of the catalogue.

DIET tags a word as ``service`` now and then that is none ("Sitzung", "Tagesschau",
"Erlaubnis"); the EntitySynonymMapper turns the words citizens use for a real service into
its slug. Whatever is still no slug of ``data/catalogue/services.yml`` after that is dropped
here, and the knowledge action searches the catalogue with the citizen's whole message
instead (actions/knowledge.py), which finds services the model never saw as well.

Only ``service`` is filtered: an unknown ``department`` is answered ("Das ... kenne ich
nicht") from the citizen's own word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_VALUE
from rasa.shared.nlu.training_data.message import Message

ENTITY = "service"


def catalogue_slugs(path: Path) -> frozenset[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return frozenset(str(entry["slug"]) for entry in data.get("services") or [])


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class KnownServiceFilter(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"catalogue": "data/catalogue/services.yml"}

    def __init__(self, slugs: frozenset[str]) -> None:
        self.slugs = slugs

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KnownServiceFilter:
        return cls(catalogue_slugs(Path(config["catalogue"])))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = [
                entity
                for entity in entities
                if entity.get(ENTITY_ATTRIBUTE_TYPE) != ENTITY
                or entity.get(ENTITY_ATTRIBUTE_VALUE) in self.slugs
            ]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
