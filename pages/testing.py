"""Testing: test cases and what they cover; logging a run, opened straight on a decision's or a
test case's run (testing?decision=KEY, testing?case=KEY); a failed run's defect recorded in one
step, filled in from the run; after a pass, each open linked defect closed or kept by the
tester's answer; defects with the vendor's and the clinicians' severity side by side; and the
coverage of a wave: approved decisions nobody tests, test cases never run, decisions failing."""

import streamlit as st

import ui
from decisions import evidence, permissions, services, words
from decisions.charts import evidence as charts
from decisions.i18n import N_, _, format_number, n_
from decisions.model import DEFECT_STATUSES, RUN_RESULTS, TEST_KINDS, WorkflowError
from decisions.store import analytics, queues, reference
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store.screen_queries import people_names
from decisions.words import date_text, readable, result_word, stage_word

SHOWN = 300
SEVERITIES = (1, 2, 3, 4)
TABS = (N_("Test cases"), N_("Log a run"), N_("Defects"), N_("Coverage of a wave"))
FOLLOW_UP = "testing_follow_up"  # what the run just logged asks next: its defect, or closing

conn = ui.conn()
person = ui.actor()
can_record = permissions.allowed(person, "record_test_run")
asked_decision = st.query_params.get("decision", "").strip().upper()
asked_case = st.query_params.get("case", "").strip().upper()


def severity_word(severity: int) -> str:
    return words.severity_word(severity)


def kind_word(kind: str) -> str:
    return words.test_kind_word(kind)


def status_word(status: str) -> str:
    return words.defect_status_word(status)


def criticality_word(criticality: str) -> str:
    return words.criticality_word(criticality).lower()


def result_means(result: str) -> str:
    return words.word(words.RESULT_MEANING_WORDS, result) if result else ""


def defect_line(defect: dict) -> str:
    """A defect in one line of words: key, title, both severities, status, opened."""
    return _(
        "{key} · {title} · vendor {vendor}, clinical {clinical} · {status} since {opened}",
        key=ui.md(defect["key"]),
        title=ui.md(defect["title"]),
        vendor=defect["severity_vendor"],
        clinical=defect["severity_clinical"],
        status=status_word(defect["status"]),
        opened=date_text(defect["opened"]),
    )


def stages_now(keys: list[str]) -> str:
    return ", ".join(
        _("{key} ({stage})", key=k, stage=stage_word(decision_store.get_decision(conn, k)["stage"]))
        for k in keys
    )


# Test cases -----------------------------------------------------------------------------------


def cases_tab() -> None:
    left, middle, right = st.columns(3)
    kind = left.selectbox(_("Kind"), TEST_KINDS, index=None, placeholder=_("All"),
                          format_func=kind_word, key="tc_kind")  # fmt: skip
    result = middle.selectbox(_("Latest result"), (*RUN_RESULTS, "never"), index=None,
                              placeholder=_("Any"), key="tc_result",
                              format_func=lambda r: _("never run") if r == "never"
                              else result_word(r))  # fmt: skip
    search = right.text_input(_("Search key, title or decision"), key="tc_search")
    cases = queues.test_cases(conn, kind=kind, result=result, search=search, limit=SHOWN)
    shown = cases.drop(columns=["row_version"]).assign(
        kind=cases["kind"].map(kind_word),
        decisions=cases["decisions"].fillna("").str.replace(";", ", "),
        last_run=cases["last_run"].map(date_text),
        last_result=cases["last_result"].map(
            lambda r: _("never run") if r == "never" else result_word(r)
        ),
        last_defect=cases["last_defect"].fillna(""),
    )
    st.dataframe(
        shown.rename(columns={
            "key": _("Test case"), "title": _("Title"), "kind": _("Kind"),
            "decisions": _("Covers"), "runs": _("Runs"), "last_run": _("Last run"),
            "last_result": _("Latest result"), "last_defect": _("Its defect"),
        }),
        hide_index=True,
        key="tc_table",
    )  # fmt: skip
    if len(cases) >= SHOWN:
        st.caption(_("Showing the first {n}; narrow the filters to see others.", n=SHOWN))
    if can_record:
        new_case_form([])


