"""The published decision log: the decided register as a static site that any web server
serves to every staff member (SPEC 5c), with no person's name or email address.

`publish(conn, out)` renders every page in memory, compares it with what the last run wrote
(files.py) and writes only what changed; the search index (search.py) is rebuilt only when a
decision's page changed. Each run also refreshes the analysts' table readiness_now
(open_data.py). Addresses are built from keys and codes (pages.slug), so they never
change."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from decisions import i18n
from decisions.publish import feed, files, open_data, pages
from decisions.publish.privacy import Redactor
from decisions.publish.search import INDEX_PATH, build_index
from decisions.store import published

ASSETS = Path(__file__).parent / "assets"
_LIST_KEYS = {"domains": "domain", "modules": "module", "forums": "forum", "waves": "waves"}
_FREE_TEXT = ("title", "question", "decision", "rationale", "withdrawn_reason")
_VERSION_TEXT = ("decision_text", "rationale", "reason")
RECENT = 20


@dataclass
class Published:
    """What a run wrote (or, in a dry run, would write)."""

    changes: files.Changes
    index_rebuilt: bool
    decisions: int
    readiness_rows: int = 0


def publish(
    conn: sqlite3.Connection,
    out: Path,
    *,
    language: str = i18n.DEFAULT_LANGUAGE,
    base_url: str | None = None,
    dry_run: bool = False,
) -> Published:
    i18n.use(language)
    site = render_site(conn, base_url.rstrip("/") if base_url else None)
    decisions = sum(1 for p in site if p.startswith(f"{pages.DECISION_PATH}/"))
    if dry_run:
        changes, rebuild = _plan(out, site, files.read_manifest(out))
        return Published(changes, rebuild, decisions)
    with files.exclusive(out):
        manifest = files.read_manifest(out)
        changes, rebuild = _plan(out, site, manifest)
        readiness_rows = open_data.refresh_readiness(conn)
        files.apply(out, site, changes, manifest)
        if rebuild:
            with_index = {**site, **build_index(out)}
            index_changes = files.compare(out, with_index, manifest)
            files.apply(out, with_index, index_changes, manifest)
            changes = files.Changes(
                changes.new + index_changes.new,
                changes.changed + index_changes.changed,
                sorted(changes.removed + index_changes.removed),
                len(with_index) - len(changes.written) - len(index_changes.written),
            )
    return Published(changes, rebuild, decisions, readiness_rows)


def _plan(out: Path, site: dict[str, bytes], manifest: dict) -> tuple[files.Changes, bool]:
    """What writing `site` changes (the search index aside), and whether the index must be
    built again: a decision's page changed, or there is none yet."""
    changes = files.compare(out, site, manifest, keep=(f"{INDEX_PATH}/",))
    touched = changes.new + changes.changed + changes.removed
    rebuild = any(p.startswith(f"{pages.DECISION_PATH}/") for p in touched) or not any(
        p.startswith(f"{INDEX_PATH}/") for p in manifest
    )
    return changes, rebuild


def render_site(conn: sqlite3.Connection, base_url: str | None) -> dict[str, bytes]:
    """Every file of the site but the search index, by its path in the site."""
    decisions = _without_personal_data(conn, published.published_decisions(conn))
    lists = published.reference_lists(conn)
    names = {
        "organizations": {o["code"]: o["name"] for o in lists["organizations"]},
        "kinds": {o["code"]: o["kind"] for o in lists["organizations"]},
    }
    waves = {w["code"]: w for w in lists["waves"]}
    site = {pages.decision_path(d["key"]): pages.decision_page(d, names, waves) for d in decisions}
    for kind, field in _LIST_KEYS.items():
        members: dict[str, list[dict]] = defaultdict(list)
        for decision in decisions:
            codes = decision[field] if kind == "waves" else [decision[field]]
            for code in codes:
                members[code].append(decision)
        for entry in lists[kind]:
            if members.get(entry["code"]):
                site[pages.list_path(kind, entry["code"])] = pages.list_page(
                    kind, entry, members[entry["code"]]
                )
        counts = {code: len(found) for code, found in members.items()}
        site[pages.list_path(kind)] = pages.overview_page(kind, lists[kind], counts)
    changes = feed.changes(decisions)
    site["index.html"] = pages.front_page(len(decisions), changes[:RECENT])
    site[f"{pages.SEARCH_PATH}/index.html"] = pages.search_page()
    site[pages.ACCESSIBILITY_PATH] = pages.accessibility_page()
    site[pages.FEED_PATH] = feed.atom_feed(changes, base_url)
    for asset in sorted(ASSETS.iterdir()):
        site[f"assets/{asset.name}"] = asset.read_bytes()
    return site


def _without_personal_data(conn: sqlite3.Connection, decisions: list[dict]) -> list[dict]:
    """The decisions with every person's name and every email address taken out of their
    free text (the rest of a published page holds forums, organisations and codes only)."""
    redact = Redactor([name for name, _email in published.people(conn)])
    for decision in decisions:
        for field in _FREE_TEXT:
            decision[field] = redact(decision[field])
        for version in decision["versions"]:
            for field in _VERSION_TEXT:
                version[field] = redact(version[field])
    return decisions
