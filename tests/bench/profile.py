"""Where the Rasa server spends its time under load: py-spy on our running stack.

    .venv-bot/bin/python -m tests.bench.profile [--level 10] [--duration 60]   # make profile

Starts our stack as ``tests.bench.load`` does, warms it up, then runs ``--level``
concurrent simulated citizens (the load benchmark's mix of questions and whole forms) for
``--duration`` seconds while py-spy samples the Rasa server, the action server and the
backend (``py-spy record --format raw``; needs the right to ptrace them, as root or with
``kernel.yama.ptrace_scope=0``). Prints each process's share of samples per function
(inclusive, the way down from the request handler), and writes the raw samples to
var/bench/profile-<process>.txt for a flame graph. Numbers are shares of the samples, not
times: compare them between runs on the same machine, never assert them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.bench import load
from tests.stack import ROOT

PROCESSES = ("rasa", "actions", "backend")
SITE_PACKAGES = re.compile(r" \([^()]*/site-packages/")
LINE = re.compile(r":\d+\)$")


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is missing: run `make install` (it is a dev dependency)")
    return found


def record(spy: str, pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """``py-spy record`` of one process, in the background."""
    command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", "100", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def shares(raw: str) -> tuple[int, Counter[str], Counter[str]]:
    """Samples in all, and per function: inclusive and own (self) samples."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [LINE.sub(")", SITE_PACKAGES.sub(" (", frame)) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    return total, inclusive, own


def report(name: str, raw: str, top: int) -> str:
    total, inclusive, own = shares(raw)
    if not total:
        return f"## {name}: no samples\n"
    lines = [f"## {name}: {total} samples", "", "inclusive:"]
    lines += [f"{100 * n / total:5.1f} %  {f[:140]}" for f, n in inclusive.most_common(top)]
    lines += ["", "own:"]
    lines += [f"{100 * n / total:5.1f} %  {f[:140]}" for f, n in own.most_common(top // 2)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=10, help="concurrent conversations")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--top", type=int, default=60, help="functions listed per process")
    args = parser.parse_args(argv)
    spy = py_spy()
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="govbot-profile-"))
    stack = load.our_stack(workdir / "stack")
    (workdir / "stack").mkdir()
    try:
        started = time.monotonic()
        stack.start()
        load.first_answer(stack.rasa_url, "Hallo", stack.processes, started)
        stack.wait_healthy()
        load.warm_up(
            "govbot",
            stack.rasa_url,
            [load.Scripted("faq", load.QUESTIONS), load.FormFilling(load.SCRIPTS[0])],
        )
        spies = {
            name: record(spy, stack.processes[name].pid, args.duration, out / f"profile-{name}.txt")
            for name in PROCESSES
        }
        settings = load.LoadSettings(
            duration=args.duration, conversations=None, think=1.0, timeout=load.TIMEOUT, seed=7
        )
        result = asyncio.run(
            load.run_level(
                "govbot", stack.rasa_url, args.level, load.govbot_conversation(0.25), settings
            )
        )
        result.rss_mb = stack.rss_mb()
        print(load.level_line(result), flush=True)
        for name, process in spies.items():
            _, error = process.communicate(timeout=args.duration + 120)
            if process.returncode:
                raise SystemExit(f"py-spy on {name} failed: {error.decode(errors='replace')}")
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    for name in PROCESSES:
        print(report(name, (out / f"profile-{name}.txt").read_text(), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
