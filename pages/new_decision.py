"""New decision: propose a question for a forum to decide. Domain and scope come first: they
choose the forum offered (services.default_forum) and the organisations a decision of that
scope can affect (services.fits_scope). Every problem of a proposal is shown at once."""

import streamlit as st

import ui
from decisions import permissions, services, words
from decisions.i18n import _
from decisions.model import CRITICALITIES, SCOPES, WorkflowError
from decisions.store import reference

conn = ui.conn()
person = ui.actor()


def names(table: str) -> dict[str, str]:
    return {r["code"]: r["name"] for r in reference.list_table(conn, table)}


def forum_catalog() -> list[dict]:
    covers: dict[str, set] = {}
    for row in reference.list_table(conn, "forum_domains"):
        covers.setdefault(row["forum"], set()).add(row["domain"])
    return [f | {"domains": covers.get(f["code"], set())}
            for f in reference.list_table(conn, "forums")]  # fmt: skip


st.title(_("New decision"))
if created := ui.show_flash().get("created"):
    st.session_state["_new_decision"] = created
if not permissions.allowed(person, "propose"):
    st.info(permissions.refusal(person, "propose"), icon=":material/lock:")
    st.stop()

domains, forums = names("domains"), names("forums")
organizations = reference.list_table(conn, "organizations")
modules = reference.list_table(conn, "modules")
mine = sorted(person.domains & set(domains))
left, right = st.columns(2)
domain = left.selectbox(
    _("Domain"),
    list(domains),
    index=list(domains).index(mine[0]) if mine else 0,
    format_func=lambda code: f"{code} · {domains[code]}",
    key="new_decision_domain",
)
scope = right.selectbox(
    _("Scope"),
    SCOPES,
    index=SCOPES.index(person.side) if person.side in SCOPES else 0,
    format_func=words.scope_word,
    key="new_decision_scope",
    help=_(
        "Who the decision affects: the forum of that side decides it; joint decisions go "
        "to a joint forum."
    ),  # fmt: skip
)
in_domain = {m["code"]: m["name"] for m in modules if m["domain"] == domain}
catalog = forum_catalog()
proposed_forum = services.default_forum(catalog, domain, scope)
forum_order = sorted(forums, key=lambda code: (code != proposed_forum, code))
in_scope = {o["code"]: o["name"] for o in organizations if services.fits_scope(scope, o["kind"])}

with st.form(ui.form_key("new_decision"), enter_to_submit=False):
    title = st.text_input(_("Title"), max_chars=services.MAX_TITLE)
    question = st.text_area(_("Question"), help=_("What must be decided, and why now?"))
    rationale = st.text_area(_("Background and options"))
    left, right = st.columns(2)
    with left:
        module = st.selectbox(
            _("Module"),
            list(in_domain),
            index=None if len(in_domain) > 1 else 0,
            placeholder=_("Choose the module"),
            format_func=lambda code: f"{code} · {in_domain[code]}",
        )
        forum = st.selectbox(
            _("Forum"),
            forum_order,
            format_func=lambda code: f"{code} · {forums[code]}",
            help=_(
                "Proposed from the domain and the scope; choose another when it belongs elsewhere."
            ),  # fmt: skip
        )
        criticality = st.selectbox(
            _("Criticality"), CRITICALITIES, index=2, format_func=words.criticality_word
        )
    with right:
        needed_by = st.date_input(_("Needed by"), None, format="DD.MM.YYYY")
        everyone = st.checkbox(_("All organisations"))
        chosen = st.multiselect(
            _("Organisations"),
            list(in_scope),
            format_func=in_scope.get,
            placeholder=_("Choose the organisations affected"),
            help=_("Those a decision of this scope can affect."),
        )
    st.caption(_("You will own the proposal; the forum decides it."))
    if st.form_submit_button(_("Propose"), type="primary"):
        fields = {
            "title": title, "question": question, "rationale": rationale, "domain": domain,
            "module": module or "", "forum": forum or "", "scope": scope,
            "criticality": criticality, "needed_by": needed_by,
            "organizations": ["ALL"] if everyone else chosen, "owner": person.email,
        }  # fmt: skip
        ui.form_saved("new_decision")  # before the change: a second click then finds no form
        done = ui.saving()
        try:
            new_key = services.create_decision(conn, person, fields)
        except WorkflowError as error:
            ui.form_refused("new_decision")
            ui.show_refusal(error)
        else:
            done.update(created=new_key, message=_("Decision {key} is proposed to {forum}.",
                                                   key=new_key, forum=forum))  # fmt: skip
            ui.flash(done["message"])
            st.rerun()

if created := st.session_state.get("_new_decision"):
    st.page_link(
        ui.DECISION_PAGE, label=_("Open {key}", key=ui.md(created)),
        icon=":material/open_in_new:", query_params={"key": created},
    )  # fmt: skip
