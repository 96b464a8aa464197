"""The Atom feed (RFC 4287) of decisions decided or revised, newest first: what an intranet
page or a feed reader follows. Entry ids are built from the key and version, never from the
address, so they hold when the site moves."""

from __future__ import annotations

import datetime as dt
import uuid
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from decisions.i18n import _
from decisions.publish.pages import FEED_PATH, decision_path

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
_OSLO = ZoneInfo("Europe/Oslo")
_NAMESPACE = uuid.UUID("0f6d5c1e-5e84-4a8e-9a55-5f1b2b6e0c25")  # this product's feeds


def changes(decisions: list[dict]) -> list[dict]:
    """Each decision's decision and each revision, newest first: key, title, version, at, what
    (in words), text (the version's decision)."""
    found = []
    for decision in decisions:
        for version in decision["versions"]:
            first = version["version"] == 1
            at = decision["decided_at"] if first else version["started_at"]
            if not at:
                continue
            what = _("decided") if first else _("revised (version {number})",
                                                 number=version["version"])  # fmt: skip
            found.append({"key": decision["key"], "title": decision["title"], "at": at,
                          "version": version["version"], "what": what,
                          "text": version["decision_text"]})  # fmt: skip
    return sorted(found, key=lambda c: (c["at"], c["key"], c["version"]), reverse=True)


def timestamp(value: str) -> str:
    """A stored date or local programme time as RFC 3339 with Oslo's offset."""
    moment = dt.datetime.fromisoformat(value if "T" in value or " " in value else f"{value}T00:00")
    return moment.replace(tzinfo=_OSLO).isoformat(timespec="seconds")


def atom_feed(entries: list[dict], base_url: str | None) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", _("Decision log: decided and revised decisions"))
    _text(feed, "id", f"urn:uuid:{uuid.uuid5(_NAMESPACE, base_url or 'decision-log')}")
    newest = entries[0]["at"] if entries else "2000-01-01"
    _text(feed, "updated", timestamp(newest))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", _("The decision log"))
    if base_url:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base_url}/{FEED_PATH}")
    for change in entries[:FEED_ENTRIES]:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "title", f"{change['key']} {change['title']}: {change['what']}")
        name = f"{change['key']}:v{change['version']}"
        _text(entry, "id", f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}")
        _text(entry, "updated", timestamp(change["at"]))
        link = decision_path(change["key"]).removesuffix("index.html")
        anchor = f"#versjon-{change['version']}"
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html",
                      href=f"{base_url}/{link}{anchor}" if base_url else f"{link}{anchor}")  # fmt: skip
        _text(entry, "summary", change["text"])
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = text
