"""Notices by email: a digest per person of what awaits them, and event notices where waiting
costs (a demo invitation, change or cancellation with its calendar entry; changes requested;
a proposal past its needed-by date; a go-live criterion off track).

What is due comes from the same queries as the screens (My work's queues, the demos, the
overdue proposals, readiness); this module only decides who hears of it and when. A run of
`python -m decisions notify` first records every notice due, in one transaction, keyed by
person and a dedup key (so a second run finds nothing new), each with its event in the log;
then it sends the unsent ones, each claimed for this run in a transaction of its own before
it is sent and marked sent in another, so runs started together send each notice once. A
notice whose data cannot be written is recorded kept back with why, and the others go. A
server that refuses or times out leaves the notice unsent with its error and a time for the
next try; nothing is lost and no page waits for a mail server: pages never send."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import os
import smtplib
import socket
import sqlite3
import tomllib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from decisions import app_address, calendar, i18n, permissions, services, settings, store, words
from decisions import notice_texts as texts
from decisions.i18n import _
from decisions.model import Actor, WorkflowError
from decisions.notice_texts import Item
from decisions.store import decisions as decision_store
from decisions.store import notices as notice_store
from decisions.store import queues, screen_queries

DIGESTS = tuple(texts.DIGEST_CHOICES)
EVENTS = tuple(texts.EVENT_KINDS)
EVENT_OF_KIND = {
    "demo_invitation": "demo",
    "demo_change": "demo",
    "demo_cancel": "demo",
    "changes_requested": "changes_requested",
    "overdue": "overdue",
    "off_track": "off_track",
}
SECTION_ITEMS = 25  # items listed per digest section; the rest are counted
CHANGES_WINDOW = dt.timedelta(days=7)  # verdicts older than this are not news any more
FIRST_RETRY = dt.timedelta(minutes=5)
LAST_RETRY = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Notice:
    person: str
    kind: str
    ref: str  # the demo, decision or criterion it is about
    dedup_key: str
    message: texts.Message
    ics: str = ""
    at: str = ""  # when its reason arose (the demo history dates notices by it)
    held: str = ""  # why it could not be written: recorded, kept back, never sent


UNWRITTEN = texts.Message("", "", "")


def _each(
    person: str, kind: str, ref: str, dedup: str, write: Callable[..., Notice | None], *args
) -> Notice | None:
    """The notice `write(*args)` gives, or, when this one notice's data cannot be written,
    the notice kept back with why: one record never stops the others."""
    try:
        return write(*args)
    except Exception as error:  # whatever the data, only this notice waits
        return Notice(person, kind, ref, dedup, UNWRITTEN, held=f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class Preferences:
    digest: str
    events: frozenset[str]
    chosen: bool = False  # False: the programme's defaults apply


# Preferences ----------------------------------------------------------------------------------


def defaults(conn: sqlite3.Connection) -> Preferences:
    return Preferences(
        settings.get(conn, settings.NOTICE_DIGEST),
        frozenset(settings.get(conn, settings.NOTICE_EVENTS)),
    )


def _effective(stored: Mapping | None, programme: Preferences) -> Preferences:
    if not stored:
        return programme
    events = programme.events if stored["events"] is None else _split(stored["events"])
    return Preferences(stored["digest"] or programme.digest, events, True)


def _split(value: str) -> frozenset[str]:
    return frozenset(v for v in value.split(",") if v)


def preferences_of(conn: sqlite3.Connection, email: str) -> Preferences:
    return _effective(notice_store.preferences(conn).get(email), defaults(conn))


def _check_choice(digest: str, events: Iterable[str]) -> list[str]:
    if digest not in DIGESTS:
        raise WorkflowError(_("digest: {digest!r} is not a choice; expected {choices}",
                              digest=digest, choices=", ".join(DIGESTS)))  # fmt: skip
    events = list(dict.fromkeys(events))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise WorkflowError(_("event notices: no kind {unknown}; the kinds are {kinds}",
                              unknown=", ".join(unknown), kinds=", ".join(EVENTS)))  # fmt: skip
    return events


def set_preferences(
    conn: sqlite3.Connection,
    actor: Actor,
    person: str,
    *,
    digest: str,
    events: Iterable[str],
) -> None:
    """A person's own choice of digest frequency and event notices (or, for someone else,
    by whoever may change the directory)."""
    if actor is None or actor.email != person:
        permissions.check(actor, "manage_people")
    events = _check_choice(digest, events)
    with store.transaction(conn):
        if decision_store.load_actor(conn, person) is None:
            raise WorkflowError(_("person: no active person {person!r} in the directory",
                                  person=person))  # fmt: skip
        notice_store.save_preferences(
            conn,
            {"person": person, "digest": digest, "events": ",".join(events)},
        )
        store.append_events(conn, [services.event(
            actor, services.now(conn), "notice_preferences", person, "changed", None,
            f"digest {digest}; events {', '.join(events) or 'none'}",
        )])  # fmt: skip


def set_defaults(
    conn: sqlite3.Connection, actor: Actor, *, digest: str, events: Iterable[str]
) -> None:
    """The programme's defaults, for everyone who has not chosen."""
    permissions.check(actor, "manage_people")
    events = _check_choice(digest, events)
    with store.transaction(conn):
        before = defaults(conn)
        settings.put(conn, settings.NOTICE_DIGEST, digest)
        settings.put(conn, settings.NOTICE_EVENTS, events)
        store.append_events(conn, [services.event(
            actor, services.now(conn), "setting", "notices", "changed",
            f"digest {before.digest}; events {', '.join(sorted(before.events))}",
            f"digest {digest}; events {', '.join(events)}",
        )])  # fmt: skip


