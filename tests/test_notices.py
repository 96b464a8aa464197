"""Notices by email, through a real SMTP server started here (aiosmtpd): digests, demo
invitations with their calendar entries (read back with vobject, not the writing code), event
notices, preferences, idempotent runs, refusals and time-outs."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import socket
from pathlib import Path

import pytest
import vobject
from aiosmtpd.controller import Controller
from streamlit.testing.v1 import AppTest

from decisions import cli, evidence, notices, services, settings, store
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import notices as notice_store

BASE = "https://decisions.example.org"
OSLO_TEN_UTC = dt.datetime(2022, 9, 22, 8, 0, tzinfo=dt.UTC)  # 10:00 CEST


class Sink:
    """An SMTP server's handler that keeps what it received; refuses the addresses in
    `refuse` with 550."""

    def __init__(self):
        self.envelopes = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        found = [
            email.message_from_bytes(e.content, policy=email.policy.default)
            for e in self.envelopes
            if to is None or to in e.rcpt_tos
        ]
        return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
def programme_with_links(programme):
    with services.store.transaction(programme):
        settings.put(programme, settings.BASE_URL, BASE)
    return programme


def notify(conn, config, *, as_of=None, dry_run=False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = notices.run(conn, config, as_of=as_of, dry_run=dry_run, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def parts(message) -> dict[str, str]:
    """Each leaf part's content by type (text with its line ends as LF)."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            content = part.get_content()
            kind = part.get_content_type()
            found[kind] = content.replace("\r\n", "\n") if kind in TEXTS else content
    return found


TEXTS = ("text/plain", "text/html")


def schedule(conn, actor, decision, **extra) -> str:
    fields = dict(module="MED-ADM", date="2022-09-22", decisions=[decision],
                  presenter="ana@hemit.no", invitees=["hanne@stolav.no", "per@stolav.no"],
                  held=False, start_time="10:00", duration_min=90,
                  place="Kunnskapssenteret, rom 3", meeting_url="https://meet.example.org/d1")  # fmt: skip
    return evidence.save_demo(conn, actor("ana@hemit.no"), **(fields | extra))


def read_calendar(text: str):
    """The calendar as an independent RFC 5545 parser (vobject) reads it."""
    return vobject.readOne(text)


# Digests -----------------------------------------------------------------------------------


def test_a_digest_lists_verdicts_due_with_their_demo_as_deep_links_in_both_parts(
    programme_with_links, smtp, decision_at
):
    key = decision_at("demonstrated")
    code, out, _ = notify(programme_with_links, smtp.config)
    assert code == 0, out
    (digest,) = [m for m in smtp.messages("hanne@stolav.no") if "digest" in m["Subject"]]
    assert digest["To"] == "Hanne <hanne@stolav.no>"
    assert digest["From"] == "Decisions <decisions@example.org>"
    body = parts(digest)
    assert set(body) == {"text/plain", "text/html"}
    link = f"{BASE}/decision?key={key}"
    assert "Verdicts due from you (1)" in body["text/plain"]
    assert f"- {key} Double-check of high-risk infusions (shown in DEMO-0001 on 15 Sep 2022)" \
        in body["text/plain"]  # fmt: skip
    assert f"  {link}\n" in body["text/plain"]
    assert f'<a href="{link}">{key} Double-check of high-risk infusions</a>' in body["text/html"]
    assert f"All your work: {BASE}/my_work" in body["text/plain"]


def test_nobody_gets_an_empty_digest_and_a_viewer_gets_none(programme_with_links, smtp):
    notify(programme_with_links, smtp.config)
    assert not [m for m in smtp.messages() if "digest" in m["Subject"]]


def test_user_text_never_becomes_markup(programme_with_links, smtp, decision_at):
    decision_at("demonstrated", title='<b>Bold</b> & <a href="x">link</a>')
    notify(programme_with_links, smtp.config)
    (digest,) = [m for m in smtp.messages("hanne@stolav.no") if "digest" in m["Subject"]]
    html = parts(digest)["text/html"]
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;a href=&quot;x&quot;&gt;link&lt;/a&gt;" in html
    assert "<b>" not in html and 'href="x"' not in html


