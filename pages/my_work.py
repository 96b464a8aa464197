"""My work: what awaits the signed-in person, queue by queue."""

import streamlit as st

import ui
from decisions import i18n, permissions, services
from decisions.i18n import _
from decisions.store import queues, screen_queries
from decisions.words import date_text, readable, with_ask

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


def demo_links() -> None:
    """Your demos, each a link to its page: those attended with decisions awaiting your
    verdict (give them there in one sitting), then those you are invited to."""
    attended = queues.demos_attended_awaiting_verdicts(conn, person.email).head(10)
    invited = screen_queries.demos_invited_to(conn, person.email, services.today(conn).isoformat())
    modules = {code: ui.md(name) for code, name in names["modules"].items()}
    links = [(d.key, _("{key} · {module} · {date}: {count} awaiting your verdict",
                       key=ui.md(d.key), module=modules.get(d.module, ui.md(d.module)),
                       date=date_text(d.date), count=d.awaiting))
             for d in attended.itertuples()]  # fmt: skip
    links += [(d["key"], _("{key} · {module} · {date}: you are invited", key=ui.md(d["key"]),
                           module=modules.get(d["module"], ui.md(d["module"])),
                           date=date_text(d["date"]))) for d in invited]  # fmt: skip
    for demo, label in links:
        st.page_link("pages/demo.py", label=label, icon=":material/co_present:",
                     query_params={"key": demo})  # fmt: skip


demo_links()
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
