"""My work: what awaits the signed-in person, queue by queue."""

import streamlit as st

import ui
from decisions import i18n, permissions
from decisions.i18n import _
from decisions.store import queues, screen_queries
from decisions.words import readable, with_ask

conn = ui.conn()
person = ui.actor()

st.title(_("My work"))
st.caption(_("What awaits {name}. Select a row to open the decision.", name=ui.md(person.name)))

queue_list = []
if permissions.may_act_anywhere(person, "approve"):  # first: what only they can give
    queue_list.append(
        (_("Awaiting your verdict"), _("Demonstrated decisions of your domains without your "
         "approval in this build round."), queues.approvals_queue(conn, person.email))
    )  # fmt: skip
if person.forums:
    queue_list.append(
        (_("Awaiting your forum"), _("Proposals in your forums, waiting for a decision."),
         screen_queries.awaiting_forum_decision(conn, person))
    )  # fmt: skip
if permissions.may_act_anywhere(person, "mark_built"):
    queue_list.append(
        (_("To build"), _("Decided, or in build, in your domains."),
         screen_queries.awaiting_build(conn, person))
    )  # fmt: skip
if permissions.may_act_anywhere(person, "record_test_run"):
    queue_list += [
        (_("Tests to run"), _("Test cases of approved decisions not run in this build round."),
         with_ask(queues.cases_to_run(conn), "run")),
        (_("To retest"), _("Decisions in test whose latest run failed or was blocked."),
         with_ask(queues.failing_decisions(conn, None)[
             ["key", "title", "test_case", "result", "run_date", "defect"]], "retest")),
        (_("Defects to verify"), _("Defects marked fixed: run the case again to confirm."),
         with_ask(queues.defects_to_verify(conn), "verify")),
    ]  # fmt: skip
queue_list += [
    (_("Your escalations"), _("Proposals you escalated to a higher forum, and where they are "
     "now."), screen_queries.escalated_by(conn, person.email)),
    (_("You own"), _("Decisions you own that are not ready or withdrawn."),
     screen_queries.owned_by(conn, person.email)),
]  # fmt: skip

names = queues.code_names(conn)
tab_labels = [f"{title} ({i18n.format_number(len(frame))})" for title, about, frame in queue_list]
for number, (tab, (_title, about, frame)) in enumerate(
    zip(st.tabs(tab_labels), queue_list, strict=True)
):
    with tab:
        st.caption(about)
        if frame.empty:
            st.write(_("Nothing here."))
        else:
            ui.decision_table(readable(frame, names), f"my_work_{number}")
