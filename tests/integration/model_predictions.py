"""Load the trained model in this process and print what it predicts, as JSON.

    python -m tests.integration.model_predictions [--patched]

``--patched`` applies GovBot's changes to Rasa first (channels/rasa_patches.py), as the
Rasa server does when it imports the channels. tests/integration/test_model_loading.py runs
both and compares: the NLU's intent ranking and entities for a set of messages, and every
policy's action probabilities along a conversation.
"""

from __future__ import annotations

import argparse
import asyncio
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
    return {"seconds": seconds, "parsed": parsed, "policies": policies, "steps": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patched", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(predictions(args.patched))
    sys.stdout.write("PREDICTIONS " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
