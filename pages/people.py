"""People and settings, for managers and admins: the expert directory, the forums with their
level, scope and members (a table with each member's organisation; members are added and
removed one decision at a time), and the approval rule's numbers."""

import streamlit as st

import ui
from decisions import admin, permissions, services, words
from decisions.i18n import _, format_number, n_
from decisions.model import FORUM_LEVELS, ROLES, SCOPES, SIDE_OF_KIND, WorkflowError
from decisions.store import people as people_store
from decisions.store import reference
from decisions.words import stage_word

SHOWN = 500
NEW = "(new)"
PREVIEW = "people_rule_preview"  # (rule, effect) shown, awaiting confirmation

conn = ui.conn()
person = ui.actor()


def codes(table: str) -> dict[str, str]:
    return {r["code"]: f"{r['code']} · {r['name']}"
            for r in reference.list_table(conn, table)}  # fmt: skip


def level_text(level: int) -> str:
    return f"{level} · {words.level_word(level)}"


def role_text(role: str) -> str:
    return words.role_word(role)


# Experts ----------------------------------------------------------------------------------------


def experts_tab() -> None:
    organizations, domains = codes("organizations"), codes("domains")
    a, b, c, d, e = st.columns([2, 2, 2, 1, 1])
    search = a.text_input(_("Search name or email"), key="people_search")
    organization = b.selectbox(_("Organisation"), list(organizations), index=None,
                               format_func=organizations.get, placeholder=_("All"),
                               key="people_org")  # fmt: skip
    domain = c.selectbox(_("Domain"), list(domains), index=None, format_func=domains.get,
                         placeholder=_("All"), key="people_domain")  # fmt: skip
    role = d.selectbox(_("Role"), ROLES, index=None, format_func=role_text, placeholder=_("All"),
                       key="people_role")  # fmt: skip
    active = e.selectbox(_("Active"), ["yes", "no"], index=None,
                         format_func=lambda v: _("yes") if v == "yes" else _("no"),
                         placeholder=_("All"), key="people_active")  # fmt: skip
    frame = people_store.experts(conn, search=search, organization=organization, domain=domain,
                                 role=role, active=None if active is None else active == "yes",
                                 limit=SHOWN)  # fmt: skip
    shown = frame.assign(
        roles=frame["roles"].map(lambda v: ", ".join(role_text(r) for r in (v or "").split(";")
                                                     if r)),
        domains=frame["domains"].fillna("").str.replace(";", ", "),
        forums=frame["forums"].fillna("").str.replace(";", ", "),
    )[list(words.EXPERT_COLUMN_WORDS)]  # fmt: skip
    st.dataframe(
        shown.rename(columns=words.headers(words.EXPERT_COLUMN_WORDS, shown.columns)),
        hide_index=True,
        key="people_table",
        column_config={
            _("Allocation"): st.column_config.ProgressColumn(
                _("Allocation"), format="%d %%", min_value=0, max_value=100
            ),
            _("Active"): st.column_config.CheckboxColumn(_("Active")),
        },
    )
    if len(frame) >= SHOWN:
        st.caption(_("Showing the first {n}; narrow the search to see others.", n=SHOWN))
    emails = {r.email: f"{r.name} ({r.email})" for r in frame.itertuples()}
    chosen = st.selectbox(_("Add or edit"), [NEW, *emails],
                          format_func=lambda v: emails.get(v, _("(a new person)")),
                          key="people_edit")  # fmt: skip
    expert_form(None if chosen == NEW else people_store.get_expert(conn, chosen))


