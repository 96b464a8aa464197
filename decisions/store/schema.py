"""The schema, as numbered migrations applied in order by sqlite-utils."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("decisions")

SCHEMA_V1 = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE organizations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hospital', 'municipality', 'gp_office'))
);
CREATE TABLE domains (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE forums (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    level INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    scope TEXT NOT NULL CHECK (scope IN ('hospital', 'municipality', 'joint'))
);
CREATE TABLE forum_domains (
    forum TEXT NOT NULL REFERENCES forums(code) ON UPDATE CASCADE,
    domain TEXT NOT NULL REFERENCES domains(code) ON UPDATE CASCADE,
    PRIMARY KEY (forum, domain)
);
CREATE TABLE modules (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL REFERENCES domains(code) ON UPDATE CASCADE
);
CREATE TABLE waves (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    go_live TEXT NOT NULL,
    row_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE wave_organizations (
    wave TEXT NOT NULL REFERENCES waves(code) ON UPDATE CASCADE,
    organization TEXT NOT NULL REFERENCES organizations(code) ON UPDATE CASCADE,
    PRIMARY KEY (wave, organization)
);
CREATE TABLE wave_replans (
    id INTEGER PRIMARY KEY,
    wave TEXT NOT NULL REFERENCES waves(code) ON UPDATE CASCADE,
    old_go_live TEXT NOT NULL,
    new_go_live TEXT NOT NULL,
    reason TEXT NOT NULL,
    replanned_by TEXT NOT NULL,
    replanned_at TEXT NOT NULL
);
CREATE TABLE experts (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    organization TEXT NOT NULL REFERENCES organizations(code) ON UPDATE CASCADE,
    allocation_pct INTEGER NOT NULL CHECK (allocation_pct BETWEEN 1 AND 100),
    active INTEGER NOT NULL DEFAULT 1,
    row_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE expert_domains (
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    domain TEXT NOT NULL REFERENCES domains(code) ON UPDATE CASCADE,
    PRIMARY KEY (expert, domain)
);
CREATE INDEX expert_domains_domain ON expert_domains(domain);
CREATE TABLE expert_roles (
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('expert', 'analyst', 'tester', 'manager', 'admin', 'viewer')),
    PRIMARY KEY (expert, role)
);
CREATE TABLE forum_members (
    forum TEXT NOT NULL REFERENCES forums(code) ON UPDATE CASCADE,
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    PRIMARY KEY (forum, expert)
);
CREATE INDEX forum_members_expert ON forum_members(expert);
CREATE TABLE decisions (
    key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    domain TEXT NOT NULL REFERENCES domains(code) ON UPDATE CASCADE,
    module TEXT NOT NULL REFERENCES modules(code) ON UPDATE CASCADE,
    forum TEXT NOT NULL REFERENCES forums(code) ON UPDATE CASCADE,
    scope TEXT NOT NULL CHECK (scope IN ('hospital', 'municipality', 'joint')),
    all_organizations INTEGER NOT NULL DEFAULT 0,
    criticality TEXT NOT NULL CHECK (criticality IN ('critical', 'high', 'medium', 'low')),
    stage TEXT NOT NULL,
    base_stage TEXT NOT NULL CHECK (base_stage IN
        ('proposed', 'decided', 'in_build', 'built', 'withdrawn')),
    built_at TEXT,
    ready_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    version_started_at TEXT,
    question TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL DEFAULT '',
    rationale TEXT NOT NULL DEFAULT '',
    decided_at TEXT,
    needed_by TEXT,
    owner TEXT REFERENCES experts(email) ON UPDATE CASCADE,
    withdrawn_reason TEXT,
    created_at TEXT NOT NULL,
    stage_since TEXT NOT NULL,
    row_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX decisions_stage ON decisions(stage);
CREATE INDEX decisions_domain ON decisions(domain);
CREATE INDEX decisions_forum ON decisions(forum);
CREATE INDEX decisions_module ON decisions(module);
CREATE TABLE decision_organizations (
    decision TEXT NOT NULL REFERENCES decisions(key) ON UPDATE CASCADE,
    organization TEXT NOT NULL REFERENCES organizations(code) ON UPDATE CASCADE,
    PRIMARY KEY (decision, organization)
);
CREATE INDEX decision_organizations_org ON decision_organizations(organization);
CREATE TABLE decision_deciders (
    decision TEXT NOT NULL REFERENCES decisions(key) ON UPDATE CASCADE,
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    PRIMARY KEY (decision, expert)
);
CREATE TABLE decision_versions (
    decision TEXT NOT NULL REFERENCES decisions(key) ON UPDATE CASCADE,
    version INTEGER NOT NULL,
    decision_text TEXT NOT NULL,
    rationale TEXT NOT NULL,
    started_at TEXT,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (decision, version)
);
CREATE TABLE demos (
    key TEXT PRIMARY KEY,
    date TEXT NOT NULL,
    module TEXT NOT NULL REFERENCES modules(code) ON UPDATE CASCADE,
    presenter TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    held INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    recording_url TEXT NOT NULL DEFAULT '',
    row_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX demos_date ON demos(date);
CREATE TABLE demo_decisions (
    demo TEXT NOT NULL REFERENCES demos(key) ON UPDATE CASCADE,
    decision TEXT NOT NULL REFERENCES decisions(key) ON UPDATE CASCADE,
    PRIMARY KEY (demo, decision)
);
CREATE INDEX demo_decisions_decision ON demo_decisions(decision);
CREATE TABLE demo_invitees (
    demo TEXT NOT NULL REFERENCES demos(key) ON UPDATE CASCADE,
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    PRIMARY KEY (demo, expert)
);
CREATE TABLE demo_attendees (
    demo TEXT NOT NULL REFERENCES demos(key) ON UPDATE CASCADE,
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    PRIMARY KEY (demo, expert)
);
CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    decision TEXT NOT NULL REFERENCES decisions(key) ON UPDATE CASCADE,
    expert TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'changes_requested')),
    date TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_decision ON approvals(decision);
CREATE INDEX approvals_expert ON approvals(expert);
CREATE TABLE test_cases (
    key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('application', 'integrated', 'acceptance', 'regression')),
    row_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE test_case_decisions (
    test_case TEXT NOT NULL REFERENCES test_cases(key) ON UPDATE CASCADE,
    decision TEXT NOT NULL REFERENCES decisions(key) ON UPDATE CASCADE,
    PRIMARY KEY (test_case, decision)
);
CREATE INDEX test_case_decisions_decision ON test_case_decisions(decision);
CREATE TABLE defects (
    key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    severity_vendor INTEGER NOT NULL CHECK (severity_vendor BETWEEN 1 AND 4),
    severity_clinical INTEGER NOT NULL CHECK (severity_clinical BETWEEN 1 AND 4),
    status TEXT NOT NULL CHECK (status IN ('open', 'fixed', 'closed', 'deferred')),
    decision TEXT REFERENCES decisions(key) ON UPDATE CASCADE,
    test_case TEXT REFERENCES test_cases(key) ON UPDATE CASCADE,
    opened TEXT,
    closed TEXT,
    row_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX defects_decision ON defects(decision);
CREATE TABLE test_runs (
    id INTEGER PRIMARY KEY,
    test_case TEXT NOT NULL REFERENCES test_cases(key) ON UPDATE CASCADE,
    date TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('passed', 'failed', 'blocked')),
    tester TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    defect TEXT REFERENCES defects(key) ON UPDATE CASCADE,
    notes TEXT NOT NULL DEFAULT ''
);
CREATE INDEX test_runs_case ON test_runs(test_case, date);
CREATE TABLE criteria (
    wave TEXT NOT NULL REFERENCES waves(code) ON UPDATE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('computed', 'reported')),
    metric TEXT NOT NULL,
    comparator TEXT NOT NULL CHECK (comparator IN ('>=', '<=', '==')),
    threshold REAL NOT NULL,
    owner TEXT REFERENCES experts(email) ON UPDATE CASCADE,
    waiver_reason TEXT,
    waiver_until TEXT,
    row_version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (wave, code)
);
CREATE TABLE measurements (
    id INTEGER PRIMARY KEY,
    wave TEXT NOT NULL,
    criterion TEXT NOT NULL,
    date TEXT NOT NULL,
    value REAL NOT NULL,
    reported_by TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
    evidence_url TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (wave, criterion) REFERENCES criteria(wave, code) ON UPDATE CASCADE
);
CREATE INDEX measurements_criterion ON measurements(wave, criterion, date);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    reason TEXT,
    hash TEXT NOT NULL
);
CREATE INDEX events_entity ON events(entity, entity_key, id);
CREATE INDEX events_action_at ON events(action, at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""


@migrations()
def m001_schema(db: Database) -> None:
    db.executescript(SCHEMA_V1)


@migrations()
def m002_decision_search(db: Database) -> None:
    # unicode61 folds case for æ, ø and å too (SQLite's LIKE and lower() fold only ASCII);
    # diacritics are kept so "gra" does not match "grå".
    db["decisions"].enable_fts(
        ["title", "question", "decision", "rationale"],
        fts_version="FTS5",
        tokenize="unicode61 remove_diacritics 0",
        create_triggers=True,
    )


@migrations()
def m003_forum_row_version(db: Database) -> None:
    # Forums are edited on the people and settings page; optimistic concurrency as elsewhere.
    db.execute("ALTER TABLE forums ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1")


@migrations()
def m004_events_no_replace(db: Database) -> None:
    # INSERT OR REPLACE removes the old row without firing events_no_delete unless the
    # connection happens to have recursive_triggers on; refuse an insert over an event outright.
    db.execute(
        "CREATE TRIGGER events_no_replace BEFORE INSERT ON events "
        "WHEN EXISTS (SELECT 1 FROM events WHERE id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
    )


@migrations()
def m005_evidence_indexes(db: Database) -> None:
    # The testing and approvals screens look defects up by test case, and demos by attendee.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS defects_test_case ON defects(test_case);
        CREATE INDEX IF NOT EXISTS demo_attendees_expert ON demo_attendees(expert);
        CREATE INDEX IF NOT EXISTS demo_invitees_expert ON demo_invitees(expert);
        """
    )


