"""One running stack for all integration tests: backend, action server and Rasa server.

Each process is the real one, started the way the Procfile starts it, on free loopback
ports, with its databases in a temporary folder and the backend's clock fixed to a
Wednesday, 10:00 in Musterstadt.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.model import model_path

ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"
BACKEND_PYTHON = ROOT / ".venv-backend" / "bin" / "python"
FIXED_NOW = "2026-12-02T10:00:00+01:00"
START_TIMEOUT = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    backend_url: str
    actions_url: str
    rasa_url: str
    logs: Path

    def say(self, sender: str, message: str) -> list[dict]:  # type: ignore[type-arg]
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    def texts(self, sender: str, message: str) -> list[str]:
        return [m.get("text", "") for m in self.say(sender, message)]


def _wait_healthy(name: str, url: str, process: subprocess.Popen, log: Path) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} not healthy after {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not model_path().exists():
        pytest.fail(f"no trained model {model_path().name}: run `make train` first")
    state = tmp_path_factory.mktemp("stack")
    ports = {name: free_port() for name in ("backend", "actions", "rasa")}
    backend_url = f"http://127.0.0.1:{ports['backend']}"
    actions_url = f"http://127.0.0.1:{ports['actions']}"
    rasa_url = f"http://127.0.0.1:{ports['rasa']}"
    env = {
        **os.environ,
        "GOVBOT_ENV": "test",
        "RASA_TELEMETRY_ENABLED": "false",
        "BACKEND_PORT": str(ports["backend"]),
        "BACKEND_DATABASE_URL": f"sqlite:///{state / 'backend.sqlite3'}",
        "BACKEND_FIXED_NOW": FIXED_NOW,
        "ACTIONS_PORT": str(ports["actions"]),
        "ACTIONS_BACKEND_URL": backend_url,
        "RASA_PORT": str(ports["rasa"]),
        "RASA_ACTION_ENDPOINT_URL": f"{actions_url}/webhook",
        "RASA_TRACKER_DB": str(state / "tracker.sqlite3"),
        "RASA_ENABLE_API": "false",
    }
    commands = {
        "backend": ([str(BACKEND_PYTHON), "-m", "backend.serve"], f"{backend_url}/health"),
        "actions": ([str(BOT_PYTHON), "-m", "actions.serve"], f"{actions_url}/health"),
        "rasa": ([str(BOT_PYTHON), "-m", "bot.run_rasa"], f"{rasa_url}/webhooks/rest/"),
    }
    processes: dict[str, tuple[subprocess.Popen, Path]] = {}  # type: ignore[type-arg]
    try:
        for name, (command, _) in commands.items():
            log = state / f"{name}.log"
            with log.open("wb") as out:
                processes[name] = (
                    subprocess.Popen(
                        command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                    ),
                    log,
                )
        for name, (_, url) in commands.items():
            process, log = processes[name]
            _wait_healthy(name, url, process, log)
        yield Stack(backend_url, actions_url, rasa_url, state)
    finally:
        for process, _ in processes.values():
            process.terminate()
        for process, _ in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
