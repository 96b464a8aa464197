"""The write side of an import: for each KIND, resolve references, compare with what is on
record, apply the workflow rules row by row, write set-wise and record the events. Runs inside
the importer's one transaction; any row error makes the importer roll everything back."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import replace

from decisions import admin, evidence, permissions, planning, services, store, words
from decisions.i18n import _
from decisions.io import damage
from decisions.io.decisions import DecisionRows
from decisions.io.kinds import Issue, Kind, Row, db_value, plain
from decisions.io.report import RowOutcome
from decisions.model import (
    SIDE_OF_KIND,
    STAGE_RANK,
    Actor,
    VerdictFact,
    WorkflowError,
)
from decisions.store import analytics, transfer, write
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import people as people_store
from decisions.workflow import (
    counts_from,
    derive_stage,
    evidence_order,
    explain_stage,
    round_verdicts,
)


def _same(a, b) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return sorted(a or []) == sorted(b or [])
    return plain(a) == plain(b)


def _seconds_apart(one: str, other: str) -> float:
    try:
        apart = dt.datetime.fromisoformat(one) - dt.datetime.fromisoformat(other)
        return abs(apart.total_seconds())
    except ValueError:
        return float("inf")


def existing_records(conn: sqlite3.Connection, kind: Kind) -> dict[tuple, dict]:
    """Every record of a KIND as typed values, exactly as a file row would carry them."""
    records = {}
    for raw in transfer.export_rows(conn, kind.name):
        record = {name: db_value(kind.column[name], value) for name, value in raw.items()}
        records[tuple(record[c] for c in kind.key)] = record
    return records


# The words the use cases' refusals start with, as the file's columns.
_FIELD_COLUMNS = {
    "recording link": "recording_url",
    "meeting link": "meeting_url",
    "start time": "start_time",
    "length": "duration_min",
    "invited experts": "invitees",
    "expert ": "expert",
    "test case ": "test_case",
    "criterion ": "criterion",
}


def column_named(message: str, kind: Kind, default: str) -> str:
    """The column a refusal's message starts with ('decided by: ...', 'comment is required',
    'recording link must ...'), else `default`."""
    text = message.strip().lower()
    lead = re.split(r"[:\s]", text, maxsplit=1)[0]
    spaced = text.split(":", 1)[0].strip().replace(" ", "_")
    aliased = [column for words, column in _FIELD_COLUMNS.items() if text.startswith(words)]
    for name in (spaced, lead, *aliased):
        if name in kind.column:
            return name
    return default


def refused_column(refused: WorkflowError, kind: Kind, default: str) -> str:
    """The file's column a use case's refusal is about: the field it marked, else the column
    its message starts with, else `default`."""
    marked = getattr(refused, "column", None)
    return marked if marked in kind.column else column_named(str(refused), kind, default)


class Applier:
    """Applies the checked rows of each file, collecting row errors instead of stopping."""

    def __init__(
        self, conn: sqlite3.Connection, actor: Actor, progress, *, force: bool = False
    ) -> None:
        self.conn, self.actor, self.progress = conn, actor, progress
        self.force = force  # add rows that nearly duplicate a record (a spreadsheet's rounding)
        self.at = services.now(conn)
        self.today = self.at[:10]
        self.errors: list[Issue] = []
        self.write_seconds = 0.0
        self.decision_rows: list[tuple[object, Row]] = []
        self.pending_ready: dict[str, tuple[object, Row, str | None]] = {}
        self.rule = services.approval_rule(conn)
        self.built_here: set[str] = set()  # decisions this import marked built
        self.outcomes: dict[str, dict[int, RowOutcome]] = {}

    # Plumbing -------------------------------------------------------------------------------

    def run(self, files: list) -> None:
        total = sum(len(f.rows) for f in files) or 1
        done = 0
        for file in files:
            self.progress(done / total, _("{kind}: {count} rows", kind=file.kind.name,
                                           count=f"{len(file.rows):,}"))  # fmt: skip
            self.file = file
            self.lookups = services.Lookups(self.conn)
            self.catalog = transfer.reference_codes(self.conn)
            self.names = {
                table: {self._name_of(table, v).lower(): code for code, v in entries.items()}
                for table, entries in self.catalog.items()
                if table in ("domains", "forums", "modules")
            }
            self.existing = existing_records(self.conn, file.kind)
            damage.match_codes(file.kind, file.rows, self.catalog, self.fail)
            if "date" in file.kind.key:
                self._rounded_times(file.rows)
            damage.keep_stored_texts(file.kind, file.rows, self.existing, self.fail)
            handler = getattr(self, "_" + file.kind.name.replace("-", "_"))
            handler([r for r in file.rows if not self._reject_parsed(r)])
            done += len(file.rows)
        self.progress(0.99, "checking the stages against the evidence")
        self._mark_ready()
        self._check_stages()
        self.progress(1.0, "done")

    def _rounded_times(self, rows: list[Row]) -> None:
        """A key's timestamp as a spreadsheet rounds it (11:13 or 11:13:00 for 11:13:27) is
        the record's own: the row takes the record's time. A new row that is a record but for
        less than a minute, or a date without the record's time, is a near-duplicate: refused
        unless the import is forced."""
        kind = self.file.kind
        at = kind.key.index("date")
        by_day: dict[tuple, list[str]] = {}
        for key in self.existing:
            by_day.setdefault(key[:at] + (key[at][:10],) + key[at + 1 :], []).append(key[at])
        for row in rows:
            key = row.key(kind)
            stamp = key[at]
            if row.errors or not stamp or key in self.existing:
                continue
            stamps = by_day.get(key[:at] + (stamp[:10],) + key[at + 1 :], [])
            if len(stamp) > 10 and stamp[16:] in ("", ":00"):  # rounded to the minute
                same = [s for s in stamps if s[:16] == stamp[:16]]
                if len(same) == 1:
                    row.values["date"] = same[0]
                    row.notes.append(_("matched the record of {stamp}: the file's time is "
                                       "rounded to the minute", stamp=same[0]))  # fmt: skip
                    continue
            near = [s for s in stamps if len(stamp) == 10 or _seconds_apart(s, stamp) < 60]
            if near and not self.force:
                self.fail(row, "date", _("{stamp} nearly duplicates the record of {other} (a "
                                         "spreadsheet's rounding?); not added. Import with "
                                         "--force to add it as a new record",
                                         stamp=stamp, other=near[0]))  # fmt: skip
            elif near:
                row.notes.append(_("added next to the record of {other}, forced",
                                   other=near[0]))  # fmt: skip

    @staticmethod
    def _name_of(table: str, value) -> str:
        return value if isinstance(value, str) else value["name"]

    def _reject_parsed(self, row: Row) -> bool:
        if row.errors:
            self._outcome(row, "rejected")
            return True
        return False

    def _outcome(self, row: Row, status: str, changes: list[str] = ()) -> None:
        key = "/".join(str(row.values.get(c) or "") for c in self.file.kind.key)
        self.file.report.rows.append(
            RowOutcome(
                row.number,
                key,
                status,
                [i.message for i in row.errors],
                list(changes),
                [] if row.errors else list(row.notes),
            )  # fmt: skip
        )

    def obey(self, row: Row, column: str, check, *args, **kwargs):
        """Ask one of the app's rules about a row: its value, or None when it refuses, its
        refusal then the row's error (in the column the message names first, else `column`)."""
        try:
            return check(*args, **kwargs)
        except WorkflowError as refused:
            self.fail(row, refused_column(refused, self.file.kind, column), str(refused))
            return None

    def permitted(self, rows: list[Row], column: str, check, *args) -> bool:
        """Ask a use case's permission rule once for a whole file; when it refuses, every row
        carries the refusal."""
        try:
            check(*args)
        except WorkflowError as refused:
            for row in rows:
                self.fail(row, column, str(refused))
            return False
        return True

    def person(self, email: str) -> Actor | None:
        """The active person with this email, as the app's use cases look them up."""
        return self.lookups.person(email)

    def fail(self, row: Row, column: str, message: str) -> None:
        issue = Issue(self.file.source.name, row.number, column, message)
        row.errors.append(issue)
        self.errors.append(issue)

    @contextmanager
    def writing(self):
        started = time.perf_counter()
        yield
        self.write_seconds += time.perf_counter() - started

    def event(self, entity: str, key: str, action: str, old=None, new=None, reason=None) -> dict:
        return services.event(self.actor, self.at, entity, key, action, old, new, reason)

    def append(self, events: list[dict]) -> None:
        if events:
            with self.writing():
                store.append_events(self.conn, events)

    def refresh(self, keys, why: str) -> None:
        keys = list(dict.fromkeys(keys))
        if keys:
            with self.writing():
                events = services.refresh_stages(self.conn, keys, self.actor, self.at, why)
            self.append(events)

    def finish(self, row: Row, current: dict | None, changed: list[str]) -> str:
        """Record the row's outcome (with the columns it changes) and return its status."""
        status = "rejected" if row.errors else "new" if current is None else (
            "updated" if changed else "unchanged")  # fmt: skip
        self._outcome(row, status, changed if status == "updated" else [])
        return status

    def diff(self, values: dict, current: dict | None, ignore=()) -> list[str]:
        if current is None:
            return list(values)
        return [c for c, v in values.items() if c not in ignore and not _same(v, current.get(c))]

    # References -----------------------------------------------------------------------------

    def ref(self, row: Row, column: str, table: str, value: str | None) -> str | None:
        """A domain, module or forum given by code or name, as its code."""
        if not value:
            return value
        if value in self.catalog[table]:
            return value
        code = self.names[table].get(value.lower())
        if code is None:
            self.fail(row, column, _("{value} is not in the list of {table} (by code or name)",
                                     value=repr(value), table=table))  # fmt: skip
        return code

    def resolve(self, table: str, value: str | None) -> str | None:
        """A domain, module or forum given by code or name, as its code; else as given, for
        the rule that reads it to refuse."""
        if not value or value in self.catalog[table]:
            return value
        return self.names[table].get(value.lower(), value)

    def refs(self, row: Row, column: str, table: str) -> list[str]:
        codes = [self.ref(row, column, table, v) for v in row.values.get(column) or []]
        return [c for c in codes if c]

    def known(self, row: Row, column: str, table: str, values: list[str] | str | None) -> None:
        values = [values] if isinstance(values, str) else values or []
        unknown = [v for v in values if v not in self.catalog[table]]
        if unknown:
            what = {"experts": "people in the directory", "test_cases": "test cases"}.get(
                table, table
            )
            self.fail(row, column, _("not among the {what}: {unknown}", what=what,
                                     unknown=", ".join(unknown)))  # fmt: skip

    def not_future(self, row: Row, column: str) -> None:
        """Evidence is never dated later than the import's now, to the second (as the app)."""
        date = row.values.get(column)
        if date:
            self.obey(row, column, services.check_not_future, date, self.at, column)

    # Reference lists ------------------------------------------------------------------------

    def _upsert_simple(
        self, rows, table, entity, columns, links=None, events_of=None, told=()
    ) -> None:
        """Write the rows of a reference list; `events_of(current, merged)`: the events of the
        use case that saves one in the app (else created or updated, naming the columns, but
        for a change only of the columns `told`, whose own events tell it)."""
        records, link_sets, events = [], {}, []
        if table in admin.UNIQUE_NAMES:
            self._names_free(rows, table)
        for row in rows:
            if row.errors:
                self._outcome(row, "rejected")
                continue
            v = row.values
            current = self.existing.get(row.key(self.file.kind))
            merged = {**(current or {}), **v}
            changed = self.diff(v, current)
            if self.finish(row, current, changed) in ("new", "updated"):
                records.append({c: merged.get(c) for c in columns})
                key = merged[columns[0]]
                if links and links[0] in v:
                    link_sets[key] = merged[links[0]]
                if events_of:
                    events += events_of(current, {c: merged.get(c) for c in (
                        *columns, *links[:1])})  # fmt: skip
                    continue
                if current is not None and set(changed) <= set(told):
                    continue
                action = "created" if current is None else "updated"
                events.append(
                    self.event(
                        entity,
                        key,
                        action,
                        None,
                        merged.get("name"),
                        None if current is None else ", ".join(changed),
                    )
                )
        with self.writing():
            write.upsert(self.conn, table, records, (columns[0],))
            if links:
                write.replace_links(self.conn, links[1], links[2], links[3], link_sets)
        self.append(events)

    def _names_free(self, rows: list[Row], table: str) -> None:
        """A name is one record's once the file is written: a row naming its record like
        another (on record, or in the file) is refused, naming the record that holds it."""
        names = {code: self._name_of(table, v) for code, v in self.catalog[table].items()}
        names |= {r.values["code"]: r.values["name"] for r in rows
                  if not r.errors and r.values.get("name")}  # fmt: skip
        holders: dict[str, list[str]] = {}
        for code, name in names.items():
            holders.setdefault(name, []).append(code)
        for row in rows:
            if row.errors:
                continue
            code, name = row.values["code"], row.values.get("name")
            others = [c for c in holders.get(name, []) if c != code]
            self.obey(row, "name", admin.check_name_free, table, name, others and others[0])

    def _organizations(self, rows: list[Row]) -> None:
        self._upsert_simple(rows, "organizations", "organization", ["code", "name", "kind"])
        changed = {r.values["code"] for r in rows if not r.errors and r.values["kind"] != (
            self.existing.get((r.values["code"],)) or r.values)["kind"]}  # fmt: skip
        people = [e for e, p in self.catalog["experts"].items() if p["organization"] in changed]
        self.refresh_verdicts_by(people, f"organisations imported from {self.file.label}")

    def _domains(self, rows: list[Row]) -> None:
        self._upsert_simple(rows, "domains", "domain", ["code", "name"])

    def _forums(self, rows: list[Row]) -> None:
        for row in rows:
            if "domains" in row.values:
                row.values["domains"] = self.refs(row, "domains", "domains")
        self._upsert_simple(
            [r for r in rows if not self._reject_parsed(r)], "forums", "forum",
            ["code", "name", "level", "scope"], ("domains", "forum_domains", "forum", "domain"),
            lambda current, new: admin.forum_events(self.actor, self.at, current, new),
        )  # fmt: skip

    def _modules(self, rows: list[Row]) -> None:
        for row in rows:
            row.values["domain"] = self.ref(row, "domain", "domains", row.values["domain"])
        self._upsert_simple(
            [r for r in rows if not self._reject_parsed(r)], "modules", "module",
            ["code", "name", "domain"],
        )  # fmt: skip

    def _waves(self, rows: list[Row]) -> None:
        replans, events = [], []
        for row in rows:
            v = row.values
            self.known(row, "organizations", "organizations", v["organizations"])
            old = self.catalog["waves"].get(v["code"])
            if old and old != v["go_live"]:
                if not v.get("replan_reason"):
                    self.fail(row, "replan_reason", _("go_live moves from {old} to {new}: say "
                              "why in replan_reason", old=old, new=v["go_live"]))  # fmt: skip
                else:
                    planned = self.obey(row, "go_live", planning.plan_replan, self.actor,
                                        self.at, {"code": v["code"], "go_live": old},
                                        v["go_live"], v["replan_reason"])  # fmt: skip
                    if planned:
                        replans.append(planned[0])
                        events.append(planned[1])
        good = [r for r in rows if not self._reject_parsed(r)]
        replans = [p for p in replans if any(r.values["code"] == p["wave"] for r in good)]
        for row in good:
            row.values.pop("replan_reason", None)
        self._upsert_simple(
            good,
            "waves",
            "wave",
            ["code", "name", "go_live"],
            ("organizations", "wave_organizations", "wave", "organization"),
            told=("go_live",),  # a moved go-live is told by its replan's event
        )
        with self.writing():
            write.insert(self.conn, "wave_replans", replans)
        self.append(events)

    def _experts(self, rows: list[Row]) -> None:
        records, links, events = [], {"domains": {}, "roles": {}, "forums": {}}, []
        moved: list[str] = []  # experts whose verdicts may count differently now
        admins_after = self._admins_after(rows)
        for row in rows:
            v = row.values
            self.known(row, "organization", "organizations", v["organization"])
            v["domains"] = self.refs(row, "domains", "domains")
            current = self.existing.get((v["email"],))
            if "forums" in v or current is None:  # an absent column keeps what is on record
                v["forums"] = self.refs(row, "forums", "forums") or admin.default_forums(
                    v["domains"], v["roles"], self.catalog["organizations"].get(v["organization"]),
                    self.catalog["forums"], self.catalog["forum_domains"])  # fmt: skip
            if v.get("active") is None:
                v["active"] = True if current is None else current["active"]
            v = {**(current or {}), **v}
            admins = sorted(admins_after | ({v["email"]} if current and current["active"]
                                            and permissions.ADMIN_ROLE in current["roles"] else set()))  # fmt: skip
            self.obey(row, "roles", admin.check_role_change, self.actor, current, v["roles"],
                      v["active"], admins)  # fmt: skip
            changed = self.diff(v, current)
            if self.finish(row, current, changed) not in ("new", "updated"):
                continue
            if current and {"domains", "organization"} & set(changed):
                moved.append(v["email"])
            records.append(
                {
                    "email": v["email"],
                    "name": v["name"],
                    "organization": v["organization"],
                    "allocation_pct": v["allocation_pct"],
                    "active": int(v["active"]),
                }
            )
            for column in links:
                links[column][v["email"]] = v[column]
            events += admin.expert_events(self.actor, self.at, current, {
                **records[-1], **{c: sorted(v[c]) for c in links}})  # fmt: skip
        with self.writing():
            write.upsert(self.conn, "experts", records, ("email",))
            write.replace_links(self.conn, "expert_domains", "expert", "domain", links["domains"])
            write.replace_links(self.conn, "expert_roles", "expert", "role", links["roles"])
            forum_links = links["forums"]
            write.replace_links(self.conn, "forum_members", "expert", "forum", forum_links)
        self.append(events)
        self.refresh_verdicts_by(moved, f"experts imported from {self.file.label}")

    def _admins_after(self, rows: list[Row]) -> set[str]:
        """Who is an active admin once every row of the file is written."""
        admins = {
            key[0]
            for key, r in self.existing.items()
            if r["active"] and permissions.ADMIN_ROLE in r["roles"]
        }
        for row in rows:
            v, current = row.values, self.existing.get((row.values["email"],))
            active = v["active"] if v.get("active") is not None else (current or {}).get(
                "active", True)  # fmt: skip
            if active and permissions.ADMIN_ROLE in v["roles"]:
                admins.add(v["email"])
            else:
                admins.discard(v["email"])
        return admins

    def refresh_verdicts_by(self, emails: list[str], why: str) -> None:
        """Re-derive the decisions whose verdicts these experts gave: their domains or side
        decide whether the verdicts count (as the People page does)."""
        keys = [k for email in emails for k in people_store.decisions_with_verdicts_by(
            self.conn, email)]  # fmt: skip
        self.refresh(keys, why)

    # Decisions ------------------------------------------------------------------------------

    def _decisions(self, rows: list[Row]) -> None:
        DecisionRows(self).apply(rows)

    # Evidence -------------------------------------------------------------------------------

    def _demos(self, rows: list[Row]) -> None:
        records, links, events, affected = (
            [],
            {"decisions": {}, "attendees": {}, "invitees": {}},
            [],
            set(),
        )
        self.permitted(rows, "key", permissions.check, self.actor, "record_demo")
        for row in rows:
            v = row.values
            v["module"] = self.ref(row, "module", "modules", v["module"])
            self.known(row, "decisions", "decisions", v["decisions"])
            for column in ("presenter", "attendees", "invitees"):
                self.known(row, column, "experts", v.get(column))
            current = self.existing.get((v["key"],))
            merged = {**(current or {"notes": None, "recording_url": None, "invitees": []}), **v}
            changed = self.diff(v, current)
            planned = None
            if changed and not row.errors:
                on_record = evidence_store.get_demo(self.conn, v["key"]) if current else None
                planned = self.obey(row, "key", evidence.plan_demo, self.conn, on_record,
                                    module=v["module"], date=v["date"], decisions=v["decisions"],
                                    presenter=v["presenter"], invitees=merged["invitees"],
                                    attendees=v["attendees"], notes=merged["notes"] or "",
                                    recording_url=merged["recording_url"] or "",
                                    start_time=v.get("start_time"),
                                    duration_min=v.get("duration_min"), place=v.get("place"),
                                    meeting_url=v.get("meeting_url"), imported=True,
                                    lookups=self.lookups)  # fmt: skip
            if self.finish(row, current, changed) not in ("new", "updated"):
                continue
            record, invitees, attendees = planned
            records.append({"key": v["key"], **record,
                            "cancelled": int(bool(merged.get("cancelled")))})  # fmt: skip
            links["decisions"][v["key"]] = v["decisions"]
            links["attendees"][v["key"]] = attendees
            links["invitees"][v["key"]] = invitees
            events.append(evidence.demo_event(self.actor, self.at, v["key"], current, record,
                                              invitees, attendees))  # fmt: skip
            affected |= set(v["decisions"]) | set(current["decisions"] if current else [])
        with self.writing():
            write.upsert(self.conn, "demos", records, ("key",))
            for column, table in (("decisions", "demo_decisions"),
                                  ("attendees", "demo_attendees"),
                                  ("invitees", "demo_invitees")):  # fmt: skip
                member = "decision" if column == "decisions" else "expert"
                write.replace_links(self.conn, table, "demo", member, links[column])
        self.append(events)
        self.refresh(affected, f"demos imported from {self.file.label}")

    def _approvals(self, rows: list[Row]) -> None:
        ids = transfer.evidence_ids(self.conn, "approvals", ("decision", "expert", "date"))
        keys = sorted({r.values["decision"] for r in rows} & set(self.catalog["decisions"]))
        round_ = _Rounds(self, keys)
        added: list[dict] = []
        for row in rows:
            v = row.values
            decision = self.catalog["decisions"].get(v["decision"])
            person = self.catalog["experts"].get(v["expert"])
            if decision is None:
                self.fail(row, "decision", _("no decision {key}", key=v["decision"]))
            if person is None:
                self.fail(row, "expert", _("{email} is not in the directory", email=v["expert"]))
            self.obey(row, "expert", evidence.check_verdict_author, self.actor, v["expert"])
            self.not_future(row, "date")
            current = self.existing.get(row.key(self.file.kind))
            if current and current["verdict"] != v["verdict"]:
                self.fail(row, "verdict", _("{email} recorded {verdict} on {date}; a verdict "
                          "on record does not change, record a new one with its own date",
                          email=v["expert"], verdict=current["verdict"],
                          date=v["date"]))  # fmt: skip
            if current is None and not row.errors and round_.repeats(row):
                self._outcome(row, "unchanged", [])
                continue
            if current is None and not row.errors:
                round_.verdict(row)
            changed = self.diff(v, current)
            if self.finish(row, current, changed) == "updated":
                with self.writing():
                    write.update_where(self.conn, "approvals",
                                          {"id": ids[row.key(self.file.kind)]},
                                          {"comment": v.get("comment") or ""})  # fmt: skip
            elif current is None and not row.errors:
                added.append({"decision": v["decision"], "expert": v["expert"],
                              "verdict": v["verdict"], "date": v["date"],
                              "comment": v.get("comment") or ""})  # fmt: skip
        with self.writing():
            new_ids = write.insert_numbered(self.conn, "approvals", added)
        self.append([
            evidence.verdict_event(self.actor, self.at, i, a)
            for i, a in zip(new_ids, added, strict=True)
        ])  # fmt: skip
        affected = {a["decision"] for a in added}
        self.refresh(affected, f"verdicts imported from {self.file.label}")

    def _test_cases(self, rows: list[Row]) -> None:
        records, links, events, affected = [], {}, [], set()
        self.permitted(rows, "key", permissions.check, self.actor, "save_test_case")
        for row in rows:
            v = row.values
            self.known(row, "decisions", "decisions", v["decisions"])
            current = self.existing.get((v["key"],))
            changed = self.diff(v, current)
            if self.finish(row, current, changed) not in ("new", "updated"):
                continue
            records.append({"key": v["key"], "title": v["title"], "kind": v["kind"]})
            links[v["key"]] = v["decisions"]
            events.append(evidence.test_case_event(self.actor, self.at, v["key"], current,
                                                   v["decisions"], v["title"]))  # fmt: skip
            affected |= set(v["decisions"]) | set(current["decisions"] if current else [])
        with self.writing():
            write.upsert(self.conn, "test_cases", records, ("key",))
            write.replace_links(self.conn, "test_case_decisions", "test_case", "decision",
                                   links)  # fmt: skip
        self.append(events)
        self.refresh(affected, f"test cases imported from {self.file.label}")

    def _defects(self, rows: list[Row]) -> None:
        records, events = [], []
        for row in rows:
            v = row.values
            if v.get("decision"):
                self.known(row, "decision", "decisions", v["decision"])
            if v.get("test_case"):
                self.known(row, "test_case", "test_cases", v["test_case"])
            current = self.existing.get((v["key"],))
            merged = {**(current or {}), **v}
            merged["opened"] = merged.get("opened") or self.today
            changed = self.diff(v, current)
            if self.finish(row, current, changed) not in ("new", "updated"):
                continue
            records.append({c: merged.get(c) for c in (
                "key", "title", "severity_vendor", "severity_clinical", "status", "decision",
                "test_case", "opened", "closed")})  # fmt: skip
            events.append(evidence.defect_event(self.actor, self.at, records[-1], current))
        with self.writing():
            write.upsert(self.conn, "defects", records, ("key",))
        self.append(events)

    def _test_runs(self, rows: list[Row]) -> None:
        ids = transfer.evidence_ids(self.conn, "test_runs", ("test_case", "date", "tester"))
        added: list[dict] = []
        self.permitted(rows, "tester", permissions.check, self.actor, "record_test_run")
        for row in rows:
            v = row.values
            current = self.existing.get(row.key(self.file.kind))
            case = v["test_case"]
            self.obey(row, "test_case", evidence.check_run_case, case,
                      known=case in self.catalog["test_cases"],
                      covers=case in self.catalog["covered_cases"])  # fmt: skip
            self.known(row, "tester", "experts", v["tester"])
            if not row.errors and v["tester"] != (current or {}).get("tester"):
                self.obey(row, "tester", services.check_person_may, v["tester"],
                          self.person(v["tester"]), "tester", "record_test_run")  # fmt: skip
            if v.get("defect"):
                self.known(row, "defect", "defects", v["defect"])
            self.not_future(row, "date")
            if current and current["result"] != v["result"]:
                self.fail(row, "result", _("this run is on record as {result}; a run's result "
                          "does not change, record a new run",
                          result=current["result"]))  # fmt: skip
            changed = self.diff(v, current)
            status = self.finish(row, current, changed)
            fields = {"defect": v.get("defect"), "notes": v.get("notes") or ""}
            if status == "updated":
                with self.writing():
                    write.update_where(
                        self.conn, "test_runs", {"id": ids[row.key(self.file.kind)]}, fields
                    )
            elif status == "new":
                added.append({"test_case": case, "date": v["date"], "result": v["result"],
                              "tester": v["tester"], **fields})  # fmt: skip
        with self.writing():
            new_ids = write.insert_numbered(self.conn, "test_runs", added)
        self.append([
            evidence.run_event(self.actor, self.at, i, r)
            for i, r in zip(new_ids, added, strict=True)
        ])  # fmt: skip
        covered = transfer.decisions_covered(self.conn, {r["test_case"] for r in added})
        self.refresh(covered, f"test runs imported from {self.file.label}")

    # Readiness ------------------------------------------------------------------------------

    def _criteria(self, rows: list[Row]) -> None:
        records, events = [], self._defaults_stored(rows)
        if events:  # a row of a default criterion now edits the one stored
            self.existing = existing_records(self.conn, self.file.kind)
        self.permitted(rows, "wave", permissions.check, self.actor, "save_criterion")
        for row in rows:
            v = row.values
            self.known(row, "wave", "waves", v["wave"])
            current = self.existing.get(row.key(self.file.kind))
            changed = self.diff(v, current)
            record = None
            if changed and not row.errors:
                stored = current and {c: current.get(c) for c in planning.CRITERION_FIELDS}
                missing = "waiver_until" if v.get("waiver_reason") else "waiver_reason"
                record = self.obey(row, missing, planning.checked_criterion, self.conn, v,
                                   stored, self.lookups)  # fmt: skip
            if self.finish(row, current, changed) not in ("new", "updated"):
                continue
            records.append({"wave": v["wave"], "code": v["code"], **record})
            events += planning.criterion_events(self.actor, self.at, v["wave"], v["code"],
                                                stored, record)[1]  # fmt: skip
        with self.writing():
            write.upsert(self.conn, "criteria", records, ("wave", "code"))
        self.append(events)

    def _defaults_stored(self, rows: list[Row]) -> list[dict]:
        """A wave with no stored criteria is evaluated on the default set: its first criterion
        stored, or measurement, stores that set first, as in the app. Returns the events."""
        waves = sorted({r.values["wave"] for r in rows} & set(self.catalog["waves"]))
        return [
            self.event(e["entity"], e["entity_key"], e["action"], None, e["to_value"], e["reason"])
            for wave in waves
            for e in planning.materialise_defaults(self.conn, wave)
        ]

    def _measurements(self, rows: list[Row]) -> None:
        events = self._defaults_stored(rows)
        ids = transfer.evidence_ids(self.conn, "measurements", ("wave", "criterion", "date"))
        for row in rows:
            v = row.values
            self.known(row, "reported_by", "experts", v["reported_by"])
            self.not_future(row, "date")
            current = self.existing.get(row.key(self.file.kind))
            merged = {**(current or {}), **v}
            changed = self.diff(v, current)
            if changed and not row.errors:
                criterion = analytics.get_criterion(self.conn, v["wave"], v["criterion"])
                self.obey(row, "criterion", planning.check_measurement, self.actor, criterion,
                          v["wave"], v["criterion"], v["reported_by"],
                          self.person(v["reported_by"]))  # fmt: skip
            status = self.finish(row, current, changed)
            fields = {"value": v["value"], "reported_by": v["reported_by"],
                      "evidence_url": merged.get("evidence_url") or ""}  # fmt: skip
            number = ids.get(row.key(self.file.kind))
            if status == "updated":
                with self.writing():
                    write.update_where(self.conn, "measurements", {"id": number}, fields)
            elif status == "new":
                with self.writing():
                    [number] = write.insert_numbered(self.conn, "measurements", [
                        {"wave": v["wave"], "criterion": v["criterion"], "date": v["date"],
                         **fields}])  # fmt: skip
            if status in ("new", "updated") and number is not None:
                events.append(planning.measurement_event(self.actor, self.at, number, v))
        self.append(events)

    # After every file -----------------------------------------------------------------------

    def _mark_ready(self) -> None:
        """Ready is marked last, once the evidence of every file says tested."""
        events = []
        stored = decision_store.stored_stages(self.conn) if self.pending_ready else {}
        for key, (file, row, ready_at) in self.pending_ready.items():
            self.file = file
            if stored[key] != "tested":
                continue  # the stage check says what is missing
            planned = self.obey(row, "stage", services.plan_manual_stage,
                                {**row.values, "stage": "tested"}, self.actor, self.at,
                                "mark_ready", reason=f"marked ready by import of {file.label}",
                                severe_defects=decision_store.open_severe_defects(self.conn, key))  # fmt: skip
            if planned is None:
                continue
            changes, moved = planned
            with self.writing():
                decision_store.update_decision(
                    self.conn, key, {**changes, "ready_at": ready_at or changes["ready_at"]}
                )
            events.append(moved)
        self.append(events)

    def outcome_of(self, file, row: Row) -> RowOutcome:
        """The outcome recorded for a row, to amend once every file is written."""
        if file.report.name not in self.outcomes:
            self.outcomes[file.report.name] = {o.number: o for o in file.report.rows}
        return self.outcomes[file.report.name][row.number]

    def _check_stages(self) -> None:
        """Every decision row's stage must be the one the workflow and the evidence give."""
        rows = [(f, r) for f, r in self.decision_rows if not r.errors]
        if not rows:
            return
        stored = decision_store.stored_stages(self.conn)
        wrong = []
        for file, row in rows:
            key, target = row.values["key"], row.values["stage"]
            if stored[key] == target:
                continue
            if target == "built" and (key in self.built_here or STAGE_RANK.get(
                    stored[key], 0) > STAGE_RANK["built"]):  # fmt: skip
                # marked built, by this import or before; the evidence carried it on
                row.notes.append(_("built; the evidence takes it on to {stage}", stage=stored[key]))
                self.outcome_of(file, row).notes = list(row.notes)
                continue
            wrong.append((file, row))
        facts = decision_store.decision_facts(self.conn, [r.values["key"] for _fact, r in wrong])
        for file, row in wrong:
            self.file = file
            key = row.values["key"]
            target, actual = row.values["stage"], stored[key]
            missing = explain_stage(target, actual, facts[key], self.rule)
            self.fail(row, "stage", words.stage_explanation_text(target, actual, missing))
            outcome = self.outcome_of(file, row)
            outcome.status, outcome.errors = "rejected", [i.message for i in row.errors]
            outcome.notes = []