# Running the command ---------------------------------------------------------------------------


def test_running_twice_sends_nothing_the_second_time(programme_with_links, smtp, decision_at):
    decision_at("demonstrated")
    first = notify(programme_with_links, smtp.config)
    count = len(smtp.envelopes)
    assert count > 0 and first[0] == 0
    code, out, _ = notify(programme_with_links, smtp.config)
    assert code == 0 and "0 new notices recorded; 0 sent" in out
    assert len(smtp.envelopes) == count


def test_an_interrupted_run_resumes_without_duplicates(programme_with_links, smtp, decision_at):
    decision_at("demonstrated")
    recorded = notices.plan(programme_with_links)  # decided and recorded, then the run died
    assert recorded and not smtp.envelopes
    notify(programme_with_links, smtp.config)
    notify(programme_with_links, smtp.config)
    sent = [(tuple(e.rcpt_tos), e.content.split(b"Subject: ")[1].split(b"\r\n")[0])
            for e in smtp.envelopes]  # fmt: skip
    assert len(sent) == len(set(sent)) == len(recorded)


def test_a_dry_run_prints_what_would_be_sent_and_sends_and_records_nothing(
    programme_with_links, smtp, decision_at
):
    decision_at("demonstrated")
    code, out, _ = notify(programme_with_links, None, dry_run=True)
    assert code == 0
    assert "would send digest to hanne@stolav.no: Weekly digest: 1 item await" in out
    assert "nothing sent or recorded" in out
    assert not smtp.envelopes and notice_store.count_unsent(programme_with_links) == 0


def test_without_a_server_configured_nothing_is_recorded(programme_with_links, decision_at):
    decision_at("demonstrated")
    code, _, err = notify(programme_with_links, None)
    assert code == 1 and "no SMTP server configured" in err
    assert notice_store.recorded_keys(programme_with_links) == set()


def test_a_refused_recipient_is_kept_and_sent_on_a_later_run(
    programme_with_links, smtp, decision_at
):
    decision_at("demonstrated")
    smtp.refuse.add("hanne@stolav.no")
    code, out, _ = notify(programme_with_links, smtp.config)
    assert code == 1 and "not sent, retried next run" in out
    assert not smtp.messages("hanne@stolav.no") and smtp.messages("per@stolav.no")
    (kept,) = [n for n in notice_store.pending(programme_with_links, "9999")
               if n["person"] == "hanne@stolav.no"]  # fmt: skip
    assert kept["attempts"] == 1 and "550" in kept["last_error"] and kept["next_try_at"]
    smtp.refuse.clear()
    notify(programme_with_links, smtp.config)  # before the retry time: not yet
    assert not smtp.messages("hanne@stolav.no")
    later = notices.moment(programme_with_links)[:10] + "T23:59:59"
    report = notices.send_pending(programme_with_links, smtp.config, later)
    assert report.sent == 1 and len(smtp.messages("hanne@stolav.no")) == 1
    again = notices.email_message(kept, smtp.config.sender)  # what a repeat would carry
    assert smtp.messages("hanne@stolav.no")[0]["Message-ID"] == again["Message-ID"]


def test_an_unreachable_server_loses_nothing(programme_with_links, smtp, decision_at):
    decision_at("demonstrated")
    closed = notices.SmtpConfig("127.0.0.1", free_port(), tls="none", timeout=2)
    code, _, err = notify(programme_with_links, closed)
    assert code == 1 and "ConnectionRefusedError" in err
    waiting = notice_store.pending(programme_with_links, "9999")
    assert waiting and all("ConnectionRefused" in n["last_error"] for n in waiting)
    report = notices.send_pending(programme_with_links, smtp.config, "9999")
    assert report.sent == len(waiting) and len(smtp.envelopes) == len(waiting)


