"""One decision (deep link `?key=MED-0042`): its fields, evidence, versions and timeline, and
the actions the signed-in person may take on it now."""

import datetime as dt
from collections import ChainMap

import pandas as pd
import streamlit as st

import ui
from decisions import evidence, permissions, services, words, workflow
from decisions.i18n import _, n_
from decisions.model import CRITICALITIES, SCOPES, WorkflowError, stage_at_least
from decisions.standing import verdicts_with_notes, with_notes
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import queues, reference, screen_queries
from decisions.words import (
    STAGE_WORDS,
    criticality_word,
    date_text,
    defect_status_word,
    evidence_note_text,
    moment_text,
    names_text,
    result_word,
    scope_word,
    stage_word,
    verdict_word,
)

DATE_FORMAT = "DD.MM.YYYY"  # the date pickers as Norwegians write dates

conn = ui.conn()
person = ui.actor()
names = queues.code_names(conn)
key = st.query_params.get("key", "").strip()
decision = decision_store.get_decision(conn, key) if key else None
if decision is None and key != key.upper():  # a key typed in lower case
    key = key.upper()
    decision = decision_store.get_decision(conn, key)
if decision is None:
    ui.record_not_found(
        _("Decision"), _("There is no decision {key}.", key=ui.md(key)) if key else None,
        _("Open a decision from the register, or link to one as `/decision?key=MED-0042`."),
        ("pages/decisions_register.py", _("Decisions"), ":material/list_alt:"),
    )  # fmt: skip

# The row version the forms below were built from is the one shown on the previous run.
BUILT_FROM = f"_built_from:{key}"
CHANGING_VERDICT = f"_changing_verdict:{key}"
built_from = st.session_state.get(BUILT_FROM, decision["row_version"])
today = services.today(conn)

ui.show_flash()
st.title(f"{ui.md(key)} · {ui.md(decision['title'])}")
stage = decision["stage"]
version_badge = _("version {n}", n=decision["version"])
st.markdown(
    f":blue-badge[{stage_word(stage)}] :gray-badge[{version_badge}] "
    f":{'red' if decision['criticality'] == 'critical' else 'gray'}-badge["
    f"{criticality_word(decision['criticality'])}] :gray-badge[{scope_word(decision['scope'])}]"
)
verdict_slot = st.container()  # a verdict that awaits the reader comes first (filled below)


def paragraph(label: str, text: str) -> None:
    st.markdown(f"**{label}**")
    if text:
        st.markdown(ui.md(text).replace("\n", "  \n"))
    else:
        st.caption("—")


def people(emails: list[str]) -> str:
    return ", ".join(names["people"].get(e, e) for e in emails)


texts, facts = st.columns([3, 2])
with texts:
    paragraph(_("Question"), decision["question"])
    paragraph(_("Decision"), decision["decision"])
    paragraph(_("Rationale"), decision["rationale"])
    if decision["withdrawn_reason"]:
        paragraph(_("Withdrawn because"), decision["withdrawn_reason"])
with facts, st.container(border=True):
    organizations = (
        _("all")
        if decision["all_organizations"]
        else names_text(decision["organizations"], names["organizations"])
    )
    lines = [
        f"**{label}:** {ui.md(value) if value else '—'}"
        for label, value in (
            (
                _("Domain / module"),
                f"{names['domains'].get(decision['domain'], decision['domain'])} / "
                f"{names['modules'].get(decision['module'], decision['module'])}",
            ),
            (_("Forum"), names["forums"].get(decision["forum"], decision["forum"])),
            (_("Organisations"), organizations),
            (_("Needed by"), date_text(decision["needed_by"])),
            (_("Decided"), date_text(decision["decided_at"])),
            (_("Decided by"), people(decision["decided_by"])),
            (_("Owner"), people([decision["owner"]]) if decision["owner"] else None),
            (_("In this stage since"), date_text(decision["stage_since"])),
            (_("Current version since"), date_text(decision["version_started_at"]) or None),
            (_("Created"), date_text(decision["created_at"])),
        )
    ]
    st.markdown("  \n".join(lines))
    st.caption(_("Link to this page: {link}", link=ui.md(f"/decision?key={key}")))


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def counts(result: str) -> str:
    """The status of evidence that counts: a test run says what its result does."""
    return words.counts_text(result)


def blank(value) -> object:
    """A missing value as an empty cell."""
    return "" if value is None or value != value else value


def worded_columns(rows: list[dict], columns: dict[str, str], worded: dict) -> dict[str, list]:
    """The rows' fields as columns headed in words (`columns`), those in `worded` in words."""
    return {header: [worded[field](row[field]) if field in worded else row[field] for row in rows]
            for field, header in columns.items()}  # fmt: skip


