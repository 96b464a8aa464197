"""My work: what awaits the signed-in person, queue by queue. A tester's queues hold their own
work (store.queues._testers_own: their domains' decisions, test cases they created or ran last),
and a row opens the run it asks for."""

import streamlit as st

import ui
from decisions import i18n, permissions, services
from decisions.i18n import _
from decisions.store import queues, screen_queries
from decisions.words import date_text, readable, with_ask

TESTING_PAGE = "pages/testing.py"

conn = ui.conn()
person = ui.actor()
names = queues.code_names(conn)


def testers_queues() -> list[tuple]:
    """Tests to run, to retest and defects to verify: the person's own, or every tester's."""
    every = st.toggle(_("Every tester's work, not only yours"), key="my_work_every_tester")
    domains = ", ".join(sorted(names["domains"].get(d, d) for d in person.domains))
    st.caption(
        _("Every tester's work in the programme.") if every
        else _("Yours: decisions of your domains ({domains}), and test cases you created or ran "
               "last.", domains=ui.md(domains) or _("none"))
    )  # fmt: skip
    tester = None if every else person.email
    retest = queues.failing_decisions(conn, None, tester=tester)
    return [
        (_("Tests to run"), _("Test cases of approved decisions not run in this build round."),
         with_ask(queues.cases_to_run(conn, tester=tester), "run"), True),
        (_("To retest"), _("Decisions in test whose latest run failed or was blocked."),
         with_ask(retest[["key", "title", "test_case", "result", "run_date", "defect"]],
                  "retest"), True),
        (_("Defects to verify"), _("Defects marked fixed: run the case again to confirm."),
         with_ask(queues.defects_to_verify(conn, tester=tester), "verify"), True),
    ]  # fmt: skip


def run_of(frame):
    """Where a row of a tester's queue leads: the run of its test case, on its decision."""

    keys, cases = frame["key"].tolist(), frame["test_case"].tolist()  # not a pandas row per card

    def link(position: int) -> tuple[str, dict]:
        return TESTING_PAGE, {"decision": keys[position], "case": cases[position]}

    return link


def open_run(link):
    def opens(position: int) -> None:
        page, query = link(position)
        st.switch_page(page, query_params=query)

    return opens


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


st.title(_("My work"))
st.caption(_("What awaits {name}. Select a row to open it.", name=ui.md(person.name)))

queue_list = []
if permissions.may_act_anywhere(person, "approve"):  # first: what only they can give
    queue_list.append(
        (_("Awaiting your verdict"), _("Demonstrated decisions of your domains without your "
         "approval in this build round."), queues.approvals_queue(conn, person.email), False)
    )  # fmt: skip
if person.forums:
    queue_list.append(
        (_("Awaiting your forum"), _("Proposals in your forums, waiting for a decision."),
         screen_queries.awaiting_forum_decision(conn, person), False)
    )  # fmt: skip
if permissions.may_act_anywhere(person, "mark_built"):
    queue_list.append(
        (_("To build"), _("Decided, or in build, in your domains."),
         screen_queries.awaiting_build(conn, person), False)
    )  # fmt: skip
if permissions.may_act_anywhere(person, "record_test_run"):
    queue_list += testers_queues()
queue_list += [
    (_("Your escalations"), _("Proposals you escalated to a higher forum, and where they are "
     "now."), screen_queries.escalated_by(conn, person.email), False),
    (_("You own"), _("Decisions you own that are not ready or withdrawn."),
     screen_queries.owned_by(conn, person.email), False),
]  # fmt: skip

demo_links()
tab_labels = [f"{title} ({i18n.format_number(len(frame))})" for title, _a, frame, _r in queue_list]
for number, (tab, (_title, about, frame, leads_to_run)) in enumerate(
    zip(ui.tabs_drawn_when_open("my_work_tab", tab_labels), queue_list, strict=True)
):
    if not tab.open:
        continue
    with tab:
        st.caption(about)
        if frame.empty:
            st.write(_("Nothing here."))
            continue
        link = run_of(frame) if leads_to_run else None
        ui.decision_table(readable(frame.head(ui.ROWS_SHOWN), names), f"my_work_{number}",
                          cards=True, opens=open_run(link) if link else None,
                          card_link=link)  # fmt: skip
