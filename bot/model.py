"""Which trained model belongs to the current config and training data.

A model is named after a hash of everything that shapes it, so an unchanged bot is never
trained twice and the server always loads the model that matches the files.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path("bot/config.yml")
DOMAIN = Path("bot/domain")
TRAINING_DATA = [Path("data/nlu"), Path("data/rules"), Path("data/stories")]
# The spaCy pipeline is built by this script; its tokens and lemmas are model input. Its
# meta.json says which base it was built on (blank "de" or de_core_news_sm).
LANGUAGE = Path("bot/language/build_spacy.py")
# The code of GovBot's own NLU components trains and stores their part of the model.
COMPONENTS = [Path("bot/language/linear.py")]
LANGUAGE_META = Path("var/spacy/de_govbot/meta.json")
MODEL_DIR = Path("models")
CATALOGUE_SERVICES = Path("data/catalogue/services.yml")


def inputs(root: Path = ROOT) -> list[Path]:
    files = [root / CONFIG, root / LANGUAGE, *(root / path for path in COMPONENTS)]
    if (root / LANGUAGE_META).exists():
        files.append(root / LANGUAGE_META)
    # The catalogue's service texts train the ServiceClassifier (bot/language/linear.py).
    if (root / CATALOGUE_SERVICES).exists():
        files.append(root / CATALOGUE_SERVICES)
    for folder in [DOMAIN, *TRAINING_DATA]:
        files.extend(sorted((root / folder).rglob("*.yml")))
    return files


def fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256(f"rasa {version('rasa')}\n".encode())
    for path in inputs(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def language_fingerprint(root: Path = ROOT) -> str:
    """Identifies the spaCy pipeline; Rasa's training cache only knows its path."""
    digest = hashlib.sha256((root / LANGUAGE).read_bytes())
    if (root / LANGUAGE_META).exists():
        digest.update((root / LANGUAGE_META).read_bytes())
    return digest.hexdigest()[:12]


def model_name(root: Path = ROOT) -> str:
    return f"govbot-{fingerprint(root)}"


def model_path(root: Path = ROOT, model_dir: Path = MODEL_DIR) -> Path:
    return root / model_dir / f"{model_name(root)}.tar.gz"