def set_base_url(conn: sqlite3.Connection, actor: Actor, url: str) -> None:
    """The app's address as people open it, for the links in notices."""
    permissions.check(actor, "manage_people")
    url = (url or "").strip().rstrip("/")
    problem = app_address.base_url_problem(url)
    if problem:
        raise WorkflowError(problem)
    with store.transaction(conn):
        before = settings.get(conn, settings.BASE_URL)
        settings.put(conn, settings.BASE_URL, url)
        store.append_events(conn, [services.event(
            actor, services.now(conn), "setting", settings.BASE_URL.name, "changed", before, url
        )])  # fmt: skip


# The reader's language -------------------------------------------------------------------------


def set_language(conn: sqlite3.Connection, actor: Actor, person: str, language: str | None) -> None:
    """A person's own language for the app and their notices (None: no choice of their own,
    their browser's and then the programme's apply); someone else's only by whoever may change
    the directory."""
    if actor is None or actor.email != person:
        permissions.check(actor, "manage_people")
    if language is not None and language not in i18n.LANGUAGES:
        raise WorkflowError(_("language: {language!r}; available: {languages}",
                              language=language, languages=", ".join(i18n.LANGUAGES)))  # fmt: skip
    with store.transaction(conn):
        if decision_store.load_actor(conn, person) is None:
            raise WorkflowError(_("person: no active person {person!r} in the directory",
                                  person=person))  # fmt: skip
        before = notice_store.people_languages(conn).get(person)
        notice_store.save_language(conn, person, language)
        store.append_events(conn, [services.event(
            actor, services.now(conn), "person_language", person, "changed", before, language,
        )])  # fmt: skip


def language_of(conn: sqlite3.Connection, person: str) -> str | None:
    """The language a person chose for themselves, or None."""
    return notice_store.people_languages(conn).get(person)


def reader_language(person: Mapping | None, programme: str | None = None) -> str:
    """The language a person reads their notices in: i18n.choose's order without a browser
    (their own choice, the installation's, the programme's `app.language`, bokmål)."""
    return i18n.choose(person=(person or {}).get("language"), programme=programme)


def _in_language(language: str, build, /, *args, **kwargs):
    """`build(*args, **kwargs)` with texts, dates and numbers in `language`, leaving the
    caller's language as it was."""

    def built():
        i18n.use(language)
        return build(*args, **kwargs)

    return contextvars.copy_context().run(built)


# Links into the app -----------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    base: str

    def page(self, path: str) -> str:
        return app_address.page_address(self.base, path)

    def decision(self, key: str) -> str:
        return self.page(f"decision?key={quote(key)}")

    def demo(self, key: str) -> str:
        return app_address.demo_address(self.base, key)


def links(conn: sqlite3.Connection) -> Links:
    return Links(settings.get(conn, settings.BASE_URL))


# What is due --------------------------------------------------------------------------------


def due_notices(
    conn: sqlite3.Connection,
    as_of: dt.date,
    *,
    demos_since: dt.date | None = None,
    stamp: dt.datetime | None = None,
) -> list[Notice]:
    """Every notice due as of a date that is not on record yet, for active people, by their
    preferences (the programme's defaults when they chose none)."""
    people = {a.email: a for a in decision_store.load_actors(conn)}
    chosen = notice_store.people_languages(conn)
    programme = settings.get(conn, settings.LANGUAGE)
    languages = {
        email: reader_language({"language": chosen.get(email)}, programme) for email in people
    }
    return [
        notice
        for lang in sorted(set(languages.values()))
        for notice in _in_language(
            lang, _due, conn, as_of, demos_since, stamp or dt.datetime.now(dt.UTC),
            {e: a for e, a in people.items() if languages[e] == lang},
        )
    ]  # fmt: skip


