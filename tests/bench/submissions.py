"""Measure application submissions and deliveries; write them to docs/benchmarks.md.

    .venv-backend/bin/python -m tests.bench.submissions --output docs/benchmarks.md

Starts the real backend (uvicorn, ``python -m backend.serve``) on a free loopback port with
a temporary SQLite database and DMS folder, and sends valid Bewohnerparkausweis
applications from an asyncio httpx client at several concurrency levels, each with its own
Idempotency-Key. Reports submissions per second and the median and 95th percentile
latency; first with the delivery worker off (the API alone), then with it on (the PDFs are
rendered in the same process while submissions arrive), and finally how fast
``python -m backend.deliver --once`` empties an outbox. Traffic goes to 127.0.0.1 only;
every loop is bounded by the number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from backend.app.core.config import DEVELOPMENT_INTERNAL_TOKEN
from bot.reporting import replace_block
from tests.bench.startup import machine
from tests.stack import BACKEND_PYTHON, ROOT, free_port

COMMAND = ".venv-backend/bin/python -m tests.bench.submissions --output docs/benchmarks.md"
WARM_UP = 20
# The backend started here runs outside production: the development token applies.
INTERNAL_HEADERS = {"Authorization": f"Bearer {DEVELOPMENT_INTERNAL_TOKEN}"}


@dataclass
class Run:
    concurrency: int
    worker: bool
    count: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def answers(number: int) -> dict[str, object]:
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    return {
        "vorname": "Anna",
        "nachname": "Müller-Lüdenscheidt",
        "strasse": "Lindenallee 12",
        "postleitzahl": "12345",
        "wohnsitz": "hauptwohnsitz",
        "kennzeichen": f"MU-AB {number % 9999 + 1}",
        "halter": "selbst",
        "gueltig_ab": today,
        "email": "anna@example.org",
        "telefon": "",
    }


def environment(state: Path, port: int, worker: bool) -> dict[str, str]:
    return {
        **os.environ,
        "GOVBOT_ENV": "development",
        "BACKEND_PORT": str(port),
        "BACKEND_DATABASE_URL": f"sqlite:///{state / 'backend.sqlite3'}",
        "BACKEND_DMS_SINK": "folder",
        "BACKEND_DMS_FOLDER": str(state / "dms"),
        "BACKEND_DELIVERY_WORKER": "true" if worker else "false",
    }


@contextmanager
def backend(state: Path, worker: bool) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (state / f"backend-{'worker' if worker else 'api'}.log").open("wb")
    process = subprocess.Popen(
        [str(BACKEND_PYTHON), "-m", "backend.serve"],
        cwd=ROOT,
        env=environment(state, port, worker),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"backend exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("backend not healthy after 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def fire(url: str, count: int, concurrency: int, first: int) -> tuple[float, list[float]]:
    """Send ``count`` submissions, ``concurrency`` at a time; wall time and latencies."""
    latencies: list[float] = []
    numbers = iter(range(first, first + count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=limits, headers=INTERNAL_HEADERS
    ) as client:

        async def client_loop() -> None:
            for number in numbers:
                payload = {
                    "form": "bewohnerparkausweis",
                    "answers": answers(number),
                    "channel": "bench",
                    "conversation_id": f"bench-{number}",
                }
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/applications",
                    json=payload,
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def undelivered(state: Path) -> int:
    with sqlite3.connect(state / "backend.sqlite3") as connection:
        row = connection.execute("SELECT count(*) FROM delivery WHERE status != 'delivered'")
        return int(row.fetchone()[0])


def measure(state: Path, count: int, levels: list[int], worker: bool) -> tuple[list[Run], float]:
    """Runs at each level; with the worker on, also the seconds until the outbox was empty."""
    runs = []
    drained = 0.0
    with backend(state, worker) as url:
        asyncio.run(fire(url, WARM_UP, 1, 0))
        for level in levels:
            seconds, latencies = asyncio.run(fire(url, count, level, 10_000 * level))
            runs.append(Run(level, worker, count, seconds, latencies))
            print(f"==> {count} submissions, {level} at a time, worker {worker}: "
                  f"{count / seconds:.0f}/s", flush=True)  # fmt: skip
        if worker:
            started = time.monotonic()
            while undelivered(state) and time.monotonic() - started < 600:
                time.sleep(0.1)
            drained = time.monotonic() - started
    return runs, drained


def deliver_once(state: Path) -> tuple[int, float]:
    pending = undelivered(state)
    env = environment(state, free_port(), worker=False)
    started = time.monotonic()
    subprocess.run(
        [str(BACKEND_PYTHON), "-m", "backend.deliver", "--once"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return pending - undelivered(state), time.monotonic() - started


def render(runs: list[Run], count: int, drained: float, delivered: int, seconds: float) -> str:
    rows = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `{COMMAND}`.",
        "",
        f"{count} submissions per row, after {WARM_UP} for warming up.",
        "",
        "| concurrent clients | delivery worker | submissions/s | p50 latency | p95 latency |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for run in runs:
        rows.append(
            f"| {run.concurrency} | {'on' if run.worker else 'off'} | {run.per_second:.0f} "
            f"| {run.percentile(0.5) * 1000:.0f} ms | {run.percentile(0.95) * 1000:.0f} ms |"
        )
    rows += [
        "",
        f"- With the worker on, the outbox was empty {drained:.1f} s after the last submission.",
        f"- `python -m backend.deliver --once` delivered {delivered} applications (PDF and XML "
        f"into the DMS folder) in {seconds:.1f} s, process start included: "
        f"{delivered / seconds:.1f} per second.",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=200, help="submissions per row")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated levels")
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.concurrency.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="govbot-bench-submissions-"))
    try:
        api_state, worker_state = workdir / "api", workdir / "worker"
        api_state.mkdir()
        worker_state.mkdir()
        api_runs, _ = measure(api_state, args.requests, levels, worker=False)
        worker_runs, drained = measure(worker_state, args.requests, [10], worker=True)
        delivered, seconds = deliver_once(api_state)
        print(f"==> deliver --once: {delivered} in {seconds:.1f} s", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    block = render(api_runs + worker_runs, args.requests, drained, delivered, seconds)
    replace_block(args.output, "submissions", block)
    print(f"==> wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
