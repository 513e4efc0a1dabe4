"""NLU evaluation: the held-out test file against the trained model, and cross-validation.

    python -m bot.evaluate --output docs/eval            # held-out file + cross-validation
    python -m bot.evaluate --held-out-only --check       # CI gate on the held-out file

The held-out file (tests/nlu/held_out.yml) repeats no training example. ``--check`` fails
when intent accuracy or the F1 of the ``service`` entity falls below the targets by more
than ``--tolerance``: CI retrains on another machine, and TensorFlow's multi-threaded CPU
kernels may round differently, which moves a borderline prediction or two. The report of
``make eval`` always compares with the targets themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.model import CONFIG, ROOT, model_path

HELD_OUT = Path("tests/nlu/held_out.yml")
TARGET_INTENT_ACCURACY = 0.92
TARGET_SERVICE_F1 = 0.90


@dataclass
class Report:
    title: str
    intents: dict
    entities: dict

    @property
    def accuracy(self) -> float:
        return float(self.intents["accuracy"])

    def entity_f1(self, entity: str) -> float:
        return float(self.entities.get(entity, {}).get("f1-score", 0.0))


def rasa_test_nlu(arguments: list[str], out: Path) -> Report:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "rasa", "test", "nlu", *arguments, "--out", str(out)]
    with (out / "rasa.log").open("w") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log, check=True)
    entities_file = out / "DIETClassifier_report.json"
    return Report(
        title="",
        intents=json.loads((out / "intent_report.json").read_text()),
        entities=json.loads(entities_file.read_text()) if entities_file.exists() else {},
    )


def held_out(out: Path) -> Report:
    report = rasa_test_nlu(["--nlu", str(HELD_OUT), "--model", str(model_path())], out)
    report.title = f"Held-out test file `{HELD_OUT}` against the trained model"
    return report


def cross_validation(out: Path, folds: int) -> Report:
    report = rasa_test_nlu(
        ["--nlu", "data/nlu", "--config", str(CONFIG), "--cross-validation", "--folds", str(folds)],
        out,
    )
    report.title = f"{folds}-fold cross-validation of `data/nlu` with `{CONFIG}`"
    return report


def markdown(report: Report) -> str:
    lines = [
        f"## {report.title}",
        "",
        f"- intent accuracy: **{report.accuracy:.3f}**",
        f"- intent macro F1: {report.intents['macro avg']['f1-score']:.3f}",
        f"- entity F1: service **{report.entity_f1('service'):.3f}**, "
        f"department {report.entity_f1('department'):.3f}",
        "",
        "| intent | precision | recall | F1 | examples |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in sorted(report.intents.items()):
        if name in {"accuracy", "macro avg", "weighted avg", "micro avg"}:
            continue
        lines.append(
            f"| {name} | {row['precision']:.2f} | {row['recall']:.2f} | "
            f"{row['f1-score']:.2f} | {row['support']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("docs/eval"))
    parser.add_argument("--held-out-only", action="store_true")
    parser.add_argument("--check", action="store_true", help="fail below the targets")
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.0)
    args = parser.parse_args(argv)
    results = ROOT / "results" / "eval"
    reports = [held_out(results / "held_out")]
    if not args.held_out_only:
        reports.append(cross_validation(results / "cross_validation", args.folds))
    for report in reports:
        print(markdown(report), "\n", flush=True)

    if not args.held_out_only:
        args.output.mkdir(parents=True, exist_ok=True)
        for name, out in (("held_out", "held_out"), ("cross_validation", "cross_validation")):
            for picture in ("intent_confusion_matrix.png", "DIETClassifier_confusion_matrix.png"):
                if (results / out / picture).exists():
                    shutil.copy(results / out / picture, args.output / f"{name}_{picture}")
        body = "\n\n".join(markdown(r) for r in reports)
        (args.output / "README.md").write_text(
            f"# NLU evaluation\n\nWritten by `make eval` on {time.strftime('%Y-%m-%d')} "
            f"({os.cpu_count()} cores). Targets: intent accuracy ≥ {TARGET_INTENT_ACCURACY} "
            f"and `service` entity F1 ≥ {TARGET_SERVICE_F1} on the held-out file.\n\n"
            f"{body}\n\nConfusion matrices: `held_out_intent_confusion_matrix.png`, "
            "`cross_validation_intent_confusion_matrix.png` (and the entity ones) in this "
            "folder.\n",
            encoding="utf-8",
        )
        print(f"==> wrote {args.output}/README.md")

    if args.check:
        report = reports[0]
        failed = []
        slack = args.tolerance
        if report.accuracy < TARGET_INTENT_ACCURACY - slack:
            failed.append(f"intent accuracy {report.accuracy:.3f} < {TARGET_INTENT_ACCURACY}")
        if report.entity_f1("service") < TARGET_SERVICE_F1 - slack:
            failed.append(
                f"service entity F1 {report.entity_f1('service'):.3f} < {TARGET_SERVICE_F1}"
            )
        if failed:
            print("==> NLU below target on the held-out file: " + "; ".join(failed))
            return 1
        print(f"==> NLU meets the targets on the held-out file (tolerance {slack})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