def expert_form(expert: dict | None) -> None:
    organizations, domains, forums = codes("organizations"), codes("domains"), codes("forums")
    version = ui.seen("expert", expert["email"], expert["row_version"]) if expert else None
    asked_same_name = not expert and st.session_state.get("_people_same_name")
    form = f"expert_form_{expert['email']}" if expert else ui.form_key("new_expert")
    with st.form(form, enter_to_submit=False):
        heading = ui.md(expert["name"]) if expert else _("New person")
        st.markdown(f"**{heading}**")
        left, right = st.columns(2)
        email = left.text_input(_("Email"), value=expert["email"] if expert else "",
                                disabled=expert is not None,
                                help=_("Letters a-z, digits and . _ - + (write ø as o, æ as "
                                       "ae, å as a)"))  # fmt: skip
        name = right.text_input(_("Name"), value=expert["name"] if expert else "")
        orgs = list(organizations)
        organization = left.selectbox(_("Organisation"), orgs, format_func=organizations.get,
                                      index=orgs.index(expert["organization"]) if expert else None,
                                      placeholder=_("Choose the organisation"))  # fmt: skip
        allocation = right.number_input(_("Allocation %"), min_value=0, max_value=100, step=5,
                                        value=expert["allocation_pct"] if expert else 20)  # fmt: skip
        chosen_domains = st.multiselect(_("Domains"), list(domains), format_func=domains.get,
                                        default=expert["domains"] if expert else [], placeholder=_("Choose one or more"))  # fmt: skip
        chosen_roles = expert["roles"] if expert else permissions.new_person_roles()
        roles = st.multiselect(
            _("Roles"),
            ROLES,
            default=chosen_roles,
            format_func=role_text,
            placeholder=_("Choose one or more"),
        )
        chosen_forums = st.multiselect(
            _("Forums"), list(forums), format_func=forums.get,
            default=expert["forums"] if expert else [],
            help=_("When empty, a subject expert sits in the level-1 forums of their domains on "
                   "their organisation's side (hospital or municipality) and the joint ones"),
            placeholder=_("Choose one or more"))  # fmt: skip
        active = st.checkbox(_("Active"), value=bool(expert["active"]) if expert else True)
        same_name = asked_same_name and st.checkbox(_("This is another person with the same name"))
        if not st.form_submit_button(_("Save the expert"), type="primary"):
            return
    if expert:
        ui.forget("expert", expert["email"])
    else:
        ui.form_saved("new_expert")  # before the change: a second click then finds no form
    try:
        saved = admin.save_expert(
            conn, person, email=expert["email"] if expert else email, name=name,
            organization=organization or "", domains=chosen_domains, roles=roles,
            allocation_pct=allocation, active=active, forums=chosen_forums, row_version=version,
            same_name=bool(same_name),
        )  # fmt: skip
    except WorkflowError as error:
        if not expert:
            ui.form_refused("new_expert")
        ui.show_refusal(error)
        if not expert and admin.same_names(conn, name):
            st.session_state["_people_same_name"] = True
            st.info(_("Tick *This is another person with the same name* in the form to add "
                      "them all the same."), icon=":material/person_search:")  # fmt: skip
        return
    if not expert:
        st.session_state.pop("_people_same_name", None)
    ui.flash(_("{email} saved.", email=saved))
    st.rerun()


# Forums -----------------------------------------------------------------------------------------


def forums_tab() -> None:
    frame = people_store.forums(conn)
    shown = frame.assign(
        level=frame["level"].map(level_text),
        scope=frame["scope"].map(words.scope_word),
        domains=frame["domains"].fillna("").str.replace(";", ", "),
    )[list(words.FORUM_COLUMN_WORDS)]
    st.dataframe(shown.rename(columns=words.headers(words.FORUM_COLUMN_WORDS, shown.columns)),
                 hide_index=True, key="forums_table")  # fmt: skip
    labels = {r.code: f"{r.code} · {r.name}" for r in frame.itertuples()}
    chosen = st.selectbox(_("Add or edit"), [NEW, *labels],
                          format_func=lambda v: labels.get(v, _("(a new forum)")),
                          key="forum_edit")  # fmt: skip
    forum = None if chosen == NEW else people_store.get_forum(conn, chosen)
    if forum:
        members_section(forum)
    forum_form(forum)


