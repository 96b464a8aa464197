"""The app shell and the core pages, run with AppTest on a small demo programme: sign-in,
navigation, the register, the decision page and its forms, my work and new decision."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import streamlit as st
from conftest import as_read, build_small_programme, drive_decision, every_tab_table
from streamlit.testing.v1 import AppTest

import ui
from decisions import admin, notices, services, store
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import screen_queries
from decisions.words import date_text

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TIMEOUT = 60
STAGES_TO_MAKE = ("proposed", "decided", "in_build", "demonstrated", "tested", "withdrawn")


def make_programme(path: Path, *, demo: bool = True) -> dict[str, str]:
    """The small programme with one decision at each of STAGES_TO_MAKE; returns their keys."""
    conn = store.connect(path)
    build_small_programme(conn)
    store.put_setting(conn, "demo", demo)
    keys = {
        stage: drive_decision(
            conn,
            stage,
            title=f"Infusjon økt {stage}",
            needed_by="2022-09-01",
            owner="per@stolav.no",
        )
        for stage in STAGES_TO_MAKE
    }
    conn.close()
    return keys


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    path = tmp_path / "app.db"
    keys = make_programme(path)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    return path, keys


@pytest.fixture
def keys(demo_db):
    return demo_db[1]


@pytest.fixture
def db(demo_db):
    conn = store.connect(demo_db[0])
    yield conn
    conn.close()


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def signed_in(email: str, page: str | None = None, **query) -> AppTest:
    at = app()
    at.sidebar.selectbox[0].set_value(email).run()
    if page:
        at.query_params.update(query)
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Every piece of text on the page and in the sidebar, for 'shows X' assertions."""
    parts = [
        e.value for kind in ("title", "markdown", "caption", "subheader") for e in getattr(at, kind)
    ]
    parts += [
        e.value for kind in ("success", "error", "warning", "info") for e in getattr(at, kind)
    ]
    parts += [t.label for t in at.tabs] + [x.label for x in at.expander]
    return as_read("\n".join(str(p) for p in parts))


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in at.button]}"
    return matches[0]


def stage(db, key: str) -> str:
    return decision_store.get_decision(db, key)["stage"]


# Sign-in -----------------------------------------------------------------------------------


def test_demo_database_asks_who_you_are_and_shows_the_demo_banner(demo_db):
    at = app()
    assert not at.exception
    assert "Demo programme" in texts(at)
    assert "Choose who you are" in texts(at)
    options = at.sidebar.selectbox[0].options
    assert any(
        "Hanne" in o and "hanne@stolav.no" in o and "St. Olavs hospital" in o for o in options
    )
    assert not at.dataframe  # nothing of the programme before sign-in


def test_demo_sign_in_puts_the_person_in_the_sidebar_with_the_programme_today(demo_db):
    at = signed_in("hanne@stolav.no")
    sidebar = "\n".join(str(e.value) for e in [*at.sidebar.markdown, *at.sidebar.caption])
    assert "Hanne" in sidebar and "15 Sep 2022" in sidebar
    assert at.session_state["_actor"].email == "hanne@stolav.no"
    assert "My work" in texts(at) and "Demo programme" in texts(at)


def test_an_expert_lands_on_their_work_and_a_manager_on_the_overview(demo_db):
    assert signed_in("hanne@stolav.no").title[0].value == "My work"
    assert signed_in("mona@hemit.no").title[0].value == "Overview"


def test_the_language_chosen_in_the_sidebar_is_kept_for_the_person(demo_db, db):
    at = signed_in("hanne@stolav.no")
    at.sidebar.segmented_control[0].set_value("nb").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Mitt arbeid"
    assert notices.language_of(db, "hanne@stolav.no") == "nb"
    again = signed_in("hanne@stolav.no")  # a new session, as after closing the browser
    assert again.title[0].value == "Mitt arbeid"
    assert "Programmets dato i dag: **15.09.2022**" in [c.value for c in again.sidebar.caption]
    assert signed_in("per@stolav.no").title[0].value == "My work"  # others keep theirs


