"""Approvals: the signed-in expert's queue of demonstrated decisions awaiting their verdict,
what each still needs under the approval rule, a verdict form, and verdicts on everything a
demo showed in one pass."""

import pandas as pd
import streamlit as st

import ui
from decisions import evidence, permissions, services
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import queues

SHOWN = 200
VERDICT_LABELS = {"approve": "Approve", "changes_requested": "Request changes"}

conn = ui.conn()
person = ui.actor()


def with_progress(frame: pd.DataFrame) -> pd.DataFrame:
    """The first SHOWN rows with what the approval rule still needs for each."""
    shown = frame.head(SHOWN).copy()
    status = evidence.approval_status(conn, shown["key"].tolist())
    shown["approval_rule"] = [
        evidence.describe_progress(status[k], scope)
        for k, scope in zip(shown["key"], shown["scope"], strict=True)
    ]
    return shown


def queue_section(queue: pd.DataFrame) -> None:
    st.subheader(f"Awaiting your verdict ({len(queue):,})")
    if queue.empty:
        st.write("Nothing awaits your verdict: every demonstrated decision of your domains "
                 "has your approval in its current round.")  # fmt: skip
        return
    shown = with_progress(queue)
    if len(queue) > SHOWN:
        st.caption(f"Showing the {SHOWN} that have waited longest of {len(queue):,}.")
    shown["demonstrated_since"] = shown["demonstrated_since"].str[:10]
    shown["my_verdict"] = shown["my_verdict"].fillna("").str.replace("_", " ")
    columns = ["key", "approval_rule", "title", "domain", "scope", "criticality",
               "demonstrated_since", "my_verdict"]  # fmt: skip
    ui.decision_table(shown[columns], "approvals_queue")
    verdict_form(shown)


def verdict_form(shown: pd.DataFrame) -> None:
    titles = dict(zip(shown["key"], shown["title"], strict=True))
    rules = dict(zip(shown["key"], shown["approval_rule"], strict=True))
    with st.form("verdict_form", clear_on_submit=True, enter_to_submit=False):
        st.markdown("**Give your verdict**")
        key = st.selectbox("Decision", list(titles), format_func=lambda k: f"{k} · {titles[k]}")
        verdict = st.radio("Verdict", list(VERDICT_LABELS), format_func=VERDICT_LABELS.get,
                           horizontal=True)  # fmt: skip
        comment = st.text_area("Comment", help="Required when you request changes: say what "
                               "must change.", max_chars=services.MAX_TEXT)  # fmt: skip
        date = st.date_input("Date", value=services.today(conn), format="YYYY-MM-DD")
        if not st.form_submit_button("Save verdict", type="primary"):
            return
    try:
        stage = evidence.record_verdict(conn, person, key, verdict, comment=comment, date=date)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    progress = evidence.approval_status(conn, [key])[key]
    scope = queues.decisions_brief(conn, [key]).iloc[0]["scope"]
    ui.flash(f"{key}: {VERDICT_LABELS[verdict].lower()} saved; the decision is now "
             f"{stage.replace('_', ' ')}. Approval rule: "
             f"{evidence.describe_progress(progress, scope)} (was: {rules[key]}).")  # fmt: skip
    st.rerun()


def demo_section() -> None:
    demos = queues.demos_attended_awaiting_verdicts(conn, person.email)
    st.subheader("After a demo: all its decisions in one pass")
    if demos.empty:
        st.write("No demo you attended shows a decision still awaiting your verdict.")
        return
    labels = {d.key: f"{d.key} · {d.date[:10]} · {d.module} · {d.awaiting} awaiting"
              for d in demos.itertuples()}  # fmt: skip
    demo = st.selectbox("Demo you attended", list(labels), format_func=labels.get)
    queue = queues.approvals_queue(conn, person.email)
    shown = decision_store.decisions_of_demo(conn, demo)
    awaiting = with_progress(queue[queue["key"].isin(shown)])
    with st.form("demo_verdicts", enter_to_submit=False):
        choices = {}
        for row in awaiting.itertuples():
            st.markdown(f"**{ui.md(row.key)} · {ui.md(row.title)}**  \n"
                        f"{ui.md(row.approval_rule)}")  # fmt: skip
            left, right = st.columns([1, 2])
            verdict = left.radio("Verdict", ["skip", *VERDICT_LABELS], horizontal=True,
                                 format_func=lambda v: VERDICT_LABELS.get(v, "Skip"),
                                 key=f"batch_verdict_{row.key}")  # fmt: skip
            comment = right.text_input("Comment", key=f"batch_comment_{row.key}")
            choices[row.key] = (verdict, comment)
        if not st.form_submit_button("Save these verdicts", type="primary"):
            return
    verdicts = {k: v for k, v in choices.items() if v[0] != "skip"}
    try:
        stages = evidence.record_demo_verdicts(conn, person, demo, verdicts)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(f"{len(stages)} verdicts saved: " + ", ".join(
        f"{k} now {s.replace('_', ' ')}" for k, s in stages.items()))  # fmt: skip
    st.rerun()


st.title("Approvals")
ui.show_flash()
if not permissions.may_act_anywhere(person, "approve"):
    st.info("The approvals queue is for experts with a domain: it lists demonstrated decisions "
            "of their domains that await their verdict. You are signed in without that, so "
            "here is what awaits every expert.", icon=":material/info:")  # fmt: skip
    waiting = queues.awaiting_approval(conn)
    st.subheader(f"Demonstrated, awaiting approval ({len(waiting):,})")
    if not waiting.empty:
        ui.decision_table(with_progress(waiting), "approvals_all")
else:
    st.caption(f"Demonstrated decisions of your domains ({ui.md(', '.join(sorted(person.domains)))}) "
               "that still need your verdict in their current build round.")  # fmt: skip
    queue_section(queues.approvals_queue(conn, person.email))
    demo_section()
