"""One demo (deep link `?key=DEMO-0687`): when and where, its meeting link and recording, who
was invited and who attended, the decisions it showed with their stage, the verdicts given on
them since, and for an expert who attended, a verdict on each of its decisions in one sitting
(each its own verdict and event)."""

import datetime as dt
from urllib.parse import quote, urlsplit

import pandas as pd
import streamlit as st

import ui
from decisions import evidence, permissions, workflow
from decisions.i18n import N_, _, format_datetime, n_
from decisions.store import evidence as evidence_store
from decisions.store import queues, screen_queries
from decisions.words import VERDICT_ACTION_WORDS, date_text, moment_text, stage_word, verdict_word

SKIP = N_("No verdict now")
REFUSED = "_demo_verdicts_refused"

conn = ui.conn()
person = ui.actor()
key = st.query_params.get("key", "").strip().upper()
demo = evidence_store.get_demo(conn, key) if key else None
if demo is None:
    ui.record_not_found(
        _("Demo"), _("There is no demo {key}.", key=ui.md(key)) if key else None,
        _("Open a demo from the Demos list, or link to one as `/demo?key=DEMO-0042`."),
        ("pages/demos.py", _("Demos"), ":material/co_present:"),
    )  # fmt: skip

names = queues.code_names(conn)
people = screen_queries.people_names(
    conn, [demo["presenter"], *demo["invitees"], *demo["attendees"]]
)
shown = screen_queries.demo_decisions(conn, key)


def status_word() -> str:
    if demo["cancelled"]:
        return _("Cancelled")
    return _("Held") if demo["held"] else _("Scheduled")