def new_case_form(covers: list[str]) -> None:
    """Add a test case; `covers` fills in the decisions it covers (from the decision asked)."""
    name = "new_test_case"
    with st.form(ui.form_key(name), enter_to_submit=False):
        st.markdown("**" + _("New test case") + "**")
        title = st.text_input(_("Title"), max_chars=services.MAX_TITLE)
        kind = st.selectbox(_("Kind"), TEST_KINDS, format_func=kind_word)
        covered = covered_decisions(covers)
        if not st.form_submit_button(_("Add the test case"), type="primary"):
            return
    ui.form_saved(name)  # before the change: a second click then finds no form
    try:
        key = evidence.save_test_case(conn, person, title=title, kind=kind,
                                      decisions=[k.strip().upper() for k in covered])  # fmt: skip
    except WorkflowError as error:
        ui.form_refused(name)
        ui.show_refusal(error)
        return
    ui.flash(_("Test case {key} added.", key=key))
    st.rerun()


def covered_decisions(covers: list[str]) -> list[str]:
    """The decisions a new test case covers, picked from those of the person's domains that
    are built and not yet ready (any other by typing its key)."""
    titles = queues.decisions_to_cover(conn, person.domains, also=covers)
    return st.multiselect(
        _("Decisions it covers"), list(titles), default=covers, accept_new_options=True,
        format_func=lambda k: f"{k} · {titles[k]}" if k in titles else k, select_all=False,
        placeholder=_("Type a key or words of the title"),
        help=_("Built decisions of your domains not yet ready; another decision by its key"),
    )  # fmt: skip


# Logging a run --------------------------------------------------------------------------------


def run_tab() -> None:
    if can_record:
        log_a_run()
    else:
        st.info(permissions.refusal(person, "record_test_run"), icon=":material/lock:")
    st.subheader(_("Latest runs"))
    latest = queues.test_runs(conn, limit=100)
    names = people_names(conn, latest["tester"].dropna().unique().tolist())
    st.dataframe(
        latest.assign(
            date=latest["date"].map(date_text),
            means=latest["result"].map(result_means),
            result=latest["result"].map(result_word),
            tester=latest["tester"].map(lambda e: names.get(e, e)),
            defect=latest["defect"].fillna(""),
        )[["id", "date", "test_case", "title", "result", "means", "tester", "defect", "notes"]]
        .rename(columns={
            "id": _("Run"), "date": _("Run on"), "test_case": _("Test case"),
            "title": _("Title"), "result": _("Result"), "means": _("What it means"),
            "tester": _("Tester"), "defect": _("Defect"), "notes": _("Notes"),
        }),
        hide_index=True,
        key="runs_table",
    )  # fmt: skip


def log_a_run() -> None:
    case = chosen_case()
    unresolved = case_facts(case) if case is not None else []
    ui.show_flash()  # here, where the eye is after a click on the form below
    # What the run just logged asks next takes the form's place until it is answered.
    pending = st.session_state.get(FOLLOW_UP) or {}
    asks = {"defect": defect_for_failed_run, "close": close_or_keep}.get(pending.get("kind"))
    if not (asks and asks(pending)) and case is not None:
        offer_the_missing_defect(case)
        run_form(case, unresolved)


def offer_the_missing_defect(case: str) -> None:
    """The latest run failed or was blocked and no defect says why: offer to record it."""
    last = evidence_store.latest_run(conn, case)
    if not last or not evidence.needs_a_defect(last):
        return
    if not permissions.allowed(person, "save_defect"):
        return
    st.caption(_("The latest run, {run} on {date}, {result} with no defect recorded.",
                 run=last["id"], date=date_text(last["date"]),
                 result=result_word(last["result"])))  # fmt: skip
    if st.button(_("Record the defect it found"), key=f"defect_of_{last['id']}",
                 icon=":material/bug_report:"):  # fmt: skip
        st.session_state[FOLLOW_UP] = {"kind": "defect", "run": last["id"]}
        st.rerun()


