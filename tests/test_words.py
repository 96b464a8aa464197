"""Rules answer in codes and values; one leaf module, decisions.words, words them for the pages,
the reports, the notices and the command line, in the reader's language.

Once the rules answered in English sentences that each caller worded again: a bokmål reader saw
"1 of 2 approvers; needs 1 more approver of the domain" and timeline lines such as "demo
DEMO-1979 updated held"; the notices said "met by 2023-03-10 at the recent rate"; 31 word
tables lay in 14 modules (the forum levels three times); and because the pure rule modules
imported the presentation module for a word, permissions → views → workflow → permissions was
an import cycle. The suite runs in strict mode (conftest): a text shown in bokmål without a
translation raises."""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from decisions import demo, i18n, notices, planning, readiness, services, standing, store, words
from decisions.charts import readiness as charts
from decisions.model import (
    ALL_STAGES,
    CRITICALITIES,
    DEFECT_STATUSES,
    FORUM_LEVELS,
    ORGANIZATION_KINDS,
    ROLES,
    RUN_RESULTS,
    SCOPES,
    TEST_KINDS,
    Actor,
    ApprovalRule,
    DecisionFacts,
    DemoFact,
    RunFact,
    VerdictFact,
    WorkflowError,
)
from decisions.workflow import approval_progress, explain_stage, missing_evidence

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT / "decisions").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py")),
           ROOT / "ui.py", ROOT / "streamlit_app.py"]  # fmt: skip
