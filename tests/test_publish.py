"""The published decision log (`python -m decisions publish`): a page per decision at decided or
later, no person's name or email address in any file, and publishing again writes only what
changed."""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from decisions import demo, services, store
from decisions.model import SYSTEM_ACTOR
from decisions.publish import publish
from decisions.publish.files import LOCK, MANIFEST, Busy, exclusive
from decisions.publish.pages import slug
from decisions.publish.privacy import EMAIL, Redactor
from decisions.store.folding import fold

REPO = Path(__file__).resolve().parents[1]
DEMO_SCALE = 0.1


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("publish") / "demo.db"
    conn = store.connect(path)
    demo.build_demo(conn, scale=DEMO_SCALE, seed=7)
    conn.close()
    return path


@pytest.fixture
def demo_conn(demo_file, tmp_path):
    """A private copy of the small demo."""
    copy = tmp_path / "decisions.db"
    source, target = sqlite3.connect(demo_file), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    conn = store.connect(copy)
    yield conn
    conn.close()


def _keys(conn, where: str) -> list[str]:
    return [r[0] for r in conn.execute(f"SELECT key FROM decisions WHERE {where} ORDER BY key")]


def _text_of(path: Path) -> str:
    """A written file as text; Pagefind's gzipped index files unpacked first."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def test_a_page_per_decision_from_decided_on_and_none_for_proposals(demo_conn, tmp_path):
    out = tmp_path / "site"
    result = publish(demo_conn, out)
    published = {p.parent.name for p in (out / "beslutning").glob("*/index.html")}
    decided = _keys(demo_conn, "stage NOT IN ('proposed', 'withdrawn')")
    withdrawn_decided = _keys(demo_conn, "stage = 'withdrawn' AND decided_at IS NOT NULL")
    assert published == {slug(k) for k in decided + withdrawn_decided}
    assert result.decisions == len(published)
    assert not published & set(_keys(demo_conn, "stage = 'proposed'"))
    assert not published & set(_keys(demo_conn, "stage = 'withdrawn' AND decided_at IS NULL"))
    page = (out / "beslutning" / withdrawn_decided[0] / "index.html").read_text()
    assert "Trukket" in page and "gjelder ikke lenger" in page
    assert (out / "pagefind" / "pagefind.js").is_file()


def test_a_decision_page_shows_its_versions_with_what_changed_and_why(demo_conn, tmp_path):
    key = _keys(demo_conn, "version = 2 AND stage <> 'withdrawn'")[0]
    reason = store.scalar(
        demo_conn, "SELECT reason FROM decision_versions WHERE decision = ? AND version = 2", (key,)
    )
    out = tmp_path / "site"
    publish(demo_conn, out)
    page = (out / "beslutning" / key / "index.html").read_text()
    assert "Versjon 2, fra " in page and "Versjon 1, besluttet " in page
    assert "Endret: beslutningen" in page and reason in page
    assert fold(key) in page  # the hidden folded copy the search finds


def test_no_person_s_name_or_email_in_any_written_file(demo_conn, tmp_path):
    people = store.rows(demo_conn, "SELECT name, email FROM experts")
    key = _keys(demo_conn, "stage = 'ready'")[0]
    named, mailed = people[0], people[1]
    services.revise(
        demo_conn, SYSTEM_ACTOR, key,
        decision_text=f"Som {named['name']} foreslo: kontakt {mailed['email']} ved spørsmål.",
        reason=f"Innspill fra {mailed['name'].upper()}",
    )  # fmt: skip
    out = tmp_path / "site"
    publish(demo_conn, out)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) > 100
    found = []
    for path in written:
        text = _text_of(path)
        folded = fold(text)
        for person in people:
            name, email = person["name"], person["email"]
            if name.casefold() in text.casefold() or fold(name) in folded:
                found.append((path, name))
            if email.casefold() in text.casefold():
                found.append((path, email))
        if path.suffix in (".html", ".xml"):
            assert not EMAIL.search(text), path
    assert found == []
    page = (out / "beslutning" / key / "index.html").read_text()
    assert "[navn fjernet]" in page and "[e-postadresse fjernet]" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kari Nordmann sa ja", "[navn fjernet] sa ja"),
        ("kari nordmann sa ja", "[navn fjernet] sa ja"),
        ("Kari Nordmannsen sa ja", "Kari Nordmannsen sa ja"),
        ("Ola Nordmann og Kari Nordmann", "[navn fjernet] og [navn fjernet]"),
        ("Anne Marie Berg ble spurt", "[navn fjernet] ble spurt"),
        ("skriv til kari@hnt.no.", "skriv til [e-postadresse fjernet]."),
        ("Kari alene", "Kari alene"),
    ],
)
def test_free_text_loses_names_and_email_addresses(text, expected):
    from decisions import i18n

    i18n.use("nb")
    redact = Redactor(["Kari Nordmann", "Ola Nordmann", "Anne Marie Berg", "Marie Berg"])
    assert redact(text) == expected


def test_publishing_again_writes_only_what_changed(demo_conn, tmp_path):
    out = tmp_path / "site"
    publish(demo_conn, out)
    again = publish(demo_conn, out)
    assert not again.changes and not again.index_rebuilt
    key = _keys(demo_conn, "stage = 'ready' AND all_organizations = 0")[0]
    decision = store.one(
        demo_conn, "SELECT domain, module, forum FROM decisions WHERE key = ?", (key,)
    )
    waves = {r[0] for r in demo_conn.execute(
        "SELECT DISTINCT w.wave FROM wave_organizations w JOIN decision_organizations o "
        "ON o.organization = w.organization WHERE o.decision = ?", (key,))}  # fmt: skip
    services.revise(demo_conn, SYSTEM_ACTOR, key, decision_text="Ny tekst for søknad.",
                    reason="ny vurdering")  # fmt: skip
    expected = {
        f"beslutning/{key}/index.html",
        f"fagomrade/{decision['domain']}/index.html",
        f"modul/{decision['module']}/index.html",
        f"forum/{decision['forum']}/index.html",
        *(f"bolge/{wave}/index.html" for wave in waves),
        "index.html",
        "atom.xml",
    }
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    dry = publish(demo_conn, out, dry_run=True)
    assert set(dry.changes.written) == expected and dry.index_rebuilt
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
    result = publish(demo_conn, out)
    site_files = {p for p in result.changes.written if not p.startswith("pagefind/")}
    assert site_files == expected and result.index_rebuilt
    touched = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and before.get(p) != p.stat().st_mtime_ns
    }
    assert touched == set(result.changes.written) | {MANIFEST}
    assert "Ny tekst for søknad." in (out / "beslutning" / key / "index.html").read_text()


def test_a_removed_file_is_written_again_and_a_foreign_file_is_left_alone(demo_conn, tmp_path):
    out = tmp_path / "site"
    publish(demo_conn, out)
    (out / "index.html").unlink()
    (out / "robots.txt").write_text("User-agent: *\n")
    result = publish(demo_conn, out)
    assert result.changes.written == ["index.html"] and not result.changes.removed
    assert (out / "robots.txt").read_text() == "User-agent: *\n"


@pytest.mark.parametrize(
    ("key", "segment"), [("MED-0042", "MED-0042"), ("Lab 7/ø", "Lab_207_2f_f8")]
)
def test_addresses_are_built_from_the_key(key, segment):
    assert slug(key) == segment


def test_the_command_line_dry_run_lists_and_writes_nothing(demo_file, tmp_path):
    out = tmp_path / "site"
    command = [sys.executable, "-m", "decisions", "publish", "--db", str(demo_file),
               "--out", str(out), "--dry-run"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "new index.html" in done.stdout and "the search index would be rebuilt" in done.stdout
    assert not out.exists()
    english = subprocess.run([*command[:-1], "--language", "en"], cwd=REPO,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert english.returncode == 0, english.stderr
    assert '<html lang="en">' in (out / "index.html").read_text()


def test_a_second_run_at_once_is_refused_and_writes_nothing(demo_conn, tmp_path):
    out = tmp_path / "site"
    with exclusive(out), pytest.raises(Busy):
        publish(demo_conn, out)
    assert [p.name for p in out.iterdir()] == [LOCK]
    assert publish(demo_conn, out).changes.written


def test_the_feed_lists_the_latest_decided_or_revised_newest_first(demo_conn, tmp_path):
    out = tmp_path / "site"
    publish(demo_conn, out, base_url="https://intranett.example/logg/")
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.parse(out / "atom.xml").getroot()
    entries = feed.findall(f"{atom}entry")
    assert 0 < len(entries) <= 50
    updated = [e.findtext(f"{atom}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.find(f"{atom}link[@rel='self']").get("href") == (
        "https://intranett.example/logg/atom.xml"
    )
    for entry in entries:
        link = entry.find(f"{atom}link").get("href")
        path = link.removeprefix("https://intranett.example/logg/").split("#")[0]
        assert (out / path / "index.html").is_file(), link
        assert entry.findtext(f"{atom}id").startswith("urn:uuid:")