def test_sign_in_keeps_the_deep_link(keys):
    at = app()
    at.query_params["key"] = keys["decided"]
    at.switch_page("pages/decision.py").run()
    at.sidebar.selectbox[0].set_value("ana@hemit.no").run()
    assert keys["decided"] in as_read(at.title[0].value)


def test_the_role_filter_narrows_the_people(demo_db):
    at = app()
    at.sidebar.pills[0].set_value("analyst").run()
    options = at.sidebar.selectbox[0].options
    assert len(options) == 1 and "ana@hemit.no" in options[0]


def test_the_people_to_pick_follow_changes_to_the_directory(demo_db, db):
    at = app()
    mona = decision_store.load_actor(db, "mona@hemit.no")
    siri = {"email": "siri@trd.no", "name": "Siri Østby", "organization": "TRD", "domains": ["MED"]}
    admin.save_expert(db, mona, **siri, roles=["analyst"], allocation_pct=40)
    at.run()
    assert any("siri@trd.no" in o for o in at.sidebar.selectbox[0].options)
    at.sidebar.pills[0].set_value("analyst").run()
    assert (
        sum("siri@trd.no" in o or "ana@hemit.no" in o for o in at.sidebar.selectbox[0].options) == 2
    )
    row_version = store.scalar(db, "SELECT row_version FROM experts WHERE email = 'siri@trd.no'")
    admin.save_expert(
        db,
        mona,
        **siri,
        roles=["analyst"],
        allocation_pct=40,
        active=False,
        row_version=row_version,
    )
    at.run()
    assert not any("siri@trd.no" in o for o in at.sidebar.selectbox[0].options)


def test_once_signed_in_the_directory_is_sent_only_when_asked_for(demo_db):
    """Every person's label went to the browser on every run of every page (350 kB at ten
    times the demo's volume); signed in, a button brings the list."""
    at = signed_in("hanne@stolav.no")
    # only the person signed in (the browser keeps it for a reconnect), not the directory
    assert [len(box.options) for box in at.sidebar.selectbox] == [1]
    button(at, "Act as someone else").click().run()
    assert any("mona@hemit.no" in o for o in at.sidebar.selectbox[0].options)
    at.sidebar.selectbox[0].set_value("mona@hemit.no").run()
    assert at.session_state["_actor"].email == "mona@hemit.no"
    assert [len(box.options) for box in at.sidebar.selectbox] == [1]
    assert at.query_params["as"] == "mona@hemit.no"


def test_sign_out_forgets_the_person(demo_db):
    at = signed_in("hanne@stolav.no")
    button(at, "Sign out").click().run()
    assert "Choose who you are" in texts(at)
    assert at.session_state["_actor"] is None


def test_a_demo_sign_in_is_kept_in_the_url_and_read_back_from_it(demo_db):
    at = signed_in("hanne@stolav.no")
    assert at.query_params["as"] == "hanne@stolav.no"
    reloaded = app_with_query({"as": "hanne@stolav.no"})  # a new session: a reload
    assert reloaded.session_state["_actor"].email == "hanne@stolav.no"
    assert app_with_query({"as": "nobody@example.org"}).session_state["_actor"] is None
    button(at, "Sign out").click().run()
    assert "as" not in at.query_params


def test_a_real_database_ignores_a_demo_sign_in_in_the_url(tmp_path, monkeypatch):
    path = tmp_path / "real.db"
    make_programme(path, demo=False)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    at = app_with_query({"as": "hanne@stolav.no"})
    assert "Sign-in is not configured" in texts(at) and at.session_state["_actor"] is None


def app_with_query(params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params)
    return at.run()


def test_a_real_database_without_auth_says_how_to_configure_it(tmp_path, monkeypatch):
    path = tmp_path / "real.db"
    make_programme(path, demo=False)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    at = app()
    assert not at.exception
    assert "Sign-in is not configured" in texts(at) and "[auth]" in texts(at)
    assert not at.sidebar.selectbox and "Demo programme" not in texts(at)