# English of the kind the rules once answered in; none of it may reach a bokmål reader.
ENGLISH = re.compile(
    r"\b(needs|approvers?|more|side|held|updated|scheduled|cancelled|test run|test case|"
    r"never|met by|days?|after|before|rule met|of the domain|edited|revised|escalated|"
    r"created|opened|changed|within|weeks|rate|stage|evidence|missing|go-live|suspect|"
    r"superseded|organizations)\b"
)
RULE = ApprovalRule()
H = VerdictFact("h@x", "approve", "2022-09-02", "hospital", True, 1)


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def imported(path: Path, known: set[str] = frozenset()) -> set[str]:
    """Every decisions module `path` imports, at the top or inside a function (a name imported
    from a package counts as its submodule where `known` has one)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(sub if sub in known else node.module)
    return {n for n in names if n.split(".")[0] == "decisions"}


# The one words module -------------------------------------------------------------------------


def test_words_is_a_leaf_importing_only_the_catalogs_and_the_model():
    modules = {n for n in imported(ROOT / "decisions" / "words.py") if n.count(".") == 1}
    assert modules <= {"decisions.i18n", "decisions.model"}


def test_no_import_cycle_among_the_modules_of_decisions():
    """(The store package and its migrations call each other by design; a cycle that stays
    inside decisions.store is theirs.)"""
    graph = {}
    known = {module_name(p) for p in SOURCES if p.is_relative_to(ROOT / "decisions")}
    for path in SOURCES:
        if path.is_relative_to(ROOT / "decisions"):
            graph[module_name(path)] = {n for n in imported(path, known) if n in known} - {
                module_name(path)
            }
    for start in graph:
        seen, path = set(), [start]
        stack = [(start, iter(graph[start]))]
        while stack:
            node, edges = stack[-1]
            nxt = next(edges, None)
            if nxt is None:
                stack.pop()
                path.pop()
                continue
            if nxt == start and not all(m.startswith("decisions.store") for m in path):
                pytest.fail(" → ".join([*path, start]))
            if nxt not in seen:
                seen.add(nxt)
                path.append(nxt)
                stack.append((nxt, iter(graph[nxt])))


def test_no_module_is_called_views_and_none_imports_one():
    assert not [p for p in SOURCES if p.stem == "views"]
    for path in [*SOURCES, *sorted((ROOT / "tests").rglob("*.py"))]:
        stale = {n for n in imported(path) if n.endswith(".views") or ".views." in n}
        assert not stale, (path, stale)


def is_word_table(node: ast.AST) -> bool:
    """A table of codes and their words: a dict named *_WORDS, or one whose values are marked
    for the catalogs (N_)."""
    if not isinstance(node, ast.Assign | ast.AnnAssign) or not isinstance(node.value, ast.Dict):
        return False
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    marked = any(isinstance(v, ast.Call) and getattr(v.func, "id", "") == "N_"
                 for v in node.value.values)  # fmt: skip
    return marked or (isinstance(target, ast.Name) and target.id.endswith("_WORDS"))


# A notice's words live with its layout (notice_texts.py, "every word of a notice").
WORDS_MODULES = ("decisions/words.py", "decisions/notice_texts.py")


def test_every_word_table_lives_in_the_words_module():
    tables = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in SOURCES
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if is_word_table(node)
    ]
    assert tables and all(t.startswith(WORDS_MODULES) for t in tables), tables


def test_the_forum_levels_are_worded_once():
    said = [p for p in SOURCES if "steering group" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT) for p in said] == [Path("decisions/words.py")]
    assert set(words.LEVEL_WORDS) == set(FORUM_LEVELS)


# Rules answer in codes --------------------------------------------------------------------------


def codes_only(answer) -> bool:
    """Codes and values: no text with a space in it (a sentence) anywhere inside."""
    if isinstance(answer, str):
        return " " not in answer
    if isinstance(answer, tuple | list):
        return all(codes_only(part) for part in answer)
    return True


FACTS = {
    "decided": DecisionFacts(base_stage="decided"),
    "in_build": DecisionFacts(base_stage="in_build"),
    "built": DecisionFacts(base_stage="built", built_at="2022-09-01"),
    "demonstrated": DecisionFacts(base_stage="built", built_at="2022-09-01", scope="joint",
                                  demos=(DemoFact("2022-09-02", 2),), verdicts=(H,)),
    "approved": DecisionFacts(base_stage="built", built_at="2022-09-01"),
    "in_test": DecisionFacts(base_stage="built", built_at="2022-09-01",
                             runs_by_case={"TC-1": (RunFact("2022-09-03", "failed", 1),),
                                           "TC-2": ()}),
    "tested": DecisionFacts(base_stage="built"),
}  # fmt: skip


def test_approval_progress_answers_in_codes():
    progress = approval_progress([H], "joint", "critical", RULE)
    assert progress.missing == (("approvers", 2), ("side", "municipality"))


@pytest.mark.parametrize("stage", sorted(FACTS))
def test_missing_evidence_and_explain_stage_answer_in_codes(stage):
    missing = missing_evidence(stage, FACTS[stage], RULE)
    assert missing and codes_only(missing), missing
    assert explain_stage("ready", stage, FACTS[stage], RULE) == missing
    assert explain_stage("proposed", stage, FACTS[stage], RULE) == (("no_going_back", None),)


def test_a_held_stage_answers_in_codes():
    held = DecisionFacts(base_stage="built", built_at="2022-09-01", scope="joint",
                         demos=(DemoFact("2022-09-02", 2),), verdicts=(H, H.__class__(
                             "m@x", "approve", "2022-09-02", "municipality", True, 2)),
                         stage_cap="demonstrated", stage_cap_since="2022-09-05")  # fmt: skip
    assert missing_evidence("demonstrated", held, RULE) == (
        ("held", ("demonstrated", "2022-09-05", "approval")),
    )


def test_scope_problems_answer_in_codes():
    kinds = {"STO": "hospital", "TRD": "municipality", "LEGE": "gp_office"}
    assert services.scope_problems("hospital", ["STO", "TRD", "LEGE"], kinds) == (
        ("outside_scope", ("hospital", ("TRD", "LEGE"))),
    )
    assert services.scope_problems("joint", ["STO", "TRD"], kinds) == ()


def test_where_things_stand_answers_in_codes():
    today = dt.date(2022, 9, 15)
    assert [standing.go_status(go, day, today) for go, day in
            ((True, "2022-11-12"), (False, "2022-11-12"), (False, "2022-09-01"))] == [
        "go", "no_go", "live"]  # fmt: skip
    decision = {"version": 2, "version_started_at": "2022-09-01", "built_at": "2022-09-10"}
    rows = [{"date": "2022-08-01"}, {"date": "2022-09-05"}, {"held": 0, "date": "2022-09-20"},
            {"date": None}, {"date": "2022-09-12"}]  # fmt: skip
    notes = [row["note"] for row in standing.with_notes(rows, decision)]
    assert notes == ["suspect", "earlier_round", "scheduled", "never_run", ""]
    assert set(notes) - {""} <= set(standing.NOTES)


# Every worded answer is in the catalogs, in bokmål ---------------------------------------------


@pytest.fixture
def bokmal():
    i18n.use("nb")
    yield
    i18n.use("en")


def rule_texts() -> list[str]:
    """Everything the words module says for the rules' codes (in the language in use)."""
    go_live = dt.date(2022, 11, 12)
    texts = [
        *map(words.stage_word, ALL_STAGES), *map(words.role_word, ROLES),
        *map(words.scope_word, SCOPES), *map(words.criticality_word, CRITICALITIES),
        *map(words.organisation_kind_word, ORGANIZATION_KINDS),
        *map(words.level_word, FORUM_LEVELS), *map(words.defect_status_word, DEFECT_STATUSES),
        *map(words.result_word, RUN_RESULTS), *map(words.test_kind_word, TEST_KINDS),
        *map(words.status_word, words.STATUS_WORDS), *map(words.outlook_word, words.OUTLOOK_WORDS),
        *(words.go_text(s, "2022-09-01") for s in ("go", "no_go", "live")),
        words.progress_text(approval_progress([H], "joint", "medium", RULE), "joint"),
        words.progress_text(approval_progress([], "hospital", "critical", RULE), "hospital"),
        *(words.stage_explanation_text("ready", s, missing_evidence(s, f, RULE))
          for s, f in FACTS.items()),
        words.stage_explanation_text("built", "approved", (("no_going_back", None),)),
        words.missing_text((("held", ("built", "2022-09-05", "demo")),)),
        words.scope_problem_text("outside_scope", ("hospital", ("TRD",))),
        words.scope_problem_text("outside_scope", ("municipality", ("STO", "HNT"))),
        *(words.forecast_text(code, None, go_live) for code in readiness.FORECAST_CODES[1:]),
        words.forecast_text("date", dt.date(2022, 12, 1), go_live),
        words.outlook_text("date", dt.date(2022, 10, 1), go_live),
        words.wave_verdict_line("W2", "St. Olavs", go_live, dt.date(2022, 9, 15), False),
    ]  # fmt: skip
    decision = {"version": 2, "version_started_at": "2022-09-01", "built_at": "2022-09-10"}
    texts += [words.evidence_note_text(n, decision) for n in standing.NOTES]
    return texts


