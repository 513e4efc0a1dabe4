"""The pipeline keeps only service entities that name a catalogue service."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.model import ROOT
from bot.nlu.known_services import KnownServiceFilter, catalogue_slugs


def entity(kind: str, value: str) -> dict[str, object]:
    return {"entity": kind, "value": value, "start": 0, "end": 1, "extractor": "DIETClassifier"}


def test_words_that_name_no_service_are_dropped_and_the_rest_kept() -> None:
    slugs = catalogue_slugs(ROOT / "data" / "catalogue" / "services.yml")
    assert "hundeanmeldung" in slugs and len(slugs) > 20
    message = Message(
        data={
            "text": "x",
            "entities": [
                entity("service", "hundeanmeldung"),
                entity("service", "Sitzung"),
                entity("department", "Finanzamt Nord"),
                entity("kfz_kennzeichen", "MU-AB 123"),
            ],
        }
    )
    [filtered] = KnownServiceFilter(slugs).process([message])
    assert [(e["entity"], e["value"]) for e in filtered.get("entities")] == [
        ("service", "hundeanmeldung"),
        ("department", "Finanzamt Nord"),
        ("kfz_kennzeichen", "MU-AB 123"),
    ]


def test_a_message_without_entities_is_left_alone() -> None:
    message = Message(data={"text": "Hallo"})
    [same] = KnownServiceFilter(frozenset({"a"})).process([message])
    assert same.get("entities") is None
