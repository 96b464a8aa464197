"""Time import and export at demo volume: export of every KIND (also as CSV for Norwegian
Excel), import of the decisions
(with the share spent in validation), an idempotent re-import, and a bare `sqlite-utils
insert` of the same CSV for comparison.

    python benchmarks/bench_io.py [--scale 10] [--work /tmp/bench-io] [--skip-xlsx]

Each import is timed in wall seconds and in the CPU seconds of this process (SQLite runs in
it), which a busy machine disturbs far less.

The demo database of a scale is built once and kept in the work folder."""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from decisions import demo, programme, store
from decisions import io as data_io
from decisions.model import SYSTEM_ACTOR

REFERENCE_KINDS = ("organizations", "domains", "forums", "modules", "waves", "experts")


CPU: dict[str, float] = {}  # the CPU seconds of the last timed call, by its function's name


def timed(what, *args, **kwargs):
    """The value and the wall seconds of a call; its CPU seconds go to CPU (on a shared machine
    the wall time mostly measures the other processes)."""
    started, cpu = time.perf_counter(), time.process_time()
    value = what(*args, **kwargs)
    CPU[getattr(what, "__name__", "")] = time.process_time() - cpu
    return value, time.perf_counter() - started


def cpu(name: str = "import_kinds") -> str:
    return f"(CPU {CPU[name]:.2f} s)"


def demo_database(work: Path, scale: float) -> Path:
    path = work / f"demo-{scale:g}.db"
    if not path.exists():
        partial = work / f"demo-{scale:g}.partial.db"
        partial.unlink(missing_ok=True)
        conn = store.connect(partial)
        summary, seconds = timed(demo.build_demo, conn, scale=scale)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        partial.rename(path)
        print(f"built the demo at scale {scale:g} in {seconds:.1f} s: {summary}")
    return path


def import_kinds(conn, folder: Path, kinds, *, dry_run=False) -> data_io.ImportResult:
    sources = [s for s in data_io.folder_sources(folder) if s.kind in kinds]
    result = data_io.import_sources(conn, sources, SYSTEM_ACTOR, dry_run=dry_run)
    if not result.ok:
        raise SystemExit("\n".join(result.error_lines(20)))
    return result


def decisions_alone(folder: Path, out: Path) -> Path:
    """decisions.csv with the stages that need evidence given as `built` (their evidence is in
    the other files), so the decisions import on their own."""
    out.mkdir(exist_ok=True)
    with open(folder / "decisions.csv", encoding="utf-8-sig", newline="") as source:
        rows = list(csv.DictReader(source))
    for row in rows:
        if row["stage"] in ("demonstrated", "approved", "in_test", "tested", "ready"):
            row["stage"], row["ready_at"] = "built", ""
    with open(out / "decisions.csv", "w", encoding="utf-8-sig", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def fresh_programme(path: Path, folder: Path):
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    conn = store.connect(path)
    programme.init_reference_lists(conn)
    import_kinds(conn, folder, REFERENCE_KINDS)
    return conn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-io"))
    parser.add_argument("--skip-xlsx", action="store_true", help="leave out the xlsx export")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    source = demo_database(args.work, args.scale)
    conn = store.connect(source)
    decisions = store.scalar(conn, "SELECT count(*) FROM decisions")
    print(f"scale {args.scale:g}: {decisions:,} decisions")

    folder = args.work / f"export-{args.scale:g}"
    shutil.rmtree(folder, ignore_errors=True)
    _, csv_seconds = timed(data_io.export_all, conn, folder, "csv")
    print(f"export all, CSV:  {csv_seconds:6.2f} s {cpu('export_all')} (target < 15 s)")
    nb_folder = args.work / f"export-nb-{args.scale:g}"
    shutil.rmtree(nb_folder, ignore_errors=True)
    _, nb_seconds = timed(data_io.export_all, conn, nb_folder, "csv", norwegian=True)
    print(f"export all, CSV for Norwegian Excel: {nb_seconds:6.2f} s {cpu('export_all')}")
    if not args.skip_xlsx:
        _, xlsx_seconds = timed(data_io.export_kind, conn, "decisions", "xlsx")
        print(f"export decisions, xlsx: {xlsx_seconds:6.2f} s {cpu('export_kind')}")

    alone = decisions_alone(folder, args.work / "decisions-alone")
    target = fresh_programme(args.work / "fresh.db", folder)
    result, seconds = timed(import_kinds, target, alone, ("decisions",))
    share = result.validate_seconds / seconds * 100
    print(f"import {decisions:,} decisions into a fresh programme: {seconds:6.2f} s {cpu()} "
          f"(target < 30 s); validation {result.validate_seconds:.2f} s ({share:.0f} %), "
          f"writing {result.write_seconds:.2f} s")  # fmt: skip
    _, again = timed(import_kinds, target, alone, ("decisions",))
    print(f"import the same decisions again (all unchanged): {again:6.2f} s {cpu()}")
    target.close()

    target = fresh_programme(args.work / "fresh-all.db", folder)
    everything, all_seconds = timed(import_kinds, target, folder, data_io.ORDER)
    print(f"import all (every KIND, stages from the evidence): {all_seconds:6.2f} s {cpu()}; "
          f"validation {everything.validate_seconds:.2f} s")  # fmt: skip
    target.close()
    target = fresh_programme(args.work / "fresh-nb.db", nb_folder)
    _, nb_import = timed(import_kinds, target, nb_folder, data_io.ORDER)
    print(f"import all from the CSV for Norwegian Excel: {nb_import:6.2f} s {cpu()}")
    target.close()

    bare = args.work / "bare.db"
    bare.unlink(missing_ok=True)
    command = [str(Path(sys.executable).with_name("sqlite-utils")), "insert", str(bare),
               "decisions", str(folder / "decisions.csv"), "--csv"]  # fmt: skip
    _, bare_seconds = timed(subprocess.run, command, check=True)
    print(f"bare sqlite-utils insert of the same CSV: {bare_seconds:6.2f} s; "
          f"import / bare = {seconds / bare_seconds:.1f}x")  # fmt: skip
    conn.close()


if __name__ == "__main__":
    main()