EVENTS = [
    ("decision", "created", None, "proposed"), ("decision", "stage", "built", "demonstrated"),
    ("decision", "escalated", "MED-H", "FBG"), ("decision", "revised", "1", "2"),
    ("decision", "edited:scope", "hospital", "joint"), ("approval", "approve", None, "MED-1"),
    ("approval", "changes_requested", None, "MED-1"), ("demo", "scheduled", None, None),
    ("demo", "held", None, None), ("demo", "updated:held", None, None),
    ("demo", "updated:scheduled", None, None), ("demo", "cancelled", "2022-09-01", None),
    ("test_run", "passed", None, "TC-1"), ("test_run", "failed", None, "TC-1"),
    ("test_run", "blocked", None, "TC-1"), ("test_run", "defect_linked", None, "TC-1"),
    ("test_case", "created", None, "MED-1"), ("test_case", "updated", "MED-1", "MED-2"),
    ("defect", "opened", None, "open"), ("defect", "updated", "open", "fixed"),
]  # fmt: skip


def event_texts() -> list[str]:
    return [
        words.event_text({"entity": entity, "entity_key": "DEMO-1979", "action": action,
                          "from_value": old, "to_value": new})
        for entity, action, old, new in EVENTS
    ]  # fmt: skip


def test_every_rule_answer_is_worded_from_the_catalogs_in_bokmal(bokmal):
    said = rule_texts() + event_texts()
    english = [text for text in said if ENGLISH.search(text)]
    assert not english, english


def test_the_words_differ_by_language():
    english = rule_texts() + event_texts()
    i18n.use("nb")
    try:
        bokmal = rule_texts() + event_texts()
    finally:
        i18n.use("en")
    same = [en for en, nb in zip(english, bokmal, strict=True) if en == nb and ENGLISH.search(en)]
    assert not same, same


def test_the_timeline_once_read_demo_updated_held(bokmal):
    line = words.event_text({"entity": "demo", "entity_key": "DEMO-1979", "action": "updated:held",
                             "from_value": None, "to_value": None})  # fmt: skip
    assert line == "demonstrasjon DEMO-1979 endret, holdt"


# The command line and the notices ----------------------------------------------------------------


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = store.connect(path)
    demo.build_demo(conn, scale=0.05)
    conn.close()
    return path


