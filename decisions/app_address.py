"""The app's own address (the setting app.base_url), which every link in a notice starts
with: whether it was set, what is wrong with it, and what `check` says of it."""

from __future__ import annotations

import sqlite3
from urllib.parse import quote, urlsplit

from decisions import settings
from decisions.i18n import _
from decisions.store import notices as notice_store


def base_url_set(conn: sqlite3.Connection) -> bool:
    """Whether the app's address for the links in notices was set (not the default)."""
    return settings.is_set(conn, settings.BASE_URL)


def base_url_warning(conn: sqlite3.Connection) -> str:
    return _("app.base_url is not set: the links in notices point at {url}; set the app's "
             "address on the Notices page (Programme defaults)",
             url=settings.get(conn, settings.BASE_URL))  # fmt: skip


def page_address(base: str, path: str) -> str:
    """A page of the app at `base`: page_address("https://x.no/app", "demos")."""
    return f"{base.rstrip('/')}/{path}"


def demo_address(base: str, key: str) -> str:
    """A demo's own page in the app at `base`."""
    return page_address(base, f"demo?key={quote(key)}")


def base_url_problem(url: object) -> str | None:
    """What is wrong with an address for the links in notices, or None: it must be an http(s)
    address without spaces."""
    text = url if isinstance(url, str) else ""
    parts = urlsplit(text)
    if (
        parts.scheme.lower() in ("https", "http")
        and parts.netloc
        and not any(c.isspace() for c in text)
    ):
        return None
    return _("app address: {url!r}; expected https://host[/path], the address people open "
             "the app at", url=url)  # fmt: skip


def check_findings(conn: sqlite3.Connection) -> list[str]:
    """What `check` finds in the notices' settings: an app address that is no web address
    (every link in every notice would be broken, or worse)."""
    if not base_url_set(conn):
        return []
    problem = base_url_problem(settings.get(conn, settings.BASE_URL))
    return [_("settings: app.base_url: {problem}", problem=problem)] if problem else []


def check_warnings(conn: sqlite3.Connection) -> list[str]:
    """What `check` warns of in the notices: the app's address not set, once notices are
    recorded (their links point at the default)."""
    if base_url_set(conn) or not notice_store.count_all(conn):
        return []
    return [_("settings: {warning}", warning=base_url_warning(conn))]
