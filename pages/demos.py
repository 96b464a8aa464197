"""Demos: upcoming and past demos filtered by module, domain and organisation, the signed-in
person's own invitations as a calendar file, and the forms to schedule a demo (with its time,
place and meeting link), cancel one, and record one that was held (which moves the built
decisions it showed to demonstrated)."""

import datetime as dt

import streamlit as st

import ui
from decisions import evidence, permissions, services, settings
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import queues, reference

SHOWN = 300
NEW_DEMO = "(a demo that was not scheduled here)"

conn = ui.conn()
person = ui.actor()
today = services.today(conn)


def option(table: str, label: str, key: str) -> str | None:
    codes = {r["code"]: f"{r['code']} · {r['name']}"
             for r in reference.list_table(conn, table)}  # fmt: skip
    return st.selectbox(label, list(codes), index=None, format_func=codes.get,
                        placeholder="All", key=key)  # fmt: skip


def filters() -> dict:
    left, middle, right = st.columns(3)
    with left:
        module = option("modules", "Module", "demos_module")
    with middle:
        domain = option("domains", "Domain", "demos_domain")
    with right:
        organization = option("organizations", "Organisation affected", "demos_org")
    return {"module": module, "domain": domain, "organization": organization}


def domain_of(module: str) -> str:
    return next(m["domain"] for m in reference.list_table(conn, "modules")
                if m["code"] == module)  # fmt: skip


def people_label(frame) -> dict[str, str]:
    return {r.email: f"{r.name} ({r.email}, {r.organization})" for r in frame.itertuples()}


def demo_table(frame, key: str) -> None:
    if frame.empty:
        st.write("No demos match.")
        return
    # these lists leave cancelled demos out, so the column says nothing
    shown = frame.drop(columns=["row_version", "presenter", "cancelled"], errors="ignore").copy()
    shown["held"] = shown["held"].map({1: "held", 0: "scheduled"})
    st.dataframe(
        shown,
        key=key,
        hide_index=True,
        column_config={
            "recording_url": st.column_config.LinkColumn("recording"),
            "presenter_name": "presenter",
            "module_name": "module name",
            "start_time": "starts",
        },
    )
    if len(frame) >= SHOWN:
        st.caption(f"Showing {SHOWN} demos; narrow the filters to see others.")


def upcoming_tab(chosen: dict) -> None:
    upcoming = queues.demos(conn, upcoming=True, today=today.isoformat(), limit=SHOWN, **chosen)
    st.caption(f"{len(upcoming):,} scheduled from {today:%d %b %Y} on.")
    demo_table(upcoming, "demos_upcoming")
    st.download_button(
        "Download my invitations (.ics)",
        evidence.my_invitations_ics(conn, person.email, settings.get(conn, settings.BASE_URL)),
        file_name="my-demo-invitations.ics",
        mime="text/calendar",
        icon=":material/event:",
        help="The demos you are invited to or present, in Oslo time, to import in your calendar",
    )
    if not upcoming.empty and permissions.allowed(person, "record_demo"):
        cancel_form(upcoming)


def cancel_form(upcoming) -> None:
    with st.expander("Cancel a demo"):
        labels = {r.key: f"{r.key} · {r.date} {r.start_time} · {r.module}"
                  for r in upcoming.itertuples()}  # fmt: skip
        with st.form("cancel_demo", enter_to_submit=False):
            chosen = st.selectbox("Demo", list(labels), format_func=labels.get, index=None)
            reason = st.text_input("Reason (the invited see it in the event log)")
            if not st.form_submit_button("Cancel the demo") or chosen is None:
                return
        try:
            evidence.cancel_demo(conn, person, chosen, reason)
        except WorkflowError as error:
            ui.show_refusal(error)
            return
        ui.flash(f"Demo {chosen} cancelled; the invited get the cancellation with the next "
                 "notices run.")  # fmt: skip
        st.rerun()


def past_tab(chosen: dict) -> None:
    past = queues.demos(conn, upcoming=False, today=today.isoformat(), limit=SHOWN, **chosen)
    not_recorded = int((past["held"] == 0).sum())
    if not_recorded:
        st.warning(f"{not_recorded} demos whose date has passed are not recorded yet: record "
                   "who attended under *Record a held demo*.", icon=":material/pending:")  # fmt: skip
    demo_table(past, "demos_past")