def members_section(forum: dict) -> None:
    """The members as a table with their organisation; add one, or remove those ticked."""
    code = forum["code"]
    version = ui.seen("forum", code, forum["row_version"])
    directory = people_store.experts(conn, limit=1_000_000)
    members = directory[directory["email"].isin(forum["members"])]
    st.subheader(n_("{count} member", "{count} members", len(forum["members"])), anchor=False)
    table = members.assign(
        side=members["kind"].map(lambda kind: words.scope_word(SIDE_OF_KIND.get(kind, kind))),
        domains=members["domains"].fillna("").str.replace(";", ", "),
        active=members["active"].astype(bool),
    )[["name", "email", "organization_name", "side", "domains", "active"]]  # fmt: skip
    picked = st.dataframe(
        table.rename(columns={"name": _("Name"), "email": _("Email"),
                              "organization_name": _("Organisation"), "side": _("Side"),
                              "domains": _("Domains"), "active": _("Active")}),
        hide_index=True, key=f"members_{code}", on_select="rerun", selection_mode="multi-row",
    )  # fmt: skip
    removing = [table.iloc[i]["email"] for i in picked.selection.rows]
    if removing and st.button(
        n_("Remove {count} ticked member", "Remove {count} ticked members", len(removing)),
        key=f"remove_members_{code}",
        icon=":material/person_remove:",
    ):
        keep = [m for m in forum["members"] if m not in removing]
        change_members(forum, keep, version, _("{names} left forum {forum}.",
                                                names=", ".join(removing), forum=code))  # fmt: skip
    elif not removing and forum["members"]:
        st.caption(_("Tick members in the table to remove them."))
    outside = directory[~directory["email"].isin(forum["members"]) & (directory["active"] == 1)]
    # those of the forum's domains first, then everyone else, by name
    outside = outside.assign(
        fits=outside["domains"]
        .fillna("")
        .map(lambda ds: bool(set(ds.split(";")) & set(forum["domains"])))
    ).sort_values(["fits", "name"], ascending=[False, True])
    candidates = {r.email: f"{r.name} ({r.email}, {r.organization_name})"
                  for r in outside.itertuples()}  # fmt: skip
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    newcomer = left.selectbox(_("Add a member"), list(candidates), index=None,
                              format_func=candidates.get, key=f"add_member_{code}",
                              placeholder=_("Search a name"))  # fmt: skip
    if right.button(_("Add"), key=f"add_member_button_{code}", disabled=newcomer is None,
                    icon=":material/person_add:"):  # fmt: skip
        change_members(forum, [*forum["members"], newcomer], version,
                       _("{name} joined forum {forum}.", name=candidates[newcomer],
                         forum=code))  # fmt: skip


def change_members(forum: dict, members: list[str], version: int, message: str) -> None:
    ui.forget("forum", forum["code"])
    try:
        admin.save_forum(
            conn, person, code=forum["code"], name=forum["name"], level=forum["level"],
            scope=forum["scope"], domains=forum["domains"], members=members, row_version=version,
        )  # fmt: skip
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    for widget in (f"add_member_{forum['code']}", f"members_{forum['code']}"):
        st.session_state.pop(widget, None)  # the next run starts with nothing ticked or chosen
    ui.flash(message)
    st.rerun()


def forum_form(forum: dict | None) -> None:
    domains = codes("domains")
    version = ui.seen("forum", forum["code"], forum["row_version"]) if forum else None
    form = f"forum_form_{forum['code']}_{version}" if forum else ui.form_key("new_forum")
    with st.form(form, enter_to_submit=False):
        heading = _("Details of the forum") if forum else _("New forum")
        st.markdown(f"**{heading}**")
        left, right = st.columns(2)
        code = left.text_input(_("Code"), value=forum["code"] if forum else "",
                               disabled=forum is not None)  # fmt: skip
        name = right.text_input(_("Name"), value=forum["name"] if forum else "")
        levels = list(FORUM_LEVELS)
        level = left.selectbox(_("Level"), levels, format_func=level_text,
                               index=levels.index(forum["level"]) if forum else 0)  # fmt: skip
        scope = right.selectbox(_("Scope"), SCOPES, format_func=words.scope_word,
                                index=SCOPES.index(forum["scope"]) if forum else 0)  # fmt: skip
        chosen_domains = st.multiselect(_("Domains"), list(domains), format_func=domains.get,
                                        default=forum["domains"] if forum else [], placeholder=_("Choose one or more"))  # fmt: skip
        if not forum:
            st.caption(_("Add the members once the forum is saved."))
        if not st.form_submit_button(_("Save the forum"), type="primary"):
            return
    if forum:
        ui.forget("forum", forum["code"])
    else:
        ui.form_saved("new_forum")  # before the change: a second click then finds no form
    try:
        saved = admin.save_forum(
            conn, person, code=forum["code"] if forum else code, name=name, level=level,
            scope=scope, domains=chosen_domains, members=forum["members"] if forum else [],
            row_version=version,
        )  # fmt: skip
    except WorkflowError as error:
        if not forum:
            ui.form_refused("new_forum")
        ui.show_refusal(error)
        return
    ui.flash(_("Forum {code} saved.", code=saved))
    st.rerun()


# The approval rule ------------------------------------------------------------------------------