def table(rows: list[dict], columns: dict[str, str], empty: str) -> None:
    """Evidence rows, each with a status first: it counts, or why it does not. `columns` maps
    each field shown to its header in words. (Plain lists: a handful of rows, where each pandas
    step cost more than the words.)"""
    if not rows:
        st.caption(empty)
        return
    blanked = [{field: blank(row[field]) for field in columns} for row in rows]
    notes = [evidence_note_text(row["note"], decision) for row in blanked]
    status = _("Status")
    shown = {status: [f"✗ {note}" if note else counts(row.get("result", ""))
                      for note, row in zip(notes, blanked, strict=True)]}  # fmt: skip
    worded = {"date": moment_text, "verdict": verdict_word, "result": result_word}
    shown.update(worded_columns(blanked, {f: h for f, h in columns.items() if f != "note"}, worded))
    if not_counted := sum(1 for note in notes if note):
        st.caption(
            _(
                "{n} of {total} do not count now (✗, with the reason).",
                n=not_counted,
                total=len(rows),
            )
        )
    st.dataframe(
        pd.DataFrame(shown, dtype=object),
        hide_index=True,
        column_config={status: st.column_config.TextColumn(status, pinned=True)},
    )


evidence_tab, versions_tab, timeline_tab = st.tabs([_("Evidence"), _("Versions"), _("Timeline")])
with evidence_tab:
    if stage_at_least(stage, "built"):
        progress = evidence.approval_status(conn, [key])[key]
        line = words.progress_text(progress, decision["scope"])
        (st.success if progress.met else st.warning)(_("Approval rule: {line}", line=line))
        if decision["ready_at"] and stage not in ("ready", "withdrawn"):
            st.info(
                _("Marked ready on {date}: the mark stands, and the decision is ready again as "
                  "soon as the evidence says tested.", date=date_text(decision["ready_at"])),
                icon=":material/bookmark:",
            )  # fmt: skip
        hold = evidence.stage_hold(conn, key)
        if hold:
            st.info(
                _("{hold}. Scope, criticality or organisations were edited, and an edit raises "
                  "no stage; evidence given after the edit carries it on.",
                  hold=ui.md(sentence(words.missing_text(hold)))),
                icon=":material/pan_tool:",
            )  # fmt: skip
    st.markdown("**" + _("Demos") + "**")
    demos = with_notes(evidence_store.demos_of_decision(conn, key), decision)
    for demo in demos:
        demo["presenter"] = names["people"].get(demo["presenter"], demo["presenter"])
        demo["attended"] = len((demo["attendees"] or "").split(";")) if demo["attendees"] else 0
    table(
        demos,
        {
            "key": _("Demo"),
            "date": _("When"),
            "note": "",
            "module": _("Module"),
            "presenter": _("Presenter"),
            "attended": _("Attended"),
        },
        _("No demo yet."),
    )
    with st.container(horizontal=True):
        for demo in demos:
            st.page_link("pages/demo.py", label=_("Demo {key}", key=ui.md(demo["key"])),
                         icon=":material/co_present:", query_params={"key": demo["key"]})  # fmt: skip
    st.markdown("**" + _("Verdicts") + "**")
    verdicts = verdicts_with_notes(evidence_store.approvals_of_decision(conn, key), decision)
    for row in verdicts:
        row["organization"] = names["organizations"].get(row["organization"], row["organization"])
    table(
        verdicts,
        {
            "date": _("When"),
            "name": _("Expert"),
            "verdict": _("Verdict"),
            "note": "",
            "organization": _("Organisation"),
            "comment": _("Comment"),
        },
        _("No verdict yet."),
    )
    st.markdown("**" + _("Test runs") + "**")
    runs = with_notes(evidence_store.test_runs_of_decision(conn, key), decision)
    for run in runs:
        run["tester"] = names["people"].get(run.get("tester"), run.get("tester"))
    table(
        runs,
        {
            "test_case": _("Test case"),
            "date": _("When"),
            "result": _("Result"),
            "note": "",
            "title": _("Title"),
            "tester": _("Tester"),
            "defect": _("Defect"),
        },
        _("No test case covers this decision yet."),
    )
    st.markdown("**" + _("Defects") + "**")
    defects = evidence_store.defects_of_decision(conn, key)
    if defects:
        st.dataframe(
            worded_columns(
                defects,
                {
                    "key": _("Defect"),
                    "title": _("Title"),
                    "severity_vendor": _("Vendor severity"),
                    "severity_clinical": _("Clinical severity"),
                    "status": _("Status"),
                    "opened": _("Opened"),
                },
                {"opened": date_text, "status": defect_status_word},
            ),
            hide_index=True,
        )
    else:
        st.caption(_("No defect is linked to this decision."))
