"""Notices: the email notices a person received (as sent), their own choice of digest and
event notices, their demo invitations as a calendar file; managers also see anyone's notices
and set the programme's defaults. Nothing here sends mail: `python -m decisions notify` does."""

import streamlit as st

import ui
from decisions import evidence, notices, permissions, settings
from decisions import notice_texts as texts
from decisions.model import WorkflowError
from decisions.store import notices as notice_store
from decisions.store import queues

SHOWN = 50

conn = ui.conn()
person = ui.actor()
manager = permissions.allowed(person, "manage_people")


def whose() -> tuple[str, str]:
    if not manager:
        return person.email, person.name
    people = {r.email: f"{r.name} ({r.email})" for r in queues.people_of_domain(conn, None)
              .itertuples()}  # fmt: skip
    chosen = st.selectbox("Person", list(people), format_func=people.get,
                          index=list(people).index(person.email) if person.email in people
                          else 0, key="notices_person")  # fmt: skip
    return chosen, people[chosen]


def status(row) -> str:
    if row.sent_at:
        return f"sent {row.sent_at[:16].replace('T', ' ')}"
    if row.last_error:
        return f"not sent yet ({row.attempts} tries): {row.last_error}"
    return "waiting for the next run"


def received_tab() -> None:
    email, name = whose()
    sent = notice_store.recent(conn, email, SHOWN)
    st.caption(f"The latest {SHOWN} notices to {ui.md(name)}, newest first, exactly as sent.")
    if sent.empty:
        st.write("No notices yet.")
        return
    for row in sent.itertuples():
        label = f"{texts.KIND_NAMES.get(row.kind, row.kind)} · {row.subject}"
        with st.expander(label):
            st.caption(status(row))
            text, html = st.tabs(["Text", "HTML"])
            with text:
                st.text(row.body_text)
            with html:
                st.html(row.body_html)  # built by notice_texts: every value escaped
            if row.ics:
                st.download_button("Calendar entry (.ics)", row.ics, file_name="invite.ics",
                                   mime="text/calendar", key=f"ics_{row.id}")  # fmt: skip


def preference_form(title: str, current: notices.Preferences, save) -> None:
    with st.form(title, enter_to_submit=False):
        digest = st.radio("Digest of what awaits you", list(texts.DIGEST_CHOICES),
                          index=list(texts.DIGEST_CHOICES).index(current.digest),
                          format_func=texts.DIGEST_CHOICES.get, horizontal=True)  # fmt: skip
        st.write("Event notices")
        events = [kind for kind, label in texts.EVENT_KINDS.items()
                  if st.checkbox(label, value=kind in current.events, key=f"{title}_{kind}")]  # fmt: skip
        if not st.form_submit_button("Save", type="primary"):
            return
    try:
        save(digest, events)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash("Saved. The next notices run uses it.")
    st.rerun()


def preferences_tab() -> None:
    mine = notices.preferences_of(conn, person.email)
    if not mine.chosen:
        st.caption("You have not chosen yet: the programme's defaults apply.")
    preference_form(
        "my_preferences",
        mine,
        lambda digest, events: notices.set_preferences(
            conn, person, person.email, digest=digest, events=events
        ),
    )
    st.download_button(
        "Download my demo invitations (.ics)",
        evidence.my_invitations_ics(conn, person.email, settings.get(conn, settings.BASE_URL)),
        file_name="my-demo-invitations.ics",
        mime="text/calendar",
        icon=":material/event:",
    )


def defaults_tab() -> None:
    st.caption("For everyone who has not chosen their own.")
    preference_form(
        "programme_defaults",
        notices.defaults(conn),
        lambda digest, events: notices.set_defaults(conn, person, digest=digest, events=events),
    )
    with st.form("base_url", enter_to_submit=False):
        url = st.text_input("The app's address, for the links in notices",
                            value=settings.get(conn, settings.BASE_URL))  # fmt: skip
        if not st.form_submit_button("Save the address"):
            return
    try:
        notices.set_base_url(conn, person, url)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash("Saved. Notices link to the new address from the next run.")
    st.rerun()


st.title("Notices")
ui.show_flash()
names = ["Received", "My preferences"] + (["Programme defaults"] if manager else [])
for tab, show in zip(st.tabs(names), (received_tab, preferences_tab, defaults_tab), strict=False):
    with tab:
        show()
