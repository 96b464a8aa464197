"""Demos: upcoming and past demos filtered by module, domain and organisation, the signed-in
person's own invitations as a calendar file, the forms to schedule a demo (with its time, place
and meeting link), change, move or cancel a scheduled one, and record one that was held once it
has started (which moves the built decisions it showed to demonstrated).

`demos?schedule=KEY` (the decision page's next step after "Mark as built") opens the schedule
form with that decision's module chosen and the decision ticked."""

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from decisions import evidence, permissions, services, settings, words
from decisions.i18n import N_, _, format_date, format_datetime, format_number, n_
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import queues, reference
from decisions.words import stage_word

SHOWN = 300
TABS = (N_("Upcoming"), N_("Past"), N_("Schedule a demo"), N_("Record a held demo"))
UPCOMING, PAST, SCHEDULE, RECORD = TABS

conn = ui.conn()
person = ui.actor()
today = services.today(conn)


def option(table: str, label: str, key: str) -> str | None:
    codes = {r["code"]: f"{r['code']} · {r['name']}"
             for r in reference.list_table(conn, table)}  # fmt: skip
    return st.selectbox(label, list(codes), index=None, format_func=codes.get,
                        placeholder=_("All"), key=key)  # fmt: skip


def filters() -> dict:
    search = st.text_input(_("Search"), key="demos_search", max_chars=100,
                           placeholder=_("Demo key, module, or a decision's key or title"))  # fmt: skip
    left, middle, right = st.columns(3)
    with left:
        module = option("modules", _("Module"), "demos_module")
    with middle:
        domain = option("domains", _("Domain"), "demos_domain")
    with right:
        organization = option("organizations", _("Organisation affected"), "demos_org")
    return {"module": module, "domain": domain, "organization": organization,
            "search": search.strip() or None}  # fmt: skip


def demo_named(search: str | None) -> None:
    """A link to the demo whose key was typed in the search, whichever tab lists it."""
    demo = evidence_store.get_demo(conn, search.upper()) if search else None
    if demo is not None:
        st.page_link("pages/demo.py", label=_("Open demo {key} ({date})", key=ui.md(demo["key"]),
                     date=when_text(demo["date"], demo["start_time"])),
                     icon=":material/arrow_forward:", query_params={"key": demo["key"]})  # fmt: skip


