"""Start the real backend, action server and Rasa server on free loopback ports.

Used by the integration tests (one stack per test session) and by the benchmarks. Each
process is started the way the Procfile starts it, with its databases in ``state``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"
BACKEND_PYTHON = ROOT / ".venv-backend" / "bin" / "python"
START_TIMEOUT = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    state: Path
    # Extra environment of all three processes (settings of the backend, actions, Rasa).
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)  # type: ignore[type-arg]
    # The internal API's token shared by the three processes: a fresh one per stack, as in
    # production, rather than the development token.
    internal_token: str = field(default_factory=lambda: secrets.token_hex(32))

    @property
    def internal_headers(self) -> dict[str, str]:
        """What the action server and the channels send to the backend's internal API."""
        return {"Authorization": f"Bearer {self.internal_token}"}

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['backend']}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['actions']}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    def health_urls(self) -> dict[str, str]:
        return {
            "backend": f"{self.backend_url}/health",
            "actions": f"{self.actions_url}/health",
            "rasa": f"{self.rasa_url}/webhooks/rest/",
        }

    def start(self) -> None:
        self.ports = {name: free_port() for name in ("backend", "actions", "rasa")}
        env = {
            **os.environ,
            "GOVBOT_ENV": "test",
            "RASA_TELEMETRY_ENABLED": "false",
            "BACKEND_PORT": str(self.ports["backend"]),
            "BACKEND_DATABASE_URL": f"sqlite:///{self.state / 'backend.sqlite3'}",
            "ACTIONS_PORT": str(self.ports["actions"]),
            "ACTIONS_BACKEND_URL": self.backend_url,
            "RASA_PORT": str(self.ports["rasa"]),
            "RASA_ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
            "RASA_TRACKER_DB": str(self.state / "tracker.sqlite3"),
            "RASA_ENABLE_API": "false",
            "GOVBOT_INTERNAL_TOKEN": self.internal_token,
            # As the Procfile does: the backend's demo page embeds the web widget, which
            # talks to this Rasa server.
            "RASA_CORS": self.backend_url,
            "BACKEND_PUBLIC_RASA_URL": self.rasa_url,
            # Human handoff: staff replies go from the backend to the Rasa server's relay,
            # citizens' messages during a handoff from the channels to the backend.
            "BACKEND_RASA_INTERNAL_URL": self.rasa_url,
            "CHANNELS_BACKEND_URL": self.backend_url,
            # The staff intranet is reached over plain http on loopback here.
            "BACKEND_STAFF_COOKIE_SECURE": "false",
            **self.env,
        }
        commands = {
            "backend": [str(BACKEND_PYTHON), "-m", "backend.serve"],
            "actions": [str(BOT_PYTHON), "-m", "actions.serve"],
            "rasa": [str(BOT_PYTHON), "-m", "bot.run_rasa"],
        }
        for name, command in commands.items():
            with self.log(name).open("wb") as out:
                self.processes[name] = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )

    def log(self, name: str) -> Path:
        return self.state / f"{name}.log"

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        for name, url in self.health_urls().items():
            process = self.processes[name]
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}:\n{self.tail(name)}"
                    )
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not healthy after {timeout} s:\n{self.tail(name)}")
                time.sleep(0.25)

    def tail(self, name: str) -> str:
        return self.log(name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of each process (and its children), in MB."""
        return {name: _tree_rss_kb(p.pid) / 1024 for name, p in self.processes.items()}

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


def _tree_rss_kb(pid: int) -> int:
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(_tree_rss_kb(int(child)) for child in children)
