"""Decision rows of an import, through the workflow: a new key is proposed and taken along
the manual stages it claims (decide, start build, mark built, withdraw); an existing one is
edited, escalated, decided, revised or moved on as the app would do it. Stages from `built`
on are left to the evidence; the importer checks them once every file is written. The columns
version, version_started_at, built_at, ready_at, stage_cap and stage_cap_since restore a new
decision's state; a decision on record keeps its own."""

from __future__ import annotations

from decisions import services
from decisions.i18n import _
from decisions.io.kinds import Row, plain
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store
from decisions.store import write
from decisions.workflow import check_action, norm_time

_PATH = ("proposed", "decided", "in_build", "built")
# Stored columns an update touches, as the file's column a person changed (None: internal).
_SHOWN_AS = {"base_stage": None, "stage_since": None, "built_at": "stage", "ready_at": "stage",
             "all_organizations": "organizations", "version": None,
             "version_started_at": None}  # fmt: skip
_STEP_ACTION = {"in_build": "start_build", "built": "mark_built"}
# The fields services.validated_decision_fields rules on.
_RULED = ("title", "domain", "module", "forum", "scope", "criticality", "question", "rationale",
          "needed_by", "owner", "organizations")  # fmt: skip
_EDITABLE = ("title", "question", "needed_by", "owner", "criticality", "organizations",
             "module", "scope")  # fmt: skip


