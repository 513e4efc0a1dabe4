"""Cross-validate the NLU pipeline candidates on the project's own data.

    python -m bot.language.compare_pipelines --output docs/nlu-pipeline.md

Each candidate in bot/language/candidates/ is evaluated with ``rasa test nlu
--cross-validation`` on data/nlu; the table of results is written into the output
document between the markers, so the reasoning around it stays hand-written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.evaluate import entity_reports
from bot.model import ROOT
from bot.reporting import replace_block

CANDIDATES = ROOT / "bot" / "language" / "candidates"


@dataclass
class Result:
    name: str
    description: str
    intent_accuracy: float
    intent_macro_f1: float
    service_f1: float
    department_f1: float
    seconds: float


def evaluate(config: Path, folds: int, out: Path) -> Result:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TQDM_DISABLE": "1"}
    command = [
        sys.executable, "-m", "rasa", "test", "nlu",
        "--nlu", "data/nlu", "--config", str(config),
        "--cross-validation", "--folds", str(folds), "--out", str(out),
    ]  # fmt: skip
    started = time.monotonic()
    with (out.parent / f"{out.name}.log").open("w") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log, check=True)
    (out / "seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")
    return read_result(config, out)


def read_result(config: Path, out: Path) -> Result:
    """The measurements a finished cross-validation left in ``out``."""
    seconds = float((out / "seconds.txt").read_text())
    intents = json.loads((out / "intent_report.json").read_text())
    entities = entity_reports(out)
    first_line = config.read_text(encoding="utf-8").splitlines()[0]
    return Result(
        name=config.stem,
        description=first_line.removeprefix("# Candidate:").strip(),
        intent_accuracy=intents["accuracy"],
        intent_macro_f1=intents["macro avg"]["f1-score"],
        # 0 for a pipeline whose service comes from the ServiceClassifier (no spans):
        # `make eval` scores that per message.
        service_f1=entities.get("service", {}).get("f1-score", 0.0),
        department_f1=entities.get("department", {}).get("f1-score", 0.0),
        seconds=seconds,
    )


def table(results: list[Result], folds: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}), "
        f"{folds}-fold cross-validation of `data/nlu`, by "
        "`make compare-pipelines`.",
        "",
        "| candidate | what it is | intent accuracy | intent macro F1 "
        "| `service` F1 | `department` F1 | time for all folds |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| `{r.name}` | {r.description} | {r.intent_accuracy:.3f} | "
            f"{r.intent_macro_f1:.3f} | {r.service_f1:.3f} | {r.department_f1:.3f} | "
            f"{r.seconds:.0f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="candidate names (file stems)")
    parser.add_argument(
        "--reuse", action="store_true", help="only re-render the table from results/pipelines/"
    )
    args = parser.parse_args(argv)
    results = []
    for config in sorted(CANDIDATES.glob("*.yml")):
        if args.only and config.stem not in args.only:
            continue
        out = ROOT / "results" / "pipelines" / config.stem
        if args.reuse:
            results.append(read_result(config, out))
            continue
        print(f"==> cross-validating {config.stem}", flush=True)
        out.mkdir(parents=True, exist_ok=True)
        results.append(evaluate(config, args.folds, out))
        print(f"    {results[-1]}", flush=True)
    replace_block(args.output, "results", table(results, args.folds))
    print(f"==> wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
