"""Notices by email: a digest per person of what awaits them, and event notices where waiting
costs (a demo invitation, change or cancellation with its calendar entry; changes requested;
a proposal past its needed-by date; a go-live criterion off track).

What is due comes from the same queries as the screens (My work's queues, the demos, the
overdue proposals, readiness); this module only decides who hears of it and when. A run of
`python -m decisions notify` first records every notice due, in one transaction, keyed by
person and a dedup key (so a second run finds nothing new), then sends the unsent ones after
that commit and marks each sent in a transaction of its own. A server that refuses or times
out leaves the notice unsent with its error and a time for the next try; nothing is lost and no
page waits for a mail server: pages never send."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import os
import smtplib
import sqlite3
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from decisions import calendar, i18n, permissions, services, settings, store, words
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
    if not url.lower().startswith(("https://", "http://")) or " " in url:
        raise WorkflowError(_("app address: {url!r}; expected https://host[/path], the address "
                              "people open the app at", url=url))  # fmt: skip
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
        return f"{self.base.rstrip('/')}/{path}"

    def decision(self, key: str) -> str:
        return self.page(f"decision?key={quote(key)}")


def links(conn: sqlite3.Connection) -> Links:
    return Links(settings.get(conn, settings.BASE_URL))


# What is due --------------------------------------------------------------------------------


def due_notices(
    conn: sqlite3.Connection, as_of: dt.date, *, demos_since: dt.date | None = None
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
            lang, _due, conn, as_of, demos_since,
            {e: a for e, a in people.items() if languages[e] == lang},
        )
    ]  # fmt: skip


def _due(conn, as_of: dt.date, demos_since: dt.date | None, people: dict[str, Actor]):
    """The notices due to `people`, who all read one language (the thread's)."""
    programme = defaults(conn)
    stored = notice_store.preferences(conn)
    prefs = {email: _effective(stored.get(email), programme) for email in people}
    recorded = notice_store.recorded_keys(conn)
    link = links(conn)
    made = [
        *_digests(conn, as_of, people, prefs, link),
        *_demo_notices(conn, as_of, demos_since or as_of, people, prefs, link),
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
        sections, more = _digest_sections(actor, queues_now, link)
        if not any(sections.values()):
            continue
        dedup = f"digest:{today}" if frequency == "daily" else f"digest:{year}-W{week:02d}"
        message = texts.digest(actor.name, sections, more=more, link=link.page("my_work"),
                               period=texts.period_word(frequency))  # fmt: skip
        made.append(Notice(email, "digest", "", dedup, message, at=f"{today}T07:00:00"))
    return made


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
        lists["forum"] = [
            Item(f"{r['key']} {r['title']}", link.decision(r["key"]),
                 _("{forum}, needed by {day}", forum=r["forum"],
                   day=texts.day_of(r["needed_by"])) if r["needed_by"]
                 else r["forum"])
            for r in due
        ]  # fmt: skip
        more["forum"] = due[0]["waiting"] - len(due) if due else 0
    lists["demos"] = [
        Item(f"{r['key']} {r['module_name']}", link.page("demos"),
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


def _demo_notices(conn, as_of, since, people, prefs, link: Links) -> list[Notice]:
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
    stamp = dt.datetime.now(dt.UTC)
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
                made.append(_demo_notice(people[person], kind, event, f"demo:{event.key}:{seq}",
                                         "REQUEST", stamp, link, requests))  # fmt: skip
        if demo["held"]:
            continue
        gone = told.get(demo["key"], set()) - (set() if demo["cancelled"] else invitees)
        for person in sorted(gone & people.keys()):
            made.append(_demo_notice(people[person], "demo_cancel", event,
                                     f"demo:{event.key}:{seq}:cancel", "CANCEL", stamp, link))  # fmt: skip
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
        presenter=event.organizer[1], decisions=decisions, link=link.page("demos"),
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
            message = texts.changes_requested(
                people[person].name, key=r["decision"], title=r["title"],
                expert=r["expert_name"], date=r["date"], comment=r["comment"],
                link=link.decision(r["decision"]),
            )  # fmt: skip
            made.append(Notice(person, "changes_requested", r["decision"],
                               f"changes:{r['id']}", message, at=r["date"]))  # fmt: skip
    return made


def _overdue(conn, as_of: dt.date, people, link: Links) -> list[Notice]:
    late = screen_queries.overdue_proposals(conn, as_of.isoformat(), limit=1_000_000)
    who = notice_store.owners_and_forum_members(conn, late["key"].tolist())
    made = []
    for r in late.itertuples():
        owner, members = who.get(r.key, (None, []))
        day_after = dt.date.fromisoformat(r.needed_by[:10]) + dt.timedelta(days=1)
        for person in dict.fromkeys(p for p in (owner, *members) if p in people):
            message = texts.overdue(people[person].name, key=r.key, title=r.title,
                                    forum=r.forum, needed_by=r.needed_by,
                                    days=int(r.days_overdue), link=link.decision(r.key))  # fmt: skip
            made.append(Notice(person, "overdue", r.key, f"overdue:{r.key}:{r.needed_by}",
                               message, at=f"{day_after}T07:00:00"))  # fmt: skip
    return made


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
            value = _("no value") if c.value is None else texts.number(c.value)
            for person in dict.fromkeys(p for p in (crit.owner, *managers) if p in people):
                if not went and (person, ref) in heard:
                    continue
                message = texts.off_track(
                    people[person].name, wave=wave.wave, wave_name=wave.name, code=crit.code,
                    criterion=words.criterion_name(crit.code, crit.name), value=value,
                    target=f"{crit.comparator} {texts.number(crit.threshold)}",
                    outlook=words.outlook_text(c.forecast_code, c.forecast, wave.go_live),
                    go_live=wave.go_live.isoformat(), link=link.page("readiness"),
                )  # fmt: skip
                made.append(Notice(person, "off_track", ref,
                                   f"off_track:{ref}:{year}-W{week:02d}",
                                   message, at=f"{as_of}T07:00:00"))  # fmt: skip
    return made


# Recording -------------------------------------------------------------------------------------


def moment(conn: sqlite3.Connection, as_of: dt.date | None = None) -> str:
    """Now on the programme clock, on `as_of` when given."""
    now = services.now(conn)
    return now if as_of is None else f"{as_of.isoformat()}{now[10:]}"


def record(
    conn: sqlite3.Connection, notices: list[Notice], created_at: str, *, sent: bool = False
) -> None:
    """Record notices inside the caller's transaction; `sent` marks them sent at their own
    time (the demo programme's history)."""
    notice_store.insert_notices(
        conn,
        (
            (n.person, n.kind, n.ref, n.dedup_key, n.message.subject, n.message.text,
             n.message.html, n.ics, (n.at or created_at) if sent else created_at,
             (n.at or created_at) if sent else None)
            for n in notices
        ),
    )  # fmt: skip


def plan(conn: sqlite3.Connection, as_of: dt.date | None = None) -> list[Notice]:
    """Decide what to send and record it, in one transaction: what was decided is on record
    before anything is sent, so a run that stops half-way resumes without duplicates."""
    with store.transaction(conn):
        as_of = as_of or services.today(conn)
        due = due_notices(conn, as_of)
        record(conn, due, moment(conn, as_of))
        return due


def record_history(conn: sqlite3.Connection, as_of: dt.date, weeks: int = 4) -> int:
    """The demo programme's history of notices, as sent: everything due as of `as_of`
    (demo invitations back `weeks` weeks), through the same functions as `notify`."""
    with store.transaction(conn):
        due = due_notices(conn, as_of, demos_since=as_of - dt.timedelta(weeks=weeks))
        record(conn, due, f"{as_of.isoformat()}T07:00:00", sent=True)
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
            raise WorkflowError(f"{ENV_URL}: {environ[ENV_URL]!r}; expected smtp://host:port, "
                                "smtps://host:port or smtp+starttls://host:port")  # fmt: skip
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
            raise WorkflowError(f"{path}: not valid TOML: {error}") from None
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
        raise WorkflowError(f"{where}: {error}; expected host, port (a number), tls, user, "
                            "password, sender") from None  # fmt: skip
    if config.tls not in TLS_CHOICES:
        raise WorkflowError(f"{where}: tls {config.tls!r}; expected {', '.join(TLS_CHOICES)}")
    return config


def email_message(row: Mapping, sender: str) -> EmailMessage:
    """The email of a recorded notice, exactly as recorded: plain text and HTML parts, and
    its calendar entry (inline with its METHOD, and attached as invite.ics)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((row["name"], row["person"]))
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    # The same Message-ID on every try of a notice, so a server can tell a repeat.
    digest = hashlib.sha256(f"{row['person']}\n{row['dedup_key']}".encode()).hexdigest()[:20]
    message["Message-ID"] = f"<notice-{row['id']}.{digest}@decision-tracker>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body_text"])
    message.add_alternative(row["body_html"], subtype="html")
    if row["ics"]:
        method = next(
            (line[7:] for line in row["ics"].splitlines() if line.startswith("METHOD:")),
            "PUBLISH",
        )
        message.add_alternative(row["ics"], subtype="calendar", params={"method": method})
        message.add_attachment(
            row["ics"].encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    return message


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
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


def send_pending(conn: sqlite3.Connection, config: SmtpConfig, now: str) -> SendReport:
    """Send the recorded, unsent notices due for a try; each one sent is marked so in a
    transaction of its own. A refused message keeps its error and a later retry time; a server
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
        with store.transaction(conn):
            for row in waiting:
                _failed(conn, row, report.stopped, now)
        report.failed = len(waiting)
        return report
    try:
        for index, row in enumerate(waiting):
            try:
                server.send_message(email_message(row, config.sender), config.sender,
                                    [row["person"]])  # fmt: skip
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
                with store.transaction(conn):
                    _failed(conn, row, _smtp_error(error), now)
                report.failed += 1
                continue
            except OSError as error:  # the connection broke or timed out mid-way
                report.stopped = f"{config.describe()}: {type(error).__name__}: {error}"
                with store.transaction(conn):
                    for rest in waiting[index:]:
                        _failed(conn, rest, report.stopped, now)
                report.failed += len(waiting) - index
                return report
            with store.transaction(conn):
                notice_store.mark_sent(conn, row["id"], moment(conn), row["attempts"] + 1)
            report.sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            server.quit()
    return report


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
    """`python -m decisions notify`: record what is due, then send what is unsent. Exit 0
    when everything due is sent (or a dry run), 1 when something waits for a retry or no
    server is configured."""
    as_of = as_of or services.today(conn)
    if dry_run:
        due = due_notices(conn, as_of)
        for n in due:
            extra = _(" (with calendar entry)") if n.ics else ""
            print(_("would send {kind} to {person}: {subject}", kind=n.kind, person=n.person,
                    subject=n.message.subject) + extra, file=out)  # fmt: skip
        unsent = notice_store.count_unsent(conn)
        print(_("dry run as of {day}: {count} new notices would be sent", day=i18n.format_date(as_of),
                count=len(due))
              + (_(", and {count} recorded earlier retried", count=unsent) if unsent else "")
              + _("; nothing sent or recorded"), file=out)  # fmt: skip
        return 0
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
        print(f"notify: {report.stopped}", file=err)
    return 1 if report.failed else 0


def cli_notify(args) -> int:
    import sys

    path = store.database_path(args.db)
    if not path.exists():
        print(f"{path}: no such database", file=sys.stderr)
        return 1
    conn = store.connect(path)
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"--as-of {args.as_of!r}: not a date; expected YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        config = None if args.dry_run else smtp_config(secrets=args.secrets)
    except WorkflowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return run(conn, config, as_of=as_of, dry_run=args.dry_run, out=sys.stdout, err=sys.stderr)