class DecisionRows:
    def __init__(self, applier) -> None:
        self.a = applier
        self.new_records: list[dict] = []
        self.organizations: dict[str, list[str]] = {}
        self.deciders: dict[str, list[str]] = {}
        self.versions: list[dict] = []
        self.events: list[dict] = []
        self.touched: list[str] = []
        # rule fields edited after built: (row, key, stage before), held once all is written
        self.holds: list[tuple[Row, str, str]] = []
        self.references = CatalogReferences(applier.catalog)

    def apply(self, rows: list[Row]) -> None:
        a = self.a
        for row in rows:
            a.decision_rows.append((a.file, row))
            self._references(row)
            current = a.existing.get((row.values["key"],))
            changed: list[str] = []
            if not row.errors:
                if current is None:
                    self._new(row)
                else:
                    changed = self._update(row, current)
            a.finish(row, current, changed)
        with a.writing():
            write.insert(a.conn, "decisions", self.new_records)
            write.replace_links(a.conn, "decision_organizations", "decision",
                                   "organization", self.organizations)  # fmt: skip
            write.replace_links(a.conn, "decision_deciders", "decision", "expert",
                                   self.deciders)  # fmt: skip
            write.insert(a.conn, "decision_versions", self.versions)
            self._hold_stages()
        a.append(self.events)
        a.refresh(self.touched, f"decisions imported from {a.file.label}")

    # Checks -----------------------------------------------------------------------------------

    def _references(self, row: Row) -> None:
        a, v = self.a, row.values
        for column, table in (("domain", "domains"), ("module", "modules"), ("forum", "forums")):
            v[column] = a.resolve(table, v[column])
        if [o.upper() for o in v["organizations"]] == ["ALL"]:
            v["organizations"] = ["ALL"]
        self._fields_by_the_rule(row, a.existing.get((v["key"],)))
        a.known(row, "decided_by", "experts", v.get("decided_by"))
        version, started = v.get("version") or 1, v.get("version_started_at")
        if version > 1 and not started:
            a.fail(row, "version_started_at", _("version {version} needs the date it started",
                                                version=version))  # fmt: skip
        if version == 1 and started:
            a.fail(row, "version_started_at", _("version 1 has no start date; leave it empty"))
        if bool(v.get("stage_cap")) != bool(v.get("stage_cap_since")):
            column = "stage_cap_since" if v.get("stage_cap") else "stage_cap"
            a.fail(row, column, _("a held stage needs both stage_cap and stage_cap_since"))

    def _fields_by_the_rule(self, row: Row, current: dict | None) -> None:
        """The row's fields by the app's rule (services.validated_decision_fields): all of a
        new row's, the changed ones of a decision on record. When it refuses, each field is
        asked alone, so that every problem stands in the column it is about."""
        a, v = self.a, row.values
        fields = {c: v.get(c) for c in _RULED if c in v}
        before = _as_stored(current) if current else {**fields, "all_organizations": int(
            fields.get("organizations") == ["ALL"])}  # fmt: skip
        if current:
            fields = {c: value for c, value in fields.items() if not _same_text(v, current, c)}
        try:
            services.validated_decision_fields(
                self.references, fields, new=current is None, current=before
            )
            return
        except WorkflowError:
            pass
        told: set[str] = set()
        for column in fields:
            alone = {column: fields[column]} | (
                {"domain": v["domain"]} if column == "module" else {})  # fmt: skip
            try:
                services.validated_decision_fields(
                    self.references, alone, new=False, current=before
                )
            except WorkflowError as refused:
                for problem in refused.problems:
                    if problem not in told:
                        told.add(problem)
                        a.fail(row, column, problem)

    def _may(self, row: Row, action: str, stage: str, decision: dict) -> bool:
        """Whether the importing person may take this workflow action now: the app's own rule
        (workflow.check_action: the stage it starts from in workflow.ACTIONS, who may in
        permissions.PERMISSIONS), its refusal the row's error."""
        a = self.a
        a.obey(row, "stage", check_action, action, stage, a.actor, forum=decision["forum"],
               domain=decision["domain"])  # fmt: skip
        return not row.errors

    # A new key ----------------------------------------------------------------------------

    def _new(self, row: Row) -> None:
        a, v = self.a, row.values
        key, target = v["key"], v["stage"]
        decided = target not in ("proposed", "withdrawn") or (
            target == "withdrawn" and bool(v.get("decision"))
        )
        if not decided and (v.get("decision") or v.get("decided_by")):
            a.fail(row, "decision", _("a proposed decision has no decision text or decided_by "
                   "yet; give the stage decided to record them"))  # fmt: skip
        if decided:
            a.not_future(row, "decided_at")
        planned = None if row.errors else a.obey(row, "key", services.plan_proposal,
                                                 _proposal(v), a.actor, a.at)  # fmt: skip
        if planned is None:
            return
        record, created = planned
        changes: dict = {}
        events = [created]
        decision = self._decide_new(row, record, changes, events) if decided else ([], None)
        if decision is None:
            return
        base = target if target in ("proposed", "decided", "in_build", "withdrawn") else "built"
        stage = record["stage"] if not decided else "decided"
        if base == "withdrawn":
            stage = self._step(row, stage, "withdraw", changes, events,
                               reason=v.get("withdrawn_reason"))  # fmt: skip
        for step in _PATH[2 : _PATH.index(base) + 1] if base in _PATH else ():
            stage = stage and self._step(row, stage, _STEP_ACTION[step], changes, events)
        if stage is None:
            return
        self.new_records.append({**record, **changes, **self._restored(row, base, decided)})
        deciders, version = decision
        if version:
            self.deciders[key] = deciders
            self.versions.append(version)
        self.organizations[key] = [o for o in v["organizations"] if o != "ALL"]
        self.events += events
        if base == "built":
            self.touched.append(key)
            a.built_here.add(key)
        if target == "ready":
            a.pending_ready[key] = (a.file, row, v.get("ready_at"))

    def _decide_new(
        self, row: Row, record: dict, changes: dict, events: list
    ) -> tuple[list[str], dict] | None:
        """A new key given decided: the app's rule of deciding (services.plan_decide), at the
        version the file restores; its deciders and version, or None when refused."""
        a, v = self.a, row.values
        planned = a.obey(row, "stage", services.plan_decide, record, a.actor, a.at,
                         decision_text=v.get("decision"), rationale=v.get("rationale") or "",
                         decided_by=v.get("decided_by") or [],
                         members=a.catalog["forum_members"].get(v["forum"], ()),
                         decided_on=v.get("decided_at") or a.today)  # fmt: skip
        if planned is None:
            return None
        decided, deciders, version, moved = planned
        number = v.get("version") or 1
        changes.update(decided)
        events.append(moved)
        if number > 1:
            events.append(a.event("decision", v["key"], "revised", 1, number,
                                  f"imported at version {number}"))  # fmt: skip
        return deciders, {**version, "version": number, "reason": "imported",
                          "started_at": v.get("version_started_at")}  # fmt: skip

    def _restored(self, row: Row, base: str, decided: bool) -> dict:
        """The columns a new row restores of the decision's state: its version, its rounds
        and its held stage."""
        a, v = self.a, row.values
        decided_at = v.get("decided_at") or (a.today if decided else None)
        built_at = v.get("built_at")
        if base == "built" and not built_at:
            # the round began no later than the text was decided, so that the evidence of a
            # programme in progress, imported with it, counts
            built_at = max((d for d in (decided_at, v.get("version_started_at")) if d),
                           key=norm_time)  # fmt: skip
            row.notes.append(_("no built_at: its build round is taken to begin {date}",
                                date=built_at))  # fmt: skip
        return {"stage": base, "base_stage": base, "built_at": built_at, "ready_at": None,
                "version": v.get("version") or 1,
                "version_started_at": v.get("version_started_at"), "decided_at": decided_at,
                "stage_cap": v.get("stage_cap"),
                "stage_cap_since": v.get("stage_cap_since")}  # fmt: skip

    # An existing key --------------------------------------------------------------------------

    def _update(self, row: Row, current: dict) -> list[str]:
        """Apply the row's changes to an existing decision; returns the columns changed."""
        a, v = self.a, row.values
        key, target, stage = v["key"], v["stage"], current["stage"]
        if stage == "withdrawn":
            if target != "withdrawn" or a.diff(v, current, ignore={"withdrawn_reason"}):
                a.fail(row, "stage", _("a withdrawn decision does not change"))
            return []
        if not _same_text(v, current, "domain"):
            a.fail(row, "domain", _("the domain of {key} is {domain}; a decision does not move "
                   "to another domain", key=key, domain=current["domain"]))  # fmt: skip
        text_changed = not _same_text(v, current, "decision")
        rationale_changed = not _same_text(v, current, "rationale")
        deciding = stage == "proposed" and target not in ("proposed", "withdrawn")
        revising = stage != "proposed" and (text_changed or rationale_changed)
        if revising and target == stage:
            # the exported stage, with a new text: revising sends it back to decided
            target = v["stage"] = "decided"
        if stage == "proposed" and not deciding and (v.get("decision") or v.get("decided_by")):
            a.fail(row, "decision", _("a proposed decision has no decision text or decided_by "
                   "yet; give the stage decided to record them"))  # fmt: skip
        if not deciding and stage != "proposed":
            for column in ("decided_by", "decided_at"):
                if column in v and not _same_text(v, current, column):
                    a.fail(row, column, _("{column} was recorded when {key} was decided; it "
                           "does not change (revise the decision text instead)",
                           column=column, key=key))  # fmt: skip
        changes: dict = {}
        events: list[dict] = []
        self._forum(row, current, changes, events)
        if deciding:
            a.not_future(row, "decided_at")
        if row.errors:
            return []
        escalated = len(events)
        guarded = self._edits(row, current, changes, events, proposed=stage == "proposed")
        if len(events) > escalated and not self._may(row, "edit", stage, current):
            return []
        if deciding:
            stage = self._decide(row, current, changes, events)
        elif revising:
            stage = self._revise(row, current, changes, events)
            if row.errors:
                return []
            version = current["version"] + 1
            row.notes.append(
                _("revised to version {version}; the stage stays decided", version=version)
                if current["stage"] == "decided"
                else _(
                    "revised to version {version}; the stage is now decided (was {stage})",
                    version=version,
                    stage=current["stage"],
                )  # fmt: skip
            )
        stage = self._move(row, stage, changes, events)
        if row.errors:
            return []
        if guarded and stage == current["stage"]:
            self.holds.append((row, key, stage))
        if changes:
            with a.writing():
                decision_store.update_decision(a.conn, key, changes)
        self.events += events
        if changes or key in self.organizations:
            self.touched.append(key)
        if target == "ready" and current["stage"] != "ready":
            a.pending_ready[key] = (a.file, row, None)
        shown = {_SHOWN_AS.get(c, c) for c in changes} - {None}
        return sorted(shown | ({"stage"} if target != current["stage"] else set()))

    def _forum(self, row: Row, current: dict, changes: dict, events: list) -> None:
        """A new forum escalates the proposal, by the app's rule (services.plan_escalate)."""
        a, v = self.a, row.values
        old, new = current["forum"], v["forum"]
        if new == old:
            return
        forums = a.catalog["forums"]
        planned = a.obey(row, "forum", services.plan_escalate, current, a.actor, a.at,
                         to_forum=new, reason=f"escalated by import of {a.file.label}",
                         current={"code": old, **forums[old]},
                         target=forums.get(new) and {"code": new, **forums[new]})  # fmt: skip
        if planned:
            changes.update(planned[0])
            events.append(planned[1])

    def _edits(self, row: Row, current: dict, changes: dict, events: list, *, proposed: bool):
        """The row's edits of the decision's details, by the app's rule of editing
        (services.plan_edit): from `built` on, an edit of a field the approval rule reads
        carries the import's reason and never raises the stage (see _hold_stages). Returns
        whether it is such an edit."""
        a, v = self.a, row.values
        editable = _EDITABLE + (("rationale",) if proposed else ())
        record: dict = {}
        for column in editable:
            if column not in v or _same_text(v, current, column):
                continue
            if column == "organizations":
                everyone = v[column] == ["ALL"]
                record.update(all_organizations=int(everyone),
                              organizations=[] if everyone else v[column])  # fmt: skip
            else:
                record[column] = v[column] or "" if column in ("question", "rationale") else (
                    v[column])  # fmt: skip
        reason = f"changed by import of {a.file.label} row {row.number}"
        planned = a.obey(row, "stage", services.plan_edit, _as_stored(current), a.actor, a.at, record,
                         reason=reason)  # fmt: skip
        if not planned:
            return False
        changed, edited, shown = planned
        changes.update({c: value for c, value in changed.items() if c != "organizations"})
        if "organizations" in changed:
            changes["all_organizations"] = record["all_organizations"]
            self.organizations[v["key"]] = record["organizations"]
        events += edited
        return shown is not None

    def _hold_stages(self) -> None:
        """Once the rows are written: a rule field edited after built keeps or lowers the
        stage, never raises it (services.hold_stage), until evidence dated after the import."""
        a = self.a
        for row, key, stage in self.holds:
            if services.hold_stage(a.conn, key, stage, a.at):
                row.notes.append(_("held at {stage}: the rule fields changed; evidence dated "
                                   "after this import carries it on", stage=stage))  # fmt: skip
                a.outcome_of(a.file, row).notes = list(row.notes)

    def _decide(self, row: Row, current: dict, changes: dict, events: list) -> str:
        a, v = self.a, row.values
        forum = changes.get("forum", current["forum"])
        planned = a.obey(row, "stage", services.plan_decide, {**current, "forum": forum},
                         a.actor, a.at, decision_text=v.get("decision"),
                         rationale=v.get("rationale"),
                         decided_by=v.get("decided_by") or [],
                         members=a.catalog["forum_members"].get(forum, ()),
                         decided_on=v.get("decided_at") or a.today)  # fmt: skip
        if planned is None:
            return current["stage"]
        decided, deciders, version, moved = planned
        changes.update(decided)
        self.deciders[v["key"]] = deciders
        self.versions.append(version)
        events.append(moved)
        return "decided"

    def _revise(self, row: Row, current: dict, changes: dict, events: list) -> str:
        a, v = self.a, row.values
        planned = a.obey(row, "decision", services.plan_revise, current, a.actor, a.at,
                         decision_text=v.get("decision"),
                         rationale=v.get("rationale") or "" if "rationale" in v else None,
                         reason=f"revised by import of {a.file.label}")  # fmt: skip
        if planned is None:
            return current["stage"]
        revised, version, revision_events = planned
        changes.update(revised)
        self.versions.append(version)
        events += revision_events
        return "decided"

    def _move(self, row: Row, stage: str, changes: dict, events: list) -> str:
        """The manual steps from `stage` to the row's stage: start build, mark built,
        withdraw. Stages past built are the evidence's."""
        a, v = self.a, row.values
        target, key = v["stage"], v["key"]
        if target == "withdrawn":
            return self._step(row, stage, "withdraw", changes, events,
                              reason=v.get("withdrawn_reason")) or stage  # fmt: skip
        base = stage if stage in _PATH else "built"
        goal = target if target in _PATH else "built"
        if _PATH.index(goal) < _PATH.index(base):
            a.fail(
                row,
                "stage",
                _(
                    "cannot go from {stage} back to {target}: only the evidence (a "
                    "changes_requested verdict) or a revised decision text moves it back",
                    stage=stage,
                    target=target,
                ),
            )
            return stage
        if base == "proposed" and goal != "proposed":
            return stage  # _decide was refused; its error says why
        for step in _PATH[_PATH.index(base) + 1 : _PATH.index(goal) + 1]:
            if not self._step(row, stage, _STEP_ACTION[step], changes, events):
                return stage
            if step == "built":
                a.built_here.add(key)
            stage = step
        return stage

    def _step(self, row: Row, stage: str, action: str, changes: dict, events: list,
              reason: str | None = "") -> str | None:  # fmt: skip
        """One manual step by the app's rule (services.plan_manual_stage); the new stage, or
        None when refused (the row's error says why)."""
        a = self.a
        planned = a.obey(row, "stage", services.plan_manual_stage, {**row.values, "stage": stage},
                         a.actor, a.at, action, reason=reason)  # fmt: skip
        if planned is None:
            return None
        stage_columns, moved = planned
        changes.update(stage_columns)
        events.append(moved)
        return stage_columns["stage"]


