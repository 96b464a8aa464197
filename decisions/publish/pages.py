"""The published log's pages as HTML text: every text escaped, every word through the catalogs,
links relative so that the site works under any path. No clock: a page changes only when what
it shows changes, so that publishing again rewrites only those pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from decisions.i18n import N_, _, format_date, language, n_
from decisions.store.folding import fold
from decisions.words import (
    LEVEL_WORDS,
    criticality_word,
    organisation_kind_word,
    scope_word,
    stage_word,
)

_SLUG_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def slug(code: str) -> str:
    """A key or code as one path segment of its stable address: itself when it is plain
    letters, digits, '.', '_' and '-', else those kept and the rest written as hex."""
    if _SLUG_SAFE.match(code):
        return code
    return "".join(c if c.isalnum() and c.isascii() else f"_{ord(c):x}" for c in code)


# Each kind of list: the folder of its pages (part of their stable addresses).
LIST_FOLDERS = {"domains": "fagomrade", "modules": "modul", "forums": "forum", "waves": "bolge"}


@dataclass(frozen=True)
class Section:
    """A kind of list in the reader's language: its name, and the name of one of it."""

    title: str
    one: str


def sections() -> dict[str, Section]:
    return {
        "domains": Section(_("Domains"), _("Domain")),
        "modules": Section(_("Modules"), _("Module")),
        "forums": Section(_("Forums"), _("Forum")),
        "waves": Section(_("Go-live waves"), _("Go-live wave")),
    }


# What each stage means for those who use the system (the reader does not know the workflow).
STAGE_MEANINGS = {
    "decided": N_("decided, not yet built in the system"),
    "in_build": N_("being built in the system"),
    "built": N_("built, not yet shown to the subject experts"),
    "demonstrated": N_("built and shown to the subject experts, awaiting their approval"),
    "approved": N_("built and approved by the subject experts, not yet tested"),
    "in_test": N_("built, approved and being tested"),
    "tested": N_("built, approved and tested"),
    "ready": N_("built, approved by the subject experts and tested: ready for use"),
    "withdrawn": N_("no longer applies"),
}

DECISION_PATH = "beslutning"
SEARCH_PATH = "sok"
FEED_PATH = "atom.xml"
ACCESSIBILITY_PATH = "tilgjengelighet/index.html"


def decision_path(key: str) -> str:
    return f"{DECISION_PATH}/{slug(key)}/index.html"


def list_path(kind: str, code: str | None = None) -> str:
    folder = LIST_FOLDERS[kind]
    return f"{folder}/index.html" if code is None else f"{folder}/{slug(code)}/index.html"


def href(from_path: str, to_path: str) -> str:
    """A relative link from the page at `from_path` to `to_path` (index.html left off)."""
    up = "../" * from_path.count("/")
    target = to_path.removesuffix("index.html")
    return up + target if up + target else "./"


def date_text(value: str | None) -> str:
    return format_date(dt.date.fromisoformat(value[:10])) if value else ""