@migrations()
def m006_analytics_covering_indexes(db: Database) -> None:
    # Covering indexes for the bulk loads of readiness and the backlog (store/analytics.py):
    # the stage events are read from the index alone instead of ~200k scattered table rows, the
    # decisions' few readiness columns without scanning their long text, and the first
    # approvals in verdict order. events(action, at, ...) supersedes events_action_at.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS events_action_at_values
            ON events(action, at, entity, entity_key, from_value, to_value);
        DROP INDEX IF EXISTS events_action_at;
        CREATE INDEX IF NOT EXISTS decisions_readiness ON decisions(
            key, criticality, stage, module, all_organizations, needed_by, created_at);
        CREATE INDEX IF NOT EXISTS approvals_verdict ON approvals(verdict, decision, date);
        """
    )


@migrations()
def m007_history_indexes(db: Database) -> None:
    # One entity's events by action and time: a decision's last stage event, a test case's
    # creation, its last escalation, each a seek (the id follows as the rowid), where
    # events(entity, entity_key, id) made every event of the entity a table lookup. Test runs
    # in the order history replays them, with their result, from the index alone.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS events_entity_action ON events(entity, entity_key, action, at);
        DROP INDEX IF EXISTS events_entity;
        CREATE INDEX IF NOT EXISTS test_runs_case_order ON test_runs(test_case, date, id, result);
        DROP INDEX IF EXISTS test_runs_case;
        """
    )