def web_link(url: str) -> str:
    """A link as markdown when it is a web address (http or https), else the text as typed."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return ui.md(url)
    return f"[{ui.md(url)}]({quote(url, safe=':/?#@!$&*+,;=%~')})"


def names_of(emails: list[str]) -> str:
    return ", ".join(people.get(e, e) for e in emails) or "—"


def facts() -> None:
    starts = evidence.demo_start(demo)
    ends = starts + dt.timedelta(minutes=int(demo["duration_min"] or 0))
    module = names["modules"].get(demo["module"], demo["module"])
    lines = [
        (_("When"), ui.md(f"{format_datetime(starts)}–{ends:%H:%M}")),
        (_("Place"), ui.md(demo["place"]) if demo["place"] else "—"),
        (_("Meeting link"), web_link(demo["meeting_url"]) if demo["meeting_url"] else "—"),
        (_("Recording"), web_link(demo["recording_url"]) if demo["recording_url"] else "—"),
        (_("Module"), ui.md(module)),
        (_("Presenter"), ui.md(people.get(demo["presenter"], demo["presenter"] or "—"))),
        (_("Invited ({count})", count=len(demo["invitees"])), ui.md(names_of(demo["invitees"]))),
        (_("Attended ({count})", count=len(demo["attendees"])),
         ui.md(names_of(demo["attendees"]))),
    ]  # fmt: skip
    with st.container(border=True):
        st.markdown("  \n".join(f"**{label}:** {value}" for label, value in lines))
    if demo["notes"]:
        st.markdown(f"**{_('Notes')}**  \n" + ui.md(demo["notes"]).replace("\n", "  \n"))


def decisions_section(verdicts: list[dict]) -> None:
    st.subheader(_("Decisions shown ({count})", count=len(shown)), anchor=False)
    if not shown:
        st.caption(_("The demo lists no decision."))
        return
    st.caption(_("Select a row to open the decision."))
    approvals = {d["key"]: 0 for d in shown}
    changes = dict(approvals)
    for verdict in verdicts:
        tally = approvals if verdict["verdict"] == "approve" else changes
        tally[verdict["decision"]] += 1
    frame = pd.DataFrame(
        {
            "key": [d["key"] for d in shown],
            _("Title"): [d["title"] for d in shown],
            _("Stage"): [stage_word(d["stage"]) for d in shown],
            _("Approvals since"): [approvals[d["key"]] for d in shown],
            _("Changes requested since"): [changes[d["key"]] for d in shown],
        }
    )
    ui.decision_table(frame, f"demo_decisions_{key}")


def verdicts_section(verdicts: list[dict]) -> None:
    st.subheader(_("Verdicts given since the demo ({count})", count=len(verdicts)), anchor=False)
    if not verdicts:
        st.caption(_("No verdict on its decisions since the demo."))
        return
    st.dataframe(
        pd.DataFrame(
            {
                _("When"): [moment_text(v["date"]) for v in verdicts],
                _("Decision"): [v["decision"] for v in verdicts],
                _("Expert"): [v["name"] or v["expert"] for v in verdicts],
                _("Verdict"): [verdict_word(v["verdict"]) for v in verdicts],
                _("Counts"): [
                    _("yes") if v["counts"] else _("no: an earlier build round") for v in verdicts
                ],  # fmt: skip
                _("Comment"): [v["comment"] or "" for v in verdicts],
            }
        ),
        hide_index=True,
    )


# Verdicts from the demo, in one sitting -------------------------------------------------------


def open_verdicts(decision: dict) -> list[str]:
    allowed = workflow.allowed_actions(
        decision["stage"], person, forum=decision["forum"], domain=decision["domain"]
    )
    return workflow.verdicts_open(allowed)


def verdict_row(decision: dict, choices: list[str], form_id: str) -> tuple[str, str]:
    st.markdown(f"**{ui.md(decision['key'])} · {ui.md(decision['title'])}**")
    given = evidence_store.latest_verdict_of(conn, decision["key"], person.email)
    if given:
        st.caption(_("Your verdict on record: {verdict} {date}",
                     verdict=verdict_word(given["verdict"]), date=date_text(given["date"])))  # fmt: skip
    left, right = st.columns([1, 2])
    labels = {"": _(SKIP)} | {c: _(VERDICT_ACTION_WORDS[c]) for c in choices}
    verdict = left.radio(_("Your verdict on {key}", key=ui.md(decision["key"])), list(labels),
                         format_func=labels.get, key=f"{form_id}:verdict:{decision['key']}")  # fmt: skip
    comment = right.text_input(_("Comment (required when requesting changes)"),
                               key=f"{form_id}:comment:{decision['key']}")  # fmt: skip
    return verdict, comment


def verdict_form() -> None:
    if not permissions.may_act_anywhere(person, "approve"):
        return
    st.subheader(_("Your verdicts from this demo"), anchor=False)
    ui.show_flash()  # here, where the expert is: on a phone the top is scrolled away
    if not evidence.attended(person, demo):
        st.caption(_("Verdicts from a demo are given here by the experts who attended it; "
                     "give yours on each decision's page or under Approvals."))  # fmt: skip
        return
    for refusal in st.session_state.pop(REFUSED, []):
        st.error(ui.md(refusal), icon=":material/block:")
    open_now = [(d, choices) for d in shown if (choices := open_verdicts(d))]
    if not open_now:
        st.caption(_("None of its decisions awaits a verdict now."))
        return
    form = f"demo_verdicts_{key}"
    form_id = ui.form_key(form)  # its widgets are new once saved: the form shows empty again
    with st.form(form_id, enter_to_submit=False):
        st.caption(_("Each verdict is saved on its own; leave a decision at “{skip}” to give "
                     "it later.", skip=_(SKIP)))  # fmt: skip
        chosen = {d["key"]: verdict_row(d, choices, form_id) for d, choices in open_now}
        if not st.form_submit_button(_("Save my verdicts"), type="primary"):
            return
    verdicts = {k: v for k, v in chosen.items() if v[0]}
    if not verdicts:
        st.error(_("Choose a verdict for at least one decision."), icon=":material/block:")
        return
    ui.form_saved(form)  # before the change: a second click then finds no form
    outcomes = evidence.give_demo_verdicts(conn, person, key, verdicts)
    st.session_state[REFUSED] = [o.refusal for o in outcomes.values() if o.refusal]
    if len(st.session_state[REFUSED]) == len(outcomes):
        ui.form_refused(form)  # nothing saved: the form keeps what was typed
    else:
        ui.flash(said(outcomes))
    st.rerun()


def said(outcomes: dict[str, evidence.DemoVerdict]) -> str:
    saved = {k: o for k, o in outcomes.items() if o.stored}
    lines = []
    if saved:
        now = "; ".join(_("{key} now {stage}", key=k, stage=stage_word(o.stage).lower())
                        for k, o in saved.items())  # fmt: skip
        lines.append(n_("{count} verdict saved: {now}", "{count} verdicts saved: {now}",
                        len(saved), now=now) + ".")  # fmt: skip
    repeated = [k for k, o in outcomes.items() if not o.stored and not o.refusal]
    if repeated:
        lines.append(_("Already on record, not saved again: {keys}.", keys=", ".join(repeated)))
    return " ".join(lines)


st.title(f"{ui.md(key)} · {ui.md(names['modules'].get(demo['module'], demo['module']))}")
st.markdown(f":blue-badge[{status_word()}]")
facts()
given_since = screen_queries.demo_verdicts(conn, key)
decisions_section(given_since)
verdict_form()
verdicts_section(given_since)
st.page_link("pages/demos.py", label=_("All demos"), icon=":material/co_present:")
