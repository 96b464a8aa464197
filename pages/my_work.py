"""My work: what awaits the signed-in person, queue by queue."""

import streamlit as st

import ui
from decisions import permissions
from decisions.store import queues, views

conn = ui.conn()
person = ui.actor()

st.title("My work")
st.caption(f"What awaits {ui.md(person.name)}. Select a row to open the decision.")

queue_list = []
if person.forums:
    queue_list.append(
        ("Awaiting your forum", "Proposals in your forums, waiting for a decision.",
         views.awaiting_forum_decision(conn, person))
    )  # fmt: skip
if permissions.may_act_anywhere(person, "approve"):
    queue_list.append(
        ("Awaiting your verdict", "Demonstrated decisions of your domains without your approval "
         "in this build round.", queues.approvals_queue(conn, person.email))
    )  # fmt: skip
if permissions.may_act_anywhere(person, "mark_built"):
    queue_list.append(
        ("To build", "Decided, or in build, in your domains.", views.awaiting_build(conn, person))
    )  # fmt: skip
queue_list += [
    ("Your escalations", "Proposals you escalated to a higher forum, and where they are now.",
     views.escalated_by(conn, person.email)),
    ("You own", "Decisions you own that are not ready or withdrawn.",
     views.owned_by(conn, person.email)),
]  # fmt: skip

for tab, (title, about, frame) in zip(
    st.tabs([f"{title} ({len(frame):,})" for title, _, frame in queue_list]), queue_list,
    strict=True,
):  # fmt: skip
    with tab:
        st.caption(about)
        if frame.empty:
            st.write("Nothing here.")
        else:
            ui.decision_table(frame, f"my_work_{title}")