with versions_tab:
    versions = decision_store.decision_versions(conn, key)
    if versions:
        st.dataframe(
            worded_columns(
                versions,
                {
                    "version": _("Version"),
                    "started_at": _("Since"),
                    "reason": _("Why"),
                    "decision_text": _("Decision"),
                    "rationale": _("Rationale"),
                },
                {"started_at": moment_text},
            ),
            hide_index=True,
        )
    else:
        st.caption(_("Not decided yet: the first version is written when the forum decides."))
with timeline_tab:
    events = screen_queries.decision_timeline(conn, key)
    named = ChainMap(names["people"], names["forums"])
    st.dataframe(words.timeline_rows(events, named), hide_index=True)


# Actions ---------------------------------------------------------------------------------------


def attempt(done: str, change) -> None:
    """Make the change; on success say so after the rerun (`done` may name the result as
    {result}), on refusal say why."""
    try:
        result = change()
    except WorkflowError as error:
        ui.show_refusal(error)
    else:
        ui.flash(done.replace("{result}", stage_word(result).lower() if result in STAGE_WORDS
                              else str(result)))  # fmt: skip
        st.rerun()


def decide_form() -> None:
    members = {m["email"]: m["name"] for m in screen_queries.forum_members(conn, decision["forum"])}
    with st.form("decide"):
        text = st.text_area(_("Decision"), decision["decision"])
        rationale = st.text_area(_("Rationale"), decision["rationale"])
        forum = names["forums"].get(decision["forum"], decision["forum"])
        deciders = st.multiselect(
            _("Decided by (members of {forum})", forum=ui.md(forum)),
            list(members),
            default=[person.email] if person.email in members else [],
            format_func=lambda email: members[email],
            placeholder=_("Choose one or more"),
        )
        when = st.date_input(_("Decided on"), today, max_value=today, format=DATE_FORMAT)
        if st.form_submit_button(_("Record the decision"), type="primary"):
            attempt(
                _("The decision is recorded."),
                lambda: services.decide(
                    conn,
                    person,
                    key,
                    decision_text=text,
                    rationale=rationale,
                    decided_by=deciders,
                    decided_at=when,
                    row_version=built_from,
                ),
            )


def escalate_form() -> None:
    higher = {
        f["code"]: _("{name} (level {level})", name=f["name"], level=f["level"])
        for f in screen_queries.forums_above(conn, decision["forum"])
    }
    with st.form("escalate"):
        target = st.selectbox(_("To forum"), list(higher), format_func=higher.get)
        reason = st.text_area(_("Why"))
        if st.form_submit_button(_("Escalate"), type="primary"):
            attempt(
                _("Escalated to {forum}.", forum=higher.get(target, target)),
                lambda: services.escalate(
                    conn, person, key, to_forum=target or "", reason=reason, row_version=built_from
                ),
            )


def manual_form(action: str) -> None:
    spec = workflow.ACTIONS[action]
    blockers = services.ready_blockers(conn, key) if action == "mark_ready" else []
    if blockers:
        st.warning(
            _(
                "Not ready for production while these severity 1-2 defects are open: {defects}.",
                defects=ui.md(", ".join(f"{d['key']} ({d['title']})" for d in blockers)),
            ),
            icon=":material/block:",
        )
    with st.form(action):
        reason = st.text_area(_("Why")) if spec.needs_reason else ""
        if st.form_submit_button(_(spec.label), type="primary", disabled=bool(blockers)):
            attempt(
                _("{action}: done; {key} is now {{result}}.", action=_(spec.label), key=key),
                lambda: services.set_manual_stage(
                    conn, person, key, action, reason=reason, row_version=built_from
                ),
            )