def _due(conn, as_of: dt.date, demos_since: dt.date | None, stamp, people: dict[str, Actor]):
    """The notices due to `people`, who all read one language (the thread's)."""
    programme = defaults(conn)
    stored = notice_store.preferences(conn)
    prefs = {email: _effective(stored.get(email), programme) for email in people}
    recorded = notice_store.recorded_keys(conn)
    link = links(conn)
    made = [
        *_digests(conn, as_of, people, prefs, link),
        *_demo_notices(conn, demos_since or as_of, people, prefs, link, stamp),
        *_changes_requested(conn, as_of, people, link),
        *_overdue(conn, as_of, people, link),
        *_off_track(conn, as_of, people, link),
    ]
    wanted = []
    for notice in made:
        event = EVENT_OF_KIND.get(notice.kind)
        if (notice.person, notice.dedup_key) in recorded:
            continue
        if event and event not in prefs[notice.person].events and notice.kind != "demo_cancel":
            continue  # a cancellation follows an invitation they did get
        recorded.add((notice.person, notice.dedup_key))
        wanted.append(notice)
    return wanted


def _digests(conn, as_of: dt.date, people: dict[str, Actor], prefs, link: Links) -> list[Notice]:
    today = as_of.isoformat()
    year, week, _weekday = as_of.isocalendar()
    queues_now = _digest_queues(conn, today)
    made = []
    for email, actor in people.items():
        frequency = prefs[email].digest
        if frequency == "off":
            continue
        dedup = f"digest:{today}" if frequency == "daily" else f"digest:{year}-W{week:02d}"
        made.append(_each(email, "digest", "", dedup, _digest, actor, queues_now, link,
                          frequency, dedup, f"{today}T07:00:00"))  # fmt: skip
    return [notice for notice in made if notice is not None]


def _digest(actor: Actor, queues_now, link: Links, frequency: str, dedup: str, at: str):
    """A person's digest, or None when nothing awaits them."""
    sections, more = _digest_sections(actor, queues_now, link)
    if not any(sections.values()):
        return None
    message = texts.digest(actor.name, sections, more=more, link=link.page("my_work"),
                           period=texts.period_word(frequency))  # fmt: skip
    return Notice(actor.email, "digest", "", dedup, message, at=at)


