"""Issue 24, a page per demo: its time, place, links, people, the decisions it showed and the
verdicts given on them; the Demos list searchable by key and paged past 300; and verdicts on
each of a demo's decisions in one sitting, by the experts who attended it."""

from __future__ import annotations

import pytest
import test_pages_core
from conftest import as_read, drive_decision
from hostile import EXPERT, build_hostile_programme
from test_hostile_pages import assert_escaped, visit
from test_pages_core import button, signed_in, texts

from decisions import evidence, i18n, notices, settings, store
from decisions.store import decisions as decision_store

ATTENDED = ("per@stolav.no", "hanne@stolav.no")
OLD_DEMO = "DEMO-0687"
NEWER_DEMOS = 320  # more than the Demos list shows on one page


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    """The small programme with a held demo of two built decisions (attended by per and hanne,
    kari invited), and OLD_DEMO behind NEWER_DEMOS newer past demos."""
    path = tmp_path / "app.db"
    test_pages_core.make_programme(path)
    conn = store.connect(path)
    first = drive_decision(conn, "built", title="Dosering i **fet** <b>skrift</b>")
    second = drive_decision(conn, "built", title="Infusjonspumpe")
    analyst = decision_store.load_actor(conn, "ana@hemit.no")
    demo = evidence.save_demo(
        conn, analyst, module="MED-ADM", date="2022-09-15", decisions=[first, second],
        presenter="ana@hemit.no", invitees=[*ATTENDED, "kari@stolav.no"], held=False,
        start_time="00:00", duration_min=90, place="Rom 3, Øya helsehus",
        meeting_url="https://meet.example/demo?id=7",
    )  # fmt: skip
    row_version = evidence_store_row_version(conn, demo)
    evidence.save_demo(
        conn, analyst, key=demo, row_version=row_version, module="MED-ADM", date="2022-09-15",
        decisions=[first, second], presenter="ana@hemit.no", attendees=list(ATTENDED),
        invitees=[*ATTENDED, "kari@stolav.no"], held=True,
        recording_url="https://video.example/rec/7", notes="Vist i *testmiljø*",
    )  # fmt: skip
    with conn:
        conn.executemany(
            "INSERT INTO demos (key, date, module, presenter, held) VALUES (?, ?, 'MED-ADM', "
            "'ana@hemit.no', 1)",
            [(OLD_DEMO, "2021-05-10T10:00:00")]
            + [(f"DEMO-{1000 + n}", f"2022-0{1 + n % 8}-{1 + n % 27:02d}T10:00:00")
               for n in range(NEWER_DEMOS)],
        )  # fmt: skip
    conn.close()
    monkeypatch.setenv("DECISIONS_DB", str(path))
    return path, demo, first, second


def evidence_store_row_version(conn, demo: str) -> int:
    from decisions.store import evidence as evidence_store

    return evidence_store.get_demo(conn, demo)["row_version"]


def verdict_on(at, key: str):
    return next(r for r in at.radio if as_read(r.label) == f"Your verdict on {key}")


def comment_on(at, key: str):
    return next(t for t in at.text_input if key in t.key and ":comment:" in t.key)


def approvals(path, keys) -> list[tuple]:
    conn = store.connect(path)
    try:
        marks = ", ".join("?" * len(keys))
        return [tuple(r) for r in conn.execute(
            f"SELECT decision, expert, verdict FROM approvals WHERE decision IN ({marks}) "
            "ORDER BY id", keys)]  # fmt: skip
    finally:
        conn.close()


def approval_events(path) -> list[tuple]:
    conn = store.connect(path)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT id, action, to_value FROM events WHERE entity = 'approval' ORDER BY id")]  # fmt: skip
    finally:
        conn.close()


