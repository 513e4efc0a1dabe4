"""Train the Rasa model, unless one for the current config and data exists already.

python -m bot.train [--force]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.model import (
    CONFIG,
    DOMAIN,
    MODEL_DIR,
    ROOT,
    TRAINING_DATA,
    language_fingerprint,
    model_name,
    model_path,
)

KEEP_MODELS = 3


def prune(model_dir: Path, keep: int = KEEP_MODELS) -> None:
    models = sorted(model_dir.glob("govbot-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-keep]:
        old.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even if the model exists")
    args = parser.parse_args(argv)
    target = model_path()
    if target.exists() and not args.force:
        # Newest by mtime, so `rasa ... --model models` picks it too.
        target.touch()
        print(f"==> model is up to date: {target.relative_to(ROOT)} (no training needed)")
        return 0
    print(f"==> training {target.relative_to(ROOT)} (several minutes on 2 cores)")
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        # Rasa caches trained components by their config; SpacyNLP's config is only the
        # pipeline's path, so a rebuilt pipeline gets a cache of its own.
        "RASA_CACHE_DIRECTORY": str(ROOT / ".rasa" / f"cache-{language_fingerprint()}"),
    }
    started = time.monotonic()
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(CONFIG),
        "--domain", str(DOMAIN),
        "--data", *map(str, TRAINING_DATA),
        "--out", str(MODEL_DIR),
        "--fixed-model-name", model_name(),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode != 0 or not target.exists():
        print("==> training failed", file=sys.stderr)
        return result.returncode or 1
    print(f"==> trained in {time.monotonic() - started:.0f} s: {target.relative_to(ROOT)}")
    prune(ROOT / MODEL_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
