"""User text never becomes markup, in a real browser: on a programme whose names, codes, keys
and texts are markdown images and links to another origin, script and img tags, colour
directives and LaTeX (tests/hostile.py), every page is opened in Chromium; no request leaves
the app's own origin and no script runs (no dialog opens)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from hostile import ELSEWHERE, EXPERT, KEYS, WAVE, build_hostile_programme

from decisions import store

PAGES = ["", "decisions", "my_work", "new_decision", "demos", "approvals", "testing", "suspect",
         "readiness", "backlog", "plan", "data", "people"]  # fmt: skip


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def test_no_page_fetches_from_elsewhere_or_runs_a_script(start_app, page, wait_idle, tmp_path):
    db = tmp_path / "hostile.db"
    conn = store.connect(db)
    keys = build_hostile_programme(conn)
    conn.close()
    url = start_app(db)
    requests, dialogs = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    visits = [(name, {}) for name in PAGES]
    visits += [("decision", {"key": key}) for key in [*KEYS.values(), keys["escalated"]]]
    visits += [("decision", {"key": f"![n]({ELSEWHERE}/n.png)"})]  # no such decision
    visits += [("readiness", {"wave": WAVE})]
    for email in ("admin@hemit.no", EXPERT):
        for name, query in visits:
            params = "&".join(f"{k}={quote(v, safe='')}" for k, v in {**query, "as": email}.items())
            page.goto(f"{url}/{name}?{params}")
            wait_idle(page)
            page.wait_for_load_state("networkidle")
    elsewhere = sorted(
        {r for r in requests if not r.startswith(("data:", "blob:")) and origin(r) != origin(url)}
    )
    assert not elsewhere, f"requests left the app: {elsewhere}"
    assert not dialogs, f"a script ran: {dialogs}"
    assert any("_stcore" in r for r in requests)  # the app itself was reached