def test_a_server_that_times_out_stops_the_run_quickly_and_loses_nothing(
    programme_with_links, smtp, decision_at
):
    decision_at("demonstrated")
    silent = socket.socket()  # accepts connections, never says hello
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        config = notices.SmtpConfig("127.0.0.1", silent.getsockname()[1], tls="none",
                                    timeout=0.5)  # fmt: skip
        started = dt.datetime.now()
        code, _, err = notify(programme_with_links, config)
        assert (dt.datetime.now() - started).total_seconds() < 5
        assert code == 1 and "timed out" in err.lower()
    finally:
        silent.close()
    waiting = notice_store.pending(programme_with_links, "9999")
    assert waiting and notices.send_pending(programme_with_links, smtp.config, "9999").sent == \
        len(waiting)  # fmt: skip


# Demo invitations ------------------------------------------------------------------------------


def test_an_invitation_carries_a_calendar_entry_that_an_independent_parser_accepts(
    programme_with_links, smtp, decision_at, actor
):
    key = decision_at("built")
    demo = schedule(programme_with_links, actor, key)
    notify(programme_with_links, smtp.config)
    (invitation,) = [m for m in smtp.messages("per@stolav.no")
                     if m["Subject"].startswith("Invitation")]  # fmt: skip
    assert invitation["Subject"] == ("Invitation: demo of Medication administration (MED-ADM), "
                                     "Thursday 22 September 2022, 10:00–11:30 (Oslo time)")  # fmt: skip
    body = parts(invitation)
    assert {"text/plain", "text/html", "text/calendar", "application/ics"} <= set(body)
    inline = next(p for p in invitation.walk() if p.get_content_type() == "text/calendar")
    assert inline.get_param("method") == "REQUEST"
    assert "Place: Kunnskapssenteret, rom 3" in body["text/plain"]
    assert f"{BASE}/decision?key={key}" in body["text/plain"]
    cal = read_calendar(body["text/calendar"])
    assert cal.method.value == "REQUEST"
    assert cal.vtimezone.tzid.value == "Europe/Oslo"
    event = cal.vevent
    assert event.uid.value == f"{demo}@demos.decision-tracker"
    assert event.sequence.value == "0"
    assert "DTSTART;TZID=Europe/Oslo:20220922T100000" in body["text/calendar"]
    assert event.dtstart.value.tzinfo is not None  # read with the VTIMEZONE, not floating
    assert event.dtstart.value.astimezone(dt.UTC) == OSLO_TEN_UTC
    assert event.dtend.value - event.dtstart.value == dt.timedelta(minutes=90)
    assert event.location.value == "Kunnskapssenteret, rom 3"
    assert event.url.value == "https://meet.example.org/d1"
    assert event.organizer.value == "mailto:ana@hemit.no"
    assert sorted(a.value for a in event.attendee_list) == ["mailto:hanne@stolav.no",
                                                            "mailto:per@stolav.no"]  # fmt: skip
    assert body["application/ics"].decode() == body["text/calendar"]


def test_a_changed_demo_sends_a_higher_sequence_and_a_cancelled_one_method_cancel(
    programme_with_links, smtp, decision_at, actor
):
    key = decision_at("built")
    demo = schedule(programme_with_links, actor, key)
    notify(programme_with_links, smtp.config)
    version = evidence.evidence_store.get_demo(programme_with_links, demo)["row_version"]
    schedule(programme_with_links, actor, key, key=demo, row_version=version,
             start_time="13:30", invitees=["hanne@stolav.no"])  # fmt: skip
    notify(programme_with_links, smtp.config)
    (change,) = [m for m in smtp.messages("hanne@stolav.no") if m["Subject"].startswith("Changed")]
    event = read_calendar(parts(change)["text/calendar"]).vevent
    assert event.uid.value == f"{demo}@demos.decision-tracker"
    assert int(event.sequence.value) == 1
    assert event.dtstart.value.hour == 13 and event.dtstart.value.minute == 30
    (dropped,) = [m for m in smtp.messages("per@stolav.no")
                  if m["Subject"].startswith("Cancelled")]  # fmt: skip
    assert read_calendar(parts(dropped)["text/calendar"]).method.value == "CANCEL"

    evidence.cancel_demo(programme_with_links, actor("ana@hemit.no"), demo, "moved to a workshop")
    notify(programme_with_links, smtp.config)
    (cancel,) = [m for m in smtp.messages("hanne@stolav.no")
                 if m["Subject"].startswith("Cancelled")]  # fmt: skip
    cal = read_calendar(parts(cancel)["text/calendar"])
    assert cal.method.value == "CANCEL" and cal.vevent.status.value == "CANCELLED"
    assert int(cal.vevent.sequence.value) == 2 and cal.vevent.uid.value == event.uid.value
    before = len(smtp.envelopes)
    notify(programme_with_links, smtp.config)
    assert len(smtp.envelopes) == before