class CatalogReferences(services.References):
    """The reference lists and the directory as an import's catalog holds them."""

    def __init__(self, catalog: dict) -> None:
        self.catalog = catalog

    def unknown_codes(self, table: str, codes: list[str]) -> list[str]:
        return [c for c in codes if c not in self.catalog[table]]

    def module_domain(self, module: str) -> str | None:
        return (self.catalog["modules"].get(module) or {}).get("domain")

    def unknown_emails(self, emails: list[str]) -> list[str]:
        return [e for e in emails if e not in self.catalog["experts"]]

    def organization_kinds(self) -> dict[str, str]:
        return self.catalog["organizations"]


def _as_stored(current: dict) -> dict:
    """A decision on record as the use cases read it: its organisations a list, ALL as
    all_organizations."""
    on_record = list(current.get("organizations") or [])
    everyone = on_record == ["ALL"]
    return {**current, "all_organizations": int(everyone),
            "organizations": [] if everyone else on_record}  # fmt: skip


def _proposal(values: dict) -> dict:
    """A new row's fields as a proposal's record."""
    return {
        "key": values["key"], "title": values["title"], "domain": values["domain"],
        "module": values["module"], "forum": values["forum"], "scope": values["scope"],
        "all_organizations": int(values["organizations"] == ["ALL"]),
        "criticality": values["criticality"], "question": values.get("question") or "",
        "decision": "", "rationale": values.get("rationale") or "",
        "needed_by": values.get("needed_by"), "owner": values.get("owner"),
        "withdrawn_reason": None, "decided_at": None,
    }  # fmt: skip


def _same_text(values: dict, current: dict, column: str) -> bool:
    if column not in values:
        return True
    new, old = values[column], current.get(column)
    if isinstance(new, list) or isinstance(old, list):
        return sorted(new or []) == sorted(old or [])
    return plain(new) == plain(old)