COOKIE_SECRET = "jPJNpWEfbAWJlLcQfKnj-HtcC1Ncq-xe-hzn5CRYfJkyLeGODljHuuUU_AYdzn2b"  # random, as a real one must be
AUTH = {"client_id": "x", "client_secret": "y", "redirect_uri": "http://localhost/oauth2callback",
        "cookie_secret": COOKIE_SECRET, "server_metadata_url": "https://id.example/.well-known"}  # fmt: skip


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("hanne@stolav.no", "My work"),
        ("HANNE@stolav.no", "My work"),
        ("stranger@example.org", "not in this programme's directory"),
    ],
)
def test_single_sign_on_maps_the_email_to_the_directory(demo_db, email, sees):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, "email_verified": True}
    at.run()
    assert not at.exception
    assert sees in texts(at)
    assert not at.sidebar.selectbox  # no demo sign-in when single sign-on is configured


def test_single_sign_on_offers_to_sign_in(demo_db):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Choose who you are" not in texts(at) and not at.dataframe


@pytest.mark.parametrize(
    ("auth", "provider"),
    [
        (AUTH, None),
        ({"redirect_uri": "http://localhost/oauth2callback", "cookie_secret": COOKIE_SECRET,
          "microsoft": {"client_id": "x", "client_secret": "y",
                        "server_metadata_url": "https://id.example/.well-known"}}, "microsoft"),
    ],
)  # fmt: skip
def test_sign_in_asks_the_configured_provider(demo_db, monkeypatch, auth, provider):
    asked = []
    monkeypatch.setattr(st, "login", asked.append)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = auth
    at.user = {"is_logged_in": False}
    at.run()
    button(at, "Sign in").click().run()
    assert not at.exception and asked == [provider]


# First start ---------------------------------------------------------------------------------


def small_demo(conn, progress=None) -> str:
    progress(0.5, "halfway")
    build_small_programme(conn)
    store.put_setting(conn, "demo", True)
    return "small"


def test_first_start_builds_the_demo_programme(tmp_path, monkeypatch):
    from decisions import demo

    path = tmp_path / "new" / "decisions.db"
    monkeypatch.setenv("DECISIONS_DB", str(path))
    monkeypatch.setattr(demo, "build_demo", small_demo)
    at = app()
    assert not at.exception
    assert path.exists() and "Demo programme" in texts(at)
    assert sorted(p.name for p in path.parent.iterdir()) == ["decisions.db"]


def test_two_sessions_starting_at_once_build_the_demo_once(tmp_path):
    path = tmp_path / "decisions.db"
    builds = []
    start = threading.Barrier(4)

    def build(conn):
        builds.append(threading.get_ident())
        build_small_programme(conn)

    def session():
        start.wait()
        ui.build_demo_once(path, build)

    threads = [threading.Thread(target=session) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(builds) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.db"]
    conn = store.connect(path)
    assert decision_store.load_actor(conn, "hanne@stolav.no") is not None


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    path = tmp_path / "decisions.db"
    (tmp_path / "decisions.db.building").write_text(gone)
    ui.build_demo_once(path, build_small_programme)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.db"]


def test_a_failed_build_leaves_no_database_and_no_lock(tmp_path):
    path = tmp_path / "decisions.db"

    def broken(conn):
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError):
        ui.build_demo_once(path, broken)
    assert list(tmp_path.iterdir()) == []


# Every page ------------------------------------------------------------------------------------

PAGES = ["pages/overview.py", "pages/decisions_register.py", "pages/my_work.py",
         "pages/new_decision.py", "pages/decision.py"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    "email", ["hanne@stolav.no", "ana@hemit.no", "mona@hemit.no", "vera@hemit.no"]
)
def test_every_core_page_runs_for_every_role(keys, page, email):
    at = signed_in(email, page, key=keys["demonstrated"])
    assert not at.exception
    assert at.title