@migrations()
def m008_decision_stage_cap(db: Database) -> None:
    # An edit of a field the approval rule reads (domain, scope, criticality, organisations)
    # after `built` never raises the stage by itself: the stage it had is kept as a cap, from
    # the edit's time, until evidence dated after the edit carries the decision on.
    db.executescript(
        """
        ALTER TABLE decisions ADD COLUMN stage_cap TEXT;
        ALTER TABLE decisions ADD COLUMN stage_cap_since TEXT;
        """
    )


@migrations()
def m009_event_digests(db: Database) -> None:
    # Each event about a covered record carries the digest of the record as written (part of
    # its hash), and with the log key a MAC of its hash (store.records, store.anchor). Records
    # already there are sealed as they stand, by one event each, so that `check` covers them
    # from here on (what was changed before cannot be told any more).
    from decisions import store  # the store package imports this module

    db.executescript(
        """
        ALTER TABLE events ADD COLUMN digest TEXT;
        ALTER TABLE events ADD COLUMN mac TEXT;
        """
    )
    store.seal(db.conn, store.last_event_time(db.conn) or _utc_now())


def _utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


@migrations()
def m010_demo_invitations_and_notices(db: Database) -> None:
    # What a calendar invitation needs: a local start time (Europe/Oslo), a length, a place or
    # a meeting link, and whether the demo was cancelled. Existing demos start at the time their
    # date carries (the demo generator's slots), else at 10:00, and last an hour.
    # The notices sent by `python -m decisions notify`: one row per person and dedup key,
    # written in the transaction that decides to send it; sent_at stays NULL until the SMTP
    # server took it, so an interrupted or refused run is retried without duplicates.
    # An expert's latest verdict on a decision (the approvals queue, for everyone at once in
    # the digests) is a seek on approvals(decision, expert), not a scan of the expert's verdicts.
    db.executescript(
        """
        ALTER TABLE demos ADD COLUMN start_time TEXT NOT NULL DEFAULT '10:00';
        ALTER TABLE demos ADD COLUMN duration_min INTEGER NOT NULL DEFAULT 60
            CHECK (duration_min BETWEEN 5 AND 720);
        ALTER TABLE demos ADD COLUMN place TEXT NOT NULL DEFAULT '';
        ALTER TABLE demos ADD COLUMN meeting_url TEXT NOT NULL DEFAULT '';
        ALTER TABLE demos ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
        UPDATE demos SET start_time = substr(replace(date, ' ', 'T'), 12, 5)
            WHERE length(date) >= 16 AND substr(replace(date, ' ', 'T'), 12, 5) <> '00:00';
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            person TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL DEFAULT '',
            dedup_key TEXT NOT NULL,
            subject TEXT NOT NULL,
            body_text TEXT NOT NULL,
            body_html TEXT NOT NULL,
            ics TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            next_try_at TEXT,
            UNIQUE (person, dedup_key)
        );
        CREATE INDEX notices_pending ON notices(sent_at, next_try_at) WHERE sent_at IS NULL;
        CREATE INDEX notices_person ON notices(person, created_at);
        CREATE INDEX notices_ref ON notices(ref, person);
        CREATE INDEX approvals_decision_expert ON approvals(decision, expert);
        CREATE TABLE notice_preferences (
            person TEXT PRIMARY KEY REFERENCES experts(email) ON UPDATE CASCADE,
            digest TEXT CHECK (digest IN ('daily', 'weekly', 'off')),
            events TEXT,
            language TEXT NOT NULL DEFAULT 'en',
            row_version INTEGER NOT NULL DEFAULT 1
        );
        """
    )
    # The demos' new columns change the records m009 sealed: their digests follow, one event each.
    from decisions import store  # the store package imports this module

    at = store.last_event_time(db.conn) or _utc_now()
    store.reseal(db.conn, at, "demo", "schema m010: demos carry a time, length and place")