def listed(upcoming: bool, chosen: dict, name: str) -> tuple[pd.DataFrame, int]:
    """One page of the upcoming or past demos (SHOWN a page), with a page chooser when there
    are more, and how many there are in all."""
    total = queues.count_demos(conn, upcoming=upcoming, today=today.isoformat(), **chosen)
    pages = max(1, -(-total // SHOWN))
    number = f"{name}_page"
    if st.session_state.get(number, 1) > pages:  # fewer pages since the search changed
        st.session_state.pop(number)
    page = st.number_input(_("Page"), 1, pages, key=number, width=160) if pages > 1 else 1
    frame = queues.demos(conn, upcoming=upcoming, today=today.isoformat(), limit=SHOWN,
                         offset=(page - 1) * SHOWN, **chosen)  # fmt: skip
    if pages > 1:
        first = (page - 1) * SHOWN + 1
        st.caption(_("Demos {first}–{last} of {total}", first=format_number(first),
                     last=format_number(first + len(frame) - 1), total=format_number(total)))  # fmt: skip
    return frame, total


def domain_of(module: str) -> str:
    return next(m["domain"] for m in reference.list_table(conn, "modules")
                if m["code"] == module)  # fmt: skip


def people_label(frame) -> dict[str, str]:
    return {r.email: f"{r.name} ({r.email}, {r.organization})" for r in frame.itertuples()}


def when_text(date: str, start_time: str) -> str:
    """ "22.09.2022 10:00" in bokmål, "22 Sep 2022 10:00" in English."""
    return format_datetime(evidence.demo_start({"date": date, "start_time": start_time}))


def decision_titles(module: str, keep: list[str] = ()) -> dict[str, str]:
    """The decisions a demo of `module` can show, as 'KEY · title (stage)'; `keep`: those on
    the demo already, whatever their stage now."""
    choices = queues.demonstrable_decisions(conn, module)
    titles = {r.key: f"{r.key} · {r.title} ({stage_word(r.stage)})" for r in choices.itertuples()}
    for key in keep:
        if key not in titles and (record := decision_store.get_decision(conn, key)):
            titles[key] = f"{key} · {record['title']} ({stage_word(record['stage'])})"
    return titles


def demo_table(frame, key: str) -> None:
    if frame.empty:
        st.write(_("No demos match."))
        return
    shown = frame.assign(
        date=frame["date"].map(lambda d: format_date(dt.date.fromisoformat(d[:10]))),
        status=[
            _("held") if held else _("cancelled") if cancelled else _("scheduled")
            for held, cancelled in zip(frame["held"], frame["cancelled"], strict=True)
        ],
        decisions=frame["decisions"].fillna("").str.replace(";", ", "),
    )
    shown = shown[[c for c in words.DEMO_COLUMN_WORDS if c in shown]]
    st.caption(_("Select a row to open the demo."))
    event = st.dataframe(
        shown.rename(columns=words.headers(words.DEMO_COLUMN_WORDS, shown.columns)),
        key=key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={_("Recording"): st.column_config.LinkColumn(_("Recording"))},
    )
    if event.selection.rows:
        chosen = str(frame.iloc[event.selection.rows[0]]["key"])
        st.switch_page("pages/demo.py", query_params={"key": chosen})


# Upcoming: the list, the calendar file, and changing, moving, cancelling or recording one ----


def upcoming_tab(chosen: dict) -> None:
    upcoming, total = listed(True, chosen, "demos_upcoming")
    st.caption(n_("{count} scheduled from {date} on.", "{count} scheduled from {date} on.",
                  total, date=format_date(today)))  # fmt: skip
    demo_table(upcoming, "demos_upcoming")
    st.download_button(
        _("Download my invitations (.ics)"),
        evidence.my_invitations_ics(conn, person.email, settings.get(conn, settings.BASE_URL)),
        file_name="my-demo-invitations.ics",
        mime="text/calendar",
        icon=":material/event:",
        help=_(
            "The demos you are invited to or present, in Oslo time, to import in your calendar"
        ),  # fmt: skip
    )
    if permissions.allowed(person, "record_demo"):
        manage_section()


def manage_section() -> None:
    scheduled = evidence.scheduled_demos(conn, limit=SHOWN)
    st.subheader(_("Change, move, cancel or record a scheduled demo"), anchor=False)
    if scheduled.empty:
        st.write(_("No demo is scheduled."))
        return
    labels = {r.key: f"{r.key} · {when_text(r.date, r.start_time)} · {r.module_name}"
              for r in scheduled.itertuples()}  # fmt: skip
    if st.session_state.get("manage_demo") not in labels:
        st.session_state.pop("manage_demo", None)
    chosen = st.selectbox(_("Scheduled demo"), list(labels), index=None, format_func=labels.get,
                          placeholder=_("Choose a demo"), key="manage_demo")  # fmt: skip
    if chosen is None:
        return
    demo = evidence_store.get_demo(conn, chosen)
    row = scheduled.set_index("key").loc[chosen]
    if row["started"]:
        st.info(_("{key} started at {when}: record who attended.", key=chosen,
                  when=format_datetime(row["starts"])), icon=":material/how_to_reg:")  # fmt: skip
        if st.button(_("Record it as held"), type="primary", key="manage_record"):
            go_to(RECORD, demo=chosen)
    else:
        st.caption(_("{key} starts at {when}; it can be recorded as held from then.",
                     key=chosen, when=format_datetime(row["starts"])))  # fmt: skip
    with st.expander(_("Change or move the demo")):
        edit_form(demo)
    with st.expander(_("Cancel the demo")):
        cancel_form(demo)


def go_to(tab: str, demo: str | None = None) -> None:
    """Open another tab on the next run (its widgets take the values before they are drawn)."""
    st.session_state["_demos_go_to"] = (_(tab), demo)
    st.rerun()


def edit_form(demo: dict) -> None:
    key = demo["key"]
    seen = ui.seen("demo", key, demo["row_version"])
    titles = decision_titles(demo["module"], demo["decisions"])
    experts = people_label(queues.people_of_domain(conn, domain_of(demo["module"])))
    for email in demo["invitees"]:
        experts.setdefault(email, email)
    start = dt.time.fromisoformat(demo["start_time"])
    with st.form(f"edit_demo_{key}_{seen}", enter_to_submit=False):
        left, right = st.columns(2)
        # a date passed unrecorded shows as today: move it, or record it as held above
        date = left.date_input(_("Date"), value=max(dt.date.fromisoformat(demo["date"][:10]), today),
                               min_value=today, format="DD.MM.YYYY")  # fmt: skip
        start = right.time_input(_("Starts at (Oslo time)"), value=start, step=900)
        minutes = left.number_input(_("Length (minutes)"), 5, 720, int(demo["duration_min"]),
                                    step=15)  # fmt: skip
        place = right.text_input(_("Place"), value=demo["place"], max_chars=200)
        meeting_url = st.text_input(_("Meeting link"), value=demo["meeting_url"])
        decisions = st.multiselect(_("Decisions it will show"), list(titles),
                                   default=demo["decisions"], format_func=titles.get, placeholder=_("Choose one or more"))  # fmt: skip
        invitees = st.multiselect(_("Invited experts"), list(experts),
                                  default=demo["invitees"], format_func=experts.get, placeholder=_("Choose one or more"))  # fmt: skip
        notes = st.text_area(_("Notes"), value=demo["notes"], max_chars=services.MAX_TEXT)
        if not st.form_submit_button(_("Save the changes"), type="primary"):
            return
    ui.forget("demo", key)
    try:
        evidence.save_demo(conn, person, key=key, row_version=seen, module=demo["module"],
                           date=date, decisions=decisions, presenter=demo["presenter"],
                           invitees=invitees, notes=notes, held=False,
                           start_time=start.strftime("%H:%M"), duration_min=minutes,
                           place=place, meeting_url=meeting_url)  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(_("Demo {key} is now on {when}; the invited get the change with the next notices "
               "run.", key=key, when=when_text(date.isoformat(), start.strftime("%H:%M"))))  # fmt: skip
    st.rerun()


def cancel_form(demo: dict) -> None:
    key = demo["key"]
    seen = ui.seen("demo", key, demo["row_version"])
    with st.form(f"cancel_demo_{key}_{seen}", enter_to_submit=False):
        reason = st.text_input(_("Reason (the invited see it in the event log)"))
        if not st.form_submit_button(_("Cancel the demo")):
            return
    ui.forget("demo", key)
    try:
        evidence.cancel_demo(conn, person, key, reason, row_version=seen)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    st.session_state.pop("manage_demo", None)
    ui.flash(_("Demo {key} cancelled; the invited get the cancellation with the next notices "
               "run.", key=key))  # fmt: skip
    st.rerun()


def past_tab(chosen: dict) -> None:
    past, _total = listed(False, chosen, "demos_past")
    not_recorded = int(((past["held"] == 0) & (past["cancelled"] == 0)).sum())
    if not_recorded:
        st.warning(n_("{count} demo whose date has passed is not recorded yet: record who "
                      "attended under *Record a held demo*.",
                      "{count} demos whose date has passed are not recorded yet: record who "
                      "attended under *Record a held demo*.", not_recorded),
                   icon=":material/pending:")  # fmt: skip
    demo_table(past, "demos_past")


# Schedule --------------------------------------------------------------------------------------


def from_decision_link() -> str | None:
    """The decision of `?schedule=KEY`, once per link: its module is chosen and the schedule
    tab opened (the form then ticks the decision)."""
    wanted = st.query_params.get("schedule", "").strip()
    if not wanted:
        return None
    record = decision_store.get_decision(conn, wanted)
    if record is None:
        return None
    if st.session_state.get("_schedule_link") != wanted:
        st.session_state["_schedule_link"] = wanted
        st.session_state["schedule_module"] = record["module"]
        st.session_state["demos_tab"] = _(SCHEDULE)
    return wanted


def schedule_tab(linked: str | None) -> None:
    if not permissions.allowed(person, "record_demo"):
        st.info(permissions.refusal(person, "record_demo"), icon=":material/lock:")
        return
    module = option("modules", _("Module to show"), "schedule_module")
    if module is None:
        st.write(_("Choose the module first: the demo shows decisions that configure it."))
        return
    titles = decision_titles(module)
    module_domain = domain_of(module)
    presenters = people_label(queues.people_with_role(conn, *permissions.roles_for("record_demo")))
    experts = people_label(queues.people_of_domain(conn, module_domain))
    ticked = [linked] if linked in titles else []
    with st.form(ui.form_key("schedule_demo"), enter_to_submit=False):
        left, right = st.columns(2)
        date = left.date_input(_("Date"), value=today + dt.timedelta(days=7), min_value=today,
                               format="DD.MM.YYYY")  # fmt: skip
        start = right.time_input(_("Starts at (Oslo time)"), value=dt.time(10, 0), step=900)
        minutes = left.number_input(_("Length (minutes)"), 5, 720, 60, step=15)
        place = right.text_input(_("Place"), max_chars=200, placeholder=_("Room, building"))
        meeting_url = st.text_input(_("Meeting link"), placeholder="https://…")
        decisions = st.multiselect(_("Decisions it will show"), list(titles), default=ticked,
                                   format_func=titles.get,
                                   placeholder=_("Choose the decisions"))  # fmt: skip
        presenter = st.selectbox(_("Presenter"), list(presenters), format_func=presenters.get,
                                 index=list(presenters).index(person.email)
                                 if person.email in presenters else None)  # fmt: skip
        invitees = st.multiselect(_("Invited experts (of {domain})", domain=module_domain),
                                  list(experts), format_func=experts.get, placeholder=_("Choose one or more"))  # fmt: skip
        notes = st.text_area(_("Notes"), max_chars=services.MAX_TEXT)
        if not st.form_submit_button(_("Schedule the demo"), type="primary"):
            return
    ui.form_saved("schedule_demo")  # before the change: a second click then finds no form
    done = ui.saving()
    try:
        key = evidence.save_demo(conn, person, module=module, date=date, decisions=decisions,
                                 presenter=presenter or "", invitees=invitees, notes=notes,
                                 held=False, start_time=start.strftime("%H:%M"),
                                 duration_min=minutes, place=place,
                                 meeting_url=meeting_url)  # fmt: skip
    except WorkflowError as error:
        ui.form_refused("schedule_demo")
        ui.show_refusal(error)
        return
    done.update(go_to=(_(UPCOMING), key),
                message=n_("Demo {key} scheduled for {when} with {count} invited.",
                           "Demo {key} scheduled for {when} with {count} invited.",
                           len(invitees), key=key,
                           when=when_text(date.isoformat(), start.strftime("%H:%M"))))  # fmt: skip
    if linked:
        st.query_params.pop("schedule", None)
        st.session_state.pop("_schedule_link", None)
    ui.flash(done["message"])
    go_to(UPCOMING, demo=key)


# Record a held demo ----------------------------------------------------------------------------

NEW_DEMO = "(new)"


def record_tab() -> None:
    if not permissions.allowed(person, "record_demo"):
        st.info(permissions.refusal(person, "record_demo"), icon=":material/lock:")
        return
    scheduled = evidence.scheduled_demos(conn, limit=SHOWN)
    due = scheduled[scheduled["started"]].iloc[::-1]  # the latest started first
    waiting = scheduled[~scheduled["started"]]
    if not waiting.empty:
        first = waiting.iloc[0]
        st.caption(n_("{count} scheduled demo has not started yet; it can be recorded as held "
                      "once it has started ({key} at {when}).",
                      "{count} scheduled demos have not started yet; each can be recorded as "
                      "held once it has started (the next: {key} at {when}).", len(waiting),
                      key=first["key"], when=format_datetime(first["starts"])))  # fmt: skip
    labels = {NEW_DEMO: _("(a demo that was not scheduled here)")} | {
        d.key: f"{d.key} · {when_text(d.date, d.start_time)} · {d.module} · {d.presenter_name}"
        for d in due.itertuples()
    }
    wanted = st.session_state.pop("_record_wanted", None)
    if wanted in labels:  # from "Record it as held" on the Upcoming tab
        st.session_state.pop("record_demo", None)
    index = list(labels).index(wanted) if wanted in labels else 1 if len(labels) > 1 else 0
    chosen = st.selectbox(_("Scheduled demo"), list(labels), format_func=labels.get,
                          index=index, key="record_demo")  # fmt: skip
    demo = evidence_store.get_demo(conn, chosen) if chosen != NEW_DEMO else None
    module = demo["module"] if demo else option("modules", _("Module shown"), "record_module")
    if module is None:
        st.write(_("Choose the module that was shown."))
        return
    titles = decision_titles(module, demo["decisions"] if demo else [])
    module_domain = domain_of(module)
    experts = people_label(queues.people_of_domain(conn, None))
    presenters = people_label(queues.people_with_role(conn, *permissions.roles_for("record_demo")))
    # the version the form was first shown with, so a change by someone else meanwhile shows
    seen = ui.seen("demo_record", chosen, demo["row_version"]) if demo else None
    held_on = dt.date.fromisoformat(demo["date"][:10]) if demo else today
    with st.form(ui.form_key(f"record_demo_{chosen}"), enter_to_submit=False):
        st.markdown(_("**Module {module}** (domain {domain})", module=ui.md(module),
                      domain=ui.md(module_domain)))  # fmt: skip
        date = st.date_input(_("Held on"), value=min(held_on, today), max_value=today,
                             format="DD.MM.YYYY")  # fmt: skip
        decisions = st.multiselect(_("Decisions shown"), list(titles),
                                   default=[k for k in (demo["decisions"] if demo else [])
                                            if k in titles],
                                   format_func=titles.get, placeholder=_("Choose one or more"))  # fmt: skip
        presenter_default = demo["presenter"] if demo else person.email
        presenter = st.selectbox(_("Presenter"), list(presenters), format_func=presenters.get,
                                 index=list(presenters).index(presenter_default)
                                 if presenter_default in presenters else None)  # fmt: skip
        attendees = st.multiselect(_("Experts who attended"), list(experts),
                                   default=[e for e in (demo["invitees"] if demo else [])
                                            if e in experts],
                                   format_func=experts.get, placeholder=_("Choose one or more"))  # fmt: skip
        notes = st.text_area(_("Notes"), value=demo["notes"] if demo else "",
                             max_chars=services.MAX_TEXT)  # fmt: skip
        recording = st.text_input(_("Recording link"),
                                  value=demo["recording_url"] if demo else "",
                                  placeholder="https://…")  # fmt: skip
        if not st.form_submit_button(_("Record the demo as held"), type="primary"):
            return
    if demo:
        ui.forget("demo_record", chosen)
    # Held on its scheduled day before today: at its start time; else on the day given (today:
    # now, which is after its start)
    when = evidence.demo_start(demo) if demo and date == held_on != today else date.isoformat()
    ui.form_saved(f"record_demo_{chosen}")  # before the change: a second click finds no form
    done = ui.saving()
    try:
        key = evidence.save_demo(
            conn, person, key=demo["key"] if demo else None,
            row_version=seen, module=module, date=when,
            decisions=decisions, presenter=presenter or "", attendees=attendees,
            invitees=demo["invitees"] if demo else [], notes=notes, recording_url=recording,
            held=True,
        )  # fmt: skip
    except WorkflowError as error:
        ui.form_refused(f"record_demo_{chosen}")
        ui.show_refusal(error)
        return
    moved = sorted(k for k in decisions
                   if decision_store.get_decision(conn, k)["stage"] == "demonstrated")  # fmt: skip
    message = n_("Demo {key} recorded with {count} attending.",
                 "Demo {key} recorded with {count} attending.", len(attendees), key=key)  # fmt: skip
    if moved:
        message += " " + _("Now demonstrated: {keys}.", keys=", ".join(moved))
    done.update(message=message, go_to=(_(PAST), None))
    ui.flash(message)
    go_to(PAST)  # where the held demo is listed now


st.title(_("Demos"))
done = ui.show_flash()
linked = from_decision_link()
chosen = filters()
demo_named(chosen["search"])
labels = [_(t) for t in TABS]
if going := st.session_state.pop("_demos_go_to", None) or done.get("go_to"):
    st.session_state["demos_tab"] = going[0]
    if going[0] == _(UPCOMING):
        st.session_state["manage_demo"] = going[1]
    elif going[0] == _(RECORD):
        st.session_state["_record_wanted"] = going[1]
upcoming, past, schedule, record = ui.tabs_drawn_when_open("demos_tab", labels)
for tab, show in ((upcoming, lambda: upcoming_tab(chosen)), (past, lambda: past_tab(chosen)),
                  (schedule, lambda: schedule_tab(linked)), (record, record_tab)):  # fmt: skip
    if tab.open:
        with tab:
            show()