def test_cancelling_a_demo_needs_record_demo_and_a_scheduled_demo(programme, decision_at, actor):
    key = decision_at("built")
    demo = schedule(programme, actor, key)
    with pytest.raises(WorkflowError, match="Recording a demo needs the role"):
        evidence.cancel_demo(programme, actor("hanne@stolav.no"), demo)
    evidence.cancel_demo(programme, actor("ana@hemit.no"), demo)
    with pytest.raises(WorkflowError, match="cancelled already"):
        evidence.cancel_demo(programme, actor("ana@hemit.no"), demo)
    assert programme.execute("SELECT action FROM events WHERE entity = 'demo' "
                             "ORDER BY id DESC").fetchone()[0] == "cancelled"  # fmt: skip


def test_a_demo_time_that_is_not_a_time_is_refused(programme, decision_at, actor):
    key = decision_at("built")
    with pytest.raises(WorkflowError, match="start time: '25:00' is not a time"):
        schedule(programme, actor, key, start_time="25:00")
    with pytest.raises(WorkflowError, match="meeting link must start with https://"):
        schedule(programme, actor, key, meeting_url="javascript:alert(1)")


# Event notices -------------------------------------------------------------------------------


def test_changes_requested_reach_the_owner_and_the_analyst(
    programme_with_links, smtp, decision_at, actor
):
    key = decision_at("demonstrated", owner="kari@stolav.no")
    evidence.record_verdict(programme_with_links, actor("per@stolav.no"), key,
                            "changes_requested", comment="Needs <dose> check")  # fmt: skip
    notify(programme_with_links, smtp.config)
    for person in ("kari@stolav.no", "ana@hemit.no"):
        (notice,) = [m for m in smtp.messages(person)
                     if m["Subject"].startswith("Changes requested")]  # fmt: skip
        assert f"{BASE}/decision?key={key}" in parts(notice)["text/plain"]
        assert "Needs &lt;dose&gt; check" in parts(notice)["text/html"]


def test_a_proposal_past_its_needed_by_date_reaches_its_forum_and_owner(
    programme_with_links, smtp, decision_at
):
    key = decision_at("proposed", needed_by="2022-09-01", owner="ana@hemit.no")
    notify(programme_with_links, smtp.config)
    told = {e.rcpt_tos[0] for e in smtp.envelopes if b"Past its needed-by date" in e.content}
    assert told == {"hanne@stolav.no", "per@stolav.no", "kari@stolav.no", "ana@hemit.no"}
    assert key.encode() in smtp.envelopes[0].content


# Preferences -----------------------------------------------------------------------------------


def test_a_person_chooses_their_own_notices_and_managers_set_the_defaults(
    programme_with_links, smtp, decision_at, actor
):
    key = decision_at("built")
    conn = programme_with_links
    notices.set_preferences(conn, actor("hanne@stolav.no"), "hanne@stolav.no", digest="off",
                            events=["overdue"])  # fmt: skip
    with pytest.raises(WorkflowError, match="Changing the expert directory needs the role"):
        notices.set_preferences(conn, actor("hanne@stolav.no"), "per@stolav.no", digest="off",
                                events=[])  # fmt: skip
    with pytest.raises(WorkflowError, match="digest: 'hourly' is not a choice"):
        notices.set_preferences(conn, actor("per@stolav.no"), "per@stolav.no", digest="hourly",
                                events=[])  # fmt: skip
    with pytest.raises(WorkflowError, match="Changing the expert directory"):
        notices.set_defaults(conn, actor("per@stolav.no"), digest="daily", events=[])
    notices.set_defaults(conn, actor("mona@hemit.no"), digest="daily", events=["demo"])
    assert notices.preferences_of(conn, "per@stolav.no").digest == "daily"
    assert notices.preferences_of(conn, "hanne@stolav.no").events == {"overdue"}
    schedule(conn, actor, key)
    notify(conn, smtp.config)
    assert not smtp.messages("hanne@stolav.no")  # no digest, no demo invitations
    subjects = sorted(m["Subject"] for m in smtp.messages("per@stolav.no"))
    assert [s.split(":")[0] for s in subjects] == ["Daily digest", "Invitation"]