class _Rounds:
    """The verdicts of an approvals file, row by row as the app would record them: a verdict
    dated in its decision's current build round must pass evidence.check_verdict against the
    stage the decision has reached by then (the rows before it included); an earlier one is
    history that counts for nothing, but its author must have been an expert of the domain."""

    def __init__(self, applier: Applier, keys: list[str]) -> None:
        self.a = applier
        self.facts = decision_store.decision_facts(applier.conn, keys)
        self.stages = decision_store.stored_stages(applier.conn, keys)
        self.seq = 10**12  # after every verdict on record

    def as_on_record(self, email: str) -> Actor:
        """The expert as the directory holds them, active or not."""
        p = self.a.catalog["experts"][email]
        return Actor(email=email, name=email, roles=frozenset(p["roles"]),
                     domains=frozenset(p["domains"]), organization=p["organization"])  # fmt: skip

    def repeats(self, row: Row) -> bool:
        """The expert's latest verdict in the current round, given again: not stored twice."""
        v, fact = row.values, self.facts[row.values["decision"]]
        if not (fact.base_stage == "built" and counts_from(v["date"], fact.built_at)):
            return False
        mine = [f for f in round_verdicts(fact) if f.expert == v["expert"]]
        latest = max(mine, key=lambda f: evidence_order(f.date, f.seq), default=None)
        held_since = fact.stage_cap_since if fact.stage_cap else None
        return evidence.repeats_latest(
            latest and {"verdict": latest.verdict, "date": latest.date}, v["verdict"], held_since
        )

    def verdict(self, row: Row) -> None:
        a, v = self.a, row.values
        key, expert = v["decision"], v["expert"]
        fact = self.facts[key]
        domain = a.catalog["decisions"][key]["domain"]
        if not (fact.base_stage == "built" and counts_from(v["date"], fact.built_at)):
            a.obey(row, "expert", evidence.check_verdict,
                   {"stage": "demonstrated", "domain": domain, "built_at": None}, expert,
                   self.as_on_record(expert), v["verdict"], v.get("comment") or "",
                   v["date"])  # fmt: skip
            return
        decision = {"stage": self.stages[key], "domain": domain, "built_at": fact.built_at}
        a.obey(row, "expert", evidence.check_verdict, decision, expert, a.person(expert),
               v["verdict"], v.get("comment") or "", v["date"])  # fmt: skip
        if row.errors:
            return
        p = a.catalog["experts"][expert]
        side = SIDE_OF_KIND[a.catalog["organizations"][p["organization"]]]
        self.seq += 1
        given = VerdictFact(expert, v["verdict"], v["date"], side, domain in p["domains"],
                            self.seq)  # fmt: skip
        fact = replace(fact, verdicts=(*fact.verdicts, given))
        stage = derive_stage(fact, a.rule)
        if stage == "in_build":  # changes requested: the round is over
            fact = replace(fact, base_stage="in_build", built_at=None)
        self.facts[key], self.stages[key] = fact, stage
