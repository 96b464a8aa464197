"""New decision: propose a question for a forum to decide."""

import streamlit as st

import ui
from decisions import permissions, services
from decisions.model import CRITICALITIES, SCOPES, WorkflowError
from decisions.store import reference

conn = ui.conn()
person = ui.actor()


def names(table: str) -> dict[str, str]:
    return {r["code"]: r["name"] for r in reference.list_table(conn, table)}


st.title("New decision")
ui.show_flash()
if not permissions.allowed(person, "propose"):
    st.info("Proposing a decision needs the role expert, analyst, manager or admin.")
    st.stop()

domains, forums, organizations = names("domains"), names("forums"), names("organizations")
modules = reference.list_table(conn, "modules")
mine = sorted(person.domains & set(domains))
domain = st.selectbox(
    "Domain",
    list(domains),
    index=list(domains).index(mine[0]) if mine else 0,
    format_func=lambda code: f"{code} · {domains[code]}",
)
in_domain = {m["code"]: m["name"] for m in modules if m["domain"] == domain}
domain_forums = {
    r["forum"] for r in reference.list_table(conn, "forum_domains") if r["domain"] == domain
}
forum_order = sorted(forums, key=lambda code: (code not in domain_forums, code))
with st.form(ui.form_key("new_decision")):
    title = st.text_input("Title", max_chars=services.MAX_TITLE)
    question = st.text_area("Question", help="What must be decided, and why now?")
    rationale = st.text_area("Background and options")
    left, right = st.columns(2)
    with left:
        module = st.selectbox(
            "Module", list(in_domain), format_func=lambda code: f"{code} · {in_domain[code]}"
        )
        forum = st.selectbox(
            "Forum", forum_order, format_func=lambda code: f"{code} · {forums[code]}"
        )
        scope = st.selectbox("Scope", SCOPES)
    with right:
        criticality = st.selectbox("Criticality", CRITICALITIES, index=2)
        needed_by = st.date_input("Needed by", None)
        everyone = st.checkbox("All organisations")
        chosen = st.multiselect(
            "Organisations", list(organizations), format_func=lambda c: organizations[c]
        )
    st.caption("You will own the proposal; the forum decides it.")
    if st.form_submit_button("Propose", type="primary"):
        fields = {
            "title": title, "question": question, "rationale": rationale, "domain": domain,
            "module": module or "", "forum": forum or "", "scope": scope,
            "criticality": criticality, "needed_by": needed_by,
            "organizations": ["ALL"] if everyone else chosen, "owner": person.email,
        }  # fmt: skip
        try:
            new_key = services.create_decision(conn, person, fields)
        except WorkflowError as error:
            ui.show_refusal(error)
        else:
            st.session_state["_new_decision"] = new_key
            ui.form_saved("new_decision")
            ui.flash(f"Decision {new_key} is proposed to {forum}.")
            st.rerun()

if created := st.session_state.get("_new_decision"):
    st.page_link(
        ui.DECISION_PAGE, label=f"Open {ui.md(created)}", icon=":material/open_in_new:",
        query_params={"key": created},
    )  # fmt: skip