def test_the_readiness_command_speaks_bokmal_from_the_catalogs(small_demo):
    done = subprocess.run(
        [sys.executable, "-m", "decisions", "readiness", "--db", str(small_demo),
         "--as-of", "2022-09-15"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "DECISIONS_LANGUAGE": "nb", "DECISIONS_I18N_STRICT": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    told = [line.split("  ", 2)[-1] for line in done.stdout.splitlines()]
    brackets = [re.search(r"\[(.*)\]", line) for line in done.stdout.splitlines()]
    worded = [b.group(1) for b in brackets if b]
    assert worded and not [w for w in worded if ENGLISH.search(w)], worded
    assert "produksjonssetting" in done.stdout.splitlines()[0], told
    english_names = [n for n in words.CRITERION_NAME_WORDS.values() if n in done.stdout]
    assert not english_names, english_names


def test_the_default_criteria_are_named_in_the_readers_language(bokmal):
    assert words.criterion_name("C1", "Critical decisions ready") == "Kritiske beslutninger klare"
    assert words.criterion_name("C1", "Kritiske beslutninger (egen)") == (
        "Kritiske beslutninger (egen)"
    )  # a name someone gave stays as given
    assert {c[1] for c in readiness.DEFAULT_CRITERIA} == set(words.CRITERION_NAME_WORDS.values())


def test_an_off_track_notice_words_its_forecast_in_bokmal(small_demo, bokmal):
    manager = Actor(email="new.manager@hemit.no", name="Ny Leder", roles=frozenset({"manager"}))
    conn = store.connect(small_demo)
    made = notices._off_track(conn, dt.date(2022, 9, 15), {manager.email: manager},
                              notices.Links("http://app"))  # fmt: skip
    assert made
    for notice in made:
        intro = notice.message.text.split("\n\n")[1]
        assert not re.search(r"met by|at the recent rate|never at|days (after|before)", intro)


def in_bokmal(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "decisions", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, "DECISIONS_LANGUAGE": "nb", "DECISIONS_I18N_STRICT": "1"},
    )  # fmt: skip


def test_the_command_lines_own_messages_speak_bokmal(tmp_path):
    db = str(tmp_path / "data.db")
    said = {
        "init": in_bokmal("init", "--db", db),
        "init again": in_bokmal("init", "--db", db),
        "no database": in_bokmal("readiness", "--db", str(tmp_path / "none.db")),
        "export all": in_bokmal("export", "all", "--db", db),
        "backup": in_bokmal("backup", "--db", db, str(tmp_path / "kopi.db")),
    }
    assert [done.returncode for done in said.values()] == [0, 1, 1, 2, 0]
    assert "tomt program opprettet (18 fagområder" in said["init"].stdout
    assert "har allerede et program; ikke overskrevet" in said["init again"].stderr
    assert "databasen finnes ikke" in said["no database"].stderr
    assert "feil: export all trenger --out" in said["export all"].stderr
    assert "sikkerhetskopi skrevet og kontrollert" in said["backup"].stdout
    english = re.compile(r"\b(programme|created|already|no such|error|written|needs|domains)\b")
    assert not [
        (k, d.stdout + d.stderr) for k, d in said.items() if english.search(d.stdout + d.stderr)
    ]


def test_the_readiness_reports_rows_read_in_bokmal(small_demo, bokmal):
    (wave,) = readiness.assess(store.connect(small_demo), dt.date(2022, 9, 15), "W2")[1]
    table = charts.criteria_table(wave, {})
    csv = charts.csv_table(table)
    png = charts.report_table(table)
    cells = [*csv.columns, *charts.report_headers().values(), *csv.astype(str).to_numpy().ravel(),
             *png.drop(columns=["unmet"]).astype(str).to_numpy().ravel()]  # fmt: skip
    english = [c for c in cells if ENGLISH.search(c) or c in words.CRITERION_NAME_WORDS.values()]
    assert not english, english


def test_a_planning_refusal_reads_in_bokmal(programme, actor, bokmal):
    with pytest.raises(WorkflowError, match="oppgi både begrunnelse og utløpsdato"):
        planning.save_criterion(programme, actor("mona@hemit.no"), "W1", "C4N",
                                {"waiver_reason": "Testsyklus i oktober"})  # fmt: skip
    with pytest.raises(WorkflowError, match="ingen innføringsbølge 'W9'"):
        planning.replan_wave(programme, actor("mona@hemit.no"), "W9", go_live="2023-05-13",
                             reason="Ny plan")  # fmt: skip


def test_the_records_behind_a_number_read_in_bokmal(bokmal):
    cases = pd.DataFrame({"key": ["TC-1", "TC-2"], "kind": ["acceptance", "regression"],
                          "result": ["failed", None], "run_date": ["2022-09-02T10:00:00", None]})  # fmt: skip
    shown = words.records_readable(cases)
    english = [c for c in shown.astype(str).to_numpy().ravel() if ENGLISH.search(c) or
               c in ("failed", "acceptance", "regression", "never run")]  # fmt: skip
    assert not english, english
    assert list(shown["run_date"]) == ["02.09.2022 10:00", ""]
