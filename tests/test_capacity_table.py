"""The README's capacity table is written from benchmark results, never by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "capacity_table.py"
RESULTS = sorted((ROOT / "benchmarks" / "results").glob("*.json"))


def table(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip


def test_the_readme_holds_the_table_its_results_give():
    assert RESULTS, "no benchmark results in benchmarks/results"
    done = table("--check", *map(str, RESULTS))
    assert done.returncode == 0, done.stderr


def test_the_table_is_written_between_the_markers_from_a_run(tmp_path):
    result = json.loads(RESULTS[0].read_text())
    result["all"]["p95"] = 1.234
    result["server_cpu"]["per_run"] = 0.0567
    result["load"] = {"start": 3.25, "end": 4.5}
    run = tmp_path / "run.json"
    run.write_text(json.dumps(result))
    readme = tmp_path / "README.md"
    begin = next(line for line in SCRIPT.read_text().splitlines() if line.startswith("BEGIN = "))
    marker = json.loads(begin.split("=", 1)[1].strip())
    readme.write_text(f"# Title\n\nbefore\n\n{marker}\n| typed | by hand |\n<!-- capacity table: "
                      "end -->\n\nafter\n")  # fmt: skip
    assert table("--check", "--readme", str(readme), str(run)).returncode != 0
    assert table("--readme", str(readme), str(run)).returncode == 0
    text = readme.read_text()
    assert "by hand" not in text and text.startswith("# Title\n\nbefore\n") and "\nafter\n" in text
    row = next(line for line in text.splitlines() if "1.23 s" in line)
    assert "0.057 s" in row and "3.2-4.5" in row and result["date"][:10] in row
    assert "400 experts and 50 managers" in text and "0.057" in text
    assert table("--check", "--readme", str(readme), str(run)).returncode == 0