def schedule_tab() -> None:
    if not permissions.allowed(person, "record_demo"):
        st.info(permissions.refusal(person, "record_demo"), icon=":material/lock:")
        return
    module = option("modules", "Module to show", "schedule_module")
    if module is None:
        st.write("Choose the module first: the demo shows decisions that configure it.")
        return
    choices = queues.demonstrable_decisions(conn, module)
    titles = {r.key: f"{r.key} · {r.title} ({r.stage.replace('_', ' ')})"
              for r in choices.itertuples()}  # fmt: skip
    module_domain = domain_of(module)
    presenters = people_label(queues.people_with_role(conn, *permissions.roles_for("record_demo")))
    experts = people_label(queues.people_of_domain(conn, module_domain))
    with st.form("schedule_demo", enter_to_submit=False):
        date = st.date_input("Date", value=today + dt.timedelta(days=7), format="YYYY-MM-DD")
        left, right = st.columns(2)
        start = left.time_input("Starts at (Oslo time)", value=dt.time(10, 0), step=900)
        minutes = right.number_input("Length (minutes)", 5, 720, 60, step=15)
        place = left.text_input("Place", max_chars=200, placeholder="Room, building")
        meeting_url = right.text_input("Meeting link", placeholder="https://…")
        decisions = st.multiselect("Decisions it will show", list(titles),
                                   default=[k for k in titles if "(built)" in titles[k]][:10],
                                   format_func=titles.get)  # fmt: skip
        presenter = st.selectbox("Presenter", list(presenters), format_func=presenters.get,
                                 index=list(presenters).index(person.email)
                                 if person.email in presenters else None)  # fmt: skip
        invitees = st.multiselect(f"Invited experts (of {module_domain})", list(experts),
                                  format_func=experts.get)  # fmt: skip
        notes = st.text_area("Notes", max_chars=services.MAX_TEXT)
        if not st.form_submit_button("Schedule the demo", type="primary"):
            return
    try:
        key = evidence.save_demo(conn, person, module=module, date=date, decisions=decisions,
                                 presenter=presenter or "", invitees=invitees, notes=notes,
                                 held=False, start_time=start.strftime("%H:%M"),
                                 duration_min=minutes, place=place,
                                 meeting_url=meeting_url)  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(f"Demo {key} scheduled for {date:%d %b %Y} with {len(invitees)} invited.")
    st.rerun()


def record_tab() -> None:
    if not permissions.allowed(person, "record_demo"):
        st.info(permissions.refusal(person, "record_demo"), icon=":material/lock:")
        return
    due = queues.demos_to_record(conn, today.isoformat(), limit=SHOWN)
    labels = {NEW_DEMO: NEW_DEMO} | {
        d.key: f"{d.key} · {d.date} · {d.module} · {d.presenter_name}" for d in due.itertuples()
    }
    chosen = st.selectbox("Scheduled demo", list(labels), format_func=labels.get,
                          index=1 if len(labels) > 1 else 0, key="record_demo")  # fmt: skip
    demo = evidence_store.get_demo(conn, chosen) if chosen != NEW_DEMO else None
    module = demo["module"] if demo else option("modules", "Module shown", "record_module")
    if module is None:
        st.write("Choose the module that was shown.")
        return
    choices = queues.demonstrable_decisions(conn, module)
    titles = {r.key: f"{r.key} · {r.title} ({r.stage.replace('_', ' ')})"
              for r in choices.itertuples()}  # fmt: skip
    module_domain = domain_of(module)
    experts = people_label(queues.people_of_domain(conn, None))
    presenters = people_label(queues.people_with_role(conn, *permissions.roles_for("record_demo")))
    # the version the form was first shown with, so a change by someone else meanwhile shows
    seen = st.session_state.setdefault(f"demo_seen_{chosen}", demo["row_version"]) if demo else None
    with st.form("record_demo_form", enter_to_submit=False):
        st.markdown(f"**Module {ui.md(module)}** (domain {ui.md(module_domain)})")
        date = st.date_input("Held on", value=today, format="YYYY-MM-DD")
        decisions = st.multiselect("Decisions shown", list(titles),
                                   default=[k for k in (demo["decisions"] if demo else [])
                                            if k in titles],
                                   format_func=titles.get)  # fmt: skip
        presenter_default = demo["presenter"] if demo else person.email
        presenter = st.selectbox("Presenter", list(presenters), format_func=presenters.get,
                                 index=list(presenters).index(presenter_default)
                                 if presenter_default in presenters else None)  # fmt: skip
        attendees = st.multiselect("Experts who attended", list(experts),
                                   default=[e for e in (demo["invitees"] if demo else [])
                                            if e in experts],
                                   format_func=experts.get)  # fmt: skip
        notes = st.text_area("Notes", value=demo["notes"] if demo else "",
                             max_chars=services.MAX_TEXT)  # fmt: skip
        recording = st.text_input("Recording link", value=demo["recording_url"] if demo else "",
                                  placeholder="https://…")  # fmt: skip
        if not st.form_submit_button("Record the demo as held", type="primary"):
            return
    st.session_state.pop(f"demo_seen_{chosen}", None)
    try:
        key = evidence.save_demo(
            conn, person, key=demo["key"] if demo else None,
            row_version=seen, module=module, date=date,
            decisions=decisions, presenter=presenter or "", attendees=attendees,
            invitees=demo["invitees"] if demo else [], notes=notes, recording_url=recording,
            held=True,
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    stages = {k: decision_store.get_decision(conn, k)["stage"] for k in decisions}
    moved = sorted(k for k, s in stages.items() if s == "demonstrated")
    ui.flash(f"Demo {key} recorded with {len(attendees)} attending. "
             + (f"Now demonstrated: {', '.join(moved)}." if moved else ""))  # fmt: skip
    st.rerun()


st.title("Demos")
ui.show_flash()
chosen = filters()
upcoming, past, schedule, record = st.tabs(
    ["Upcoming", "Past", "Schedule a demo", "Record a held demo"],
    key="demos_tab",
    on_change="rerun",
)
for tab, show in ((upcoming, lambda: upcoming_tab(chosen)), (past, lambda: past_tab(chosen)),
                  (schedule, schedule_tab), (record, record_tab)):  # fmt: skip
    if tab.open:
        with tab:
            show()
