"""Issue 12 for subject experts and testers: the decision page and the queues speak in plain
words (names, readable dates, stage words), and offer each person their next step."""

from __future__ import annotations

import pytest
import test_pages_core
from conftest import as_read, every_tab_table
from test_pages_core import signed_in, texts

from decisions import i18n, store
from decisions.store import decisions as decision_store
from decisions.store import queues
from decisions.words import date_text, moment_text, stage_word, verdict_by


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    path = tmp_path / "app.db"
    made = test_pages_core.make_programme(path)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    return path, made


@pytest.fixture
def keys(demo_db):
    return demo_db[1]


def test_codes_become_words_in_the_readers_language():
    assert stage_word("in_build") == "In build"
    assert verdict_by("changes_requested", "Ingrid Paulsen") == (
        "Changes requested by Ingrid Paulsen"
    )
    assert date_text("2021-04-26T11:31:00") == "26 Apr 2021"
    assert moment_text("2021-04-26T11:31:00") == "26 Apr 2021 11:31"
    i18n.use("nb")
    try:
        assert date_text("2021-04-26T11:31:00") == "26.04.2021"
        assert moment_text("2021-04-26T11:31:00") == "26.04.2021 11:31"
    finally:
        i18n.use("en")
    assert date_text(None) == "" and moment_text("") == ""


def test_the_decision_page_names_forum_and_organisations_and_writes_dates(keys, demo_db):
    key = keys["tested"]
    conn = store.connect(demo_db[0])
    decision = decision_store.get_decision(conn, key)
    names = queues.code_names(conn)
    conn.close()
    at = signed_in("vera@hemit.no", "pages/decision.py", key=key)
    shown = texts(at)
    facts = as_read(next(m.value for m in at.markdown if "**Forum:**" in m.value))
    assert f"**Forum:** {names['forums'][decision['forum']]}" in facts
    if not decision["all_organizations"]:
        for code in decision["organizations"]:
            assert names["organizations"][code] in facts
            assert f" {code}," not in facts and not facts.endswith(f" {code}")
    assert f"**Created:** {date_text(decision['created_at'])}" in facts
    assert "T" not in facts.split("**Created:**")[1][:12]  # no ISO moment
    assert ":blue-badge[Tested]" in shown
    for table in at.dataframe:
        assert all(" " not in c or c[0].isupper() for c in table.value.columns)
        assert not any("_" in str(c) for c in table.value.columns)  # headers in words