def test_the_demo_page_shows_time_place_links_people_decisions_and_verdicts(demo_db):
    path, demo, first, second = demo_db
    conn = store.connect(path)
    evidence.record_verdict(conn, decision_store.load_actor(conn, "hanne@stolav.no"), first,
                            "approve", comment="Ser bra ut")  # fmt: skip
    conn.close()
    at = signed_in("vera@hemit.no", "pages/demo.py", key=demo.lower())
    shown = texts(at)
    assert as_read(at.title[0].value) == f"{demo} · Medication administration"
    assert "**Place:** Rom 3, Øya helsehus" in shown
    assert "**When:** 15 Sep 2022 00:00–01:30" in shown
    facts = next(m.value for m in at.markdown if "**Meeting link:**" in m.value)
    assert "(https://meet.example/demo?id=7)" in facts  # a link a person can click
    assert "(https://video.example/rec/7)" in facts
    assert "**Invited (3):** Hanne, Kari, Per" in shown
    assert "**Attended (2):** Hanne, Per" in shown
    assert "**Presenter:** Ana" in shown
    assert any(r"Vist i \*testmiljø\*" in m.value for m in at.markdown)  # as typed
    decisions = at.dataframe[0].value
    assert decisions["key"].tolist() == [first, second]
    assert decisions["Title"].tolist()[0] == "Dosering i **fet** <b>skrift</b>"
    assert decisions["Stage"].tolist() == ["Demonstrated", "Demonstrated"]
    assert decisions["Approvals since"].tolist() == [1, 0]
    verdicts = at.dataframe[1].value
    assert verdicts[["Decision", "Expert", "Verdict", "Comment"]].values.tolist() == [
        [first, "Hanne", "Approved", "Ser bra ut"]
    ]
    assert "Your verdicts from this demo" not in shown and not at.radio  # a viewer gives none


def test_a_meeting_link_that_is_no_web_address_stays_text(demo_db):
    path, demo, _first, _second = demo_db
    conn = store.connect(path)
    with conn:
        conn.execute("UPDATE demos SET meeting_url = 'javascript:alert(1)' WHERE key = ?", (demo,))
    conn.close()
    at = signed_in("vera@hemit.no", "pages/demo.py", key=demo)
    facts = next(m.value for m in at.markdown if "**Meeting link:**" in m.value)
    assert "](javascript" not in facts and "javascript:alert(1)" in as_read(facts)


