"""Testing: test cases and what they cover, runs (a failed run opens its defect in the same
form), defects with the vendor's and the clinicians' severity side by side, and the coverage
of a wave: approved decisions nobody tests, test cases never run, decisions failing in test."""

import streamlit as st

import ui
from decisions import evidence, permissions, services
from decisions.charts import evidence as charts
from decisions.model import DEFECT_STATUSES, RUN_RESULTS, TEST_KINDS, WorkflowError
from decisions.store import analytics, queues, reference
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store

SHOWN = 300
SEVERITIES = (1, 2, 3, 4)
SEVERITY_HELP = "1 critical, 2 serious, 3 moderate, 4 minor"

conn = ui.conn()
person = ui.actor()
can_record = permissions.allowed(person, "record_test_run")


def keys_from(text: str) -> list[str]:
    return [k.strip().upper() for k in text.replace(",", ";").replace(" ", ";").split(";")
            if k.strip()]  # fmt: skip


def cases_tab() -> None:
    left, middle, right = st.columns(3)
    kind = left.selectbox("Kind", TEST_KINDS, index=None, placeholder="All", key="tc_kind")
    result = middle.selectbox("Latest result", (*RUN_RESULTS, "never"), index=None,
                              placeholder="Any", key="tc_result")  # fmt: skip
    search = right.text_input("Search key, title or decision", key="tc_search")
    cases = queues.test_cases(conn, kind=kind, result=result, search=search, limit=SHOWN)
    cases = cases.drop(columns=["row_version"]).fillna({"last_run": "", "last_defect": ""})
    st.dataframe(cases, hide_index=True, key="tc_table")
    if len(cases) >= SHOWN:
        st.caption(f"Showing the first {SHOWN}; narrow the filters to see others.")
    if not can_record:
        return
    with st.form("new_test_case", clear_on_submit=True, enter_to_submit=False):
        st.markdown("**New test case**")
        title = st.text_input("Title", max_chars=services.MAX_TITLE)
        kind = st.selectbox("Kind", TEST_KINDS)
        covers = st.text_input("Decisions it covers", placeholder="MED-0042; MED-0043",
                               help="Decision keys separated by ; or spaces")  # fmt: skip
        if not st.form_submit_button("Add the test case", type="primary"):
            return
    try:
        key = evidence.save_test_case(conn, person, title=title, kind=kind,
                                      decisions=keys_from(covers))  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(f"Test case {key} added.")
    st.rerun()