def test_the_decision_page_in_bokmal(keys, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    at = signed_in("vera@hemit.no", "pages/decision.py", key=keys["tested"])
    shown = texts(at)
    assert "**Organisasjoner:**" in shown and ":blue-badge[Testet]" in shown
    assert "**Opprettet:** 15.09.2022" in shown  # a Norwegian date
    i18n.use("en")


def test_my_work_queues_read_in_words(keys, demo_db):
    conn = store.connect(demo_db[0])
    forums = queues.code_names(conn)["forums"]
    conn.close()
    at = signed_in("per@stolav.no", "pages/my_work.py")
    forum_queue = every_tab_table(at)[1]  # after the verdicts
    assert list(forum_queue["key"]) == [keys["proposed"]]
    assert list(forum_queue["Stage"]) == ["Proposed"]
    assert forum_queue["Forum"].iloc[0] in forums.values()  # a name, not a code
    assert "Needed by" in forum_queue and "needed_by" not in forum_queue
    assert forum_queue["Needed by"].iloc[0] == date_text("2022-09-01")


def test_my_work_and_approvals_in_bokmal(keys, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    at = signed_in("per@stolav.no", "pages/my_work.py")
    assert at.title[0].value == "Mitt arbeid"
    assert list(at.dataframe[0].value["Status"]) == ["Demonstrert"]  # the verdicts first
    at = signed_in("per@stolav.no", "pages/approvals.py")
    assert at.title[0].value == "Godkjenninger"
    assert "Tittel" in at.dataframe[0].value
    at = signed_in("tess@hemit.no", "pages/my_work.py")
    assert at.tabs[0].label.startswith("Tester å kjøre")
    i18n.use("en")


def test_a_tester_sees_their_own_queues_with_what_is_asked(keys, demo_db):
    conn = store.connect(demo_db[0])
    with conn:
        conn.execute(
            "INSERT INTO defects (key, title, severity_vendor, severity_clinical, status, "
            "decision, opened) VALUES ('DEF-9', 'Dose rounds wrong', 2, 2, 'fixed', ?, "
            "'2022-09-10')",
            (keys["tested"],),
        )
    assert list(queues.defects_to_verify(conn)["defect"]) == ["DEF-9"]
    conn.close()
    at = signed_in("tess@hemit.no", "pages/my_work.py")
    labels = [t.label for t in at.tabs]
    assert [label.split(" (")[0] for label in labels[:3]] == [
        "Tests to run", "To retest", "Defects to verify",
    ]  # fmt: skip
    assert labels[2] == "Defects to verify (1)"
    verify = next(t for t in every_tab_table(at) if t is not None and "Defect" in t)
    assert list(verify["key"]) == [keys["tested"]]
    assert verify["What is asked"].iloc[0] == "Verify that defect DEF-9 is fixed"
    assert verify["Due"].iloc[0] == date_text("2022-09-01")
    other = signed_in("per@stolav.no", "pages/my_work.py")
    assert not any(t.label.startswith("Tests to run") for t in other.tabs)


def test_the_decision_page_offers_a_tester_to_log_a_run(keys):
    at = signed_in("tess@hemit.no", "pages/decision.py", key=keys["tested"])
    link = next(p for p in at.get("page_link") if "Log a test run" in p.proto.label)
    assert "testing" in link.proto.page and "decision=" + keys["tested"] in link.proto.query_string
    viewer = signed_in("vera@hemit.no", "pages/decision.py", key=keys["tested"])
    assert not any("Log a test run" in p.proto.label for p in viewer.get("page_link"))


def test_the_log_a_run_link_names_the_decisions_only_test_case(keys, demo_db):
    def run_link() -> str:
        at = signed_in("tess@hemit.no", "pages/decision.py", key=keys["tested"])
        return next(p for p in at.get("page_link") if "Log a test run" in p.proto.label).proto

    conn = store.connect(demo_db[0])
    with conn:
        conn.execute("DELETE FROM test_case_decisions WHERE decision = ?", (keys["tested"],))
        conn.execute(
            "INSERT INTO test_cases (key, title, kind) VALUES ('TC-8801', 'One', 'application')"
        )
        conn.execute("INSERT INTO test_case_decisions VALUES ('TC-8801', ?)", (keys["tested"],))
    assert "case=TC-8801" in run_link().query_string
    with conn:
        conn.execute(
            "INSERT INTO test_cases (key, title, kind) VALUES ('TC-8802', 'Two', 'application')"
        )
        conn.execute("INSERT INTO test_case_decisions VALUES ('TC-8802', ?)", (keys["tested"],))
    conn.close()
    assert "case=" not in run_link().query_string


def test_mark_ready_shows_its_blockers_before_the_click(keys, demo_db):
    conn = store.connect(demo_db[0])
    with conn:
        conn.execute(
            "INSERT INTO defects (key, title, severity_vendor, severity_clinical, status, "
            "decision, opened) VALUES ('DEF-8', 'Wrong dose', 1, 1, 'open', ?, '2022-09-10')",
            (keys["tested"],),
        )
    conn.close()
    at = signed_in("mona@hemit.no", "pages/decision.py", key=keys["tested"])
    warnings = as_read(" ".join(w.value for w in at.warning))
    assert "DEF-8" in warnings and "severity 1-2 defects are open" in warnings
    ready = next(b for b in at.button if b.label == "Mark ready for production")
    assert ready.disabled
    assert "these linked defects are still open: DEF-8" in as_read(
        " ".join(i.value for i in at.info)
    )