def test_overview_shows_go_lives_pipeline_and_attention(keys):
    at = signed_in("mona@hemit.no")
    assert [m.label for m in at.metric] == ["Wave 1"]
    assert at.metric[0].value == "58 days"  # 2022-09-15 to 2022-11-12
    assert ":red-badge[NO GO]" in texts(at) and "of 12 go-live criteria met or waived" in texts(at)
    shown = texts(at)
    assert "Overdue (1)" in shown  # the proposal needed by 2022-09-01
    overdue = at.dataframe[0].value
    assert list(overdue["key"]) == [keys["proposed"]]
    assert len(at.get("vega_lite_chart")) == 2


def test_overview_lists_escalations_and_suspect_evidence(keys, db):
    mona = decision_store.load_actor(db, "mona@hemit.no")
    services.escalate(db, mona, keys["proposed"], to_forum="FBG", reason="affects both sides")
    store.put_setting(db, "clock", "2022-09-16")
    services.revise(db, mona, keys["tested"], decision_text="Three nurses sign.", reason="audit")
    at = signed_in("mona@hemit.no")
    shown = texts(at)
    assert "Escalated (1)" in shown and "Suspect evidence (1)" in shown
    tables = {tuple(d.value.columns)[:2]: d.value for d in at.dataframe}
    assert any(keys["tested"] in list(t["key"]) for t in tables.values())


# The register ----------------------------------------------------------------------------------