def test_the_demo_page_in_bokmal(demo_db, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    try:
        at = signed_in("vera@hemit.no", "pages/demo.py", key=demo_db[1])
        shown = texts(at)
        assert "**Tid:** 15.09.2022 00:00–01:30" in shown
        assert "**Sted:** Rom 3, Øya helsehus" in shown
        assert "Beslutninger som ble vist (2)" in shown
    finally:
        i18n.use("en")


def test_an_unknown_demo_says_so(demo_db):
    at = signed_in("vera@hemit.no", "pages/demo.py", key="DEMO-9999")
    assert "There is no demo DEMO-9999." in texts(at)


def test_the_demos_list_finds_a_demo_by_key_past_the_first_300(demo_db):
    at = signed_in("vera@hemit.no", "pages/demos.py")
    at.session_state["demos_tab"] = "Past"
    at.run()
    past = at.dataframe[0].value
    assert len(past) == 300 and OLD_DEMO not in past["Demo"].tolist()
    assert f"Demos 1–300 of {NEWER_DEMOS + 4}" in texts(at)  # 3 demos made above, and OLD_DEMO
    at.number_input(key="demos_past_page").set_value(2).run()
    assert OLD_DEMO in at.dataframe[0].value["Demo"].tolist()  # paged past 300
    at.text_input(key="demos_search").input(OLD_DEMO.lower()).run()
    assert at.dataframe[0].value["Demo"].tolist() == [OLD_DEMO]
    [link] = [p for p in at.get("page_link") if OLD_DEMO in as_read(p.proto.label)]
    assert (link.proto.page, link.proto.query_string) == ("demo", f"key={OLD_DEMO}")
    at.text_input(key="demos_search").input("Infusjonspumpe").run()  # a decision's title
    assert at.dataframe[0].value["Demo"].tolist() == [demo_db[1]]


def test_an_attending_expert_gives_verdicts_on_each_decision_in_one_sitting(demo_db):
    path, demo, first, second = demo_db
    events_before = approval_events(path)
    at = signed_in("per@stolav.no", "pages/demo.py", key=demo)
    verdict_on(at, first).set_value("approve")
    verdict_on(at, second).set_value("changes_requested")
    comment_on(at, second).input("Feil enhet på dosen")
    button(at, "Save my verdicts").click().run()
    assert not at.exception
    assert approvals(path, [first, second]) == [
        (first, "per@stolav.no", "approve"),
        (second, "per@stolav.no", "changes_requested"),
    ]
    new_events = approval_events(path)[len(events_before) :]
    assert [(action, to) for _id, action, to in new_events] == [
        ("approve", first), ("changes_requested", second),
    ]  # fmt: skip
    assert f"2 verdicts saved: {first} now demonstrated; {second} now in build." in texts(at)

    # The same verdict again is not stored; the one awaiting a verdict still shows in the form
    verdict_on(at, first).set_value("approve")
    button(at, "Save my verdicts").click().run()
    assert approvals(path, [first, second])[-1] == (second, "per@stolav.no", "changes_requested")
    assert len(approvals(path, [first, second])) == 2
    assert f"Already on record, not saved again: {first}." in texts(at)


def test_a_refused_verdict_leaves_the_others_saved(demo_db):
    path, demo, first, second = demo_db
    at = signed_in("hanne@stolav.no", "pages/demo.py", key=demo)
    verdict_on(at, first).set_value("approve")
    verdict_on(at, second).set_value("changes_requested")  # no comment
    button(at, "Save my verdicts").click().run()
    assert approvals(path, [first, second]) == [(first, "hanne@stolav.no", "approve")]
    shown = texts(at)
    assert f"1 verdict saved: {first}" in shown
    assert "comment" in " ".join(e.value for e in at.error)


@pytest.mark.parametrize("email", ["vera@hemit.no", "ana@hemit.no", "mona@hemit.no"])
def test_who_may_not_give_verdicts_sees_no_form(demo_db, email):
    at = signed_in(email, "pages/demo.py", key=demo_db[1])
    assert "Your verdicts from this demo" not in texts(at)
    assert not at.radio and not [b for b in at.button if b.label == "Save my verdicts"]


def test_an_expert_who_did_not_attend_is_sent_to_the_decisions(demo_db):
    at = signed_in("kari@stolav.no", "pages/demo.py", key=demo_db[1])
    assert "given here by the experts who attended it" in texts(at)
    assert not at.radio


def test_the_decision_page_and_my_work_link_to_the_demo(demo_db):
    path, demo, first, _second = demo_db
    at = signed_in("per@stolav.no", "pages/decision.py", key=first)
    labels = [as_read(p.proto.label) for p in at.get("page_link")]
    assert any(f"Shown in demo {demo} on 15 Sep 2022" in label for label in labels), labels
    at = signed_in("per@stolav.no", "pages/my_work.py")
    labels = [as_read(p.proto.label) for p in at.get("page_link")]
    assert any(label.startswith(f"{demo} · Medication administration · 15 Sep 2022: 2 awaiting")
               for label in labels), labels  # fmt: skip


@pytest.fixture(scope="module")
def hostile_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    conn = store.connect(path)
    build_hostile_programme(conn)
    conn.close()
    return path


@pytest.mark.parametrize("email", ["admin@hemit.no", EXPERT, "vera@hemit.no"])
def test_the_demo_page_renders_no_user_text_as_markup(hostile_path, monkeypatch, email):
    monkeypatch.setenv("DECISIONS_DB", str(hostile_path))
    conn = store.connect(hostile_path)
    demos = [r[0] for r in conn.execute("SELECT key FROM demos ORDER BY key")]
    conn.close()
    for demo in demos:
        assert_escaped(visit(email, "demo", key=demo))
    assert_escaped(visit(email, "demo", key="![n](http://127.0.0.1:9/n.png)"))


def test_a_demo_invitation_links_to_the_demos_page(programme, decision_at, actor):
    base = "https://decisions.example.org/app"
    with store.transaction(programme):
        settings.put(programme, settings.BASE_URL, base)
    demo = evidence.save_demo(
        programme, actor("ana@hemit.no"), module="MED-ADM", date="2022-09-22",
        decisions=[decision_at("built")], presenter="ana@hemit.no", invitees=["per@stolav.no"],
        held=False, start_time="10:00",
    )  # fmt: skip
    [invitation] = [n for n in notices.plan(programme) if n.kind == "demo_invitation"]
    link = f"{base}/demo?key={demo}"
    assert f"Demo {demo} in the app: {link}" in invitation.message.text
    assert f'<a href="{link}">Demo {demo} in the app</a>' in invitation.message.html
    assert f"In the tracker: {link}" in invitation.ics.replace("\r\n ", "")
