"""One forecast rule, with one horizon: the Readiness page, its CSV and PNG rows,
`readiness --json`, the command line's text and the off-track notices give each criterion the
same forecast. For W2 of the demo as of 2022-09-15 the page once said C1 reaches its target on
31.10.2051 and C2 on 26.06.2028 while the JSON said null: a date years after go-live is not
within the horizon (README, Readiness), and every one of them now says so."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_pages_programme import open_page

from decisions import demo, i18n, notices, readiness, store, words
from decisions.charts import readiness as charts
from decisions.model import FORECAST_HORIZON_WEEKS, Actor

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2022, 9, 15)
BEYOND = "not within 26 weeks after go-live"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = store.connect(path)
    demo.build_demo(conn)
    conn.close()
    return path


@pytest.fixture(scope="module")
def w2(demo_db) -> readiness.WaveReadiness:
    return readiness.assess(store.connect(demo_db), AS_OF, "W2")[1][0]


def cli(db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "decisions", "readiness", "--db", str(db), "--wave", "W2",
         "--as-of", AS_OF.isoformat(), *args],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def as_date(text: str) -> dt.date | None:
    """A forecast shown as a date (the English date the suite reads), else None."""
    try:
        return dt.datetime.strptime(text, "%d %b %Y").date()
    except ValueError:
        return None


def test_the_horizon_is_the_one_the_readme_states():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Readiness", 1)[1].split("\n### ", 1)[0]
    assert f"{FORECAST_HORIZON_WEEKS} weeks after go-live" in section


def test_json_page_reports_cli_and_notices_give_w2_the_same_forecast(demo_db, w2, monkeypatch):
    (printed,) = json.loads(cli(demo_db, "--json"))
    from_json = {
        c["code"]: c["forecast"] and dt.date.fromisoformat(c["forecast"])
        for c in printed["criteria"]
    }
    assert from_json["C1"] is None and from_json["C2"] is None  # decades away: no date

    table = charts.criteria_table(w2, {})
    said = dict(zip(table["code"], table["forecast"], strict=True))
    csv = charts.csv_table(table)["Reaches the target"].tolist()
    png = charts.report_table(table)["forecast"].tolist()
    assert csv == png == list(said.values())
    assert {code: as_date(text) for code, text in said.items()} == from_json
    assert said["C1"] == said["C2"] == BEYOND

    monkeypatch.setenv("DECISIONS_DB", str(demo_db))
    at = open_page("marit.odegard@stolav.no", "pages/readiness.py", wave="W2")
    shown = next(d.value for d in at.dataframe if "forecast" in d.value.columns)
    assert dict(zip(shown["code"], shown["forecast"], strict=True)) == said

    in_brackets = dict(re.findall(r"^  (\w+) .*\[[^:\]]+: (.+)\]$", cli(demo_db), re.M))
    assert in_brackets["C1"] == in_brackets["C2"] == BEYOND
    for code, text in in_brackets.items():
        reached = from_json[code]
        expected = (
            f"met by {i18n.format_date(reached)} at the recent rate" if reached else said[code]
        )
        assert text.startswith(expected), (code, text)

    notice = off_track_notice(demo_db, "W2:C1")
    assert BEYOND in notice.message.text


def off_track_notice(db: Path, ref: str) -> notices.Notice:
    """The off-track notice a manager who has heard of nothing yet gets for `ref`."""
    manager = Actor(email="new.manager@hemit.no", name="New Manager", roles=frozenset({"manager"}))
    conn = store.connect(db)
    made = notices._off_track(conn, AS_OF, {manager.email: manager}, notices.Links("http://app"))
    return next(n for n in made if n.ref == ref)


def test_a_forecast_code_is_worded_for_every_reason():
    go_live = dt.date(2022, 11, 12)
    texts = {code: words.forecast_text(code, None, go_live) for code in readiness.FORECAST_CODES
             if code != "date"}  # fmt: skip
    assert texts == {
        "met": "met now",
        "no_data": "no data",
        "too_few_values": "too few values for a trend",
        "never": "never at the recent rate",
        "beyond_horizon": BEYOND,
    }
