"""Decisions: the register, searchable by any word and filterable; a row opens the decision."""

import streamlit as st

import ui
from decisions.model import ALL_STAGES, CRITICALITIES
from decisions.store import views

conn = ui.conn()
choices = views.filter_choices(conn)


def pick(label: str, table: str) -> tuple[str, ...]:
    names = dict(choices[table])
    return tuple(
        st.multiselect(
            label,
            list(names),
            format_func=lambda code: f"{code} · {names[code]}",
            key=f"register_{table}",
            placeholder="All",
        )
    )


st.title("Decisions")
text = st.text_input(
    "Search",
    key="register_text",
    max_chars=views.MAX_SEARCH_CHARS,
    placeholder="Words from the title, question, decision or rationale, or a key like MED-0042",
)
if views.words_left_out(text):
    searched = views.search_words(text)
    st.caption(f"Searching for the first {len(searched)} words: {ui.md(' '.join(searched))}")
with st.expander("Filters", icon=":material/filter_list:"):
    first, second, third = st.columns(3)
    with first:
        domains = pick("Domain", "domains")
        modules = pick("Module", "modules")
        forums = pick("Forum", "forums")
    with second:
        stages = tuple(
            st.multiselect("Stage", ALL_STAGES, key="register_stages", placeholder="All")
        )
        criticalities = tuple(
            st.multiselect("Criticality", CRITICALITIES, key="register_crit", placeholder="All")
        )
    with third:
        waves = pick("Wave", "waves")
        organizations = pick("Organisation", "organizations")

query = views.RegisterQuery(
    text=text,
    domains=domains,
    forums=forums,
    modules=modules,
    stages=stages,
    criticalities=criticalities,
    waves=waves,
    organizations=organizations,
)
found, total = views.search_decisions(conn, query, limit=ui.ROWS_SHOWN)
st.write(f"**{total:,}** decision{'s' if total != 1 else ''} found. Select a row to open it.")
ui.decision_table(found, "register_table", total=total, height=600)
