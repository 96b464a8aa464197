"""Approvals: the signed-in expert's queue of demonstrated decisions awaiting their verdict,
what each still needs under the approval rule, a verdict form, and verdicts on everything a
demo showed in one pass."""

import pandas as pd
import streamlit as st

import ui
from decisions import evidence, permissions, services, words
from decisions.i18n import N_, _, format_number, n_
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import queues
from decisions.words import date_text, readable, stage_word

SHOWN = 200
SKIP = N_("Skip")  # no verdict on this row


def verdict_label(verdict: str) -> str:
    return _(words.VERDICT_ACTION_WORDS.get(verdict, SKIP))


conn = ui.conn()
person = ui.actor()
names = queues.code_names(conn)
rule_texts: dict[str, str] = {}  # this run's: the queue and a demo's part of it share rows


def with_progress(frame: pd.DataFrame) -> pd.DataFrame:
    """The first SHOWN rows with what the approval rule still needs for each."""
    shown = frame.head(SHOWN).copy()
    new = shown[~shown["key"].isin(rule_texts)]
    status = evidence.approval_status(conn, new["key"].tolist()) if len(new) else {}
    texts = words.progress_texts([status[k] for k in new["key"]], new["scope"])
    rule_texts.update(zip(new["key"], texts, strict=True))
    shown["approval_rule"] = [rule_texts[k] for k in shown["key"]]
    return shown


def queue_section(queue: pd.DataFrame) -> None:
    st.subheader(_("Awaiting your verdict ({count})", count=format_number(len(queue))))
    if queue.empty:
        st.write(_("Nothing awaits your verdict: every demonstrated decision of your domains "
                   "has your approval in its current round."))  # fmt: skip
        return
    shown = with_progress(queue)
    if len(queue) > SHOWN:
        st.caption(_("Showing the {shown} that have waited longest of {count}.", shown=SHOWN,
                     count=format_number(len(queue))))  # fmt: skip
    shown["my_verdict"] = shown["my_verdict"].fillna("")
    columns = ["key", "approval_rule", "title", "domain", "scope", "criticality",
               "demonstrated_since", "my_verdict"]  # fmt: skip
    ui.decision_table(readable(shown[columns], names), "approvals_queue")
    verdict_form(shown)


def verdict_form(shown: pd.DataFrame) -> None:
    titles = dict(zip(shown["key"], shown["title"], strict=True))
    rules = dict(zip(shown["key"], shown["approval_rule"], strict=True))
    with st.form("verdict_form", clear_on_submit=True, enter_to_submit=False):
        st.markdown("**" + _("Give your verdict") + "**")
        key = st.selectbox(_("Decision"), list(titles),
                           format_func=lambda k: f"{k} · {titles[k]}")  # fmt: skip
        verdict = st.radio(_("Verdict"), list(words.VERDICT_ACTION_WORDS), format_func=verdict_label,
                           horizontal=True)  # fmt: skip
        comment = st.text_area(_("Comment"), help=_("Required when you request changes: say "
                               "what must change."), max_chars=services.MAX_TEXT)  # fmt: skip
        date = st.date_input(_("Date"), value=services.today(conn), format="DD.MM.YYYY")
        if not st.form_submit_button(_("Save verdict"), type="primary"):
            return
    try:
        stage = evidence.record_verdict(conn, person, key, verdict, comment=comment, date=date)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    progress = evidence.approval_status(conn, [key])[key]
    scope = queues.decisions_brief(conn, [key]).iloc[0]["scope"]
    ui.flash(_("{key}: {verdict} saved; the decision is now {stage}. Approval rule: {rule} "
               "(was: {before}).", key=key, verdict=verdict_label(verdict).lower(),
               stage=stage_word(stage).lower(), rule=words.progress_text(progress, scope),
               before=rules[key]))  # fmt: skip
    st.rerun()


def demo_section(queue: pd.DataFrame) -> None:
    demos = queues.demos_attended_awaiting_verdicts(conn, person.email)
    st.subheader(_("After a demo: all its decisions in one pass"))
    if demos.empty:
        st.write(_("No demo you attended shows a decision still awaiting your verdict."))
        return
    modules = names["modules"]
    labels = {d.key: _("{demo} · {date} · {module} · {count} awaiting", demo=d.key,
                       date=date_text(d.date), module=modules.get(d.module, d.module),
                       count=d.awaiting)
              for d in demos.itertuples()}  # fmt: skip
    demo = st.selectbox(_("Demo you attended"), list(labels), format_func=labels.get)
    shown = decision_store.decisions_of_demo(conn, demo)
    awaiting = with_progress(queue[queue["key"].isin(shown)])
    with st.form("demo_verdicts", enter_to_submit=False):
        choices = {}
        for row in awaiting.itertuples():
            st.markdown(f"**{ui.md(row.key)} · {ui.md(row.title)}**  \n"
                        f"{ui.md(row.approval_rule)}")  # fmt: skip
            left, right = st.columns([1, 2])
            verdict = left.radio(_("Verdict"), ["skip", *words.VERDICT_ACTION_WORDS], horizontal=True,
                                 format_func=verdict_label,
                                 key=f"batch_verdict_{row.key}")  # fmt: skip
            comment = right.text_input(_("Comment"), key=f"batch_comment_{row.key}")
            choices[row.key] = (verdict, comment)
        if not st.form_submit_button(_("Save these verdicts"), type="primary"):
            return
    verdicts = {k: v for k, v in choices.items() if v[0] != "skip"}
    try:
        stages = evidence.record_demo_verdicts(conn, person, demo, verdicts)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    now = ", ".join(_("{key} now {stage}", key=k, stage=stage_word(s).lower())
                    for k, s in stages.items())  # fmt: skip
    ui.flash(n_("{count} verdict saved: {now}", "{count} verdicts saved: {now}", len(stages),
                now=now))  # fmt: skip
    st.rerun()


st.title(_("Approvals"))
ui.show_flash()
if not permissions.may_act_anywhere(person, "approve"):
    st.info(_("The approvals queue is for experts with a domain: it lists demonstrated "
              "decisions of their domains that await their verdict. You are signed in without "
              "that, so here is what awaits every expert."), icon=":material/info:")  # fmt: skip
    waiting = queues.awaiting_approval(conn, limit=SHOWN)
    st.subheader(_("Demonstrated, awaiting approval ({count})",
                   count=format_number(queues.count_awaiting_approval(conn))))  # fmt: skip
    if not waiting.empty:
        ui.decision_table(readable(with_progress(waiting), names), "approvals_all")
else:
    domains = names["domains"]
    st.caption(_("Demonstrated decisions of your domains ({domains}) that still need your "
                 "verdict in their current build round.",
                 domains=ui.md(", ".join(sorted(domains.get(d, d) for d in person.domains)))))  # fmt: skip
    queue = queues.approvals_queue(conn, person.email)
    queue_section(queue)
    demo_section(queue)