@migrations()
def m016_folded_search(db: Database) -> None:
    # The register's search forgives missing Norwegian letters ("soknad" finds "søknad",
    # "Aalesund" finds "Ålesund"): a second full-text index holds the decisions' texts folded
    # by folding.fold_sql (the rule of folding.fold), kept in step by triggers; its tokenizer folds
    # the case and accents fold_sql leaves. decisions_fts keeps the exact spelling for ranking.
    from decisions.store.folding import fold_sql

    columns = ("title", "question", "decision", "rationale")
    folded = ", ".join(fold_sql(f"new.{c}") for c in columns)
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE decisions_folded USING fts5(
            {", ".join(columns)}, tokenize="unicode61 remove_diacritics 2"
        );
        INSERT INTO decisions_folded (rowid, {", ".join(columns)})
            SELECT rowid, {", ".join(fold_sql(c) for c in columns)} FROM decisions;
        CREATE TRIGGER decisions_folded_ai AFTER INSERT ON decisions BEGIN
            INSERT INTO decisions_folded (rowid, {", ".join(columns)})
            VALUES (new.rowid, {folded});
        END;
        CREATE TRIGGER decisions_folded_ad AFTER DELETE ON decisions BEGIN
            DELETE FROM decisions_folded WHERE rowid = old.rowid;
        END;
        CREATE TRIGGER decisions_folded_au AFTER UPDATE OF {", ".join(columns)} ON decisions
        BEGIN
            DELETE FROM decisions_folded WHERE rowid = old.rowid;
            INSERT INTO decisions_folded (rowid, {", ".join(columns)})
            VALUES (new.rowid, {folded});
        END;
        """
    )


@migrations()
def m017_person_language(db: Database) -> None:
    # The language each person chose in the sidebar (none chosen: their browser's, then the
    # programme's); a personal choice like their notice preferences, not part of the directory
    # record. notice_preferences.language (always 'en') was never read: the choice lives here.
    db.executescript(
        """
        CREATE TABLE person_languages (
            person TEXT PRIMARY KEY REFERENCES experts(email) ON UPDATE CASCADE,
            language TEXT NOT NULL CHECK (language IN ('nb', 'en'))
        );
        ALTER TABLE notice_preferences DROP COLUMN language;
        """
    )


@migrations()
def m020_notice_claims(db: Database) -> None:
    # Each notice is claimed by one run, in a transaction of its own, before it is sent
    # (claimed_at, claimed_by: the run), so runs started together never send one twice and a
    # run that dies between sending and marking leaves it claimed, never sent again. `held`:
    # why a notice is kept back for good (it could not be written), listed by notify and on
    # the Notices page. A notice's content (not its delivery columns) is now covered by the
    # event log, so a notice changed behind notify's back shows in check: the notices on record
    # get their `sealed` event.
    db.executescript(
        """
        ALTER TABLE notices ADD COLUMN claimed_at TEXT;
        ALTER TABLE notices ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
        ALTER TABLE notices ADD COLUMN held TEXT NOT NULL DEFAULT '';
        """
    )
    from decisions import store  # the store package imports this module

    store.seal(db.conn, store.last_event_time(db.conn) or _utc_now())


@migrations()
def m022_sign_outs(db: Database) -> None:
    # When each person last signed out (seconds since 1970, UTC): a sign-in cookie issued
    # before it is refused, so a copied cookie dies with the sign-out.
    db.executescript(
        """
        CREATE TABLE sign_outs (
            person TEXT PRIMARY KEY REFERENCES experts(email) ON UPDATE CASCADE,
            signed_out_at INTEGER NOT NULL
        );
        """
    )


# Open data for analysts (m024): views with readable names over the tables, with the codes in
# words, described in bokmål by data/datasette-metadata.json. They hold no email address.
OPEN_DATA_VIEWS = """
CREATE VIEW decisions_in_words AS
SELECT d.key, d.title, dm.name AS domain, m.name AS module, f.name AS forum,
       stage.nb AS stage, d.stage AS stage_code, d.stage_since,
       scope.nb AS scope, criticality.nb AS criticality,
       CASE d.all_organizations WHEN 1 THEN all_words.nb ELSE (
           SELECT group_concat(o.name, ', ') FROM decision_organizations x
           JOIN organizations o ON o.code = x.organization WHERE x.decision = d.key)
       END AS organizations,
       d.decided_at, d.needed_by, d.version, d.version_started_at, d.built_at, d.ready_at,
       d.withdrawn_reason, d.question, d.decision, d.rationale, d.created_at
