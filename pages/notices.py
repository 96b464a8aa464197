"""Notices: the email notices a person received (as sent), their own choice of digest and
event notices, their demo invitations as a calendar file; managers also see anyone's notices,
the notices kept back (with why) and a warning while the app's address is not set, and set the
programme's defaults. Nothing here sends mail: `python -m decisions notify` does."""

import streamlit as st

import ui
from decisions import app_address, evidence, notices, permissions, settings
from decisions import notice_texts as texts
from decisions.i18n import _, format_number
from decisions.model import WorkflowError
from decisions.store import notices as notice_store
from decisions.store import queues
from decisions.words import moment_text

SHOWN = 50

conn = ui.conn()
person = ui.actor()
manager = permissions.allowed(person, "manage_people")


def whose() -> tuple[str, str]:
    if not manager:
        return person.email, person.name
    people = {r.email: f"{r.name} ({r.email})" for r in queues.people_of_domain(conn, None)
              .itertuples()}  # fmt: skip
    chosen = st.selectbox(_("Person"), list(people), format_func=people.get,
                          index=list(people).index(person.email) if person.email in people
                          else 0, key="notices_person")  # fmt: skip
    return chosen, people[chosen]


def status(row) -> str:
    if row.sent_at:
        return _("sent {when}", when=moment_text(row.sent_at))
    if row.held:
        return _("kept back, not sent: {why}", why=notices.why_kept(row.held))
    if row.claimed_at:
        return _("being sent, or its run stopped before it could record the outcome (not "
                 "sent again)")  # fmt: skip
    if row.last_error:
        return _("not sent yet ({attempts} tries): {error}", attempts=row.attempts,
                 error=row.last_error)  # fmt: skip
    return _("waiting for the next run")


def received_tab() -> None:
    email, name = whose()
    sent = notice_store.recent(conn, email, SHOWN)
    st.caption(_("The latest {count} notices to {name}, newest first, exactly as sent.",
                 count=format_number(SHOWN), name=ui.md(name)))  # fmt: skip
    if sent.empty:
        st.write(_("No notices yet."))
        return
    for row in sent.itertuples():
        kind = texts.KIND_NAMES.get(row.kind)
        label = f"{_(kind) if kind else row.kind} · {row.subject}"
        with st.expander(label):
            st.caption(status(row))
            text, html = st.tabs([_("Text"), _("HTML")])
            with text:
                st.text(row.body_text)
            with html:
                st.html(row.body_html)  # built by notice_texts: every value escaped
            if row.ics:
                st.download_button(_("Calendar entry (.ics)"), row.ics, file_name="invite.ics",
                                   mime="text/calendar", key=f"ics_{row.id}")  # fmt: skip


def preference_form(title: str, current: notices.Preferences, save) -> None:
    with st.form(title, enter_to_submit=False):
        digest = st.radio(_("Digest of what awaits you"), list(texts.DIGEST_CHOICES),
                          index=list(texts.DIGEST_CHOICES).index(current.digest),
                          format_func=lambda d: _(texts.DIGEST_CHOICES[d]), horizontal=True)  # fmt: skip
        st.write(_("Event notices"))
        events = [kind for kind, label in texts.EVENT_KINDS.items()
                  if st.checkbox(_(label), value=kind in current.events, key=f"{title}_{kind}")]  # fmt: skip
        if not st.form_submit_button(_("Save"), type="primary"):
            return
    try:
        save(digest, events)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(_("Saved. The next notices run uses it."))
    st.rerun()


def preferences_tab() -> None:
    mine = notices.preferences_of(conn, person.email)
    if not mine.chosen:
        st.caption(_("You have not chosen yet: the programme's defaults apply."))
    preference_form(
        "my_preferences",
        mine,
        lambda digest, events: notices.set_preferences(
            conn, person, person.email, digest=digest, events=events
        ),
    )
    st.download_button(
        _("Download my demo invitations (.ics)"),
        evidence.my_invitations_ics(conn, person.email, settings.get(conn, settings.BASE_URL)),
        file_name="my-demo-invitations.ics",
        mime="text/calendar",
        icon=":material/event:",
    )


def kept_back_list() -> None:
    st.subheader(_("Notices kept back"))
    kept = notices.kept_back(conn)
    if not kept:
        st.caption(_("None: every notice recorded was sent or waits for the next run."))
        return
    st.caption(_("{count} notices that no run will send, with why.",
                 count=format_number(len(kept))))  # fmt: skip
    st.dataframe(
        [{_("Notice"): n["id"], _("To"): n["person"], _("Kind"): n["kind"],
          _("Recorded"): moment_text(n["created_at"]), _("Why"): n["why"]} for n in kept],
        hide_index=True,
    )  # fmt: skip


def defaults_tab() -> None:
    kept_back_list()
    st.caption(_("For everyone who has not chosen their own."))
    preference_form(
        "programme_defaults",
        notices.defaults(conn),
        lambda digest, events: notices.set_defaults(conn, person, digest=digest, events=events),
    )
    with st.form("base_url", enter_to_submit=False):
        url = st.text_input(_("The app's address, for the links in notices"),
                            value=settings.get(conn, settings.BASE_URL))  # fmt: skip
        if not st.form_submit_button(_("Save the address")):
            return
    try:
        notices.set_base_url(conn, person, url)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(_("Saved. Notices link to the new address from the next run."))
    st.rerun()


st.title(_("Notices"))
ui.show_flash()
if manager and not app_address.base_url_set(conn):
    st.warning(app_address.base_url_warning(conn), icon=":material/link_off:")
names = [_("Received"), _("My preferences")] + ([_("Programme defaults")] if manager else [])
for tab, show in zip(st.tabs(names), (received_tab, preferences_tab, defaults_tab), strict=False):
    with tab:
        show()