# Configuration and the command line -----------------------------------------------------------


def test_smtp_settings_from_the_environment_or_the_secrets(tmp_path):
    env = {"DECISIONS_SMTP_URL": "smtp://mail.example.org:2525", "DECISIONS_SMTP_USER": "u",
           "DECISIONS_SMTP_PASSWORD": "p", "DECISIONS_SMTP_SENDER": "noreply@example.org"}  # fmt: skip
    config = notices.smtp_config(env, tmp_path / "none.toml")
    assert (config.host, config.port, config.tls, config.user, config.password,
            config.sender) == ("mail.example.org", 2525, "none", "u", "p",
                               "noreply@example.org")  # fmt: skip
    assert notices.smtp_config({"DECISIONS_SMTP_URL": "smtps://m.example.org"}).port == 465
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "smtp.example.org"\nport = 587\nuser = "x"\n'
                       'password = "y"\nsender = "d@example.org"\n')  # fmt: skip
    config = notices.smtp_config({}, secrets)
    assert (config.host, config.port, config.tls) == ("smtp.example.org", 587, "starttls")
    assert notices.smtp_config({}, tmp_path / "missing.toml") is None
    with pytest.raises(WorkflowError, match="expected smtp://host:port"):
        notices.smtp_config({"DECISIONS_SMTP_URL": "http://x"})
    secrets.write_text('[smtp]\nhost = "h"\ntls = "maybe"\n')
    with pytest.raises(WorkflowError, match="tls 'maybe'; expected starttls, ssl, none"):
        notices.smtp_config({}, secrets)