FROM decisions d
JOIN domains dm ON dm.code = d.domain
JOIN modules m ON m.code = d.module
JOIN forums f ON f.code = d.forum
LEFT JOIN code_words stage ON stage.kind = 'stage' AND stage.code = d.stage
LEFT JOIN code_words scope ON scope.kind = 'scope' AND scope.code = d.scope
LEFT JOIN code_words criticality ON criticality.kind = 'criticality'
    AND criticality.code = d.criticality
LEFT JOIN code_words all_words ON all_words.kind = 'organizations' AND all_words.code = 'ALL';

CREATE VIEW verdicts_per_round AS
WITH builds AS MATERIALIZED (
    SELECT entity_key AS decision, at FROM events
    WHERE entity = 'decision' AND action = 'stage' AND to_value = 'built'
), verdicts AS MATERIALIZED (
    SELECT a.decision, a.expert, a.verdict, a.date,
           (SELECT count(*) FROM builds b WHERE b.decision = a.decision
              AND b.at <= {verdict_time}) AS round
    FROM approvals a
), rounds AS MATERIALIZED (
    SELECT decision, count(*) AS rounds FROM builds GROUP BY decision
)
SELECT v.decision, d.title, dm.name AS domain, v.round,
       v.round = coalesce(r.rounds, 0) AS current_round,
       min(v.date) AS first_verdict, max(v.date) AS last_verdict,
       sum(v.verdict = 'approve') AS approvals,
       sum(v.verdict = 'changes_requested') AS changes_requested,
       count(DISTINCT v.expert) AS experts
FROM verdicts v
JOIN decisions d ON d.key = v.decision
JOIN domains dm ON dm.code = d.domain
LEFT JOIN rounds r ON r.decision = v.decision
GROUP BY v.decision, v.round;