def run_tab() -> None:
    if not can_record:
        st.info(permissions.refusal(person, "record_test_run"), icon=":material/lock:")
        return
    search = st.text_input("Find the test case", key="run_search",
                           placeholder="key or words of the title")  # fmt: skip
    titles = queues.test_case_titles(conn, search)
    if not titles:
        st.write("No test case matches.")
        return
    case = st.selectbox("Test case", list(titles), key="run_case",
                        format_func=lambda k: f"{k} · {titles[k]}")  # fmt: skip
    covered = evidence_store.get_test_case(conn, case)["decisions"]
    st.caption(f"Covers: {ui.md(', '.join(covered) or 'no decision')}")
    testers = {r.email: f"{r.name} ({r.email})"
               for r in queues.people_with_role(conn, *permissions.roles_for("record_test_run")).itertuples()}  # fmt: skip
    with st.form("record_run", clear_on_submit=True, enter_to_submit=False):
        result = st.radio("Result", RUN_RESULTS, horizontal=True)
        date = st.date_input("Run on", value=services.today(conn), format="YYYY-MM-DD")
        tester = st.selectbox("Tester", list(testers), format_func=testers.get,
                              index=list(testers).index(person.email)
                              if person.email in testers else None)  # fmt: skip
        notes = st.text_area("Notes", max_chars=services.MAX_TEXT)
        st.markdown("**Defect** (for a failed or blocked run): link an existing one or open a new "
                    "one")  # fmt: skip
        existing = st.text_input("Existing defect key", placeholder="DEF-0042")
        title = st.text_input("New defect: title", max_chars=services.MAX_TITLE)
        left, right = st.columns(2)
        vendor = left.selectbox("Vendor severity", SEVERITIES, index=None, help=SEVERITY_HELP)
        clinical = right.selectbox("Clinical severity", SEVERITIES, index=None,
                                   help=SEVERITY_HELP)  # fmt: skip
        if not st.form_submit_button("Record the run", type="primary"):
            return
    new_defect = None
    if title.strip() or vendor or clinical:
        new_defect = {"title": title, "severity_vendor": vendor, "severity_clinical": clinical}
    try:
        run = evidence.record_test_run(
            conn, person, test_case=case, result=result, date=date, tester=tester,
            defect=existing.strip().upper() or None, new_defect=new_defect, notes=notes,
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    stages = ", ".join(f"{k} {decision_store.get_decision(conn, k)['stage'].replace('_', ' ')}"
                       for k in covered)  # fmt: skip
    ui.flash(f"Run {run} of {case} recorded: {result}"
             + (" with a new defect" if new_defect else "") + f". Now: {stages}.")  # fmt: skip
    st.rerun()


def defects_tab() -> None:
    counts = queues.defect_counts(conn)
    a, b, c, d = st.columns(4)
    a.metric("Open defects", f"{counts['open']:,}")
    b.metric("Open, severity 1", counts["open_sev1"], help="Vendor or clinical, whichever is worse")
    c.metric("Open, severity 2", counts["open_sev2"], help="Vendor or clinical, whichever is worse")
    d.metric("Ratings disagree", counts["disagreeing"])
    left, right = st.columns(2)
    status = left.selectbox("Status", DEFECT_STATUSES, index=None, placeholder="Any",
                            key="defect_status")  # fmt: skip
    disagreeing = right.toggle("Only where vendor and clinicians disagree", key="defect_disagree")
    frame = queues.defects(conn, status=status, disagreeing=disagreeing, limit=SHOWN)
    pairs = queues.severity_pairs(conn, status)
    if not pairs.empty:
        chart, about = st.columns([1, 2])
        with chart:
            ui.chart(lambda: charts.severity_matrix_chart(pairs), width="content")
        about.caption(
            "Defects by the vendor's rating (across) and the clinicians' (down); numbers off the "
            "diagonal, in black, are defects the two rate differently. Readiness counts the worse "
            "of the two."
        )
    st.dataframe(
        frame.drop(columns=["row_version"]),
        hide_index=True,
        key="defect_table",
        column_config={
            "severity_vendor": st.column_config.NumberColumn("vendor", help=SEVERITY_HELP),
            "severity_clinical": st.column_config.NumberColumn("clinical", help=SEVERITY_HELP),
            "worst": st.column_config.NumberColumn("worse of the two"),
            "disagree": st.column_config.CheckboxColumn("disagree"),
        },
    )
    if permissions.allowed(person, "save_defect"):
        defect_form()


def defect_form() -> None:
    key = st.text_input("Change a defect: its key", key="defect_key", placeholder="DEF-0042")
    defect = evidence_store.get_defect(conn, key.strip().upper()) if key.strip() else None
    if key.strip() and defect is None:
        st.warning(f"No defect {ui.md(key.strip())}.")
    if defect is None:
        return
    seen = st.session_state.setdefault(f"defect_seen_{defect['key']}", defect["row_version"])
    with st.form("change_defect", enter_to_submit=False):
        title = st.text_input("Title", value=defect["title"], max_chars=services.MAX_TITLE)
        left, middle, right = st.columns(3)
        vendor = left.selectbox("Vendor severity", SEVERITIES,
                                index=SEVERITIES.index(defect["severity_vendor"]))  # fmt: skip
        clinical = middle.selectbox("Clinical severity", SEVERITIES,
                                    index=SEVERITIES.index(defect["severity_clinical"]))  # fmt: skip
        status = right.selectbox("Status", DEFECT_STATUSES,
                                 index=DEFECT_STATUSES.index(defect["status"]))  # fmt: skip
        closed = st.date_input("Closed on", value=None, format="YYYY-MM-DD",
                               help="When it was fixed or closed")  # fmt: skip
        if not st.form_submit_button("Save the defect"):
            return
    st.session_state.pop(f"defect_seen_{defect['key']}", None)
    try:
        evidence.save_defect(
            conn, person, key=defect["key"], row_version=seen, title=title,
            severity_vendor=vendor, severity_clinical=clinical, status=status,
            decision=defect["decision"], test_case=defect["test_case"], opened=defect["opened"],
            closed=closed or defect["closed"],
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(f"Defect {defect['key']} saved.")
    st.rerun()


@st.cache_data(max_entries=20, show_spinner="Checking coverage…")
def wave_coverage(_conn, marker: str, wave: str | None) -> tuple:
    """Coverage of a wave; recomputed only when the programme changed."""
    return (
        queues.coverage_counts(_conn, wave),
        queues.uncovered_decisions(_conn, wave, limit=SHOWN),
        queues.never_run_cases(_conn, wave, limit=SHOWN),
        queues.failing_decisions(_conn, wave, limit=SHOWN),
    )


def matching(frame, text: str):
    """Rows with `text` in any of their text columns, as typed (case ignored)."""
    hits = frame.astype(str).apply(lambda c: c.str.contains(text, case=False, regex=False))
    return frame[hits.any(axis=1)]


def coverage_tab() -> None:
    waves = {w["code"]: f"{w['code']} · {w['name']} · go-live {w['go_live']}"
             for w in reference.list_table(conn, "waves")}  # fmt: skip
    left, right = st.columns(2)
    wave = left.selectbox("Wave", list(waves), index=None, format_func=waves.get,
                          placeholder="All waves", key="coverage_wave")  # fmt: skip
    search = right.text_input("Find a decision or test case", key="coverage_search")
    counts, uncovered, never, failing = wave_coverage(conn, analytics.data_marker(conn), wave)
    if search.strip():
        uncovered, never, failing = (matching(f, search.strip()) for f in (uncovered, never,
                                                                            failing))  # fmt: skip
    a, b, c = st.columns(3)
    a.metric("Approved or further, no test case",
             f"{counts['uncovered']:,} of {counts['approved_or_later']:,}")  # fmt: skip
    b.metric("Test cases never run", f"{len(never):,}{'+' if len(never) >= SHOWN else ''}")
    c.metric("Decisions failing in test", f"{len(failing):,}{'+' if len(failing) >= SHOWN else ''}")
    st.subheader("Failing in test")
    st.caption("In test, and a covering test case's latest run of this build round failed or was "
               "blocked; with the run's defect.")  # fmt: skip
    if failing.empty:
        st.write("No decision is failing.")
    else:
        ui.decision_table(failing.fillna({"defect": "", "defect_status": ""}), "coverage_failing")
    st.subheader("Approved or further, not covered by any test case")
    if uncovered.empty:
        st.write("Every approved decision in scope has a test case.")
    else:
        ui.decision_table(uncovered.assign(stage_since=uncovered["stage_since"].str[:10]),
                          "coverage_uncovered")  # fmt: skip
    st.subheader("Test cases never run")
    st.dataframe(never, hide_index=True, key="coverage_never")


st.title("Testing")
ui.show_flash()
cases, runs, defects, coverage = st.tabs(
    ["Test cases", "Record a run", "Defects", "Coverage of a wave"],
    key="testing_tab",
    on_change="rerun",
)
if cases.open:
    with cases:
        cases_tab()
if runs.open:
    with runs:
        run_tab()
        st.subheader("Latest runs")
        latest = queues.test_runs(conn, limit=100).fillna({"defect": ""})
        st.dataframe(latest, hide_index=True, key="runs_table")
if defects.open:
    with defects:
        defects_tab()
if coverage.open:
    with coverage:
        coverage_tab()