def test_the_notify_command_sends_through_the_server_in_the_environment(
    programme_with_links, db_path, smtp, decision_at, monkeypatch, capsys
):
    decision_at("demonstrated")
    monkeypatch.setenv("DECISIONS_SMTP_URL", f"smtp://127.0.0.1:{smtp.config.port}")
    assert cli.main(["notify", "--db", str(db_path), "--dry-run"]) == 0
    assert "would send digest to hanne@stolav.no" in capsys.readouterr().out
    assert not smtp.envelopes
    assert cli.main(["notify", "--db", str(db_path), "--as-of", "2022-09-16"]) == 0
    assert "sent" in capsys.readouterr().out and smtp.messages("hanne@stolav.no")
    assert cli.main(["notify", "--db", str(db_path), "--as-of", "16.09.2022"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_a_persons_own_invitations_download_as_one_calendar(
    programme_with_links, decision_at, actor
):
    key = decision_at("built")
    demo = schedule(programme_with_links, actor, key)
    other = schedule(programme_with_links, actor, key, invitees=["kari@stolav.no"])
    cal = read_calendar(evidence.my_invitations_ics(programme_with_links, "per@stolav.no"))
    assert cal.method.value == "PUBLISH"
    assert [e.uid.value for e in cal.vevent_list] == [f"{demo}@demos.decision-tracker"]
    assert other not in evidence.my_invitations_ics(programme_with_links, "per@stolav.no")


# The Notices page ------------------------------------------------------------------------------

PAGES = Path(__file__).resolve().parents[1] / "pages"


@pytest.fixture
def page(programme, db_path):
    """page(email, name='notices', tab=None) -> a page in AppTest, run signed in as `email`."""
    opened = []

    def open_page(email: str, name: str = "notices", tab: str | None = None) -> AppTest:
        at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)
        if tab:
            at.session_state[f"{name}_tab"] = tab
        opened.append(store.connect(db_path))
        at.session_state["_conn"] = opened[-1]
        at.session_state["_actor"] = decision_store.load_actor(programme, email)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    yield open_page
    for conn in opened:
        conn.close()


def test_the_page_shows_my_notices_as_sent_and_saves_my_preferences(
    programme_with_links, smtp, decision_at, page
):
    decision_at("demonstrated")
    notify(programme_with_links, smtp.config)
    at = page("hanne@stolav.no")
    assert {"Received", "My preferences"} <= {t.label for t in at.tabs}
    assert "Programme defaults" not in [t.label for t in at.tabs]
    assert any("Digest · Weekly digest: 1 item awaits you" in e.label for e in at.expander)
    assert any("sent " in c.value for c in at.caption)
    at.radio[0].set_value("off")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert notices.preferences_of(programme_with_links, "hanne@stolav.no").digest == "off"


def test_a_manager_sees_anyones_notices_and_sets_the_defaults(programme_with_links, page):
    at = page("mona@hemit.no")
    assert "Programme defaults" in [t.label for t in at.tabs]
    assert at.selectbox(key="notices_person").value == "mona@hemit.no"
    at.selectbox(key="notices_person").set_value("hanne@stolav.no").run()
    assert not at.exception
    at.text_input[0].set_value("https://beslutninger.example.no/")
    next(b for b in at.button if b.label == "Save the address").click()
    at.run()
    assert not at.exception
    assert settings.get(programme_with_links, settings.BASE_URL) == \
        "https://beslutninger.example.no"  # fmt: skip


def test_the_apps_address_is_a_managers_and_must_be_a_web_address(programme, actor):
    with pytest.raises(WorkflowError, match="Changing the expert directory needs"):
        notices.set_base_url(programme, actor("hanne@stolav.no"), "https://x.example.org")
    with pytest.raises(WorkflowError, match="app address: 'x.example.org'; expected https://"):
        notices.set_base_url(programme, actor("mona@hemit.no"), "x.example.org")


def test_the_digests_bulk_queues_are_my_works_queues_for_everyone(programme, decision_at, actor):
    from decisions.store import queues, screen_queries

    for stage in ("demonstrated", "demonstrated", "proposed", "proposed"):
        decision_at(stage)
    key = decision_at("demonstrated")
    evidence.record_verdict(programme, actor("per@stolav.no"), key, "approve")
    everyone = queues.approvals_queues(programme, first=1)
    forums = screen_queries.awaiting_forum_decisions(programme, first=1)
    for who in ("hanne@stolav.no", "per@stolav.no", "ola@trondheim.kommune.no", "lab@stolav.no"):
        mine = queues.approvals_queue(programme, who)["key"].tolist()
        bulk = everyone[everyone["expert"] == who]
        assert bulk["key"].tolist() == mine[:1]
        assert bulk["waiting"].tolist() == ([len(mine)] if mine else [])
        members = screen_queries.awaiting_forum_decision(programme, actor(who))["key"].tolist()
        bulk = forums[forums["member"] == who]
        assert bulk["key"].tolist() == members[:1]
        assert bulk["waiting"].tolist() == ([len(members)] if members else [])
    assert key not in queues.approvals_queue(programme, "per@stolav.no")["key"].tolist()


def test_the_demos_page_schedules_with_a_time_and_place_and_cancels(programme, page, decision_at):
    key = decision_at("built")
    at = page("ana@hemit.no", "demos", "Schedule a demo")
    at.selectbox(key="schedule_module").set_value("MED-ADM").run()
    next(m for m in at.multiselect if m.label == "Decisions it will show").set_value([key])
    at.time_input[0].set_value(dt.time(13, 30))
    at.number_input[0].set_value(45)
    next(t for t in at.text_input if t.label == "Place").set_value("Rom 3")
    next(t for t in at.text_input if t.label == "Meeting link").set_value("https://m.example.org/x")
    next(b for b in at.button if b.label == "Schedule the demo").click()
    at.run()
    assert not at.exception and not at.error
    demo = evidence.evidence_store.get_demo(programme, "DEMO-0001")
    assert (demo["start_time"], demo["duration_min"], demo["place"], demo["meeting_url"]) == \
        ("13:30", 45, "Rom 3", "https://m.example.org/x")  # fmt: skip
    at = page("ana@hemit.no", "demos", "Upcoming")
    assert any(b.label == "Download my invitations (.ics)" for b in at.get("download_button"))
    at.selectbox(key="manage_demo").set_value("DEMO-0001").run()
    next(b for b in at.button if b.label == "Cancel the demo").click()
    at.run()
    assert not at.exception
    assert evidence.evidence_store.get_demo(programme, "DEMO-0001")["cancelled"] == 1


# The reader's language ---------------------------------------------------------------------


def choose_language(conn, email: str, language: str | None) -> None:
    """A person's own language, chosen by themselves (the sidebar's switch)."""
    notices.set_language(conn, decision_store.load_actor(conn, email), email, language)


def test_each_person_gets_the_invitation_in_their_own_language(
    programme_with_links, smtp, decision_at, actor
):
    key = decision_at("built")
    choose_language(programme_with_links, "hanne@stolav.no", "nb")
    choose_language(programme_with_links, "per@stolav.no", "en")
    schedule(programme_with_links, actor, key)
    notify(programme_with_links, smtp.config)

    (norsk,) = [m for m in smtp.messages("hanne@stolav.no")
                if m["Subject"].startswith("Invitasjon")]  # fmt: skip
    assert norsk["Subject"] == ("Invitasjon: demonstrasjon av Medication administration (MED-ADM), "
                                "torsdag 22. september 2022, 10:00–11:30 (norsk tid)")  # fmt: skip
    body = parts(norsk)
    assert body["text/plain"].startswith("Hei Hanne,\n")
    assert "Sted: Kunnskapssenteret, rom 3" in body["text/plain"]
    assert "Beslutninger som vises (1)" in body["text/plain"]
    assert "<th style='text-align: left; padding-right: 1em'>Tid</th>" in body["text/html"]
    event = read_calendar(body["text/calendar"]).vevent
    assert event.summary.value == "Demonstrasjon: Medication administration (MED-ADM)"
    assert event.description.value.startswith("Beslutninger som vises:\n")
    assert "Presentert av:" in event.description.value

    (english,) = [m for m in smtp.messages("per@stolav.no")
                  if m["Subject"].startswith("Invitation")]  # fmt: skip
    assert english["Subject"] == ("Invitation: demo of Medication administration (MED-ADM), "
                                  "Thursday 22 September 2022, 10:00–11:30 (Oslo time)")  # fmt: skip
    assert parts(english)["text/plain"].startswith("Hello Per,\n")
    english_event = read_calendar(parts(english)["text/calendar"]).vevent
    assert english_event.summary.value == "Demo: Medication administration (MED-ADM)"
    assert english_event.uid.value == event.uid.value  # one event, told in two languages


def test_a_person_without_a_choice_reads_the_installations_language(
    programme_with_links, smtp, decision_at, monkeypatch
):
    decision_at("demonstrated")
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    notify(programme_with_links, smtp.config)
    (digest,) = [m for m in smtp.messages("hanne@stolav.no") if "oppsummering" in m["Subject"]]
    assert digest["Subject"] == "Ukentlig oppsummering: 1 sak venter på deg"
    text = parts(digest)["text/plain"]
    assert "Godkjenninger du skal gi (1)" in text
    assert "(vist i DEMO-0001 15.09.2022)" in text  # dates as Norwegians write them
    assert "Sendt fra beslutningsloggen." in text


def test_reader_language_falls_back_to_the_installation(monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "en")
    assert notices.reader_language({"language": "nb"}) == "nb"
    assert notices.reader_language({"language": None}) == "en"
    assert notices.reader_language({"language": "xx"}) == "en"
    monkeypatch.delenv("DECISIONS_LANGUAGE")
    assert notices.reader_language(None) == "nb"
