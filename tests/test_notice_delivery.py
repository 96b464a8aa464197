"""Notices delivered whatever the data and whatever the faults: each notice on its own (one that
cannot be built or sent is kept with its reason, the others go), exactly once (two `notify`
processes at once, a crash between sending and marking), mail as real servers and clients expect
it (7-bit, List-Unsubscribe, lang, links), and `check` over the notices and the app's address.
A real SMTP server (aiosmtpd) takes the mail; the command runs as real processes where it
matters."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from streamlit.testing.v1 import AppTest

from decisions import evidence, notices, services, settings, store
from decisions import notice_texts as texts
from decisions.store import decisions as decision_store
from decisions.store import notices as notice_store
from tests.test_notices import BASE, Sink, free_port, notify, parts, read_calendar, schedule

PAGES = Path(__file__).resolve().parent.parent / "pages"


@pytest.fixture
def smtp():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.config = notices.SmtpConfig("127.0.0.1", controller.port, tls="none", timeout=5,
                                     sender="Decisions <decisions@example.org>")  # fmt: skip
    yield sink
    controller.stop()


@pytest.fixture
def linked(programme):
    with store.transaction(programme):
        settings.put(programme, settings.BASE_URL, BASE)
    return programme


def sent_subjects(sink) -> list[str]:
    return [m["Subject"] for m in sink.messages()]


# Each notice on its own ------------------------------------------------------------------------


def test_a_proposal_without_a_needed_by_date_is_listed_in_the_digest(linked, smtp, decision_at):
    decision_at("proposed", needed_by="2022-10-03")
    key = decision_at("proposed", needed_by=None)
    code, out, err = notify(linked, smtp.config)
    assert code == 0, (out, err)
    (digest,) = [m for m in smtp.messages("hanne@stolav.no") if "digest" in m["Subject"]]
    assert f"- {key} Double-check of high-risk infusions (MED-H)" in parts(digest)["text/plain"]


def test_a_title_with_a_line_break_makes_a_one_line_subject_and_every_notice_goes(
    linked, smtp, decision_at
):
    key = decision_at(
        "proposed",
        needed_by="2022-09-01",
        title="Infusion pumps\r\nsecond line",
        owner="ana@hemit.no",
    )
    code, out, err = notify(linked, smtp.config)
    assert code == 0, (out, err)
    told = [m for m in smtp.messages() if m["Subject"].startswith("Past its needed-by date")]
    assert len(told) == 4
    assert {m["Subject"] for m in told} == {
        f"Past its needed-by date: {key} Infusion pumps second line"
    }
    assert notice_store.count_unsent(linked) == 0


def test_a_recorded_subject_with_a_line_break_is_sent_on_one_line(linked, smtp, decision_at):
    decision_at("proposed", needed_by="2022-09-01")
    recorded = notices.plan(linked)
    first = notice_store.pending(linked, "9999")[0]
    linked.execute("UPDATE notices SET subject = 'Two\nlines' WHERE id = ?", (first["id"],))
    linked.commit()
    report = notices.send_pending(linked, smtp.config, "9999")
    assert report.sent == len(recorded) == len(smtp.envelopes)
    assert "Two lines" in sent_subjects(smtp)


def test_a_notice_that_cannot_be_built_is_kept_with_its_reason_and_the_others_go(
    linked, smtp, decision_at, actor, monkeypatch
):
    key = decision_at("demonstrated", owner="kari@stolav.no")
    evidence.record_verdict(linked, actor("per@stolav.no"), key, "changes_requested",
                            comment="Please")  # fmt: skip
    built = texts.changes_requested

    def fails_for_kari(name, **values):
        if name == "Kari":
            raise ValueError("no template for this")
        return built(name, **values)

    monkeypatch.setattr(texts, "changes_requested", fails_for_kari)
    code, out, err = notify(linked, smtp.config)
    assert code == 1
    assert "kari@stolav.no" in out and "ValueError: no template for this" in out
    assert [m for m in smtp.messages("ana@hemit.no") if "Changes" in m["Subject"]]
    (held,) = notices.kept_back(linked)
    assert held["person"] == "kari@stolav.no" and held["kind"] == "changes_requested"
    assert "ValueError: no template for this" in held["held"]
    assert not [m for m in smtp.messages("kari@stolav.no") if "Changes" in m["Subject"]]
    code, out, _ = notify(linked, smtp.config)  # listed again, never sent blank
    assert "ValueError: no template for this" in out
    assert not [m for m in smtp.messages("kari@stolav.no") if "Changes" in m["Subject"]]


def test_a_manager_sees_the_notices_kept_back_with_their_reason(
    linked, smtp, decision_at, actor, monkeypatch, db_path
):
    key = decision_at("demonstrated", owner="kari@stolav.no")
    evidence.record_verdict(linked, actor("per@stolav.no"), key, "changes_requested",
                            comment="Please")  # fmt: skip
    monkeypatch.setattr(texts, "changes_requested", lambda *a, **k: 1 / 0)
    notify(linked, smtp.config)
    at = open_notices_page(linked, db_path, "mona@hemit.no")
    (kept,) = [frame.value for frame in at.dataframe]
    assert set(kept["To"]) == {"kari@stolav.no", "ana@hemit.no"}
    assert all("ZeroDivisionError: division by zero" in why for why in kept["Why"])


def open_notices_page(conn, db_path, email: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / "notices.py"), default_timeout=60)
    at.session_state["_conn"] = store.connect(db_path)
    at.session_state["_actor"] = decision_store.load_actor(conn, email)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# Exactly once ----------------------------------------------------------------------------------


class SlowSink(Sink):
    """Takes a little while over each message, as a real server does, so that two runs
    overlap."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)


