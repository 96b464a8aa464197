"""People and settings, for managers and admins: the expert directory, the forums with their
level, scope and members, and the approval rule's numbers."""

import streamlit as st

import ui
from decisions import admin, permissions, services
from decisions.model import FORUM_LEVELS, ROLES, SCOPES, WorkflowError
from decisions.store import people as people_store
from decisions.store import queues, reference

SHOWN = 500
NEW = "(new)"
PREVIEW = "people_rule_preview"  # (rule, effect) shown, awaiting confirmation

conn = ui.conn()
person = ui.actor()


def codes(table: str) -> dict[str, str]:
    return {r["code"]: f"{r['code']} · {r['name']}"
            for r in reference.list_table(conn, table)}  # fmt: skip


def split(text: str | None) -> list[str]:
    return [v for v in (text or "").split(";") if v]


# Experts ----------------------------------------------------------------------------------------


def experts_tab() -> None:
    organizations, domains = codes("organizations"), codes("domains")
    a, b, c, d, e = st.columns([2, 2, 2, 1, 1])
    search = a.text_input("Search name or email", key="people_search")
    organization = b.selectbox("Organisation", list(organizations), index=None,
                               format_func=organizations.get, placeholder="All",
                               key="people_org")  # fmt: skip
    domain = c.selectbox("Domain", list(domains), index=None, format_func=domains.get,
                         placeholder="All", key="people_domain")  # fmt: skip
    role = d.selectbox("Role", ROLES, index=None, placeholder="All", key="people_role")
    active = e.selectbox("Active", ["yes", "no"], index=None, placeholder="All",
                         key="people_active")  # fmt: skip
    frame = people_store.experts(conn, search=search, organization=organization, domain=domain,
                                 role=role, active=None if active is None else active == "yes",
                                 limit=SHOWN)  # fmt: skip
    columns = ["email", "name", "organization", "roles", "domains", "allocation_pct", "active",
               "forums"]  # fmt: skip
    st.dataframe(
        frame[columns].fillna(""),
        hide_index=True,
        key="people_table",
        column_config={
            "allocation_pct": st.column_config.ProgressColumn(
                "allocation", format="%d %%", min_value=0, max_value=100
            ),
            "active": st.column_config.CheckboxColumn("active"),
        },
    )
    if len(frame) >= SHOWN:
        st.caption(f"Showing the first {SHOWN}; narrow the search to see others.")
    emails = {r.email: f"{r.name} ({r.email})" for r in frame.itertuples()}
    chosen = st.selectbox("Add or edit", [NEW, *emails], format_func=lambda v: emails.get(v, v),
                          key="people_edit")  # fmt: skip
    expert_form(None if chosen == NEW else people_store.get_expert(conn, chosen))


