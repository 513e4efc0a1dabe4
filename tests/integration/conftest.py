"""One running stack for all integration tests: backend, action server and Rasa server.

The processes are the real ones (see tests/stack.py), on free loopback ports, with their
databases in a temporary folder and the backend's clock fixed to a Wednesday, 10:00.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.model import model_path
from tests.stack import Stack

FIXED_NOW = "2026-12-02T10:00:00+01:00"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not model_path().exists():
        pytest.fail(f"no trained model {model_path().name}: run `make train` first")
    running = Stack(
        state=tmp_path_factory.mktemp("stack"), backend_env={"BACKEND_FIXED_NOW": FIXED_NOW}
    )
    try:
        running.start()
        running.wait_healthy()
        yield running
    finally:
        running.stop()