def rule_tab() -> None:
    current = services.approval_rule(conn)
    expected = st.session_state.setdefault("people_rule_seen", current)
    st.markdown(describe_rule(current) + " "
                + _("Each expert's latest verdict in the current build round counts."))  # fmt: skip
    with st.form("rule_form", enter_to_submit=False):
        left, right = st.columns(2)
        minimum = left.number_input(_("Approvers needed"), min_value=1,
                                    max_value=admin.MAX_APPROVERS,
                                    value=current.min_approvers)  # fmt: skip
        critical = right.number_input(_("Approvers needed for critical decisions"), min_value=1,
                                      max_value=admin.MAX_APPROVERS,
                                      value=current.min_approvers_critical)  # fmt: skip
        both = st.checkbox(_("Joint decisions need an approver from each side"),
                           value=current.joint_needs_both_sides)  # fmt: skip
        preview = st.form_submit_button(_("Preview the effect"), type="primary")
    if preview:
        st.session_state.pop(PREVIEW, None)
        try:
            rule = admin.validated_rule(minimum, critical, both)
            if rule == current:
                raise WorkflowError(_("the approval rule is unchanged; nothing to save"))
            working = _("Re-deriving the stage of every demonstrated or later decision…")
            with st.spinner(working), ui.RUN_SLOTS.given_back():
                st.session_state[PREVIEW] = (rule, admin.rule_effect(conn, rule))
        except WorkflowError as error:
            ui.show_refusal(error)
            return
    if PREVIEW not in st.session_state:
        return
    rule, effect = st.session_state[PREVIEW]
    st.markdown("**" + _("The new rule:") + "** " + describe_rule(rule))
    show_effect(effect)
    left, right = st.columns(2)
    if right.button(_("Cancel"), key="rule_cancel"):
        st.session_state.pop(PREVIEW, None)
        st.rerun()
    if not left.button(_("Change the rule"), type="primary", key="rule_confirm"):
        return
    st.session_state.pop(PREVIEW, None)
    st.session_state.pop("people_rule_seen", None)
    try:
        working = _("Changing the rule and moving the stages it changes…")
        with st.spinner(working), ui.RUN_SLOTS.given_back():
            moves = admin.set_approval_rule(conn, person, rule, expected=expected)
    except WorkflowError as error:
        ui.show_refusal(error)
        return
    moved = sum(moves.values())
    message = n_("Approval rule changed; {count} decision moved stage.",
                 "Approval rule changed; {count} decisions moved stage.", moved)  # fmt: skip
    if moves:
        message += " " + ", ".join(
            f"{format_number(n)} {stage_word(a)} → {stage_word(b)}"
            for (a, b), n in sorted(moves.items())
        )
    ui.flash(message)
    st.rerun()


def describe_rule(rule) -> str:
    text = _("A decision is approved when at least **{n}** experts of its domain approve it "
             "(**{critical}** when it is critical)", n=rule.min_approvers,
             critical=rule.min_approvers_critical)  # fmt: skip
    if rule.joint_needs_both_sides:
        return text + _(", with at least one from each side when its scope is joint.")
    return text + "."


def show_effect(effect: dict) -> None:
    if not effect["moves"]:
        st.info(_("This rule moves no decision."), icon=":material/info:")
    else:
        lines = [_("- {count} from {before} to {after}", count=format_number(n),
                   before=stage_word(a), after=stage_word(b))
                 for (a, b), n in sorted(effect["moves"].items())]  # fmt: skip
        st.warning(_("This rule would move:") + "\n" + "\n".join(lines), icon=":material/rule:")
    if effect["ready_held"]:
        st.info(n_("{count} decision now ready falls below ready; it keeps its ready mark and "
                   "is ready again as soon as the evidence says tested, e.g. when the rule is "
                   "changed back.",
                   "{count} decisions now ready fall below ready; each keeps its ready mark "
                   "and is ready again as soon as the evidence says tested, e.g. when the rule "
                   "is changed back.", effect["ready_held"]),
                icon=":material/bookmark:")  # fmt: skip
    st.caption(_("Nothing is changed until you confirm. Changing the rule back puts every "
                 "decision where it was."))  # fmt: skip


st.title(_("People and settings"))
ui.show_flash()
if not permissions.allowed(person, "manage_people"):
    st.warning(_("{refusal}. Ask one of them to change the directory, the forums or the "
                 "approval rule.", refusal=permissions.refusal(person, "manage_people")),
               icon=":material/lock:")  # fmt: skip
    st.stop()
labels = [_("Experts"), _("Forums"), _("Approval rule")]
experts, forums, rule = ui.tabs_drawn_when_open("people_tab", labels)
for tab, show in ((experts, experts_tab), (forums, forums_tab), (rule, rule_tab)):
    if tab.open:
        with tab:
            show()