def verdict_form(choices: list[str]) -> None:
    """No verdict is chosen for the expert: a comment written with the form left as it opened
    must not approve by mistake."""
    labels = {"approve": _("Approve"), "changes_requested": _("Request changes")}
    for demo in evidence_store.demos_of_decision(conn, key)[-1:]:
        st.page_link(
            "pages/demo.py",
            label=_("Shown in demo {demo} on {date}: its notes, recording and other decisions",
                    demo=ui.md(demo["key"]), date=date_text(str(demo["date"]))),
            icon=":material/co_present:",
            query_params={"key": demo["key"]},
        )  # fmt: skip
    with st.form("verdict"):
        verdict_column, comment_column = st.columns([1, 2])
        verdict = verdict_column.radio(
            _("Your verdict"), choices, index=None, format_func=labels.get
        )
        comment = comment_column.text_area(_("Comment (required when requesting changes)"))
        if st.form_submit_button(_("Give verdict"), type="primary"):
            if verdict is None:
                st.error(
                    _("Choose Approve or Request changes: a comment alone gives no verdict."),
                    icon=":material/block:",
                )
                return
            attempt(
                _("Your verdict is recorded; the decision is {result}."),
                lambda: give_verdict(verdict, comment),
            )


def give_verdict(verdict: str, comment: str) -> str:
    result = evidence.record_verdict(conn, person, key, verdict, comment=comment)
    st.session_state.pop(CHANGING_VERDICT, None)
    return result


def verdict_given(given: dict, may_change: bool) -> None:
    """The expert's verdict of this round in place of the form, until they choose to change it."""
    said = _(
        "Your verdict: {verdict} {date}",
        verdict=verdict_word(given["verdict"]),
        date=date_text(given["date"]),
    )
    st.markdown(f"**{said}**" + (f"  \n{ui.md(given['comment'])}" if given["comment"] else ""))
    if may_change and st.button(_("Change your verdict"), icon=":material/edit:"):
        st.session_state[CHANGING_VERDICT] = True
        st.rerun()


def review_queue(done: bool) -> None:
    """The expert's place in the decisions awaiting their verdict, and the next one (the step
    to take once this verdict is `done`)."""
    place = evidence.review_place(conn, person.email, key)
    if place.position:
        st.caption(
            _("{position} of {waiting} awaiting your verdict", position=place.position,
              waiting=place.waiting)
        )  # fmt: skip
    elif place.waiting:
        st.caption(
            n_("{n} more decision awaits your verdict", "{n} more decisions await your verdict",
               place.waiting, n=place.waiting)
        )  # fmt: skip
    if place.next_key is None:
        return
    next_label = _("Next decision: {key}", key=place.next_key)
    if st.button(
        next_label, icon=":material/arrow_forward:", type="primary" if done else "secondary"
    ):
        ui.open_decision(place.next_key)


def revise_form() -> None:
    with st.form("revise"):
        st.caption(
            _("A new version sends the decision back to decided; its demos, verdicts and test "
              "runs so far become suspect until renewed.")
        )  # fmt: skip
        text = st.text_area(_("Decision"), decision["decision"])
        rationale = st.text_area(_("Rationale"), decision["rationale"])
        reason = st.text_area(_("Why it changes"))
        if st.form_submit_button(_("Make a new version"), type="primary"):
            attempt(
                _("A new version is made."),
                lambda: services.revise(
                    conn,
                    person,
                    key,
                    decision_text=text,
                    rationale=rationale,
                    reason=reason,
                    row_version=built_from,
                ),
            )


def edit_form() -> None:
    modules = {
        m["code"]: m["name"] for m in screen_queries.modules_of_domain(conn, decision["domain"])
    }
    all_orgs = [o["code"] for o in reference.list_table(conn, "organizations")]
    with st.form("edit"):
        title = st.text_input(_("Title"), decision["title"])
        question = st.text_area(_("Question"), decision["question"])
        fields = {"title": title, "question": question}
        if stage == "proposed":
            fields["rationale"] = st.text_area(_("Rationale"), decision["rationale"])
        left, right = st.columns(2)
        with left:
            fields["module"] = st.selectbox(
                _("Module"),
                list(modules),
                index=list(modules).index(decision["module"]),
                format_func=lambda code: f"{code} · {modules[code]}",
            )
            fields["scope"] = st.selectbox(_("Scope"), SCOPES, SCOPES.index(decision["scope"]),
                                           format_func=scope_word)  # fmt: skip
            fields["criticality"] = st.selectbox(
                _("Criticality"),
                CRITICALITIES,
                CRITICALITIES.index(decision["criticality"]),
                format_func=criticality_word,
            )
        with right:
            needed = decision["needed_by"]
            fields["needed_by"] = st.date_input(
                _("Needed by"),
                dt.date.fromisoformat(needed[:10]) if needed else None,
                format=DATE_FORMAT,
            )
            fields["owner"] = st.text_input(_("Owner (email)"), decision["owner"] or "")
            everyone = st.checkbox(_("All organisations"), bool(decision["all_organizations"]))
            org_names = names["organizations"]
            chosen = st.multiselect(_("Organisations"), all_orgs, default=decision["organizations"],
                                    format_func=lambda c: org_names.get(c, c), placeholder=_("Choose one or more"))  # fmt: skip
        fields["organizations"] = ["ALL"] if everyone else chosen
        reason = ""
        if stage_at_least(stage, "built"):
            reason = st.text_input(
                _("Why (needed to change scope, criticality or organisations)"),
                help=_("The approval rule reads scope and criticality, and the organisations "
                       "decide which waves the decision counts for. The change keeps or lowers "
                       "the stage; new evidence carries it on."),
            )  # fmt: skip
        if st.form_submit_button(_("Save details"), type="primary"):
            attempt(
                "{result}",
                lambda: edited(
                    services.edit_decision(
                        conn, person, key, fields, reason=reason, row_version=built_from
                    )
                ),
            )


