"""Where the sessions of one Streamlit process spend their time, from a py-spy profile.

    py-spy record --pid PID --idle --threads --rate 20 --format raw -o run.raw --duration 40
    python benchmarks/py_spy_summary.py run.raw

With --idle every thread is sampled whether it runs or waits, so the shares are of the time
the page runs (Streamlit's script threads) spent: waiting for an aggregate's single-flight
lock, computing an aggregate, or in the frame and the pages. Also which aggregate computations
ran in a page run (foreground: its session and everyone after it waited) and which in the
background refresh.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

PAGES = ("overview", "my_work", "decisions_register", "decision", "approvals", "readiness",
         "backlog", "plan")  # fmt: skip
SINGLE_FLIGHT = "with lock:  # single flight"


def single_flight_line(ui: Path) -> str:
    number = next(
        i for i, line in enumerate(ui.read_text().splitlines(), 1) if SINGLE_FLIGHT in line
    )
    return f"Aggregates.get (ui.py:{number})"


def page_of(frames: list[str]) -> str:
    for frame in frames:
        if frame.startswith("<module> (") and frame[10:].startswith(PAGES):
            return frame[10:].split(".py")[0]
    return "frame"


def summary(raw: Path, waiting: str) -> tuple[int, Counter, Counter]:
    shares, computations = Counter(), Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, samples = stack.split(";"), int(count)
        if "Aggregates._compute" in stack:
            where = "background" if "_refresh_in_background" in stack else "foreground"
            what = next((f.split(" (")[0] for f in frames if "<lambda>" in f), "?")
            computations[f"{where}: {what}"] += samples
        if "ScriptRunner" not in frames[0] and "script_runner" not in stack:
            continue
        total += samples
        page = page_of(frames)
        if frames[-1].startswith(waiting):
            shares[f"waiting for an aggregate on {page}"] += samples
        elif "Aggregates._compute" in stack:
            shares[f"computing an aggregate on {page}"] += samples
        else:
            shares[f"the rest of {page}"] += samples
    return total, shares, computations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--ui", type=Path, default=Path(__file__).resolve().parents[1] / "ui.py",
                        help="the ui.py of the profiled app (for the lock's line)")  # fmt: skip
    args = parser.parse_args()
    total, shares, computations = summary(args.raw, single_flight_line(args.ui))
    print(f"page runs' samples: {total}")
    for what, samples in shares.most_common(16):
        print(f"{samples / total:6.1%}  {what}")
    print("aggregate computations (samples, foreground or background):")
    for what, samples in computations.most_common():
        print(f"{samples:7}  {what}")


if __name__ == "__main__":
    main()
