"""The app: one database connection per run, sign-in, the sidebar every page shares, and the
navigation over the pages. `streamlit run streamlit_app.py`."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitMissingAuthlibError
from streamlit.runtime.pages_manager import PagesManager

# The browser tab's icon is an emoji, drawn in the page: a :material/...: icon as the favicon
# makes every viewer's browser fetch it from fonts.gstatic.com (tests/e2e/test_hostile_text.py).
FAVICON = "🗂️"


def pages(person=None) -> dict[str, list[st.Page]]:
    """The menu: for a signed-in person, only the screens they may use (permissions.in_menu;
    the others keep their address), and the one they land on first."""
    from decisions import permissions
    from decisions.i18n import _

    landing = permissions.landing_page(person)

    def page(name: str, title: str, icon: str, **options) -> st.Page:
        if person is not None and not permissions.in_menu(person, name):
            options["visibility"] = "hidden"
        return st.Page(f"pages/{name}.py", title=title, icon=f":material/{icon}:",
                       default=name == landing, **options)  # fmt: skip

    menu = {
        _("Work"): [
            page("overview", _("Overview"), "dashboard"),
            page("decisions_register", _("Decisions"), "list_alt", url_path="decisions"),
            page(
                "decision", _("Decision"), "description", url_path="decision", visibility="hidden"
            ),  # fmt: skip
            page("my_work", _("My work"), "inbox"),
            page("notices", _("Notices"), "mail"),
            page("new_decision", _("New decision"), "add_circle"),
        ],
        _("Evidence"): [
            page("demos", _("Demos"), "co_present"),
            page("demo", _("Demo"), "event", url_path="demo", visibility="hidden"),
            page("approvals", _("Approvals"), "task_alt"),
            page("testing", _("Testing"), "science"),
            page("suspect", _("Suspect evidence"), "report"),
        ],
        _("Programme"): [
            page("readiness", _("Readiness"), "flag"),
            page("backlog", _("Backlog"), "hourglass"),
            page("plan", _("Plan"), "calendar_month"),
        ],
        _("Admin"): [
            page("data", _("Data"), "database"),
            page("people", _("People and settings"), "group"),
            page("accessibility", _("Accessibility"), "accessibility_new"),
        ],
    }
    return menu


def menu(sections: Mapping[str, list[st.Page]]) -> list[st.Page]:
    """The sidebar's menu as one list: Streamlit draws a sectioned menu as a list whose items
    sit inside another element, which screen readers cannot count (axe-core: WCAG 1.3.1)."""
    return [page for section in sections.values() for page in section]


if PagesManager.uses_pages_directory:
    # A process's first run starts as an old-style pages/ app, whose menu lists the raw page
    # files until st.navigation runs; hide it now, before the slow imports below let it show.
    st.set_page_config(page_icon=FAVICON)  # before any navigation: see FAVICON
    st.navigation(pages(), position="hidden")

import ui  # noqa: E402
import widget_texts  # noqa: E402
from decisions import admin, i18n, identity, notices, permissions, services, settings, store, words  # noqa: E402
from decisions.i18n import N_, _  # noqa: E402
from decisions.model import ROLES, Actor  # noqa: E402
from decisions.store import analytics, screen_queries  # noqa: E402
from decisions.store import decisions as decision_store  # noqa: E402

# One short line on every page (on a phone the whole notice took 40 % of the first screen);
# how to start a real programme is one click away.
DEMO_NOTICE = N_("**Demo programme.** Invented people and data: try anything.")
REAL_PROGRAMME_HELP = N_(
    "To start a real programme, create an empty database with `python -m decisions init --db "
    "PATH`, set the environment variable `DECISIONS_DB=PATH` and restart the app."
)


def demo_notice() -> None:
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(f":material/science: {_(DEMO_NOTICE)}", width="content")
        with st.popover(_("A real programme"), type="tertiary", icon=":material/help:"):
            st.markdown(_(REAL_PROGRAMME_HELP))


AUTH_HELP = N_("""
This programme database is not a demo, so people must sign in with the organisation's
single sign-on. Add an `[auth]` section to `.streamlit/secrets.toml` and restart the app:

```toml
[auth]
redirect_uri = "https://decisions.example.org/oauth2callback"
cookie_secret = "..."  # python -c "import secrets; print(secrets.token_urlsafe(48))"
client_id = "..."
client_secret = "..."
server_metadata_url = "https://login.example.org/.well-known/openid-configuration"
```

Everyone who signs in must be in the directory (People and settings) with the same email.
""")
SSO_PACKAGES = ("authlib", "httpx")  # Streamlit's OIDC login runs Authlib over httpx


def open_database() -> None:
    """Open this run's connection; on the very first start, build the demo programme."""
    path = store.database_path()
    if not path.exists():
        from decisions import demo

        st.navigation(pages(), position="hidden")  # no menu until the programme exists
        st.title(_("Setting up the demo programme"))
        bar = st.progress(0.0, text=_("Creating the demo programme; this takes a minute…"))

        def progress(fraction: float, text: str | None = None) -> None:
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=text or _("Creating…"))

        ui.build_demo_once(path, lambda conn: demo.build_demo(conn, progress=progress))
        st.rerun()
    st.session_state["_conn"] = ui.open_connection(path)


def auth_configured() -> bool:
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


DEMO_PERSON = "as"  # the demo sign-in's widget key and URL parameter


def signed_in(conn, demo: bool, sso: bool) -> Actor | None:
    """The person signed in for this run, or None."""
    if sso:
        return sso_person(conn)[0]
    # The demo's choice lives in the URL too (?as=EMAIL), so a reload keeps it.
    email = st.session_state.get("_signed_in") or st.query_params.get(DEMO_PERSON)
    person = decision_store.load_actor(conn, email) if demo and email else None
    if person is not None:
        st.session_state["_signed_in"] = person.email
    return person


def sso_person(conn) -> tuple[Actor | None, str]:
    """The directory's person for the identity token's email, or None and why not (markdown).
    Streamlit reads the token's claims into st.user; the email must be there and must not be
    marked unverified (a provider that lets people set any email says email_verified=false)."""
    if not st.user.is_logged_in:
        return None, ""
    email = str(st.user.get("email") or "").strip()
    if not email:
        return None, _(
            "Your sign-in did not include an email address, so the app cannot tell who you "
            "are. Ask the administrator of the sign-in service to include the `email` claim "
            "in the identity token for this app."
        )
    if not identity.email_verified(st.user):
        return None, _(
            "The sign-in service has not verified {email}, so it cannot be used to sign in. "
            "Verify the address with the sign-in service, then sign in again.",
            email=ui.md(email),
        )
    person = decision_store.load_actor(conn, email)
    if person is None:
        return None, _(
            "{email} is not in this programme's directory, or is no longer active. Ask a "
            "programme administrator to add you under People and settings.",
            email=ui.md(email),
        )
    if admin.sign_in_revoked(conn, person.email, st.user):
        return None, _("You signed out after this sign-in. Sign in again.")
    return person, ""


def weak_cookie_secret() -> str | None:
    """Why the [auth] cookie_secret may not be used, or None."""
    return identity.cookie_secret_problem(str(st.secrets["auth"].get("cookie_secret") or ""))


def refuse_weak_cookie_secret() -> None:
    """Stop the app, saying how to fix it, while the cookie secret is missing or guessable."""
    problem = weak_cookie_secret()
    if problem is None:
        return
    st.navigation(pages(), position="hidden")
    st.title(_("Decisions"))
    st.error(
        _(
            "The app will not start: {problem} Anyone who knows the secret can sign in as anyone.",
            problem=problem,
        ),
        icon=":material/lock:",
    )
    st.markdown(_("Make a new secret, put it in `.streamlit/secrets.toml` and restart the app:"))
    st.code('python -c "import secrets; print(secrets.token_urlsafe(48))"', language="bash")
    st.code('[auth]\ncookie_secret = "<the printed value>"', language="toml")
    st.stop()


def missing_sso_packages() -> list[str]:
    return [name for name in SSO_PACKAGES if importlib.util.find_spec(name) is None]


def sso_provider() -> str | None:
    """The provider named in [auth.NAME], or None when [auth] itself holds the client."""
    section = st.secrets["auth"]
    if "client_id" in section:
        return None
    return next((name for name, value in section.items() if isinstance(value, Mapping)), None)


