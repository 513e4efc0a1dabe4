"""Load the trained model in this process and print what it predicts, as JSON.

    python -m tests.integration.model_predictions [--patched]

``--patched`` applies GovBot's changes to Rasa first (channels/rasa_patches.py), as the
Rasa server does when it imports the channels. tests/integration/test_model_loading.py runs
both and compares: the NLU's intent ranking and entities for a set of messages, and every
policy's action probabilities along a conversation, and before every action of long
conversations (GovBot's stories, rules and test conversations one after another: forms,
handoffs and questions far longer than any rule), each one tracker that grows event by event
as in a conversation, its rule-predicted actions marked as the processor marks them.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
import time
from typing import Any

from bot.model import ROOT, model_path

MESSAGES = [
    "Hallo",
    "Wann hat das Bürgerbüro heute geöffnet?",
    "Was kostet ein Reisepass?",
    "Welche Unterlagen brauche ich für die Hundeanmeldung?",
    "Ich möchte meinen Hund anmelden",
    "Mein Kennzeichen ist PB-AB 123",
    "Wo finde ich das Standesamt?",
    "Wie lange dauert die Bearbeitung beim Wohngeld?",
    "Ich will mit einem Menschen sprechen",
    "Bitte lösche unser Gespräch",
    "Wie wird das Wetter morgen?",
    "ja",
    "nein danke",
    "abbrechen",
    "Lindenallee 12",
    "asdf jklö",
]
CONVERSATION = ["Hallo", "Ich möchte einen Bewohnerparkausweis beantragen", "Anna", "abbrechen"]


async def predictions(patched: bool) -> dict[str, Any]:
    os.chdir(ROOT)
    if patched:
        import rasa.core.actions.action  # noqa: F401 - what the Rasa server has loaded

        from channels import rasa_patches

        assert rasa_patches.apply()
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    started = time.perf_counter()
    agent = await load_agent(model_path=str(model_path()))
    seconds = time.perf_counter() - started
    parsed = []
    for text in MESSAGES:
        result = await agent.parse_message(text)
        parsed.append(
            {
                "text": text,
                "ranking": [(i["name"], i["confidence"]) for i in result["intent_ranking"]],
                "entities": [
                    (e["entity"], e["start"], e["end"], e.get("value"), e.get("confidence_entity"))
                    for e in result["entities"]
                ],
            }
        )
    processor = agent.processor
    assert processor is not None
    runner = processor.graph_runner
    nodes = runner._graph_schema.nodes
    policies = sorted(name for name in nodes if name.startswith("run_") and "Policy" in name)
    steps = []
    for text in CONVERSATION:
        await processor.log_message(UserMessage(text, CollectingOutputChannel(), "compare"))
        tracker = await processor.get_tracker("compare")
        outputs = runner.run(inputs={"__tracker__": tracker}, targets=policies)
        steps.append({name: list(map(float, outputs[name].probabilities)) for name in policies})
    history = []
    hidden = 0
    rules = next(name for name in policies if "RulePolicy" in name)
    actions = agent.domain.action_names_or_texts
    for tracker in long_conversations(agent):
        history.append([])
        # One tracker that grows as in a conversation (Rasa's tracker store cache hands the
        # same one back for the next message), predicted on before each of its actions.
        growing = DialogueStateTracker(tracker.sender_id, tracker.slots.values())
        for event in tracker.events:
            if isinstance(event, ActionExecuted) and growing.events:
                outputs = runner.run(inputs={"__tracker__": growing}, targets=policies)
                history[-1].append({name: prediction(outputs[name]) for name in policies})
                # As the processor logs an action that a rule predicted and no story has:
                # hidden from the stories' policies in the predictions that follow.
                rule = outputs[rules]
                chosen = max(range(len(actions)), key=lambda i: rule.probabilities[i])
                if rule.hide_rule_turn and actions[chosen] == event.action_name:
                    event = copy.copy(event)
                    event.hide_rule_turn = True
                    hidden += 1
            growing.update(event)
    return {
        "seconds": seconds,
        "parsed": parsed,
        "policies": policies,
        "steps": steps,
        "history": history,
        "hidden": hidden,
    }


def prediction(output: Any) -> dict[str, Any]:
    """What a policy's prediction decides (PolicyPrediction's fields but its name)."""
    return {
        "probabilities": list(map(float, output.probabilities)),
        "events": [event.as_dict() for event in output.events],
        "optional_events": [event.as_dict() for event in output.optional_events],
        "hide_rule_turn": output.hide_rule_turn,
        "is_end_to_end_prediction": output.is_end_to_end_prediction,
        "is_no_user_prediction": output.is_no_user_prediction,
        "action_metadata": output.action_metadata,
        "diagnostic_data": sorted(output.diagnostic_data),
    }


def long_conversations(agent: Any) -> list[Any]:
    """GovBot's stories, rules and test conversations as trackers, ten in a row each."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.importers.importer import TrainingDataImporter

    domain = agent.domain
    importer = TrainingDataImporter.load_from_dict(
        domain_path="bot/domain",
        training_data_paths=["data/stories", "data/rules", "tests/conversations"],
    )
    generated = TrainingDataGenerator(
        importer.get_stories(), domain, remove_duplicates=False, augmentation_factor=0
    ).generate()
    trackers = []
    for start in range(0, len(generated), 10):
        events = [e for t in generated[start : start + 10] for e in t.events]
        trackers.append(DialogueStateTracker.from_events("long", events, domain.slots))
    return trackers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patched", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(predictions(args.patched))
    sys.stdout.write("PREDICTIONS " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