def test_register_lists_all_then_searches_and_filters(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    assert len(at.dataframe[0].value) == len(STAGES_TO_MAKE)
    assert f"**{len(STAGES_TO_MAKE)}** decisions found" in texts(at)
    at.text_input(key="register_text").input("ØKT withdrawn").run()
    assert list(at.dataframe[0].value["key"]) == [keys["withdrawn"]]
    at.text_input(key="register_text").input("").run()
    at.multiselect(key="register_stages").set_value(["proposed", "decided"]).run()
    assert sorted(at.dataframe[0].value["key"]) == sorted([keys["proposed"], keys["decided"]])
    at.multiselect(key="register_waves").set_value(["W1"]).run()
    assert len(at.dataframe[0].value) == 2  # the decisions are for STO, which is in W1


def test_the_register_offers_its_list_for_download_as_the_grid_does_not(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    assert [b.label for b in at.get("download_button")] == ["Download the list (CSV)"]


def test_register_query_with_syntax_characters_does_not_fail(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    at.text_input(key="register_text").input('"unbalanced (AND * -NOT: ^').run()
    assert not at.exception
    assert not at.dataframe and "No decision matches." in texts(at)


def test_an_empty_result_says_what_to_try(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    at.text_input(key="register_text").input("zyxwvu").run()
    assert not at.dataframe
    assert "Try fewer words or the start of a word" in texts(at)
    at.multiselect(key="register_stages").set_value(["proposed"]).run()
    assert "fewer filters" in texts(at)


def test_a_single_hit_says_one_decision(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    at.text_input(key="register_text").input("ØKT withdrawn").run()
    assert len(at.dataframe[0].value) == 1
    assert "**1** decision found" in texts(at)  # its height: tests/e2e/test_search_page.py


def test_an_organisation_is_found_by_name_without_its_norwegian_letters(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    at.text_input(key="register_text").input("trondheim").run()
    assert "Organisation: **Trondheim kommune** (TRD)" in texts(at)


def test_the_register_search_takes_a_limited_text_and_says_which_words_it_searched(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    box = at.text_input(key="register_text")
    assert box.max_chars == screen_queries.MAX_SEARCH_CHARS
    box.input("økt " + " ".join(f"w{n}" for n in range(40))).run()
    assert "Searching for the first 10 words: økt w0 w1" in texts(at)


def test_selecting_a_row_in_the_register_opens_the_decision(keys):
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    first = at.dataframe[0].value["key"].iloc[0]
    at.session_state["register_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert as_read(at.title[0].value).startswith(first)


# The decision page ---------------------------------------------------------------------------------


def test_decision_page_by_deep_link_shows_fields_evidence_and_timeline(keys):
    key = keys["tested"]
    at = signed_in("vera@hemit.no", "pages/decision.py", key=key)
    assert as_read(at.title[0].value).startswith(f"{key} · Infusjon økt tested")
    shown = texts(at)
    assert "As decided." in shown and "Approval rule: rule met: 2 of 2 approvers" in shown
    timeline = at.dataframe[-1].value
    assert timeline["What"].iloc[-1] == "created as Proposed"
    assert "Approved → Tested" in list(timeline["What"])
    assert "When" in timeline and "T" not in timeline["When"].iloc[0]  # a date, not ISO
    assert "Nothing is yours to do" in shown  # a viewer takes no action


def test_unknown_key_says_so(keys):
    at = signed_in("vera@hemit.no", "pages/decision.py", key="NOPE-0001")
    assert "There is no decision NOPE-0001." in texts(at)


def test_suspect_evidence_is_labelled_with_the_reason(keys, db):
    key = keys["tested"]
    mona = decision_store.load_actor(db, "mona@hemit.no")
    store.put_setting(db, "clock", "2022-09-16")  # the revision comes a day after the evidence
    services.revise(db, mona, key, decision_text="Three nurses sign.", reason="audit finding")
    at = signed_in("vera@hemit.no", "pages/decision.py", key=key)
    version_start = date_text(decision_store.get_decision(db, key)["version_started_at"])
    demos = at.dataframe[0].value
    assert list(demos["Status"]) == [
        f"✗ suspect: dated before version 2 started on {version_start}"
    ]
    assert "note" not in demos
    assert "1 of 1 do not count now" in texts(at)
    verdicts = at.dataframe[1].value
    assert all(
        status.startswith("✗ suspect: dated before version 2") for status in verdicts["Status"]
    )


def test_evidence_that_counts_says_so(keys):
    at = signed_in("vera@hemit.no", "pages/decision.py", key=keys["tested"])
    demos, verdicts, runs = (table.value for table in at.dataframe[:3])
    assert set(demos["Status"]) == set(verdicts["Status"]) == {"✓ counts"}
    assert set(runs["Status"]) == {"✓ counts toward tested"}  # a pass; a failure only "ran"
    assert "do not count now" not in texts(at)


def test_a_manual_transition_through_the_form_changes_the_stage_and_the_timeline(keys, db):
    key = keys["decided"]
    at = signed_in("ana@hemit.no", "pages/decision.py", key=key)
    events_before = len(at.dataframe[-1].value)
    button(at, "Start the build").click().run()
    assert not at.exception
    assert stage(db, key) == "in_build"
    assert f"Start the build: done; {key} is now in build." in texts(at)
    timeline = at.dataframe[-1].value
    assert len(timeline) == events_before + 1
    assert timeline["What"].iloc[0] == "Decided → In build"
    assert [b.label for b in at.button if b.label == "Mark as built"]  # the next action is offered


def test_a_stale_form_is_refused(keys, db):
    key = keys["decided"]
    at = signed_in("ana@hemit.no", "pages/decision.py", key=key)
    mona = decision_store.load_actor(db, "mona@hemit.no")
    services.edit_decision(db, mona, key, {"title": "Changed meanwhile"})
    button(at, "Start the build").click().run()
    assert not at.exception
    assert "changed by someone else" in texts(at)
    assert stage(db, key) == "decided"
    button(at, "Start the build").click().run()  # the page now shows the current record
    assert stage(db, key) == "in_build"


def test_the_forum_decides_through_the_form(keys, db):
    key = keys["proposed"]
    at = signed_in("hanne@stolav.no", "pages/decision.py", key=key)
    decision_box = next(t for t in at.text_area if t.label == "Decision")
    decision_box.input("Two nurses sign for every high-risk infusion.")
    button(at, "Record the decision").click().run()
    assert not at.exception
    record = decision_store.get_decision(db, key)
    assert record["stage"] == "decided" and record["decided_by"] == ["hanne@stolav.no"]


def test_an_empty_decision_text_is_refused_with_the_reason(keys, db):
    key = keys["proposed"]
    at = signed_in("hanne@stolav.no", "pages/decision.py", key=key)
    button(at, "Record the decision").click().run()
    assert "decision is required" in texts(at)
    assert stage(db, key) == "proposed"


def test_an_expert_gives_a_verdict_through_the_form(keys, db):
    key = keys["demonstrated"]
    at = signed_in("per@stolav.no", "pages/decision.py", key=key)
    at.radio[0].set_value("approve")
    button(at, "Give verdict").click().run()
    assert not at.exception
    assert stage(db, key) == "demonstrated"  # one of the two approvers
    assert "Your verdict is recorded; the decision is demonstrated." in texts(at)
    assert at.dataframe[-1].value["What"].iloc[0] == "Approved"


def test_a_verdict_awaiting_the_expert_comes_first_with_no_choice_made(keys, db):
    """A comment written with the form as it opened must not approve by mistake."""
    key = keys["demonstrated"]
    at = signed_in("per@stolav.no", "pages/decision.py", key=key)
    assert at.subheader[0].value == "Your verdict awaits"  # above the record, not at the end
    assert at.radio[0].value is None
    at.text_area[0].input("Looks fine to me, but the dose field is unclear")
    button(at, "Give verdict").click().run()
    assert "Choose Approve or Request changes" in texts(at)
    assert stage(db, key) == "demonstrated"
    assert evidence_store.approvals_of_decision(db, key) == []


def test_user_text_is_shown_as_typed_not_as_markup(demo_db, db):
    hanne = decision_store.load_actor(db, "hanne@stolav.no")
    key = services.create_decision(db, hanne, {
        "title": "**bold** :red[alarm] <b>x</b> [link](http://evil)", "domain": "MED",
        "module": "MED-ADM", "forum": "MED-H", "scope": "hospital", "organizations": ["STO"],
        "question": "# heading\n:material/warning: $x$"})  # fmt: skip
    at = signed_in("hanne@stolav.no", "pages/decision.py", key=key)
    title = at.title[0].value
    assert "\\*\\*bold\\*\\*" in title and "\\:red\\[alarm\\]" in title and "\\<b\\>" in title
    question = next(m.value for m in at.markdown if "heading" in m.value)
    assert "\\# heading" in question and "\\$x\\$" in question


# My work and new decision ----------------------------------------------------------------------


def test_my_work_shows_what_awaits_the_person(keys):
    at = signed_in("per@stolav.no", "pages/my_work.py")
    labels = [t.label for t in at.tabs]
    tables = [t for t in every_tab_table(at) if t is not None]
    assert labels[:2] == ["Awaiting your verdict (1)", "Awaiting your forum (1)"]  # verdicts first
    assert list(tables[0]["key"]) == [keys["demonstrated"]]
    assert list(tables[1]["key"]) == [keys["proposed"]]
    owned = tables[-1]
    assert keys["proposed"] in list(owned["key"]) and keys["withdrawn"] not in list(owned["key"])


def test_my_work_shows_builds_to_an_analyst(keys):
    at = signed_in("ana@hemit.no", "pages/my_work.py")
    assert at.tabs[0].label == "To build (2)"
    assert sorted(at.dataframe[0].value["key"]) == sorted([keys["decided"], keys["in_build"]])


def test_new_decision_is_proposed_and_linked(keys, db):
    at = signed_in("hanne@stolav.no", "pages/new_decision.py")
    next(t for t in at.text_input if t.label == "Title").input("Barcode scanning at the bedside")
    next(m for m in at.multiselect if m.label == "Organisations").set_value(["STO"])
    button(at, "Propose").click().run()
    assert not at.exception
    new_key = at.session_state["_new_decision"]
    record = decision_store.get_decision(db, new_key)
    assert record["title"] == "Barcode scanning at the bedside" and record["stage"] == "proposed"
    assert f"Decision {new_key} is proposed" in texts(at)
    assert at.page_link[0].label == f"Open {ui.md(new_key)}"


def test_a_saved_proposal_clears_the_form_and_a_late_second_click_finds_no_button(keys, db):
    at = signed_in("hanne@stolav.no", "pages/new_decision.py")
    next(t for t in at.text_input if t.label == "Title").input("Barcode scanning at the bedside")
    next(m for m in at.multiselect if m.label == "Organisations").set_value(["STO"])
    before = decision_store.count_decisions(db)
    submit = button(at, "Propose")
    submit.click().run()
    assert decision_store.count_decisions(db) == before + 1
    assert next(t for t in at.text_input if t.label == "Title").value == ""
    # A second click that reaches the server after the save names the old button, which no
    # longer exists: the form now has new widgets.
    assert button(at, "Propose").id != submit.id
    assert not at.exception


def test_new_decision_refusal_names_the_field(keys, db):
    at = signed_in("hanne@stolav.no", "pages/new_decision.py")
    before = decision_store.count_decisions(db)
    button(at, "Propose").click().run()
    assert "title is required" in texts(at)
    assert decision_store.count_decisions(db) == before


def test_a_viewer_cannot_propose(keys):
    at = signed_in("vera@hemit.no", "pages/new_decision.py")
    assert "needs the role" in texts(at)
    assert not [b for b in at.button if b.label == "Propose"]


def test_a_proposal_is_escalated_through_the_form(keys, db):
    key = keys["proposed"]
    at = signed_in("hanne@stolav.no", "pages/decision.py", key=key)
    box = at.expander[[x.label for x in at.expander].index("Escalate to a higher forum")]
    box.selectbox[0].set_value("FBG")
    box.text_area[0].input("Affects the municipalities too")
    button(at, "Escalate").click().run()
    assert not at.exception
    assert decision_store.get_decision(db, key)["forum"] == "FBG"
    assert at.dataframe[-1].value["What"].iloc[0] == (
        "escalated from Medication hospital group to Joint decision group"
    )


def test_a_revision_through_the_form_makes_a_new_version(keys, db):
    key = keys["tested"]
    at = signed_in("mona@hemit.no", "pages/decision.py", key=key)
    box = at.expander[[x.label for x in at.expander].index("Revise the decision text")]
    box.text_area[0].input("Three nurses sign.")
    box.text_area[2].input("Audit finding")
    button(at, "Make a new version").click().run()
    assert not at.exception
    record = decision_store.get_decision(db, key)
    assert (record["version"], record["stage"]) == (2, "decided")
    assert "A new version is made." in texts(at)


def test_details_are_edited_through_the_form(keys, db):
    key = keys["decided"]
    at = signed_in("mona@hemit.no", "pages/decision.py", key=key)
    box = at.expander[[x.label for x in at.expander].index("Edit details")]
    box.text_input[0].input("Clearer title")
    box.selectbox[2].set_value("critical")
    button(at, "Save details").click().run()
    assert not at.exception
    record = decision_store.get_decision(db, key)
    assert (record["title"], record["criticality"]) == ("Clearer title", "critical")
    assert as_read(at.title[0].value).endswith("Clearer title")


def test_the_register_in_bokmal_finds_a_word_typed_without_its_norwegian_letter(keys, monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    at = signed_in("mona@hemit.no", "pages/decisions_register.py")
    assert at.title[0].value == "Beslutninger"
    at.text_input(key="register_text").input("OKT withdrawn").run()  # økt typed without ø
    assert list(at.dataframe[0].value["key"]) == [keys["withdrawn"]]
    assert "**1** beslutning funnet" in texts(at)
    at.text_input(key="register_text").input("zyxwvu").run()
    assert "Ingen beslutninger passer." in texts(at)