def sign_in_with_sso(conn) -> None:
    st.title(_("Decisions"))
    if not st.user.is_logged_in:
        missing = missing_sso_packages()
        if missing:
            st.error(
                _("Single sign-on needs the Python packages {packages}, which are not "
                  "installed. Install them with `pip install -r requirements.txt` and restart.",
                  packages=", ".join(missing)),
                icon=":material/error:",
            )  # fmt: skip
            return
        st.write(_("Sign in with your organisation account to see the programme."))
        if st.button(_("Sign in"), type="primary", icon=":material/login:"):
            try:
                st.login(sso_provider())
            except StreamlitMissingAuthlibError:
                st.error(_("Single sign-on needs the Authlib package: "
                           "`pip install streamlit[auth]`."))  # fmt: skip
        return
    st.error(sso_person(conn)[1], icon=":material/block:")
    if st.button(_("Sign out"), icon=":material/logout:"):
        st.logout()


@st.cache_data(max_entries=4, show_spinner=False)
def sign_in_choices(
    _conn, marker: str, language: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The active people as email -> label (by name), and per role their emails; built once
    per change of the data (`marker`) and language, not on every run of every page."""
    people = decision_store.directory(_conn)
    people = people[people["active"] == 1]
    labels: dict[str, str] = {}
    by_role: dict[str, list[str]] = {role: [] for role in ROLES}
    for row in people.itertuples():
        roles = set((row.roles or "").split(";")) - {""}
        labels[row.email] = sign_in_label(row.name, row.email, row.organization_name, roles)
        for role in roles & set(ROLES):
            by_role[role].append(row.email)
    return labels, by_role


def sign_in_label(name: str, email: str, organization: str, roles: set[str]) -> str:
    """A person as the demo sign-in lists them."""
    in_words = ", ".join(map(words.role_word, sorted(roles))) or _("no role")
    return f"{name} ({email}) · {organization} · {in_words}"


CHOOSING = "_choosing_person"  # a signed-in person asked to act as someone else


def demo_sign_in(conn, person: Actor | None) -> None:
    """The demo's sign-in: pick anyone from the directory (no password). Once someone is
    signed in, the list is drawn only when they ask for it: every person's label goes to the
    browser with it, 350 kB on every run of every page at ten times the demo's volume."""
    with st.sidebar:
        st.caption(":material/science: " + _("**Demo sign-in**: act as anyone in the directory."))
        if person is not None and not st.session_state.get(CHOOSING):
            # The one person, not the directory: the browser keeps it, so a new session after
            # the process behind it died signs in as them again (resume_demo_sign_in).
            # Labelled as in the full list: the browser sends the label back, and a new
            # session finds the person by it there.
            organization = screen_queries.organization_name(conn, person.organization)
            label = sign_in_label(person.name, person.email, organization, set(person.roles))
            st.selectbox(_("Person"), [person.email], format_func=lambda _email: label,
                         key=DEMO_PERSON)  # fmt: skip
            if st.button(_("Act as someone else"), icon=":material/switch_account:",
                         key="_choose_person"):  # fmt: skip
                st.session_state[CHOOSING] = True
                st.rerun()
            return
        choose_person(conn)


def choose_person(conn) -> None:
    labels, by_role = sign_in_choices(conn, analytics.data_marker(conn), i18n.language())
    role = st.pills(_("Role"), ROLES, key="_demo_role", format_func=words.role_word,
                    help=_("Show only people with this role"))  # fmt: skip
    emails = by_role[role] if role else list(labels)
    current = st.session_state.get("_signed_in")  # signed_in() took it from the URL
    st.selectbox(
        _("Person"),
        emails,
        index=emails.index(current) if current in emails else None,
        format_func=labels.get,
        placeholder=_("Choose a person…"),
        key=DEMO_PERSON,
        on_change=chosen,
    )


def chosen() -> None:
    st.session_state.update(_signed_in=st.session_state.get(DEMO_PERSON))
    st.session_state.pop(CHOOSING, None)


def resume_demo_sign_in(conn) -> bool:
    """Whether the browser still shows a person in the demo sign-in that this session does not
    know: a new session after the process behind it died (a page link, which drops ?as=, was
    its first request). Then it signs in as them again."""
    email = st.session_state.get(DEMO_PERSON)
    if not email or decision_store.load_actor(conn, email) is None:
        return False
    st.session_state["_signed_in"] = email
    return True


def sidebar(conn, person: Actor, demo: bool, sso: bool) -> None:
    with st.sidebar:
        st.markdown(f"**{ui.md(person.name)}**")
        roles = ", ".join(words.role_word(r) for r in sorted(person.roles)) or _("no role")
        organization = screen_queries.organization_name(conn, person.organization)
        st.caption(f"{ui.md(organization or person.organization)} · {ui.md(roles)}")
        if st.button(_("Sign out"), icon=":material/logout:", key="_sign_out"):
            if demo and not sso:
                st.session_state.pop("_signed_in", None)
                st.session_state.pop(DEMO_PERSON, None)
                st.query_params.pop(DEMO_PERSON, None)
                st.rerun()
            admin.sign_out(conn, person)
            st.logout()
        language_switch(conn, person)
        st.caption(_("Programme today: **{date}**", date=i18n.format_date(services.today(conn))))


def language_switch(conn, person: Actor) -> None:
    """The person's language, kept for them (their notices follow it too)."""
    chosen = st.segmented_control(
        _("Language"),
        i18n.LANGUAGES,
        default=i18n.language(),
        format_func=i18n.LANGUAGE_NAMES.get,
        key="_language",
        label_visibility="collapsed",
    )
    if chosen and chosen != i18n.language():
        notices.set_language(conn, person, person.email, chosen)
        st.rerun()


def land(person: Actor, current) -> None:
    """Right after signing in, a person who would land on the Overview (the page of whoever is
    not signed in) goes to their own landing page instead; a deep link is kept."""
    if st.session_state.get("_landed") == person.email:
        return
    st.session_state["_landed"] = person.email
    landing = permissions.landing_page(person)
    if current.url_path == "overview" and landing != "overview":
        st.switch_page(f"pages/{landing}.py")


def reader_language(conn, person: Actor | None) -> str:
    """The person's own choice, else their browser's preferred language, else the programme's."""
    return i18n.choose(
        person=notices.language_of(conn, person.email) if person else None,
        browser=st.context.locale,
        programme=settings.get(conn, settings.LANGUAGE),
    )


def main() -> None:
    st.set_page_config(page_title=_("Decisions"), page_icon=FAVICON, layout="wide")
    sso = auth_configured()
    if sso:
        refuse_weak_cookie_secret()
    open_database()
    conn = st.session_state["_conn"]
    try:
        i18n.use(reader_language(conn, None))  # before any text is drawn, even a sign-in error
        demo = bool(settings.get(conn, settings.DEMO))
        person = signed_in(conn, demo, sso)
        if person is not None:
            i18n.use(reader_language(conn, person))
        st.session_state["_actor"] = person
        navigation = st.navigation(
            menu(pages(person)), position="sidebar" if person else "hidden", expanded=True
        )
        st.set_page_config(page_icon=FAVICON)  # not the page's icon: see FAVICON
        ui.phone_layout()
        ui.focus_rings()
        widget_texts.show()
        if demo:
            demo_notice()
        if sso:
            if person is None:
                sign_in_with_sso(conn)
                return
        elif not demo:
            st.title(_("Decisions"))
            st.error(_("Sign-in is not configured."), icon=":material/lock:")
            st.markdown(_(AUTH_HELP))
            return
        else:
            demo_sign_in(conn, person)
            if person is None and resume_demo_sign_in(conn):
                st.rerun()
            if person is None:
                st.title(_("Decisions"))
                st.write(_("Choose who you are in the sidebar to see the programme as them."))
                return
        if demo and not sso and st.query_params.get(DEMO_PERSON) != person.email:
            st.query_params[DEMO_PERSON] = person.email  # page links drop it; put it back
        sidebar(conn, person, demo, sso)
        land(person, navigation)
        navigation.run()
    finally:
        conn.close()  # the next run opens its own; pages see a closed one as no frame


with ui.RUN_SLOTS.taken():
    main()