def _by(frame, column: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in frame.to_dict("records"):
        grouped.setdefault(row[column], []).append(row)
    return grouped


def _digest_queues(conn, today: str) -> dict[str, dict]:
    """My work's queues for everyone at once: verdicts due (approvals_queue), proposals in
    their forums (awaiting_forum_decision), demos they are invited to, builds to retest (a
    failing run whose defect is fixed)."""
    verdicts = queues.approvals_queues(conn, first=SECTION_ITEMS)
    failing = queues.failing_decisions(conn, None, limit=1_000_000)
    return {
        "verdicts": _by(verdicts, "expert"),
        "shown": notice_store.latest_held_demo(conn, sorted(set(verdicts["key"]))),
        "forum": _by(screen_queries.awaiting_forum_decisions(conn, SECTION_ITEMS), "member"),
        "demos": _by(queues.invited_demos(conn, None, today), "person"),
        "retest": failing[failing["defect_status"] == "fixed"].to_dict("records"),
    }


def _digest_sections(actor: Actor, found: dict[str, dict], link: Links):
    """One person's digest sections, as My work shows them to this person."""
    lists: dict[str, list[Item]] = {"verdicts": [], "forum": [], "demos": [], "retest": []}
    more = dict.fromkeys(lists, 0)
    shown = found["shown"]
    if permissions.may_act_anywhere(actor, "approve"):
        due = found["verdicts"].get(actor.email, [])
        lists["verdicts"] = [
            Item(f"{r['key']} {r['title']}", link.decision(r["key"]),
                 _("shown in {demo} on {day}", demo=shown[r["key"]][0],
                   day=texts.day_of(shown[r["key"]][1])) if r["key"] in shown
                 else _("demonstrated"))
            for r in due
        ]  # fmt: skip
        more["verdicts"] = due[0]["waiting"] - len(due) if due else 0
    if actor.forums:
        due = found["forum"].get(actor.email, [])
        lists["forum"] = [_forum_item(r, link) for r in due]
        more["forum"] = due[0]["waiting"] - len(due) if due else 0
    lists["demos"] = [
        Item(f"{r['key']} {r['module_name']}", link.demo(r["key"]),
             texts.when(r["date"], r["start_time"], r["duration_min"])
             + (f", {r['place']}" if r["place"] else ""))
        for r in found["demos"].get(actor.email, [])
    ]  # fmt: skip
    if permissions.may_act_anywhere(actor, "record_test_run"):
        lists["retest"] = [
            Item(f"{r['key']} {r['title']}", link.decision(r["key"]),
                 _("test case {case}, defect {defect} fixed", case=r["test_case"],
                   defect=r["defect"]))
            for r in found["retest"] if not actor.domains or r["domain"] in actor.domains
        ]  # fmt: skip
    for name in ("demos", "retest"):
        more[name] = max(len(lists[name]) - SECTION_ITEMS, 0)
        lists[name] = lists[name][:SECTION_ITEMS]
    return lists, more


def _forum_item(row: Mapping, link: Links) -> Item:
    """A proposal awaiting a forum, with its needed-by date when it has one."""
    needed_by = texts.day_of(row["needed_by"])
    detail = _("{forum}, needed by {day}", forum=row["forum"], day=needed_by) if needed_by \
        else row["forum"]  # fmt: skip
    return Item(f"{row['key']} {row['title']}", link.decision(row["key"]), detail)


def _demo_notices(conn, since, people, prefs, link: Links, stamp: dt.datetime) -> list[Notice]:
    """Invitations to scheduled demos, changes (a new SEQUENCE) and cancellations (the demo
    cancelled, or the person no longer invited), each carrying its calendar entry."""
    from decisions import evidence

    demos = notice_store.demos_for_invitations(conn, since.isoformat())
    state = notice_store.demo_notice_state(conn)
    told: dict[str, set[str]] = {}
    for (person, demo), kind in state.items():
        if kind != "demo_cancel":
            told.setdefault(demo, set()).add(person)
    keys = [d["key"] for d in demos if not d["held"] or d["key"] in told]
    events = {e.key: e for e in evidence.demo_events(conn, keys, link.base)}
    made = []
    requests: dict[str, str] = {}  # a demo's invitation is the same for each invitee
    for demo in demos:
        event = events.get(demo["key"])
        if event is None:
            continue
        invitees = set((demo["invitees"] or "").splitlines())
        seq = demo["row_version"] - 1
        if not demo["held"] and not demo["cancelled"]:
            for person in sorted(invitees & people.keys()):
                latest = state.get((person, demo["key"]))
                kind = "demo_change" if latest in ("demo_invitation", "demo_change") else \
                    "demo_invitation"  # fmt: skip
                dedup = f"demo:{event.key}:{seq}"
                made.append(_each(person, kind, event.key, dedup, _demo_notice, people[person],
                                  kind, event, dedup, "REQUEST", stamp, link, requests))  # fmt: skip
        if demo["held"]:
            continue
        gone = told.get(demo["key"], set()) - (set() if demo["cancelled"] else invitees)
        for person in sorted(gone & people.keys()):
            dedup = f"demo:{event.key}:{seq}:cancel"
            made.append(_each(person, "demo_cancel", event.key, dedup, _demo_notice,
                              people[person], "demo_cancel", event, dedup, "CANCEL", stamp,
                              link))  # fmt: skip
    return made


def _demo_notice(
    actor: Actor, kind, event: calendar.DemoEvent, dedup, method, stamp, link, made=None
):
    if method == "CANCEL" and actor.email not in {a for a, _name in event.attendees}:
        event = _replace(event, attendees=((actor.email, actor.name),))
    made = {} if made is None else made
    ics = made.get(event.key) or calendar.calendar(
        [event], method=method, stamp=stamp, name=_("Demo {key}", key=event.key)
    )
    made[event.key] = ics
    decisions = [Item(line, link.decision(line.split(" ", 1)[0])) for line in event.decisions]
    message = texts.demo_invitation(
        actor.name, kind=kind, key=event.key, module=event.module,
        module_name=event.module_name, day=event.day, start=event.start_time,
        minutes=event.duration_min, place=event.place, meeting_url=event.meeting_url,
        presenter=event.organizer[1], decisions=decisions, link=link.demo(event.key),
    )  # fmt: skip
    return Notice(actor.email, kind, event.key, dedup, message, ics)


def _replace(event, **changes):
    from dataclasses import replace

    return replace(event, **changes)


def _changes_requested(conn, as_of: dt.date, people, link: Links) -> list[Notice]:
    since = (as_of - CHANGES_WINDOW).isoformat()
    made = []
    for r in notice_store.changes_requested_since(conn, since, as_of.isoformat()):
        for person in dict.fromkeys(p for p in (r["owner"], r["analyst"]) if p in people):
            made.append(_each(person, "changes_requested", r["decision"], f"changes:{r['id']}",
                              _changes_notice, people[person], r, link))  # fmt: skip
    return made


def _changes_notice(actor: Actor, r: Mapping, link: Links) -> Notice:
    message = texts.changes_requested(
        actor.name, key=r["decision"], title=r["title"], expert=r["expert_name"],
        date=r["date"], comment=r["comment"], link=link.decision(r["decision"]),
    )  # fmt: skip
    return Notice(actor.email, "changes_requested", r["decision"], f"changes:{r['id']}",
                  message, at=r["date"])  # fmt: skip


def _overdue(conn, as_of: dt.date, people, link: Links) -> list[Notice]:
    late = screen_queries.overdue_proposals(conn, as_of.isoformat(), limit=1_000_000)
    who = notice_store.owners_and_forum_members(conn, late["key"].tolist())
    made = []
    for r in late.itertuples():
        owner, members = who.get(r.key, (None, []))
        dedup = f"overdue:{r.key}:{r.needed_by}"
        for person in dict.fromkeys(p for p in (owner, *members) if p in people):
            made.append(_each(person, "overdue", r.key, dedup, _overdue_notice, people[person],
                              r, dedup, link))  # fmt: skip
    return made


def _overdue_notice(actor: Actor, r, dedup: str, link: Links) -> Notice:
    day_after = dt.date.fromisoformat(r.needed_by[:10]) + dt.timedelta(days=1)
    message = texts.overdue(actor.name, key=r.key, title=r.title, forum=r.forum,
                            needed_by=r.needed_by, days=int(r.days_overdue),
                            link=link.decision(r.key))  # fmt: skip
    return Notice(actor.email, "overdue", r.key, dedup, message, at=f"{day_after}T07:00:00")


def _off_track(conn, as_of: dt.date, people, link: Links) -> list[Notice]:
    """Criteria going off track (not waived): off track now and not a week before, to their
    owner and the managers; and the first time a person would hear of one already off track."""
    from decisions import readiness

    _criteria, waves = readiness.assess(conn, as_of)
    heard = notice_store.notified(conn, "off_track")
    managers = [e for e, a in people.items() if permissions.allowed(a, "save_criterion")]
    year, week, _weekday = as_of.isocalendar()
    made = []
    for wave in waves:
        for c in wave.criteria:
            if c.outlook != "off_track" or c.waived:
                continue
            crit = c.criterion
            ref = f"{wave.wave}:{crit.code}"
            went = readiness.outlook_before(c, wave.go_live) != "off_track"
            for person in dict.fromkeys(p for p in (crit.owner, *managers) if p in people):
                if not went and (person, ref) in heard:
                    continue
                dedup = f"off_track:{ref}:{year}-W{week:02d}"
                made.append(_each(person, "off_track", ref, dedup, _off_track_notice,
                                  people[person], wave, c, dedup, link, f"{as_of}T07:00:00"))  # fmt: skip
    return made


def _off_track_notice(actor: Actor, wave, assessed, dedup: str, link: Links, at: str) -> Notice:
    crit = assessed.criterion
    message = texts.off_track(
        actor.name, wave=wave.wave, wave_name=wave.name, code=crit.code,
        criterion=words.criterion_name(crit.code, crit.name),
        value=_("no value") if assessed.value is None else texts.number(assessed.value),
        target=f"{crit.comparator} {texts.number(crit.threshold)}",
        outlook=words.outlook_text(assessed.forecast_code, assessed.forecast, wave.go_live),
        go_live=wave.go_live.isoformat(), link=link.page("readiness"),
    )  # fmt: skip
    return Notice(actor.email, "off_track", f"{wave.wave}:{crit.code}", dedup, message, at=at)


# Recording -------------------------------------------------------------------------------------


def moment(conn: sqlite3.Connection, as_of: dt.date | None = None) -> str:
    """Now on the programme clock, on `as_of` when given."""
    now = services.now(conn)
    return now if as_of is None else f"{as_of.isoformat()}{now[10:]}"


def record(
    conn: sqlite3.Connection,
    notices: list[Notice],
    created_at: str,
    *,
    sent: bool = False,
    logged_at: str | None = None,
) -> None:
    """Record notices inside the caller's transaction, each with its event (the log covers
    what a notice says and to whom), logged at `logged_at` (default `created_at`); `sent`
    marks them sent at their own time (the demo programme's history)."""
    written = notice_store.insert_notices(
        conn,
        (
            (n.person, n.kind, n.ref, n.dedup_key, n.message.subject, n.message.text,
             n.message.html, n.ics, (n.at or created_at) if sent else created_at,
             (n.at or created_at) if sent and not n.held else None, n.held)
            for n in notices
        ),
    )  # fmt: skip
    store.append_events(conn, [
        {"at": logged_at or created_at, "actor": "system", "entity": "notice",
         "entity_key": str(r["id"]), "action": "recorded",
         "to_value": f"{r['kind']} to {r['person']} ({r['dedup_key']})"}
        for r in written
    ])  # fmt: skip


def plan(conn: sqlite3.Connection, as_of: dt.date | None = None) -> list[Notice]:
    """Decide what to send, then record what no other run recorded meanwhile, in one
    transaction: what was decided is on record before anything is sent, so a run that stops
    half-way resumes without duplicates. Deciding (the long part) holds no write lock, so the
    app and a second run are not kept waiting."""
    as_of = as_of or services.today(conn)
    due = due_notices(conn, as_of)
    with store.transaction(conn):
        recorded = notice_store.recorded_keys(conn)
        new = [n for n in due if (n.person, n.dedup_key) not in recorded]
        record(conn, new, moment(conn, as_of))
    return new


def record_history(conn: sqlite3.Connection, as_of: dt.date, weeks: int = 4) -> int:
    """The demo programme's history of notices, as sent: everything due as of `as_of`
    (demo invitations back `weeks` weeks), through the same functions as `notify`."""
    with store.transaction(conn):
        sent_at = dt.datetime.combine(as_of, dt.time(7))
        due = due_notices(conn, as_of, demos_since=as_of - dt.timedelta(weeks=weeks),
                          stamp=sent_at.replace(tzinfo=dt.UTC))  # fmt: skip
        # logged with the history they close, before the programme's today
        record(conn, due, sent_at.isoformat(), sent=True, logged_at=store.last_event_time(conn))
        return len(due)


# Sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str = "starttls"  # starttls, ssl or none
    user: str = ""
    password: str = ""
    sender: str = "decisions@localhost"
    timeout: float = 20.0

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.tls}{', as ' + self.user if self.user else ''})"


