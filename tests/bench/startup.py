"""Measure setup, training, cold start and memory; write them to docs/benchmarks.md.

    python -m tests.bench.startup --output docs/benchmarks.md [--skip-setup]

Setup and training run in a fresh clone of HEAD in a temporary folder, with an empty uv
cache, so the numbers are those of a new machine (packages still come from the registry
mirror this machine reaches). Cold start is process start to the first answer to "Hallo".
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.reporting import replace_block
from tests.stack import ROOT, Stack


def timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    started = time.monotonic()
    with log.open("w") as out:
        subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=out, check=True)
    return time.monotonic() - started


def fresh_clone_timings(workdir: Path) -> dict[str, float]:
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(workdir / "uv-cache"),
        "RASA_CACHE_DIRECTORY": str(workdir / "rasa-cache"),
        "TQDM_DISABLE": "1",
    }
    return {
        "setup": timed(["make", "install"], clone, env, workdir / "install.log"),
        "training": timed(["make", "train"], clone, env, workdir / "train.log"),
    }


def cold_start(workdir: Path) -> tuple[float, dict[str, float]]:
    stack = Stack(state=workdir)
    started = time.monotonic()
    stack.start()
    try:
        while True:
            try:
                if stack.texts("bench", "Hallo"):
                    break
            except (httpx.HTTPError, AssertionError):
                pass
            if any(p.poll() is not None for p in stack.processes.values()):
                raise RuntimeError("a process exited during start:\n" + stack.tail("rasa"))
            time.sleep(0.25)
        seconds = time.monotonic() - started
        for i in range(20):
            stack.texts(f"bench-{i}", "Wann hat das Bürgerbüro geöffnet?")
        return seconds, stack.rss_mb()
    finally:
        stack.stop()


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def render(timings: dict[str, float], start: float, rss: dict[str, float]) -> str:
    rows = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()} by `make bench`.",
        "",
        "| what | measured |",
        "| --- | ---: |",
    ]
    if "setup" in timings:
        rows.append(
            f"| first setup in a fresh clone (`make install`: uv, both environments, "
            f"spaCy pipeline; empty uv cache) | {timings['setup']:.0f} s |"
        )
        rows.append(
            f"| training in a fresh clone (`make train`, empty Rasa cache) "
            f"| {timings['training']:.0f} s |"
        )
    rows.append(f"| cold start: processes started → first answer to „Hallo“ | {start:.0f} s |")
    for name, mb in rss.items():
        rows.append(f"| resident memory of the {name} process after 20 answers | {mb:.0f} MB |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--skip-setup", action="store_true", help="skip the fresh-clone part")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="govbot-bench-"))
    try:
        timings = {} if args.skip_setup else fresh_clone_timings(workdir)
        print(f"==> setup and training: {timings}", flush=True)
        (workdir / "stack").mkdir()
        start, rss = cold_start(workdir / "stack")
        print(f"==> cold start {start:.1f} s, memory {rss}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    replace_block(args.output, "startup", render(timings, start, rss))
    print(f"==> wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
