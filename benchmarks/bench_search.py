"""Time the register's search (decisions.store.screen_queries.search_decisions, with the forums and
organisations it names) on a demo programme: the count and first page of hits for words typed
with and without æ, ø, å, prefixes, and names. A script, not a test:

    python benchmarks/bench_search.py [--scale 10] [--db PATH] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from decisions import demo, store
from decisions.store import screen_queries

QUERIES = ("", "epikrise", "blodprøve", "blodprove", "søknad", "soknad", "legemiddel kurve",
           "a", "med", "roros", "Aalesund", "Ålesund", "MED-00")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--db", type=Path, help="an existing demo database (else one is built)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "demo.db"
        conn = store.connect(path)
        if args.db is None:
            demo.build_demo(conn, scale=args.scale)
        print(f"{'search':>18} {'hits':>7} {'median ms':>10} {'max ms':>8}")
        for text in QUERIES:
            times = []
            for _run in range(args.repeat):
                start = time.perf_counter()
                named = tuple((n["table"], n["code"]) for n in screen_queries.named(conn, text))
                query = screen_queries.RegisterQuery(text=text, named=named)
                _found, total = screen_queries.search_decisions(conn, query, limit=500)
                times.append(time.perf_counter() - start)
            print(f"{text!r:>18} {total:>7,} {statistics.median(times) * 1000:>10.1f} "
                  f"{max(times) * 1000:>8.1f}")  # fmt: skip
        conn.close()


if __name__ == "__main__":
    main()
