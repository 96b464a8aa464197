"""Tampering with the database file, as someone who holds it would (triggers dropped, rows
edited, hashes recomputed, the store's own functions called without the log key): `check` exits
1 and names what it found; an untouched programme passes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import DECISION_FIELDS

from decisions import cli, services, store
from decisions.model import SYSTEM_ACTOR
from decisions.services import event, stage_event
from decisions.store import anchor, records, write
from decisions.store import decisions as decision_store

KEY = "correct horse battery staple"


@pytest.fixture
def keyed(monkeypatch):
    """The log key in the environment, as the app and the command line would have it."""
    monkeypatch.setenv(anchor.KEY_ENV, KEY)


@pytest.fixture
def ready(keyed, programme, decision_at):
    """A decision taken to `ready` with the key set: a demo, approvals, a test run."""
    return decision_at("ready")


def path_of(conn) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2]


def raw(conn) -> sqlite3.Connection:
    """A connection of the attacker's: foreign keys off, the log's triggers dropped."""
    other = sqlite3.connect(path_of(conn), isolation_level=None)
    other.execute("PRAGMA foreign_keys = OFF")
    for trigger in ("events_no_update", "events_no_delete", "events_no_replace"):
        other.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return other


def check(conn, capsys, *options) -> tuple[int, str, str]:
    status = cli.main(["check", "--db", path_of(conn), *options])
    out, err = capsys.readouterr()
    return status, out, err


def one_of(conn, sql: str, params=()) -> object:
    return store.scalar(conn, sql, params)


def test_an_untouched_programme_passes_with_the_key_and_a_head(programme, ready, capsys):
    path = path_of(programme)
    assert check(programme, capsys, "--anchor", f"{path}.head.json")[0] == 0
    status, out, err = check(programme, capsys)
    assert (status, err) == (0, "")
    assert out.rstrip().endswith(": ok") and "warning" not in out
    assert "with the log key's MAC" in out


def test_without_a_key_or_head_check_passes_and_warns(programme, decision_at, monkeypatch,
                                                     capsys):  # fmt: skip
    monkeypatch.delenv(anchor.KEY_ENV, raising=False)
    decision_at("ready")
    status, out, err = check(programme, capsys)
    assert (status, err) == (0, "")
    assert "warning: event log: not anchored: no log key" in out
    assert "warning: event log: no head file" in out


def test_a_decision_text_changed_directly_is_found(programme, ready, capsys):
    raw(programme).execute("UPDATE decisions SET decision = 'Something else' WHERE key = ?",
                           (ready,))  # fmt: skip
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"records: decisions key {ready} differs from the record its latest event" in err


def test_an_approvals_expert_swapped_is_found(programme, ready, capsys):
    approval = one_of(programme, "SELECT min(id) FROM approvals WHERE decision = ?", (ready,))
    # another expert of the domain, who gave no verdict: the stage the evidence gives stays
    raw(programme).execute("UPDATE approvals SET expert = 'kari@stolav.no' WHERE id = ?",
                           (approval,))  # fmt: skip
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"records: approvals id {approval} differs from the record its latest event" in err


def test_a_test_runs_tester_changed_is_found(programme, ready, capsys):
    run = one_of(programme, "SELECT max(id) FROM test_runs")
    raw(programme).execute("UPDATE test_runs SET tester = 'ana@hemit.no' WHERE id = ?", (run,))
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"records: test_runs id {run} differs from the record its latest event" in err


def test_a_demos_notes_changed_is_found(programme, ready, capsys):
    demo = one_of(programme, "SELECT max(key) FROM demos")
    raw(programme).execute("UPDATE demos SET notes = 'nobody came' WHERE key = ?", (demo,))
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"records: demos key {demo} differs from the record its latest event" in err


def test_a_row_inserted_or_deleted_directly_is_found(programme, ready, capsys):
    tamper = raw(programme)
    tamper.execute("INSERT INTO approvals (decision, expert, verdict, date) "
                   "VALUES (?, 'kari@stolav.no', 'approve', '2022-09-15')", (ready,))  # fmt: skip
    forged = one_of(programme, "SELECT max(id) FROM approvals")
    gone = one_of(programme, "SELECT min(id) FROM test_runs")
    tamper.execute("DELETE FROM test_runs WHERE id = ?", (gone,))
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"records: approvals id {forged} has no event that covers it" in err
    assert f"records: test_runs id {gone} is gone, but its latest event" in err


def test_the_last_events_deleted_are_found_by_the_backups_head(programme, ready, actor,
                                                              tmp_path, capsys):  # fmt: skip
    before = store.last_event(programme)[0]
    services.edit_decision(programme, actor("mona@hemit.no"), ready, {"title": "Renamed"})
    assert cli.main(["backup", str(tmp_path / "b.db"), "--db", path_of(programme)]) == 0
    head = anchor.read_head(tmp_path / "b.db.head.json")
    last = store.last_event(programme)[0]
    assert head["event_id"] == last > before and head["mac"] is not None
    # the edit's events go, and the title goes back: the stages and the chain agree again
    tamper = raw(programme)
    tamper.execute("DELETE FROM events WHERE id > ?", (before,))
    tamper.execute("UPDATE decisions SET title = ? WHERE key = ?", (DECISION_FIELDS["title"],
                                                                    ready))  # fmt: skip
    status, _, err = check(programme, capsys, "--head", str(tmp_path / "b.db.head.json"))
    assert status == 1
    assert f"event log: ends at event {before}, before event {last} of the head" in err


def test_a_log_recomputed_after_a_change_is_found_by_the_key_and_the_head(programme, ready,
                                                                         capsys):  # fmt: skip
    path = path_of(programme)
    assert check(programme, capsys, "--anchor", f"{path}.head.json")[0] == 0
    tamper = raw(programme)
    tamper.execute("UPDATE decisions SET decision = 'Something else' WHERE key = ?", (ready,))
    # The attacker knows the code: the record's digest goes into its latest event, and every
    # hash from there on is recomputed, so the chain and the records agree again.
    latest = one_of(programme, "SELECT max(id) FROM events WHERE entity = 'decision' AND "
                    "entity_key = ?", (ready,))  # fmt: skip
    digest = records.digests(programme, "decision", [ready])[ready]
    tamper.execute("UPDATE events SET digest = ? WHERE id = ?", (digest, latest))
    previous = store.GENESIS_HASH
    for row in store.rows(programme, "SELECT * FROM events ORDER BY id"):
        previous = store.event_hash(previous, row)
        tamper.execute("UPDATE events SET hash = ? WHERE id = ?", (previous, row["id"]))
    assert store.verify_event_log(programme) == []  # without the key, the chain holds
    status, _, err = check(programme, capsys)
    assert status == 1
    assert "carry no valid MAC of the log key" in err
    assert f"no longer has the hash of the head {path}.head.json" in err
    assert "records:" not in err  # the records agree with the recomputed log


def test_an_approval_forged_through_the_store_without_the_key_is_found(
    programme, ready, decision_at, monkeypatch, capsys
):
    key = decision_at("demonstrated")
    monkeypatch.delenv(anchor.KEY_ENV)  # the attacker has the file and the code, not the key
    at = services.now(programme)  # after the demo, whatever the hour the test runs at
    with store.transaction(programme):
        approvals = write.insert_numbered(programme, "approvals", [
            {"decision": key, "expert": email, "verdict": "approve", "date": at, "comment": ""}
            for email in ("per@stolav.no", "kari@stolav.no")])  # fmt: skip
        decision_store.update_decision(programme, key, {"stage": "approved", "stage_since": at})
        store.append_events(programme, [
            *(event(SYSTEM_ACTOR, at, "approval", str(a), "approve", None, key)
              for a in approvals),
            stage_event(SYSTEM_ACTOR, at, key, "demonstrated", "approved", None)])  # fmt: skip
    monkeypatch.setenv(anchor.KEY_ENV, KEY)
    # the forgery is consistent: the chain holds, the records match their events, and the
    # evidence gives the stage stored
    assert store.verify_event_log(programme) == []
    status, _, err = check(programme, capsys)
    assert status == 1
    assert "event log: 3 event(s) carry no valid MAC of the log key" in err
    assert "stage:" not in err and "records:" not in err


def test_a_forged_head_file_is_found(programme, ready, tmp_path, capsys):
    head = anchor.head_record(*store.last_event(programme), b"another key", "x")
    anchor.write_head(tmp_path / "forged.head.json", head)
    status, _, err = check(programme, capsys, "--head", str(tmp_path / "forged.head.json"))
    assert status == 1
    assert "its MAC is not the log key's" in err


def test_check_anchor_refuses_to_move_a_head_the_log_no_longer_holds(programme, ready,
                                                                     capsys):  # fmt: skip
    head_file = f"{path_of(programme)}.head.json"
    assert check(programme, capsys, "--anchor", head_file)[0] == 0
    written = anchor.read_head(head_file)
    raw(programme).execute("DELETE FROM events WHERE id = ?", (written["event_id"],))
    status, _, err = check(programme, capsys, "--anchor", head_file)
    assert status == 1 and "before event" in err
    assert anchor.read_head(head_file) == written  # not moved over the cut


def test_a_database_from_before_the_digests_is_sealed_and_covered_from_then_on(
    programme, decision_at, capsys
):
    key = decision_at("ready")
    path = path_of(programme)
    programme.close()
    # Make it as the code before m009 left it: no digest or MAC, hashes without digests.
    old = sqlite3.connect(path, isolation_level=None)
    triggers = [r[0] for r in old.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                          "AND tbl_name = 'events'")]  # fmt: skip
    for name in ("events_no_update", "events_no_delete", "events_no_replace"):
        old.execute(f"DROP TRIGGER {name}")
    old.execute("ALTER TABLE events DROP COLUMN digest")
    old.execute("ALTER TABLE events DROP COLUMN mac")
    old.row_factory = sqlite3.Row
    previous = store.GENESIS_HASH
    for row in [dict(r) for r in old.execute("SELECT * FROM events ORDER BY id")]:
        previous = store.event_hash(previous, row)
        old.execute("UPDATE events SET hash = ? WHERE id = ?", (previous, row["id"]))
    for sql in triggers:
        old.execute(sql)
    old.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_event_digests'")
    last = old.execute("SELECT max(id) FROM events").fetchone()[0]
    old.close()
    conn = store.connect(path)  # migrates
    sealed = store.rows(conn, "SELECT entity, entity_key, action FROM events WHERE id > ?",
                        (last,))  # fmt: skip
    assert {r["action"] for r in sealed} == {"sealed"}
    assert ("decision", key) in {(r["entity"], r["entity_key"]) for r in sealed}
    assert len(sealed) == sum(len(records.digests(conn, e)) for e in records.COVERED)
    assert services.check(conn) == []
    raw(conn).execute("UPDATE decisions SET decision = 'Something else' WHERE key = ?", (key,))
    status, _, err = check(conn, capsys)
    assert status == 1 and f"records: decisions key {key} differs" in err


# Every write is logged: the writes that changed a record without an event of that record -----


def logged(conn, entity: str, key: str) -> list[str]:
    return [e["action"] for e in store.events_for(conn, entity, key) if e["action"] != "sealed"]


def test_a_ready_mark_dropped_while_the_stage_stays_is_logged(programme, actor, decision_at):
    from decisions import admin, evidence
    from decisions.model import ApprovalRule

    key = decision_at("ready")
    mona, tess = actor("mona@hemit.no"), actor("tess@hemit.no")
    admin.set_approval_rule(programme, mona, ApprovalRule(min_approvers=3,
                            min_approvers_critical=3), expected=ApprovalRule())  # fmt: skip
    stage_before = decision_store.get_decision(programme, key)["stage"]
    case = store.scalar(programme, "SELECT test_case FROM test_case_decisions WHERE decision = ?",
                        (key,))  # fmt: skip
    evidence.record_test_run(programme, tess, test_case=case, result="failed")
    after = decision_store.get_decision(programme, key)
    assert (after["stage"], after["ready_at"]) == (stage_before, None)
    assert logged(programme, "decision", key)[-1] == "edited:ready_at"
    assert services.check(programme) == []


def test_a_forum_member_who_joins_or_leaves_is_logged_on_the_person(programme, actor):
    from decisions import admin

    mona = actor("mona@hemit.no")
    admin.save_forum(programme, mona, code="LAB-M", name="Lab municipal group", level=1,
                     scope="municipality", domains=["LAB"],
                     members=["ola@trondheim.kommune.no"])  # fmt: skip
    admin.save_forum(programme, mona, code="LAB-M", name="Lab municipal group", level=1,
                     scope="municipality", domains=["LAB"], members=["lab@stolav.no"],
                     row_version=1)  # fmt: skip
    assert logged(programme, "expert", "ola@trondheim.kommune.no") == ["edited:forums"] * 2
    assert logged(programme, "expert", "lab@stolav.no") == ["edited:forums"]
    assert services.check(programme) == []


def test_the_default_criteria_stored_by_an_unchanged_save_are_logged(programme, actor):
    from decisions import planning
    from decisions.readiness import DEFAULT_CRITERIA

    assert store.rows(programme, "SELECT * FROM criteria") == []  # the defaults, not stored
    threshold = next(c[5] for c in DEFAULT_CRITERIA if c[0] == "C1")
    assert planning.save_criterion(programme, actor("mona@hemit.no"), "W1", "C1",
                                   {"threshold": threshold}) == []  # fmt: skip
    assert logged(programme, "criterion", "W1:C1") == ["created"]
    assert services.check(programme) == []


def test_an_imported_measurement_is_logged_under_its_id(programme, actor):
    from decisions import io as transfer_io
    from decisions import planning

    planning.save_criterion(programme, actor("mona@hemit.no"), "W1", "R7", {"threshold": 80})
    text = ("wave,criterion,date,value,reported_by,evidence_url\n"
            "W1,R7,2022-09-01,55,mona@hemit.no,\n")  # fmt: skip
    source = transfer_io.Source("measurements.csv", text.encode(), "measurements")
    assert transfer_io.import_sources(programme, [source], SYSTEM_ACTOR).ok
    number = store.scalar(programme, "SELECT id FROM measurements")
    assert logged(programme, "measurement", str(number)) == ["reported"]
    assert services.check(programme) == []


def test_a_migration_that_changes_records_reseals_just_those(programme, decision_at):
    """m010 gives demos new columns with defaults, which changes records m009 sealed: the
    migration re-seals them (store.reseal), one `migrated` event each, so check stays clean."""
    decision_at("demonstrated")
    [demo] = [r["key"] for r in store.rows(programme, "SELECT key FROM demos")]
    raw(programme).execute("UPDATE demos SET place = 'Room 1' WHERE key = ?", (demo,))
    assert any(demo in finding for finding in services.check(programme))
    with store.transaction(programme):
        assert store.reseal(programme, services.now(programme), "demo", "a new column") == 1
        assert store.reseal(programme, services.now(programme), "decision", "nothing") == 0
    assert services.check(programme) == []
    [migrated] = store.rows(programme, "SELECT entity_key FROM events WHERE action = 'migrated'")
    assert migrated["entity_key"] == demo


# The log key's promise: once an event carries a MAC every later one must, and with the key the
# database's own head (every change moves it) must be signed and as new as the log ---------------


def recompute_after_a_change(programme, key: str) -> None:
    """The attacker's rewrite: a decision's text changed, its digest put into its latest event,
    every hash recomputed (the chain and the records agree again)."""
    tamper = raw(programme)
    tamper.execute("UPDATE decisions SET decision = 'Something else' WHERE key = ?", (key,))
    latest = one_of(programme, "SELECT max(id) FROM events WHERE entity = 'decision' AND "
                    "entity_key = ?", (key,))  # fmt: skip
    digest = records.digests(programme, "decision", [key])[key]
    tamper.execute("UPDATE events SET digest = ? WHERE id = ?", (digest, latest))
    previous = store.GENESIS_HASH
    for row in store.rows(programme, "SELECT * FROM events ORDER BY id"):
        previous = store.event_hash(previous, row)
        tamper.execute("UPDATE events SET hash = ? WHERE id = ?", (previous, row["id"]))


def own_head(conn) -> str:
    return f"{path_of(conn)}.head.json"


def test_every_change_moves_the_databases_own_signed_head(programme, ready, actor):
    services.edit_decision(programme, actor("mona@hemit.no"), ready, {"title": "Renamed"})
    head = anchor.read_head(own_head(programme))
    last_id, last_hash = store.last_event(programme)
    assert (head["event_id"], head["hash"]) == (last_id, last_hash)
    assert anchor.mac_ok(KEY.encode(), last_id, last_hash, head["mac"])


def test_macs_stripped_and_the_head_rewritten_unsigned_are_found(programme, ready, capsys):
    recompute_after_a_change(programme, ready)
    tamper = raw(programme)
    tamper.execute("UPDATE events SET mac = NULL")
    last_id, last_hash = store.last_event(programme)
    anchor.write_head(own_head(programme), anchor.head_record(last_id, last_hash, None, "x"))
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"head {own_head(programme)}: carries no MAC of the log key" in err


def test_macs_stripped_under_a_signed_head_are_found(programme, ready, capsys):
    head = anchor.read_head(own_head(programme))
    raw(programme).execute("UPDATE events SET mac = NULL")
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"event {head['event_id']} carries no valid MAC, though the head" in err


def test_a_tail_cut_after_the_last_backup_is_found_by_the_own_head(programme, ready, actor,
                                                                    capsys):  # fmt: skip
    before = store.last_event(programme)[0]
    services.edit_decision(programme, actor("mona@hemit.no"), ready, {"title": "Renamed"})
    last = store.last_event(programme)[0]
    tamper = raw(programme)
    tamper.execute("DELETE FROM events WHERE id > ?", (before,))
    tamper.execute("UPDATE decisions SET title = ? WHERE key = ?", (DECISION_FIELDS["title"],
                                                                    ready))  # fmt: skip
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"event log: ends at event {before}, before event {last} of the head" in err


def test_an_older_signed_head_put_back_is_found(programme, ready, actor, tmp_path, capsys):
    older = anchor.read_head(own_head(programme))
    services.edit_decision(programme, actor("mona@hemit.no"), ready, {"title": "Renamed"})
    anchor.write_head(own_head(programme), older)
    status, _, err = check(programme, capsys)
    assert status == 1
    newest = store.last_event(programme)[0]
    assert f"at event {older['event_id']}, older than event {newest}, the newest with a MAC" in err


def test_the_own_head_deleted_is_found_and_the_first_one_is_written_by_check_anchor(
    programme, ready, capsys
):
    head_file = own_head(programme)
    Path(head_file).unlink()
    status, _, err = check(programme, capsys)
    assert status == 1 and f"head {head_file}: missing, though the log key is set" in err
    status, out, _ = check(programme, capsys, "--anchor", head_file)
    assert status == 0 and "head written" in out
    assert check(programme, capsys)[0] == 0


def test_with_the_key_an_unsigned_backup_head_is_a_finding(programme, ready, tmp_path, capsys):
    unsigned = anchor.head_record(*store.last_event(programme), None, "x")
    anchor.write_head(tmp_path / "old.head.json", unsigned)
    status, _, err = check(programme, capsys, "--head", str(tmp_path / "old.head.json"))
    assert status == 1 and "carries no MAC of the log key, which is set" in err


def test_macs_stripped_after_the_first_head_of_a_key_set_late_are_found(
    programme, decision_at, actor, monkeypatch, capsys
):
    """The key set on a programme that already has a log: `check --anchor` writes the first head
    at an event without a MAC (and says so under the key); every change after it is signed.
    Stripping those MACs and putting that first head back is found."""
    decision_at("ready")
    monkeypatch.setenv(anchor.KEY_ENV, KEY)
    head_file = own_head(programme)
    assert check(programme, capsys, "--anchor", head_file)[0] == 0
    first = anchor.read_head(head_file)
    assert "unsigned_event" in first
    services.edit_decision(programme, actor("mona@hemit.no"), decision_at("decided"),
                           {"title": "Renamed"})  # fmt: skip
    assert check(programme, capsys)[0] == 0
    raw(programme).execute("UPDATE events SET mac = NULL")
    anchor.write_head(head_file, first)
    status, _, err = check(programme, capsys)
    assert status == 1
    assert f"after event {first['event_id']} of the signed head {head_file} carry no MAC" in err