def many_overdue(conn, decision_at, count: int) -> None:
    for number in range(count):
        decision_at("proposed", needed_by="2022-09-01", title=f"Overdue proposal {number}")


def test_two_notify_processes_at_once_send_each_notice_once(linked, decision_at, db_path):
    many_overdue(linked, decision_at, 10)
    sink = SlowSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    environ = os.environ | {"DECISIONS_SMTP_URL": f"smtp://127.0.0.1:{controller.port}",
                            "DECISIONS_SMTP_SENDER": "decisions@example.org"}  # fmt: skip
    try:
        runs = [
            subprocess.Popen([sys.executable, "-m", "decisions", "notify", "--db", str(db_path)],
                             env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]  # fmt: skip
        results = [run.communicate(timeout=120) for run in runs]
    finally:
        controller.stop()
    assert [run.returncode for run in runs] == [0, 0], results
    ids = [m["Message-ID"] for m in sink.messages()]
    recorded = linked.execute("SELECT count(*) FROM notices").fetchone()[0]
    assert recorded >= 30
    assert len(ids) == len(set(ids)) == recorded


def test_a_run_that_dies_between_sending_and_marking_never_sends_that_notice_again(
    linked, smtp, decision_at, monkeypatch
):
    decision_at("proposed", needed_by="2022-09-01")
    recorded = notices.plan(linked)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt  # the process is stopped after the server took the message

    with monkeypatch.context() as patched:
        patched.setattr(notice_store, "mark_sent", dies)
        with pytest.raises(KeyboardInterrupt):
            notices.send_pending(linked, smtp.config, "9999")
    assert len(smtp.envelopes) == 1
    an_hour_later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
    monkeypatch.setattr(notices, "_wall_clock", an_hour_later.isoformat, raising=False)
    code, out, _ = notify(linked, smtp.config)
    ids = [m["Message-ID"] for m in smtp.messages()]
    assert len(ids) == len(set(ids)) == len(recorded)
    assert code == 1 and "may have been sent" in out
    code, out, _ = notify(linked, smtp.config)  # listed each run; no new reason to fail
    assert code == 0 and "may have been sent" in out
    assert len(smtp.envelopes) == len(recorded)


def test_a_notice_kept_back_after_a_lapsed_claim_is_sent_again_on_request(
    linked, smtp, decision_at, db_path
):
    decision_at("proposed", needed_by="2022-09-01")
    notices.plan(linked)
    first = notice_store.pending(linked, "9999")[0]
    with store.transaction(linked):  # a run claimed it long ago and died before sending
        notice_store.claim(linked, first["id"], "a run that died", "9999", "2022-09-01T07:00:00")
    assert notices.hold_lapsed_claims(linked) == 1
    environ = os.environ | {"DECISIONS_SMTP_URL": f"smtp://127.0.0.1:{smtp.config.port}"}
    again = subprocess.run(
        [sys.executable, "-m", "decisions", "notify", "--db", str(db_path), "--resend",
         str(first["id"])], env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert notices.kept_back(linked) == []
    assert [m["Message-ID"] for m in smtp.messages()].count(
        notices.email_message(first, "x")["Message-ID"]
    ) == 1
    assert services.check(linked) == []
    refused = subprocess.run(
        [sys.executable, "-m", "decisions", "notify", "--db", str(db_path), "--resend",
         str(first["id"])], env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1 and "not a notice kept back" in refused.stderr


# Mail as servers and clients expect it -----------------------------------------------------------


def test_every_message_is_7_bit_so_any_server_takes_it(linked, smtp, decision_at, actor):
    key = decision_at("built")
    schedule(linked, actor, key, place="Møterom Ærlig, Østre fløy", presenter="ana@hemit.no")
    notify(linked, smtp.config)
    assert smtp.envelopes
    for envelope in smtp.envelopes:
        assert envelope.content.isascii()
        assert max(len(line) for line in envelope.content.splitlines()) <= 998
    (invitation,) = [m for m in smtp.messages("per@stolav.no") if "Invitation" in m["Subject"]]
    entry = read_calendar(parts(invitation)["text/calendar"])
    assert entry.vevent.location.value == "Møterom Ærlig, Østre fløy"


def test_a_digest_says_how_to_unsubscribe_and_that_it_is_bulk(linked, smtp, decision_at):
    decision_at("demonstrated")
    notify(linked, smtp.config)
    (digest,) = [m for m in smtp.messages("hanne@stolav.no") if "digest" in m["Subject"]]
    assert digest["List-Unsubscribe"] == f"<{BASE}/notices>"
    assert digest["Precedence"] == "bulk"


def test_the_html_says_its_language(linked, smtp, decision_at):
    decision_at("demonstrated")
    with store.transaction(linked):
        linked.execute("INSERT INTO person_languages VALUES ('per@stolav.no', 'nb')")
    notify(linked, smtp.config)
    html = {m["To"].addresses[0].addr_spec: parts(m)["text/html"] for m in smtp.messages()}
    assert '<html lang="en">' in html["hanne@stolav.no"]
    assert '<html lang="nb">' in html["per@stolav.no"]


def test_the_meeting_link_is_a_link_and_only_a_web_one(linked, smtp, decision_at, actor):
    key = decision_at("built")
    schedule(linked, actor, key, meeting_url="https://meet.example.org/d1?a=1&b=2")
    notify(linked, smtp.config)
    (invitation,) = [m for m in smtp.messages("per@stolav.no") if "Invitation" in m["Subject"]]
    assert '<a href="https://meet.example.org/d1?a=1&amp;b=2">' in parts(invitation)["text/html"]
    letter = texts.demo_invitation(
        "Per", kind="demo_invitation", key="DEMO-9", module="M", module_name="M", day="2022-09-22",
        start="10:00", minutes=60, place="", meeting_url="javascript:alert(1)", presenter="Ana",
        decisions=[], link=f"{BASE}/demos",
    )  # fmt: skip
    assert "javascript:alert(1)" in letter.html and 'href="javascript' not in letter.html


def test_notify_warns_while_the_apps_address_is_not_set(programme, smtp, decision_at, db_path):
    decision_at("demonstrated")
    code, out, err = notify(programme, smtp.config)
    assert "app.base_url is not set" in err
    at = open_notices_page(programme, db_path, "mona@hemit.no")
    assert any("app.base_url" in w.value for w in at.warning)
    with store.transaction(programme):
        settings.put(programme, settings.BASE_URL, BASE)
    assert "app.base_url" not in notify(programme, smtp.config)[2]


# check covers the notices and the app's address ------------------------------------------------


def test_check_finds_a_pending_notice_sent_elsewhere_with_new_html(linked, decision_at):
    decision_at("demonstrated")
    notices.plan(linked)
    assert services.check(linked) == []
    waiting = notice_store.pending(linked, "9999")[0]
    (elsewhere,) = linked.execute(
        "SELECT email FROM experts WHERE email NOT IN (SELECT person FROM notices) LIMIT 1"
    ).fetchone()
    linked.execute(
        "UPDATE notices SET person = ?, body_html = '<a href=\"https://evil\">x</a>' WHERE id = ?",
        (elsewhere, waiting["id"]),
    )
    linked.commit()
    findings = services.check(linked)
    assert any(f"notices id {waiting['id']} differs" in f for f in findings), findings


def test_sending_a_notice_keeps_check_clean(linked, smtp, decision_at):
    decision_at("demonstrated")
    notify(linked, smtp.config)
    assert services.check(linked) == []


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://x.example.org/a b", ""])
def test_check_finds_an_apps_address_that_is_not_a_web_address(programme, url):
    with store.transaction(programme):
        settings.put(programme, settings.BASE_URL, url)
    assert any("app.base_url" in f for f in services.check(programme))


def test_check_warns_while_the_apps_address_is_not_set_and_notices_link_to_it(
    programme, decision_at
):
    assert not any("app.base_url" in w for w in services.check_warnings(programme))
    decision_at("demonstrated")
    notices.plan(programme)
    assert any("app.base_url" in w for w in services.check_warnings(programme))
    assert not any("app.base_url" in f for f in services.check(programme))
    with store.transaction(programme):
        settings.put(programme, settings.BASE_URL, BASE)
    assert not any("app.base_url" in w for w in services.check_warnings(programme))