TLS_CHOICES = ("starttls", "ssl", "none")
SCHEMES = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "ssl"}
ENV_URL = "DECISIONS_SMTP_URL"


def smtp_config(
    environ: Mapping[str, str] | None = None, secrets: str | os.PathLike | None = None
) -> SmtpConfig | None:
    """The SMTP server: from the environment ($DECISIONS_SMTP_URL=smtp://host:port, smtps://
    for implicit TLS, smtp+starttls:// for STARTTLS; $DECISIONS_SMTP_USER, _PASSWORD, _SENDER,
    _TLS, _TIMEOUT), else from the [smtp] table of .streamlit/secrets.toml (host, port, tls,
    user, password, sender, timeout). None when neither says."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_URL):
        url = urlsplit(environ[ENV_URL])
        if url.scheme not in SCHEMES or not url.hostname:
            raise WorkflowError(_("{where}: {given}; expected smtp://host:port, "
                                  "smtps://host:port or smtp+starttls://host:port",
                                  where=ENV_URL, given=repr(environ[ENV_URL])))  # fmt: skip
        values = {
            "host": url.hostname,
            "port": url.port or {"ssl": 465, "starttls": 587}.get(SCHEMES[url.scheme], 25),
            "tls": environ.get("DECISIONS_SMTP_TLS") or SCHEMES[url.scheme],
            "user": environ.get("DECISIONS_SMTP_USER", ""),
            "password": environ.get("DECISIONS_SMTP_PASSWORD", ""),
            "sender": environ.get("DECISIONS_SMTP_SENDER", ""),
            "timeout": environ.get("DECISIONS_SMTP_TIMEOUT", ""),
        }
        where = ENV_URL
    else:
        path = Path(secrets or ".streamlit/secrets.toml")
        if not path.is_file():
            return None
        try:
            table = tomllib.loads(path.read_text()).get("smtp")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise WorkflowError(_("{path}: not valid TOML: {error}", path=path,
                                  error=error)) from None  # fmt: skip
        if not table:
            return None
        values, where = dict(table), f"{path} [smtp]"
    try:
        config = SmtpConfig(
            host=str(values["host"]),
            port=int(values.get("port") or 587),
            tls=str(values.get("tls") or "starttls").lower(),
            user=str(values.get("user") or ""),
            password=str(values.get("password") or ""),
            sender=str(values.get("sender") or "") or SmtpConfig.sender,
            timeout=float(values.get("timeout") or SmtpConfig.timeout),
        )
    except (KeyError, ValueError) as error:
        raise WorkflowError(_("{where}: {error}; expected host, port (a number), tls, user, "
                              "password, sender", where=where, error=error)) from None  # fmt: skip
    if config.tls not in TLS_CHOICES:
        raise WorkflowError(_("{where}: tls {given}; expected {choices}", where=where,
                              given=repr(config.tls), choices=", ".join(TLS_CHOICES)))  # fmt: skip
    return config


def _one_line(value: str) -> str:
    """A header value on one line, whatever the data held (an Excel Alt+Enter in a title)."""
    return " ".join(str(value).split())


def email_message(row: Mapping, sender: str, notices_page: str = "") -> EmailMessage:
    """The email of a recorded notice, as recorded: plain text and HTML parts, and its
    calendar entry (inline with its METHOD, and attached as invite.ics); every part 7-bit
    (quoted-printable or base64), so a server without 8BITMIME takes it unchanged. A digest
    is bulk mail that says where to unsubscribe (`notices_page`, where a person chooses)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((_one_line(row["name"]), row["person"]))
    message["Subject"] = _one_line(row["subject"])
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    # The same Message-ID on every try of a notice, so a server can tell a repeat.
    digest = hashlib.sha256(f"{row['person']}\n{row['dedup_key']}".encode()).hexdigest()[:20]
    message["Message-ID"] = f"<notice-{row['id']}.{digest}@decision-tracker>"
    message["Auto-Submitted"] = "auto-generated"
    if row["kind"] == "digest" and notices_page:
        message["List-Unsubscribe"] = f"<{notices_page}>"
        message["Precedence"] = "bulk"
    message.set_content(row["body_text"], cte="quoted-printable")
    message.add_alternative(row["body_html"], subtype="html", cte="quoted-printable")
    if row["ics"]:
        method = next(
            (line[7:] for line in row["ics"].splitlines() if line.startswith("METHOD:")),
            "PUBLISH",
        )
        message.add_alternative(row["ics"], subtype="calendar", params={"method": method},
                                cte="quoted-printable")  # fmt: skip
        message.add_attachment(
            row["ics"].encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    return message


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    held: int = 0  # kept back for good: the recorded notice cannot be made an email
    stopped: str = ""  # why the run stopped sending (the server could not be reached)


def _retry_at(now: str, attempts: int) -> str:
    wait = min(FIRST_RETRY * 2 ** max(attempts, 0), LAST_RETRY)
    return (dt.datetime.fromisoformat(now) + wait).isoformat(timespec="seconds")


def _failed(conn: sqlite3.Connection, row: Mapping, error: str, now: str) -> None:
    notice_store.mark_failed(conn, row["id"], error, _retry_at(now, row["attempts"]),
                             row["attempts"] + 1)  # fmt: skip


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    kind = smtplib.SMTP_SSL if config.tls == "ssl" else smtplib.SMTP
    server = kind(config.host, config.port, timeout=config.timeout)
    if config.tls == "starttls":
        server.starttls()
    if config.user:
        server.login(config.user, config.password)
    return server


CLAIM_LAPSES = dt.timedelta(minutes=15)  # a run holds a claim for one send, seconds at most


def _wall_clock() -> str:
    """Claims are dated by the real clock (UTC), whatever the programme's clock says."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def send_pending(conn: sqlite3.Connection, config: SmtpConfig, now: str) -> SendReport:
    """Send the recorded, unsent notices due for a try. Each is claimed for this run in a
    transaction of its own just before it is sent (another run that claimed it first sends
    it), and marked sent in another; a run that dies between the two leaves it claimed, and
    no run sends it again. A refused message keeps its error and a later retry time; a server
    that cannot be reached (refused connection, time-out) stops the run, every waiting notice
    keeping the error, to be retried next run."""
    report = SendReport()
    waiting = notice_store.pending(conn, now)
    if not waiting:
        return report
    try:
        server = _connect(config)
    except (OSError, smtplib.SMTPException) as error:
        report.stopped = f"{config.describe()}: {type(error).__name__}: {error}"
        report.failed = _fail_all(conn, waiting, report.stopped, now)
        return report
    run_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    page = links(conn).page("notices")
    try:
        for index, row in enumerate(waiting):
            with store.transaction(conn):
                if not notice_store.claim(conn, row["id"], run_id, now, _wall_clock()):
                    continue  # another run has it
            try:
                message = email_message(row, config.sender, page)
            except Exception as error:  # a record no email can carry waits alone
                with store.transaction(conn):
                    notice_store.hold(conn, row["id"], f"{type(error).__name__}: {error}")
                report.held += 1
                continue
            try:
                server.send_message(message, config.sender, [row["person"]])
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
                with store.transaction(conn):
                    _failed(conn, row, _smtp_error(error), now)
                report.failed += 1
                continue
            except OSError as error:  # the connection broke: this one may have gone, keep it
                report.stopped = f"{config.describe()}: {type(error).__name__}: {error}"
                report.failed += _fail_all(conn, waiting[index + 1 :], report.stopped, now)
                return report
            with store.transaction(conn):
                notice_store.mark_sent(conn, row["id"], moment(conn), row["attempts"] + 1)
            report.sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            server.quit()
    return report


def _fail_all(conn: sqlite3.Connection, rows: list[Mapping], error: str, now: str) -> int:
    """The server could not be reached: the waiting notices keep the error, to be retried
    next run (those another run claimed meanwhile are left to it)."""
    with store.transaction(conn):
        for row in notice_store.still_waiting(conn, [r["id"] for r in rows], now):
            _failed(conn, row, error, now)
    return len(rows)


def _smtp_error(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r}: {c} {m.decode(errors='replace')}"
                         for r, (c, m) in error.recipients.items())  # fmt: skip
    code = getattr(error, "smtp_code", "")
    text = getattr(error, "smtp_error", b"")
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"refused: {code} {text}".strip()


# The command ---------------------------------------------------------------------------------


def run(
    conn: sqlite3.Connection,
    config: SmtpConfig | None,
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    out: TextIO,
    err: TextIO,
) -> int:
    """`python -m decisions notify`: record what is due, then send what is unsent, and list
    the notices kept back with why. Exit 0 when everything due is sent (or a dry run), 1 when
    something waits for a retry or a person (kept back), or no server is configured."""
    as_of = as_of or services.today(conn)
    if not app_address.base_url_set(conn):
        print(app_address.base_url_warning(conn), file=err)
    if dry_run:
        return _dry_run(conn, as_of, out)
    if config is None:
        print(_("no SMTP server configured: set {variable} (smtp://host:port) or an [smtp] "
                "table in .streamlit/secrets.toml; nothing recorded or sent",
                variable=ENV_URL), file=err)  # fmt: skip
        return 1
    due = plan(conn, as_of)
    report = send_pending(conn, config, moment(conn))
    print(_("notify as of {day}: {count} new notices recorded; {sent} sent", day=i18n.format_date(as_of),
            count=len(due), sent=report.sent)
          + (_("; {count} not sent, retried next run", count=report.failed)
             if report.failed else ""),
          file=out)  # fmt: skip
    if report.stopped:
        print(_("notify: {error}", error=report.stopped), file=err)
    lapsed = hold_lapsed_claims(conn)
    for notice in kept_back(conn):
        print(_("kept back, not sent: {kind} to {person} (notice {id}): {why}", kind=notice["kind"],
                person=notice["person"], id=notice["id"], why=notice["why"]), file=out)  # fmt: skip
    held_now = any(n.held for n in due) or report.held or lapsed
    return 1 if report.failed or held_now else 0


def _dry_run(conn: sqlite3.Connection, as_of: dt.date, out: TextIO) -> int:
    due = due_notices(conn, as_of)
    for n in due:
        if n.held:
            print(_("would keep back {kind} to {person}: {why}", kind=n.kind, person=n.person,
                    why=why_kept(n.held)), file=out)  # fmt: skip
            continue
        extra = _(" (with calendar entry)") if n.ics else ""
        print(_("would send {kind} to {person}: {subject}", kind=n.kind, person=n.person,
                subject=n.message.subject) + extra, file=out)  # fmt: skip
    unsent = notice_store.count_unsent(conn)
    print(_("dry run as of {day}: {count} new notices would be sent", day=i18n.format_date(as_of),
            count=len(due))
          + (_(", and {count} recorded earlier retried", count=unsent) if unsent else "")
          + _("; nothing sent or recorded"), file=out)  # fmt: skip
    return 0


LAPSED = "lapsed claim "  # a held notice's reason: its run never said how the sending went


def hold_lapsed_claims(conn: sqlite3.Connection) -> int:
    """Keep back the notices a run claimed more than CLAIM_LAPSES ago without recording how
    the sending went (it died, or its connection broke mid-message): they may have gone, and
    sending them again could send them twice. Returns how many."""
    before = (dt.datetime.fromisoformat(_wall_clock()) - CLAIM_LAPSES).isoformat()
    with store.transaction(conn):
        lapsed = notice_store.lapsed_claims(conn, before)
        for row in lapsed:
            notice_store.hold(conn, row["id"], f"{LAPSED}{row['claimed_at']}")
    return len(lapsed)


def why_kept(held: str) -> str:
    """A held notice's reason as the reader reads it."""
    if held.startswith(LAPSED):
        return _("claimed for sending at {at} UTC by a run that stopped before it could record "
                 "the outcome; it may have been sent, so it is not sent again",
                 at=held.removeprefix(LAPSED))  # fmt: skip
    return _("could not be written: {error}", error=held)


def resend(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    """Put notices kept back after a lapsed claim in the queue again, once someone has made
    sure the server never took them (its log); in one transaction with its event. A notice
    that could not be written has nothing to send."""
    with store.transaction(conn):
        kept = {row["id"]: row for row in notice_store.kept_back(conn)}
        for notice_id in ids:
            if not kept.get(notice_id, {}).get("held", "").startswith(LAPSED):
                raise WorkflowError(_("--resend {id}: not a notice kept back after a lapsed "
                                      "claim; those are listed by notify", id=notice_id))  # fmt: skip
            notice_store.release(conn, notice_id)
        store.append_events(conn, [
            {"at": services.now(conn), "actor": "system", "entity": "notice",
             "entity_key": str(notice_id), "action": "resend", "reason": kept[notice_id]["held"]}
            for notice_id in ids
        ])  # fmt: skip


def kept_back(conn: sqlite3.Connection) -> list[dict]:
    """The notices no run will send, each with why (`why`): it could not be written or made
    an email, or a run claimed it and never said whether the server took it."""
    return [row | {"why": why_kept(row["held"])} for row in notice_store.kept_back(conn)]


def cli_notify(args) -> int:
    import sys

    path = store.database_path(args.db)
    if not path.exists():
        print(_("{path}: no such database", path=path), file=sys.stderr)
        return 1
    conn = store.connect(path)
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(_("--as-of {given}: not a date; expected YYYY-MM-DD", given=repr(args.as_of)),
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        config = None if args.dry_run else smtp_config(secrets=args.secrets)
        if args.resend:
            resend(conn, args.resend)
    except WorkflowError as error:
        print(_("error: {error}", error=error), file=sys.stderr)
        return 1
    return run(conn, config, as_of=as_of, dry_run=args.dry_run, out=sys.stdout, err=sys.stderr)