def chosen_case() -> str | None:
    """The test case to log a run of: the one asked for (from a queue's "Run test case"), one
    covering the decision asked for (chosen when it is the only one), or one found by its key
    or title."""
    case = evidence_store.get_test_case(conn, asked_case) if asked_case else None
    if asked_case and case is None:
        st.warning(_("No test case {key}.", key=ui.md(asked_case)))
    if case is not None:
        return the_asked_case(case)
    if asked_decision:
        decision = decision_store.get_decision(conn, asked_decision)
        if decision is None:
            st.warning(_("No decision {key}.", key=ui.md(asked_decision)))
        else:
            return case_of_decision(decision)
    search = st.text_input(_("Find the test case"), key="run_search",
                           placeholder=_("key or words of the title"))  # fmt: skip
    titles = queues.test_case_titles(conn, search.strip())
    if not titles:
        st.write(_("No test case matches."))
        return None
    options = list(titles)
    return st.selectbox(_("Test case"), options, key="run_case",
                        format_func=lambda k: f"{k} · {titles[k]}")  # fmt: skip


def the_asked_case(case: dict) -> str:
    """The test case asked for, kept: named, not asked for again."""
    st.markdown(_("**Testing {case}** · {title}", case=ui.md(case["key"]),
                  title=ui.md(case["title"])))  # fmt: skip
    if asked_decision in case["decisions"]:
        st.page_link(ui.DECISION_PAGE, label=_("Back to {key}", key=ui.md(asked_decision)),
                     icon=":material/arrow_back:", query_params={"key": asked_decision})  # fmt: skip
    if st.button(_("Log a run of another test case"), key="another_case", type="tertiary",
                 icon=":material/swap_horiz:"):  # fmt: skip
        st.query_params.pop("case", None)
        st.rerun()
    return case["key"]


def case_of_decision(decision: dict) -> str | None:
    key = decision["key"]
    st.markdown(
        _("**Testing {key}** · {title} · {stage}", key=ui.md(key), title=ui.md(decision["title"]),
          stage=stage_word(decision["stage"]))
    )  # fmt: skip
    st.page_link(ui.DECISION_PAGE, label=_("Back to {key}", key=ui.md(key)),
                 icon=":material/arrow_back:", query_params={"key": key})  # fmt: skip
    cases = evidence_store.test_cases_of_decision(conn, key)
    if not cases:
        st.info(_("No test case covers {key} yet: add one, then log its run.", key=ui.md(key)),
                icon=":material/science:")  # fmt: skip
        new_case_form([key])
        return None
    options = list(cases)
    index = 0 if len(options) == 1 else None
    case = st.selectbox(
        n_("{n} test case covers it", "{n} test cases cover it", len(options),
           n=len(options)),
        options, index=index, key=f"run_case_of_{key}", placeholder=_("Choose the test case"),
        format_func=lambda k: f"{k} · {cases[k]}",
    )  # fmt: skip
    if st.button(_("Log a run of another test case"), key="any_case", type="tertiary",
                 icon=":material/swap_horiz:"):  # fmt: skip
        del st.query_params["decision"]
        st.rerun()
    return case


def case_facts(case: str) -> list[dict]:
    """What the test case covers, and the defects still open on it: returns those."""
    covered = evidence_store.get_test_case(conn, case)["decisions"]
    st.caption(_("Covers: {decisions}", decisions=ui.md(stages_now(covered)) or _("no decision")))
    unresolved = evidence.defects_a_pass_may_close(conn, case)
    if unresolved:
        st.caption(
            n_("Open defect on it: {defects}", "Open defects on it: {defects}", len(unresolved),
               defects="; ".join(defect_line(d) for d in unresolved))
        )  # fmt: skip
    return unresolved