def expert_form(expert: dict | None) -> None:
    organizations, domains, forums = codes("organizations"), codes("domains"), codes("forums")
    version = ui.seen("expert", expert["email"], expert["row_version"]) if expert else None
    with st.form(f"expert_form_{expert['email'] if expert else 'new'}", enter_to_submit=False):
        st.markdown(f"**{ui.md(expert['name']) if expert else 'New expert'}**")
        left, right = st.columns(2)
        email = left.text_input("Email", value=expert["email"] if expert else "",
                                disabled=expert is not None)  # fmt: skip
        name = right.text_input("Name", value=expert["name"] if expert else "")
        orgs = list(organizations)
        organization = left.selectbox("Organisation", orgs, format_func=organizations.get,
                                      index=orgs.index(expert["organization"]) if expert else None)  # fmt: skip
        allocation = right.number_input("Allocation %", min_value=0, max_value=100, step=5,
                                        value=expert["allocation_pct"] if expert else 20)  # fmt: skip
        chosen_domains = st.multiselect("Domains", list(domains), format_func=domains.get,
                                        default=expert["domains"] if expert else [])  # fmt: skip
        roles = st.multiselect("Roles", ROLES, default=expert["roles"] if expert else ["expert"])
        chosen_forums = st.multiselect(
            "Forums", list(forums), format_func=forums.get,
            default=expert["forums"] if expert else [],
            help="When empty: the level-1 forums of the expert's domains",
        )  # fmt: skip
        active = st.checkbox("Active", value=bool(expert["active"]) if expert else True)
        if not st.form_submit_button("Save the expert", type="primary"):
            return
    if expert:
        ui.forget("expert", expert["email"])
    try:
        saved = admin.save_expert(
            conn, person, email=expert["email"] if expert else email, name=name,
            organization=organization or "", domains=chosen_domains, roles=roles,
            allocation_pct=allocation, active=active, forums=chosen_forums, row_version=version,
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(f"{saved} saved.")
    st.rerun()


# Forums -----------------------------------------------------------------------------------------


def forums_tab() -> None:
    frame = people_store.forums(conn)
    frame = frame.assign(level=frame["level"].map(lambda n: f"{n} · {FORUM_LEVELS[n]}"))
    st.dataframe(frame.drop(columns=["row_version"]), hide_index=True, key="forums_table")
    labels = {r.code: f"{r.code} · {r.name}" for r in frame.itertuples()}
    chosen = st.selectbox("Add or edit", [NEW, *labels], format_func=lambda v: labels.get(v, v),
                          key="forum_edit")  # fmt: skip
    forum_form(None if chosen == NEW else people_store.get_forum(conn, chosen))


def forum_form(forum: dict | None) -> None:
    domains = codes("domains")
    directory = queues.people_of_domain(conn, None)  # everyone active
    people = {r.email: f"{r.name} ({r.email})" for r in directory.itertuples()}
    for email in forum["members"] if forum else []:
        people.setdefault(email, f"{email} (inactive)")
    version = ui.seen("forum", forum["code"], forum["row_version"]) if forum else None
    with st.form(f"forum_form_{forum['code'] if forum else 'new'}", enter_to_submit=False):
        left, right = st.columns(2)
        code = left.text_input("Code", value=forum["code"] if forum else "",
                               disabled=forum is not None)  # fmt: skip
        name = right.text_input("Name", value=forum["name"] if forum else "")
        levels = list(FORUM_LEVELS)
        level = left.selectbox("Level", levels, format_func=lambda n: f"{n} · {FORUM_LEVELS[n]}",
                               index=levels.index(forum["level"]) if forum else 0)  # fmt: skip
        scope = right.selectbox("Scope", SCOPES,
                                index=SCOPES.index(forum["scope"]) if forum else 0)  # fmt: skip
        chosen_domains = st.multiselect("Domains", list(domains), format_func=domains.get,
                                        default=forum["domains"] if forum else [])  # fmt: skip
        members = st.multiselect("Members", list(people), format_func=people.get,
                                 default=forum["members"] if forum else [])  # fmt: skip
        if not st.form_submit_button("Save the forum", type="primary"):
            return
    if forum:
        ui.forget("forum", forum["code"])
    try:
        saved = admin.save_forum(
            conn, person, code=forum["code"] if forum else code, name=name, level=level,
            scope=scope, domains=chosen_domains, members=members, row_version=version,
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    ui.flash(f"Forum {saved} saved.")
    st.rerun()


# The approval rule ------------------------------------------------------------------------------


def rule_tab() -> None:
    current = services.approval_rule(conn)
    expected = st.session_state.setdefault("people_rule_seen", current)
    st.markdown(describe_rule(current) + " Each expert's latest verdict in the current build "
                "round counts.")  # fmt: skip
    with st.form("rule_form", enter_to_submit=False):
        left, right = st.columns(2)
        minimum = left.number_input("Approvers needed", min_value=1, max_value=admin.MAX_APPROVERS,
                                    value=current.min_approvers)  # fmt: skip
        critical = right.number_input("Approvers needed for critical decisions", min_value=1,
                                      max_value=admin.MAX_APPROVERS,
                                      value=current.min_approvers_critical)  # fmt: skip
        both = st.checkbox("Joint decisions need an approver from each side",
                           value=current.joint_needs_both_sides)  # fmt: skip
        preview = st.form_submit_button("Preview the effect", type="primary")
    if preview:
        st.session_state.pop(PREVIEW, None)
        try:
            rule = admin.validated_rule(minimum, critical, both)
            if rule == current:
                raise WorkflowError("the approval rule is unchanged; nothing to save")
            with st.spinner("Re-deriving the stage of every demonstrated or later decision…"):
                st.session_state[PREVIEW] = (rule, admin.rule_effect(conn, rule))
        except WorkflowError as error:
            ui.show_refusal(error)
            return
    if PREVIEW not in st.session_state:
        return
    rule, effect = st.session_state[PREVIEW]
    st.markdown(f"**The new rule:** {describe_rule(rule)}")
    show_effect(effect)
    left, right = st.columns(2)
    if right.button("Cancel", key="rule_cancel"):
        st.session_state.pop(PREVIEW, None)
        st.rerun()
    if not left.button("Change the rule", type="primary", key="rule_confirm"):
        return
    st.session_state.pop(PREVIEW, None)
    st.session_state.pop("people_rule_seen", None)
    try:
        with st.spinner("Changing the rule and moving the stages it changes…"):
            moves = admin.set_approval_rule(conn, person, rule, expected=expected)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    moved = sum(moves.values())
    ui.flash(f"Approval rule changed; {moved:,} decisions moved stage"
             + (": " + ", ".join(f"{n:,} {a.replace('_', ' ')} → {b.replace('_', ' ')}"
                                 for (a, b), n in sorted(moves.items())) if moves else ".")
             )  # fmt: skip
    st.rerun()


def describe_rule(rule) -> str:
    return (
        f"A decision is approved when at least **{rule.min_approvers}** experts of its domain "
        f"approve it (**{rule.min_approvers_critical}** when it is critical)"
        + (", with at least one from each side when its scope is joint."
           if rule.joint_needs_both_sides else ".")
    )  # fmt: skip


def show_effect(effect: dict) -> None:
    if not effect["moves"]:
        st.info("This rule moves no decision.", icon=":material/info:")
    else:
        lines = [f"- {n:,} from {a.replace('_', ' ')} to {b.replace('_', ' ')}"
                 for (a, b), n in sorted(effect["moves"].items())]  # fmt: skip
        st.warning("This rule would move:\n" + "\n".join(lines), icon=":material/rule:")
    if effect["ready_held"]:
        st.info(f"{effect['ready_held']:,} decisions now ready fall below ready; each keeps its "
                "ready mark and is ready again as soon as the evidence says tested, e.g. when "
                "the rule is changed back.", icon=":material/bookmark:")  # fmt: skip
    st.caption("Nothing is changed until you confirm. Changing the rule back puts every "
               "decision where it was.")  # fmt: skip


st.title("People and settings")
ui.show_flash()
if not permissions.allowed(person, "manage_people"):
    st.warning(f"{permissions.refusal(person, 'manage_people')}. Ask one of them to change the "
               "directory, the forums or the approval rule.", icon=":material/lock:")  # fmt: skip
    st.stop()
experts, forums, rule = st.tabs(
    ["Experts", "Forums", "Approval rule"], key="people_tab", on_change="rerun"
)
for tab, show in ((experts, experts_tab), (forums, forums_tab), (rule, rule_tab)):
    if tab.open:
        with tab:
            show()