def edited(changed: list[str]) -> str:
    """What an edit did, said after the rerun: the fields, the stage, the waves."""
    if not changed:
        return _("Nothing was changed.")
    after = decision_store.get_decision(conn, key)
    said = [_("Saved: {fields}.", fields=", ".join(c.replace("_", " ") for c in changed))]
    if after["stage"] != stage:
        said.append(_("The approval rule now reads it as {stage} (it was {before}).",
                      stage=stage_word(after["stage"]).lower(),
                      before=stage_word(stage).lower()))  # fmt: skip
    elif after["stage_cap"] == stage and after["stage_cap_since"] != decision["stage_cap_since"]:
        said.append(
            _("It stays {stage}: the evidence on record would take it further under the new "
              "details, but an edit raises no stage; evidence given from now on (a verdict, a "
              "demo, a test run) carries it on.", stage=stage_word(stage).lower())
        )  # fmt: skip
    before_waves = services.waves_counting(conn, decision)
    after_waves = services.waves_counting(conn, after)
    if before_waves != after_waves:
        left = [w for w in before_waves if w not in after_waves]
        joined = [w for w in after_waves if w not in before_waves]
        said.append(
            _(
                "It counts for the readiness of {waves}",
                waves=", ".join(after_waves) or _("no wave"),
            )
            + (_("; no longer for {waves}", waves=", ".join(left)) if left else "")
            + (_("; newly for {waves}", waves=", ".join(joined)) if joined else "")
            + "."
        )
    return " ".join(said)


st.subheader(_("What you can do"))
allowed = (
    workflow.allowed_actions(stage, person, forum=decision["forum"], domain=decision["domain"])
    if person
    else []
)
open_verdicts = workflow.verdicts_open(allowed)
if not allowed:
    st.caption(_("Nothing is yours to do on this decision while it is {stage}.",
                 stage=stage_word(stage).lower()))  # fmt: skip
given = evidence_store.latest_verdict_of(conn, key, person.email) if person else None
if given and not (open_verdicts and st.session_state.get(CHANGING_VERDICT)):
    with verdict_slot, st.container(border=True):
        verdict_given(given, may_change=bool(open_verdicts))
        review_queue(done=True)
elif open_verdicts:
    with verdict_slot, st.container(border=True):
        st.subheader(_("Your verdict awaits"), anchor=False)
        verdict_form(open_verdicts)
        review_queue(done=False)
for action in allowed:
    spec = workflow.ACTIONS[action]
    if action in workflow.VERDICT_ACTIONS.values():
        continue  # the verdict form offers them
    with st.expander(_(spec.label), expanded=len(allowed) == 1):
        if action == "decide":
            decide_form()
        elif action == "escalate":
            escalate_form()
        elif action == "revise":
            revise_form()
        elif action == "edit":
            edit_form()
        else:
            manual_form(action)

if person and stage_at_least(stage, "built") and stage != "ready":
    if permissions.may_act_anywhere(person, "record_test_run"):
        covering = list(evidence_store.test_cases_of_decision(conn, key))
        only_case = {"case": covering[0]} if len(covering) == 1 else {}
        st.page_link(
            "pages/testing.py",
            label=_("Log a test run"),
            icon=":material/science:",
            query_params={"decision": key, **only_case},
        )
    if stage == "built" and permissions.may_act_anywhere(person, "record_demo"):
        st.page_link(
            "pages/demos.py",
            label=_("Schedule the demo"),
            icon=":material/co_present:",
            query_params={"schedule": key},
        )
if open_defects := workflow.open_despite_a_pass(runs, defects):
    st.info(
        _(
            "A test run passed, but these linked defects are still open: {defects}.",
            defects=ui.md(", ".join(open_defects)),
        ),
        icon=":material/bug_report:",
    )

st.session_state[BUILT_FROM] = decision["row_version"]