def run_form(case: str, unresolved: list[dict]) -> None:
    covered = evidence_store.get_test_case(conn, case)["decisions"]
    testers = {r.email: f"{r.name} ({r.email})"
               for r in queues.people_with_role(conn, *permissions.roles_for("record_test_run")).itertuples()}  # fmt: skip
    name = "record_run"
    with st.form(ui.form_key(name), enter_to_submit=False):
        result = st.radio(_("Result"), RUN_RESULTS, index=None, horizontal=True,
                          format_func=result_word)  # fmt: skip
        left, right = st.columns(2)
        date = left.date_input(_("Run on"), value=services.today(conn), format="DD.MM.YYYY")
        tester = right.selectbox(_("Tester"), list(testers), format_func=testers.get,
                                 index=list(testers).index(person.email)
                                 if person.email in testers else None)  # fmt: skip
        notes = st.text_area(_("Notes"), max_chars=services.MAX_TEXT,
                             help=_("What happened; a failed run's first line becomes its "
                                    "defect's title"))  # fmt: skip
        existing = None
        if unresolved:
            existing = st.selectbox(
                _("Found again: an open defect (else record a new one after a failure)"),
                [d["key"] for d in unresolved], index=None, placeholder=_("None"),
            )  # fmt: skip
        if not st.form_submit_button(_("Log the run"), type="primary"):
            return
    if result is None:
        st.warning(_("Choose the result: passed, failed or blocked."))
        return
    ui.form_saved(name)  # before the change: a second click then finds no form
    try:
        run = evidence.record_test_run(conn, person, test_case=case, result=result, date=date,
                                       tester=tester, defect=existing, notes=notes)  # fmt: skip
    except WorkflowError as error:
        ui.form_refused(name)
        ui.show_refusal(error)
        return
    when = evidence_store.get_test_run(conn, run)["date"][:10]
    may_save_defect = permissions.allowed(person, "save_defect")
    if result != "passed" and not existing and may_save_defect:
        st.session_state[FOLLOW_UP] = {"kind": "defect", "run": run}
    elif result == "passed" and may_save_defect:
        still = evidence.defects_a_pass_may_close(conn, case)
        if still:
            st.session_state[FOLLOW_UP] = {
                "kind": "close", "run": run, "case": case, "date": when,
                "seen": {d["key"]: d["row_version"] for d in still},
            }  # fmt: skip
    ui.flash(_("Run {run} of {case} logged: {result}. Now: {stages}.", run=run, case=case,
               result=result_word(result), stages=stages_now(covered)))  # fmt: skip
    st.rerun()