CREATE VIEW open_defects AS
SELECT x.key, x.title, x.severity_vendor, x.severity_clinical,
       min(x.severity_vendor, x.severity_clinical) AS severity_worst,
       x.severity_vendor <> x.severity_clinical AS ratings_disagree,
       x.opened, x.decision, d.title AS decision_title, dm.name AS domain,
       stage.nb AS decision_stage, x.test_case, t.title AS test_case_title
FROM defects x
LEFT JOIN decisions d ON d.key = x.decision
LEFT JOIN domains dm ON dm.code = d.domain
LEFT JOIN code_words stage ON stage.kind = 'stage' AND stage.code = d.stage
LEFT JOIN test_cases t ON t.key = x.test_case
WHERE x.status = 'open';
"""


def code_words() -> list[tuple[str, str, str, str]]:
    """(kind, code, bokmål, English) for every code the open-data views put in words."""
    from decisions import words  # every word table lives there
    from decisions.i18n import N_, translate

    kinds = {
        "stage": words.STAGE_WORDS,
        "scope": words.SCOPE_WORDS,
        "criticality": words.CRITICALITY_WORDS,
        "verdict": words.VERDICT_WORDS,
        "defect_status": words.DEFECT_STATUS_WORDS,
        "organization_kind": words.ORGANISATION_KIND_WORDS,
        "organizations": {"ALL": N_("All organisations")},
    }
    return [
        (kind, str(code), translate(word, "nb"), translate(word, "en"))
        for kind, table in kinds.items()
        for code, word in table.items()
    ]


@migrations()
def m024_open_data_views(db: Database) -> None:
    from decisions.store import rules  # the round's time, as the workflow reads it

    db.executescript(
        """
        CREATE TABLE code_words (
            kind TEXT NOT NULL,
            code TEXT NOT NULL,
            nb TEXT NOT NULL,
            en TEXT NOT NULL,
            PRIMARY KEY (kind, code)
        );
        """
        + OPEN_DATA_VIEWS.replace("{verdict_time}", rules.norm_time("a.date"))
    )
    db.conn.executemany("INSERT INTO code_words VALUES (?, ?, ?, ?)", code_words())


@migrations()
def m025_readiness_now(db: Database) -> None:
    # Readiness as the Readiness page computes it (readiness.assess, from the evidence and the
    # event log), kept as a table for analysts: each `publish` run replaces its rows.
    db.executescript(
        """
        CREATE TABLE readiness_now (
            wave TEXT NOT NULL,
            wave_name TEXT NOT NULL,
            go_live TEXT NOT NULL,
            as_of TEXT NOT NULL,
            wave_go INTEGER NOT NULL,
            criterion TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            metric TEXT NOT NULL,
            comparator TEXT NOT NULL,
            threshold REAL NOT NULL,
            value REAL,
            status TEXT NOT NULL,
            status_words TEXT NOT NULL,
            outlook TEXT NOT NULL,
            outlook_words TEXT NOT NULL,
            forecast TEXT,
            refreshed_at TEXT NOT NULL,
            PRIMARY KEY (wave, criterion)
        );
        """
    )


@migrations()
def m027_go_no_go(db: Database) -> None:
    # The steering committee's go/no-go per wave, with the criteria as they stood at the meeting
    # (JSON, as `readiness --json` gives them): a later change to a criterion leaves it as met.
    db.executescript(
        """
        CREATE TABLE go_no_go (
            id INTEGER PRIMARY KEY,
            wave TEXT NOT NULL REFERENCES waves(code) ON UPDATE CASCADE,
            outcome TEXT NOT NULL CHECK (outcome IN ('go', 'no_go', 'go_with_conditions')),
            meeting_date TEXT NOT NULL,
            forum TEXT NOT NULL REFERENCES forums(code) ON UPDATE CASCADE,
            minutes TEXT NOT NULL,
            conditions TEXT NOT NULL DEFAULT '',
            criteria TEXT NOT NULL,
            recorded_by TEXT NOT NULL REFERENCES experts(email) ON UPDATE CASCADE,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX go_no_go_wave ON go_no_go(wave, meeting_date, id);
        """
    )


@migrations()
def m028_queue_indexes(db: Database) -> None:
    # My work asks on every run for the decisions a person owns and the proposals they escalated:
    # at ten times the demo's volume a scan of every decision (14 ms) and a look-up of each of
    # the 2,300 escalations in the event log for its actor (25 ms).
    db.executescript(
        """
        CREATE INDEX decisions_owner ON decisions(owner, stage);
        CREATE INDEX events_action_actor ON events(action, actor, entity);
        """
    )