def paragraphs(text: str) -> str:
    """Free text as paragraphs: blank lines part them, single line breaks stay breaks."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    if not parts:
        not_recorded = escape(_("Not recorded."))
        return f"<p class='empty'>{not_recorded}</p>"
    return "".join(
        f"<p>{'<br>'.join(escape(line) for line in p.split(chr(10)))}</p>" for p in parts
    )


def page(path: str, title: str, body: str, *, indexed: bool = False) -> bytes:
    """A whole page: the frame every page shares around `body`. Only an `indexed` page (a
    decision's) is in the search index."""
    nav = [(list_path(kind), section.title) for kind, section in sections().items()]
    links = "".join(f"<li><a href='{href(path, to)}'>{escape(text)}</a></li>" for to, text in nav)
    main_attributes = " data-pagefind-body" if indexed else ""
    site = _("Decision log")
    words = _escaped(
        feed=_("Decided and revised decisions"),
        skip=_("Skip to content"),
        lists=_("Lists"),
        search=_("Search"),
        about=_(
            "Why the EHR is built as it is: the decisions of the programme's forums, with "
            "their rationale and every version. Forums, organisations and roles only: no "
            "person's name or email address."
        ),
        feed_link=_("Feed of decided and revised decisions (Atom)"),
        accessibility=_("Accessibility statement"),
    )
    return f"""<!doctype html>
<html lang="{language()}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} – {escape(site)}</title>
<link rel="stylesheet" href="{href(path, "assets/style.css")}">
<link rel="alternate" type="application/atom+xml" href="{href(path, FEED_PATH)}" title="{words["feed"]}">
</head>
<body>
<a class="skip" href="#main">{words["skip"]}</a>
<header>
<p class="site"><a href="{href(path, "index.html")}">{escape(site)}</a></p>
<nav aria-label="{words["lists"]}"><ul>{links}<li><a href="{href(path, SEARCH_PATH + "/index.html")}">{words["search"]}</a></li></ul></nav>
</header>
<main id="main"{main_attributes}>
{body}
</main>
<footer>
<p>{words["about"]}</p>
<p><a href="{href(path, FEED_PATH)}">{words["feed_link"]}</a> ·
<a href="{href(path, ACCESSIBILITY_PATH)}">{words["accessibility"]}</a></p>
</footer>
</body>
</html>
""".encode()


def decision_page(
    decision: dict, names: dict[str, dict[str, str]], waves: dict[str, dict]
) -> bytes:
    """One decision: what was asked, what was decided and why, by which forum, for whom, and
    every version with what changed and why."""
    path = decision_path(decision["key"])
    facts = _decision_facts(path, decision, names, waves)
    withdrawn = ""
    if decision["stage"] == "withdrawn":
        reason = decision["withdrawn_reason"] or ""
        words = _escaped(title=_("Withdrawn"), text=_("this decision no longer applies."))
        withdrawn = (
            f"<div class='withdrawn' role='note'><p><strong>{words['title']}</strong>: "
            f"{words['text']}</p>{paragraphs(reason) if reason else ''}</div>"
        )
    words = _escaped(
        question=_("Question"), decision=_("Decision"), rationale=_("Rationale"),
        versions=_("Versions"),
    )  # fmt: skip
    body = f"""<p class="key" data-pagefind-meta="key">{escape(decision["key"])}</p>
<h1>{escape(decision["title"])}</h1>
{withdrawn}
<dl class="facts">{facts}</dl>
<h2>{words["question"]}</h2>
<div data-pagefind-meta="question">{paragraphs(decision["question"])}</div>
<h2>{words["decision"]}</h2>
{paragraphs(decision["decision"])}
<h2>{words["rationale"]}</h2>
{paragraphs(decision["rationale"])}
<h2>{words["versions"]}</h2>
{_versions(decision)}
<div hidden>{escape(_folded_copy(decision, names))}</div>"""
    return page(path, f"{decision['key']} {decision['title']}", body, indexed=True)


def _decision_facts(path: str, decision: dict, names: dict, waves: dict) -> str:
    level = LEVEL_WORDS.get(decision["forum_level"])
    forum_level = _(level) if level else ""
    organizations = (
        [escape(_("All organisations"))]
        if decision["all_organizations"]
        else [
            escape(f"{names['organizations'].get(code, code)} "
                   f"({organisation_kind_word(names['kinds'].get(code, ''))})")
            for code in decision["organizations"]
        ]
    )  # fmt: skip
    wave_links = [
        f"<a href='{href(path, list_path('waves', code))}'>{escape(waves[code]['name'])}</a> "
        f"({escape(go_live)})"
        for code in decision["waves"]
        if code in waves
        for go_live in [_("go-live {date}", date=date_text(waves[code]["go_live"]))]
    ]
    rows = [
        (_("Stage"), f"<span data-pagefind-meta='stage'>{escape(stage_word(decision['stage']))}</span>"
            + (f" – {escape(_(STAGE_MEANINGS[decision['stage']]))}"
               if decision["stage"] in STAGE_MEANINGS else "")),
        (_("Decided"), escape(date_text(decision["decided_at"]))),
        (_("Decided by"), f"<a href='{href(path, list_path('forums', decision['forum']))}'>"
            f"{escape(decision['forum_name'])}</a>"
            + (f" ({escape(forum_level)})" if forum_level else "")),
        (_("Domain"), f"<a href='{href(path, list_path('domains', decision['domain']))}'>"
            f"{escape(decision['domain_name'])}</a>"),
        (_("Module"), f"<a href='{href(path, list_path('modules', decision['module']))}'>"
            f"{escape(decision['module_name'])}</a>"),
        (_("Applies to"), escape(scope_word(decision["scope"]))),
        (_("Organisations"), ", ".join(organizations) or escape(_("None recorded"))),
        (_("Go-live waves"), ", ".join(wave_links) or escape(_("None planned"))),
        (_("Criticality"), escape(criticality_word(decision["criticality"]))),
        (_("Version"), escape(str(decision["version"]))),
    ]  # fmt: skip
    return "".join(f"<dt>{escape(term)}</dt><dd>{value}</dd>" for term, value in rows)


def _versions(decision: dict) -> str:
    """Every version, newest first: when it started, what changed from the one before and why,
    and its text."""
    versions = decision["versions"]
    words = _escaped(decision=_("Decision"), rationale=_("Rationale"))
    first = _("The first version.")
    items = []
    for index in range(len(versions) - 1, -1, -1):
        version = versions[index]
        number = version["version"]
        if index == 0:
            heading = _("Version {number}, decided {date}", number=number,
                        date=date_text(decision["decided_at"]))  # fmt: skip
            change = f"<p>{escape(first)}</p>"
        else:
            heading = _("Version {number}, from {date}", number=number,
                        date=date_text(version["started_at"]))  # fmt: skip
            change = _change(versions[index - 1], version)
        items.append(
            f"<li id='versjon-{number}'><h3>{escape(heading)}</h3>{change}"
            f"<h4>{words['decision']}</h4>{paragraphs(version['decision_text'])}"
            f"<h4>{words['rationale']}</h4>{paragraphs(version['rationale'])}</li>"
        )
    if not items:
        none = _("No versions recorded.")
        return f"<p>{escape(none)}</p>"
    return f"<ol class='versions' reversed>{''.join(items)}</ol>"


def _change(before: dict, after: dict) -> str:
    changed = [
        word
        for field, word in (("decision_text", _("the decision")), ("rationale", _("the rationale")))
        if (before[field] or "").strip() != (after[field] or "").strip()
    ]
    what = (
        _("Changed: {parts}.", parts=_(" and ").join(changed))
        if changed
        else _("The text is unchanged.")
    )
    why = after["reason"] or _("No reason recorded.")
    because = _("Why")
    return f"<p>{escape(what)}</p><p><strong>{escape(because)}</strong>: {escape(why)}</p>"


def _folded_copy(decision: dict, names: dict) -> str:
    """The page's words as a search forgives them ("søknad" also as "soknad"), in the index
    but hidden from view: Pagefind searches the folded words the search page sends."""
    texts = [decision["key"], decision["title"], decision["question"], decision["decision"],
             decision["rationale"], decision["forum_name"], decision["domain_name"],
             decision["module_name"],
             *(names["organizations"].get(code, code) for code in decision["organizations"])]  # fmt: skip
    return fold(" ".join(t for t in texts if t))


def decision_table(path: str, decisions: Iterable[dict], caption: str) -> str:
    rows = "".join(
        f"<tr><td><a href='{href(path, decision_path(d['key']))}'>{escape(d['key'])}</a></td>"
        f"<td>{escape(d['title'])}</td><td>{escape(stage_word(d['stage']))}</td>"
        f"<td>{escape(date_text(d['decided_at']))}</td></tr>"
        for d in decisions
    )
    if not rows:
        none = _("No published decisions.")
        return f"<p>{escape(none)}</p>"
    words = _escaped(key=_("Key"), title=_("Title"), stage=_("Stage"), decided=_("Decided"))
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>"
        f"<th scope='col'>{words['key']}</th><th scope='col'>{words['title']}</th>"
        f"<th scope='col'>{words['stage']}</th><th scope='col'>{words['decided']}</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def list_page(kind: str, entry: dict, decisions: list[dict]) -> bytes:
    """The decisions of one domain, module, forum or wave."""
    path = list_path(kind, entry["code"])
    section = sections()[kind]
    intro = ""
    if kind == "waves":
        go_live = _("Go-live {date}.", date=date_text(entry["go_live"]))
        intro = f"<p>{escape(go_live)}</p>"
    count = n_("{count} published decision", "{count} published decisions", len(decisions))
    body = (
        f"<p class='kind'>{escape(section.one)}</p><h1>{escape(entry['name'])}</h1>{intro}"
        f"{decision_table(path, decisions, count)}"
    )
    return page(path, entry["name"], body)


def overview_page(kind: str, entries: list[dict], counts: dict[str, int]) -> bytes:
    """Every domain, module, forum or wave with how many published decisions it has."""
    path = list_path(kind)
    section = sections()[kind]
    items = []
    for entry in entries:
        count = counts.get(entry["code"], 0)
        if count:
            decisions = n_("{count} decision", "{count} decisions", count)
            items.append(
                f"<li><a href='{href(path, list_path(kind, entry['code']))}'>"
                f"{escape(entry['name'])}</a> ({escape(decisions)})</li>"
            )
    body = f"<h1>{escape(section.title)}</h1><ul class='lists'>{''.join(items)}</ul>"
    return page(path, section.title, body)


def front_page(total: int, recent: list[dict]) -> bytes:
    """What the log is, a search box, the lists and the latest decided or revised."""
    path = "index.html"
    lists = "".join(
        f"<li><a href='{href(path, list_path(kind))}'>{escape(section.title)}</a></li>"
        for kind, section in sections().items()
    )
    latest = "".join(
        f"<li><a href='{href(path, decision_path(e['key']))}'>{escape(e['key'])} "
        f"{escape(e['title'])}</a> – {escape(e['what'])} {escape(date_text(e['at']))}</li>"
        for e in recent
    )
    words = _escaped(
        title=_("Decision log"),
        intro=_(
            "Why the EHR works as it does: every decided build decision with its question, "
            "decision, rationale and versions."
        ),
        count=n_("{count} decision is published.", "{count} decisions are published.", total),
        browse=_("Browse"),
        latest=_("Latest decided or revised"),
    )
    body = f"""<h1>{words["title"]}</h1>
<p>{words["intro"]} {words["count"]}</p>
{search_form(path)}
<h2>{words["browse"]}</h2>
<ul class="lists">{lists}</ul>
<h2>{words["latest"]}</h2>
<ul>{latest}</ul>"""
    return page(path, _("Decision log"), body)


def search_form(path: str) -> str:
    words = _escaped(label=_("Search the decisions"), button=_("Search"))
    action = href(path, SEARCH_PATH + "/index.html")
    return f"""<form class="search" role="search" action="{action}" method="get">
<label for="q">{words["label"]}</label>
<input id="q" name="q" type="search" autocomplete="off">
<button type="submit">{words["button"]}</button>
</form>"""


def search_page() -> bytes:
    """The search: Pagefind's index, queried by assets/search.js with the words folded."""
    path = f"{SEARCH_PATH}/index.html"
    texts = {
        "data-one": _("{count} decision found"),
        "data-many": _("{count} decisions found"),
        "data-none": _("No decision found"),
        "data-loading": _("Searching …"),
        "data-failed": _("The search could not be loaded."),
    }
    attributes = " ".join(f'{name}="{escape(text)}"' for name, text in texts.items())
    words = _escaped(title=_("Search the decisions"), more=_("Show more"))
    body = f"""<h1>{words["title"]}</h1>
{search_form(path)}
<div id="search-results" {attributes}>
<p id="search-status" role="status" aria-live="polite"></p>
<ol id="search-list"></ol>
<button id="search-more" type="button" hidden>{words["more"]}</button>
</div>
<script type="module" src="{href(path, "assets/search.js")}"></script>"""
    return page(path, _("Search"), body)


def _escaped(**texts: str) -> dict[str, str]:
    """Translated texts, escaped for HTML (so the f-strings below hold no call to `_`, which
    the catalogs' extraction cannot see inside them)."""
    return {name: escape(text) for name, text in texts.items()}


def accessibility_page() -> bytes:
    """The accessibility statement Norwegian public bodies publish (WCAG 2.1 AA)."""
    words = _escaped(
        title=_("Accessibility statement"),
        aim=_("This site aims to meet WCAG 2.1 level AA, as Norwegian public bodies must."),
        checked=_(
            "Every kind of page (the front page, the search, the lists and a decision) is "
            "checked with axe-core's WCAG 2.1 A and AA rules each time the software changes. "
            "The pages are plain HTML that works with a keyboard, a screen reader and zoom."
        ),
        limits=_(
            "Known limitation: the search needs JavaScript. Without it, the lists by domain, "
            "module, forum and go-live wave lead to every decision."
        ),
        report=_("Report a problem with the site to the programme's service desk."),
    )
    body = f"""<h1>{words["title"]}</h1>
<p>{words["aim"]}</p>
<p>{words["checked"]}</p>
<p>{words["limits"]}</p>
<p>{words["report"]}</p>"""
    return page(ACCESSIBILITY_PATH, _("Accessibility statement"), body)