def defect_for_failed_run(pending: dict) -> bool:
    """The defect a failed or blocked run found, in one step: filled in from the run (its test
    case, its decision, a title from its notes); the tester chooses both severities."""
    run = evidence_store.get_test_run(conn, pending["run"])
    if run is None or not evidence.needs_a_defect(run):
        st.session_state.pop(FOLLOW_UP, None)
        return False
    case = evidence_store.get_test_case(conn, run["test_case"])
    first_line = next((line.strip() for line in run["notes"].splitlines() if line.strip()), "")
    title = first_line[: services.MAX_TITLE] or _(
        "{case} {result}: {title}", case=case["key"], result=result_word(run["result"]),
        title=case["title"],
    )[: services.MAX_TITLE]  # fmt: skip
    name = "run_defect"
    with st.container(border=True):
        st.markdown("**" + _("Record the defect this run found") + "**")
        st.caption(
            _("Run {run} of {case}, {result} on {date}. Filled in from the run: check the "
              "title and choose both severities.", run=run["id"], case=ui.md(case["key"]),
              result=result_word(run["result"]), date=date_text(run["date"]))
        )  # fmt: skip
        with st.form(ui.form_key(name), enter_to_submit=False):
            title = st.text_input(_("Defect title"), value=title, max_chars=services.MAX_TITLE)
            decisions = case["decisions"]
            decision = decisions[0] if len(decisions) == 1 else None
            if len(decisions) > 1:
                decision = st.selectbox(
                    _("Decision it blocks"), decisions, placeholder=_("Choose the decision"),
                    index=decisions.index(asked_decision) if asked_decision in decisions
                    else None,
                )  # fmt: skip
            else:
                st.caption(_("Decision: {key} · test case: {case}", key=ui.md(decision),
                             case=ui.md(case["key"])))  # fmt: skip
            vendor = st.radio(_("Vendor severity"), SEVERITIES, index=None, horizontal=True,
                              format_func=severity_word)  # fmt: skip
            clinical = st.radio(_("Clinical severity"), SEVERITIES, index=None, horizontal=True,
                                format_func=severity_word)  # fmt: skip
            save = st.form_submit_button(_("Record the defect"), type="primary")
        if st.button(_("Not now"), key="defect_not_now", type="tertiary"):
            st.session_state.pop(FOLLOW_UP, None)
            st.rerun()
    if not save:
        return True
    if vendor is None or clinical is None:
        st.warning(_("Choose both severities: the vendor's and the clinicians'."))
        return True
    try:
        key = evidence.record_defect_for_run(
            conn, person, run=run["id"], title=title, severity_vendor=vendor,
            severity_clinical=clinical, decision=decision,
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return True
    st.session_state.pop(FOLLOW_UP, None)
    ui.form_saved(name)
    ui.flash(_("Defect {key} recorded and linked to run {run} of {case}.", key=key,
               run=run["id"], case=case["key"]))  # fmt: skip
    st.rerun()


def close_or_keep(pending: dict) -> bool:
    """After a pass: each defect still open on the test case or its decisions, close or keep,
    as the tester answers (nothing is closed unasked)."""
    defects = [d for d in (evidence_store.get_defect(conn, k) for k in pending["seen"])
               if d and d["status"] in ("open", "fixed")]  # fmt: skip
    if not defects:
        st.session_state.pop(FOLLOW_UP, None)
        return False
    name = "close_after_pass"
    with st.container(border=True):
        st.markdown(
            "**"
            + n_("The run passed, but {n} linked defect is still open. Close it, or keep it open?",
                 "The run passed, but {n} linked defects are still open. Close or keep each?",
                 len(defects), n=len(defects))
            + "**"
        )  # fmt: skip
        with st.form(ui.form_key(name), enter_to_submit=False):
            answers = {
                d["key"]: st.radio(defect_line(d), tuple(words.DEFECT_ANSWER_WORDS), index=None, horizontal=True,
                                   format_func=lambda a: words.word(words.DEFECT_ANSWER_WORDS, a), key=f"answer_{d['key']}")
                for d in defects
            }  # fmt: skip
            done = st.form_submit_button(_("Save the answers"), type="primary")
    if not done:
        return True
    unanswered = [k for k, answer in answers.items() if answer is None]
    if unanswered:
        st.warning(_("Choose close or keep for {defects}.", defects=ui.md(", ".join(unanswered))))
        return True
    closing = {k: pending["seen"][k] for k, answer in answers.items() if answer == "close"}
    try:
        if closing:
            evidence.close_defects(conn, person, closing, closed=pending["date"])
    except WorkflowError as error:
        st.session_state.pop(FOLLOW_UP, None)
        ui.show_refusal(error)
        return True
    st.session_state.pop(FOLLOW_UP, None)
    ui.form_saved(name)
    ui.flash(after_closing(pending["case"], list(closing)))
    st.rerun()


def after_closing(case: str, closed: list[str]) -> str:
    """What the answers did, and what is still open on the test case and its decisions."""
    parts = [_("Closed: {defects}.", defects=", ".join(closed))] if closed else []
    still = evidence.defects_a_pass_may_close(conn, case)
    if not still:
        parts.append(_("No defect is open on {case} or its decisions now.", case=case))
        return " ".join(parts)
    named = [_("{key} (severity {worst})", key=d["key"],
               worst=min(d["severity_vendor"], d["severity_clinical"])) for d in still]  # fmt: skip
    parts.append(_("Still open: {defects}.", defects=", ".join(named)))
    if any(min(d["severity_vendor"], d["severity_clinical"]) <= 2 for d in still):
        parts.append(_("A decision with an open severity 1 or 2 defect cannot be marked ready."))
    return " ".join(parts)


# Defects --------------------------------------------------------------------------------------


def defects_tab() -> None:
    counts = queues.defect_counts(conn)
    worse = _("Vendor or clinical, whichever is worse")
    a, b, c, d = st.columns(4)
    a.metric(_("Open defects"), format_number(counts["open"]))
    b.metric(_("Open, severity 1"), format_number(counts["open_sev1"]), help=worse)
    c.metric(_("Open, severity 2"), format_number(counts["open_sev2"]), help=worse)
    d.metric(_("Ratings disagree"), format_number(counts["disagreeing"]))
    left, right = st.columns(2)
    status = left.selectbox(_("Status"), DEFECT_STATUSES, index=None, placeholder=_("Any"),
                            format_func=status_word, key="defect_status")  # fmt: skip
    disagreeing = right.toggle(_("Only where vendor and clinicians disagree"),
                               key="defect_disagree")  # fmt: skip
    frame = queues.defects(conn, status=status, disagreeing=disagreeing, limit=SHOWN)
    pairs = queues.severity_pairs(conn, status)
    if not pairs.empty:
        chart, about = st.columns([1, 2])
        with chart:
            ui.chart(
                lambda: charts.severity_matrix_chart(pairs),
                width="content",
                about=_("Defects counted by the vendor's severity rating and the clinicians'."),
            )
        about.caption(
            _("Defects by the vendor's rating (across) and the clinicians' (down); numbers off "
              "the diagonal, in black, are defects the two rate differently. Readiness counts "
              "the worse of the two.")
        )  # fmt: skip
    scale = _("1 critical, 2 serious, 3 moderate, 4 minor")
    st.dataframe(
        frame.drop(columns=["row_version"]).assign(
            status=frame["status"].map(status_word),
            opened=frame["opened"].map(date_text),
            closed=frame["closed"].map(date_text),
            decision=frame["decision"].fillna(""),
            test_case=frame["test_case"].fillna(""),
        ),
        hide_index=True,
        key="defect_table",
        column_config={
            "key": st.column_config.TextColumn(_("Defect"), pinned=True),
            "title": st.column_config.TextColumn(_("Title")),
            "severity_vendor": st.column_config.NumberColumn(_("Vendor severity"), help=scale),
            "severity_clinical": st.column_config.NumberColumn(_("Clinical severity"),
                                                               help=scale),
            "worst": st.column_config.NumberColumn(_("Worse of the two")),
            "disagree": st.column_config.CheckboxColumn(_("Disagree")),
            "status": st.column_config.TextColumn(_("Status")),
            "decision": st.column_config.TextColumn(_("Decision")),
            "test_case": st.column_config.TextColumn(_("Test case")),
            "opened": st.column_config.TextColumn(_("Opened")),
            "closed": st.column_config.TextColumn(_("Closed")),
        },
    )  # fmt: skip
    if permissions.allowed(person, "save_defect"):
        defect_form(frame)


def defect_form(listed) -> None:
    """Change a defect picked from those listed above (the filters narrow the list)."""
    titles = dict(zip(listed["key"], listed["title"], strict=True))
    key = st.selectbox(_("Change a defect"), list(titles), index=None, key="defect_key",
                       format_func=lambda k: f"{k} · {titles[k]}",
                       placeholder=_("Choose one of the defects listed above"))  # fmt: skip
    defect = evidence_store.get_defect(conn, key) if key else None
    if defect is None:
        return
    seen = ui.seen("defect", defect["key"], defect["row_version"])
    with st.form("change_defect", enter_to_submit=False):
        title = st.text_input(_("Title"), value=defect["title"], max_chars=services.MAX_TITLE)
        left, middle, right = st.columns(3)
        vendor = left.selectbox(_("Vendor severity"), SEVERITIES, format_func=severity_word,
                                index=SEVERITIES.index(defect["severity_vendor"]))  # fmt: skip
        clinical = middle.selectbox(_("Clinical severity"), SEVERITIES, format_func=severity_word,
                                    index=SEVERITIES.index(defect["severity_clinical"]))  # fmt: skip
        status = right.selectbox(_("Status"), DEFECT_STATUSES, format_func=status_word,
                                 index=DEFECT_STATUSES.index(defect["status"]))  # fmt: skip
        closed = st.date_input(_("Closed on"), value=None, format="DD.MM.YYYY",
                               help=_("When it was fixed or closed"))  # fmt: skip
        if not st.form_submit_button(_("Save the defect")):
            return
    ui.forget("defect", defect["key"])
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
    ui.flash(_("Defect {key} saved.", key=defect["key"]))
    st.rerun()


# Coverage of a wave ---------------------------------------------------------------------------


@st.cache_data(max_entries=20, show_spinner=False)
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


def more(frame) -> str:
    return format_number(len(frame)) + ("+" if len(frame) >= SHOWN else "")


def coverage_tab() -> None:
    waves = {w["code"]: _("{code} · {name} · go-live {date}", code=w["code"], name=w["name"],
                          date=date_text(w["go_live"]))
             for w in reference.list_table(conn, "waves")}  # fmt: skip
    left, right = st.columns(2)
    wave = left.selectbox(_("Wave"), list(waves), index=None, format_func=waves.get,
                          placeholder=_("All waves"), key="coverage_wave")  # fmt: skip
    search = right.text_input(_("Find a decision or test case"), key="coverage_search")
    with st.spinner(_("Checking coverage…")):
        counts, uncovered, never, failing = wave_coverage(conn, analytics.data_marker(conn), wave)
    if search.strip():
        uncovered, never, failing = (matching(f, search.strip()) for f in (uncovered, never,
                                                                            failing))  # fmt: skip
    a, b, c = st.columns(3)
    a.metric(_("Approved or further, no test case"),
             _("{n} of {total}", n=format_number(counts["uncovered"]),
               total=format_number(counts["approved_or_later"])))  # fmt: skip
    b.metric(_("Test cases never run"), more(never))
    c.metric(_("Decisions failing in test"), more(failing))
    names = queues.code_names(conn)
    st.subheader(_("Failing in test"))
    st.caption(_("In test, and a covering test case's latest run of this build round failed or "
                 "was blocked; with the run's defect."))  # fmt: skip
    if failing.empty:
        st.write(_("No decision is failing."))
    else:
        shown = failing.fillna({"defect": "", "defect_status": ""})
        shown = shown.assign(result=shown["result"].map(result_word),
                             criticality=shown["criticality"].map(criticality_word),
                             defect_status=shown["defect_status"].map(status_word))  # fmt: skip
        ui.decision_table(
            readable(shown, names).rename(columns={"severity_vendor": _("Vendor severity"),
                                                   "defect_status": _("Defect status")}),
            "coverage_failing",
        )  # fmt: skip
    st.subheader(_("Approved or further, not covered by any test case"))
    if uncovered.empty:
        st.write(_("Every approved decision in scope has a test case."))
    else:
        shown = uncovered.assign(criticality=uncovered["criticality"].map(criticality_word))
        ui.decision_table(readable(shown, names), "coverage_uncovered")
    st.subheader(_("Test cases never run"))
    st.dataframe(
        never.assign(kind=never["kind"].map(kind_word),
                     decisions=never["decisions"].fillna("").str.replace(";", ", "))
        .rename(columns={"key": _("Test case"), "title": _("Title"), "kind": _("Kind"),
                         "decisions": _("Covers")}),
        hide_index=True,
        key="coverage_never",
    )  # fmt: skip


st.title(_("Testing"))
asked = (asked_decision, asked_case)
if any(asked) and st.session_state.get("_testing_asked") != asked:
    # Arriving from a decision or a test case: its run is what is wanted.
    st.session_state["_testing_asked"] = asked
    st.session_state["testing_tab"] = _(TABS[1])
cases, runs, defects, coverage = ui.tabs_drawn_when_open("testing_tab", [_(t) for t in TABS])
if cases.open:
    with cases:
        ui.show_flash()
        cases_tab()
if runs.open:
    with runs:
        run_tab()
if defects.open:
    with defects:
        ui.show_flash()
        defects_tab()
if coverage.open:
    with coverage:
        coverage_tab()
