"""Decisions: the register, searchable by any word and filterable; a row opens the decision."""

import streamlit as st

import ui
from decisions import io as data_io
from decisions import words
from decisions.i18n import _, format_number, language, n_
from decisions.model import ALL_STAGES, CRITICALITIES
from decisions.store import queues, screen_queries
from decisions.words import readable

# A short result is shown at its own height; a long one scrolls inside this many pixels.
TABLE_HEIGHT = 600
ROWS_AT_OWN_HEIGHT = 15

conn = ui.conn()
choices = screen_queries.filter_choices(conn)


def pick(label: str, table: str) -> tuple[str, ...]:
    names = dict(choices[table])
    return tuple(
        st.multiselect(
            label,
            list(names),
            format_func=lambda code: f"{code} · {names[code]}",
            key=f"register_{table}",
            placeholder=_("All"),
        )
    )


st.title(_("Decisions"))
text = st.text_input(
    _("Search"),
    key="register_text",
    max_chars=screen_queries.MAX_SEARCH_CHARS,
    placeholder=_(
        "Words from the title, question, decision or rationale, an organisation or forum, "
        "or a key like MED-0042"
    ),
)
if screen_queries.words_left_out(text):
    searched = screen_queries.search_words(text)
    st.caption(
        _(
            "Searching for the first {count} words: {words}",
            count=format_number(len(searched)),
            words=ui.md(" ".join(searched)),
        )
    )
with st.expander(_("Filters"), icon=":material/filter_list:"):
    first, second, third = st.columns(3)
    with first:
        domains = pick(_("Domain"), "domains")
        modules = pick(_("Module"), "modules")
        forums = pick(_("Forum"), "forums")
    with second:
        stages = tuple(
            st.multiselect(
                _("Stage"),
                ALL_STAGES,
                key="register_stages",
                placeholder=_("All"),
                format_func=words.stage_word,
            )  # fmt: skip
        )
        criticalities = tuple(
            st.multiselect(
                _("Criticality"),
                CRITICALITIES,
                key="register_crit",
                placeholder=_("All"),
                format_func=words.criticality_word,
            )
        )
    with third:
        waves = pick(_("Wave"), "waves")
        organizations = pick(_("Organisation"), "organizations")

named = screen_queries.named(conn, text)
if named:
    kinds = {"organizations": _("Organisation"), "forums": _("Forum")}
    st.markdown(
        "\n".join(
            f"- {kinds[n['table']]}: **{ui.md(n['name'])}** ({ui.md(n['code'])})" for n in named
        )
    )
    st.caption(_("Decisions that concern them are listed below, with those that name them."))

query = screen_queries.RegisterQuery(
    text=text,
    domains=domains,
    forums=forums,
    modules=modules,
    stages=stages,
    criticalities=criticalities,
    waves=waves,
    organizations=organizations,
    named=tuple((n["table"], n["code"]) for n in named),
)
found, total = screen_queries.search_decisions(conn, query, limit=ui.ROWS_SHOWN)
if not total:
    filtered = any((domains, modules, forums, stages, criticalities, waves, organizations))
    st.info(
        _("No decision matches.")
        + " "
        + (
            _("Try fewer words, the start of a word, or fewer filters.")
            if filtered
            else _("Try fewer words or the start of a word; a key like MED-0042 also works.")
        ),
        icon=":material/search_off:",
    )
else:
    st.write(
        n_(
            "**{count}** decision found. Select a row to open it.",
            "**{count}** decisions found. Select a row to open it.",
            total,
        )
    )
    height = "content" if len(found) <= ROWS_AT_OWN_HEIGHT else TABLE_HEIGHT
    shown = readable(found, queues.code_names(conn))
    ui.decision_table(shown, "register_table", total=total, height=height, cards=True)
    # The table's own toolbar offers no download (client.disableDataExport): this one guards
    # formulas and suits the reader's spreadsheet.
    # Written when asked for, not on every run (outside the run: the reader's language is
    # taken now).
    norwegian = language() == "nb"
    st.download_button(_("Download the list (CSV)"),
                       lambda: data_io.table_csv(shown, norwegian=norwegian),
                       file_name="decisions.csv", mime="text/csv", key="register_csv",
                       icon=":material/download:", on_click="ignore")  # fmt: skip
