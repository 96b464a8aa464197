"""Data: import a file in the public formats after a preview of what it would change, export
any kind of record as CSV or xlsx, and download a checked backup of the whole database. For
programme managers and administrators."""

import pandas as pd
import streamlit as st

import ui
from decisions import io as data_io
from decisions import permissions, words
from decisions.i18n import _, format_number

PREVIEW_ROWS = 1000
GUESS = "guess"  # the import tells what a file holds from its headers
FORMAT_LABELS = {"csv": "CSV (UTF-8)", "xlsx": "Excel (xlsx)"}
STATUS_ORDER = {"rejected": 0, "new": 1, "updated": 2, "unchanged": 3}

conn = ui.conn()
person = ui.actor()


def run_import(uploads, kind: str | None, *, dry_run: bool, label: str):
    """The import (or its dry run) of every uploaded file as one, with a progress bar that goes
    away when it is done."""
    slot = st.empty()
    bar = slot.progress(0.0, text=label)
    sources = [data_io.Source(u.name, u.getvalue(), kind) for u in uploads]
    try:
        with ui.RUN_SLOTS.given_back():  # seconds or minutes: not in the line of page runs
            return data_io.import_sources(
                conn, sources, person, dry_run=dry_run,
                progress=lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0),
                                                             text=f"{label} {ui.md(text)}"),
            )  # fmt: skip
    finally:
        slot.empty()


def totals(result: data_io.ImportResult) -> dict[str, int]:
    return {s: sum(r.counts[s] for r in result.files) for s in STATUS_ORDER}


def outcome_table(result: data_io.ImportResult) -> pd.DataFrame:
    rows = [
        {"file": report.name, "row": r.number, "key": r.key, "status": r.status,
         "changes": ", ".join(r.changes), "notes": "; ".join(r.notes),
         "errors": "; ".join(r.errors)}
        for report in result.files
        for r in report.rows
    ]  # fmt: skip
    columns = ["file", "row", "key", "status", "changes", "notes", "errors"]
    frame = pd.DataFrame(rows, columns=columns)
    if len(result.files) == 1:
        frame = frame.drop(columns="file")
    order = frame["status"].map(STATUS_ORDER)  # problems first; then files in import order
    frame = frame.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")
    frame["status"] = frame["status"].map(
        lambda status: words.word(words.IMPORT_STATUS_WORDS, status)
    )
    return frame.rename(columns=words.headers(words.IMPORT_COLUMN_WORDS, frame.columns))


def show_preview(result: data_io.ImportResult) -> None:
    for report in result.files:
        counts = ", ".join(f"{format_number(n)} {words.word(words.IMPORT_STATUS_WORDS, status)}"
                           for status, n in report.counts.items())  # fmt: skip
        st.caption(_("**{file}**: read as {detected}; holds {kind}; {counts}.",
                     file=ui.md(report.name), detected=report.detected or _("unreadable"),
                     kind=words.data_kind_word(report.kind) if report.kind else _("unknown"),
                     counts=counts))  # fmt: skip
        for note in report.notes:
            st.caption(f":material/info: {ui.md(note[0].upper() + note[1:])}.")
    columns = st.columns(4)
    for column, (status, count) in zip(columns, totals(result).items(), strict=True):
        column.metric(
            words.word(words.IMPORT_STATUS_WORDS, status).capitalize(), format_number(count)
        )
    if not result.ok:
        st.error(
            _("{count} problem(s): nothing will be imported until they are fixed. Each line names "
              "the file, the row and the column (row 1 is the header, 0 the whole file).",
              count=format_number(len(result.errors))),
            icon=":material/block:",
        )  # fmt: skip
        st.code("\n".join(result.error_lines()), language=None, wrap_lines=True)
    frame = outcome_table(result)
    if not frame.empty:
        shown = frame.head(PREVIEW_ROWS)
        if len(frame) > len(shown):
            st.caption(_("Showing {shown} of {total} rows, problems first.",
                         shown=format_number(len(shown)), total=format_number(len(frame))))  # fmt: skip
        st.dataframe(shown, hide_index=True, key="preview_rows")


def import_section() -> None:
    st.write(
        _("Upload a file of decisions, demos, test runs or any other kind of record, as CSV or "
          "xlsx, in the columns an export gives; or several files at once, which are read in the "
          "order they depend on each other and imported as one. Everything is checked first; "
          "you see what would change before anything is written, and then it is written in one "
          "go or not at all.")
    )  # fmt: skip
    uploads = st.file_uploader(
        _("Files"), type=["csv", "xlsx"], accept_multiple_files=True,
        key=f"upload_{st.session_state.get('_uploads', 0)}",
    )  # fmt: skip
    choice = st.selectbox(_("What the file holds"), [GUESS, *data_io.ORDER], key="import_kind",
                          format_func=lambda k: _("Tell from the headers") if k == GUESS
                          else words.data_kind_word(k),
                          help=_("For a single file; several files are told apart by their "
                                 "headers."))  # fmt: skip
    if not uploads:
        return
    kind = None if choice == GUESS or len(uploads) > 1 else choice
    token = (tuple(u.file_id for u in uploads), kind)
    if st.session_state.get("_preview_token") != token:
        result = run_import(uploads, kind, dry_run=True, label=_("Checking…"))
        st.session_state.update(_preview_token=token, _preview=result)
    result = st.session_state["_preview"]
    show_preview(result)
    counts = totals(result)
    changes = counts["new"] + counts["updated"]
    if not result.ok:
        return
    if not changes:
        st.info(_("Everything in these files is on record already; there is nothing to import."))
        return
    if st.button(_("Import {count} changed row(s)", count=format_number(changes)), type="primary",
                 icon=":material/upload:"):  # fmt: skip
        done = run_import(uploads, kind, dry_run=False, label=_("Importing…"))
        if not done.ok:
            st.error(_("The import was refused; nothing was written."), icon=":material/block:")
            st.code("\n".join(done.error_lines()), language=None, wrap_lines=True)
            return
        st.session_state.pop("_preview_token", None)
        st.session_state["_uploads"] = st.session_state.get("_uploads", 0) + 1
        names = ", ".join(u.name for u in uploads)
        ui.flash(_("Imported {names}: {new} new, {updated} updated.", names=names,
                   new=format_number(counts["new"]), updated=format_number(counts["updated"])))  # fmt: skip
        st.rerun()


def export_section() -> None:
    st.write(
        _("One kind of record in exactly the format the import reads, or everything in one zip "
          "that the import takes back whole. Text that a spreadsheet would run as a formula is "
          "written with a leading ' so it shows as text.")
    )  # fmt: skip
    left, right = st.columns(2)
    kind = left.selectbox(_("What to export"), ["all", *data_io.ORDER], key="export_kind",
                          format_func=lambda k: _("Everything (zip)") if k == "all"
                          else words.data_kind_word(k))  # fmt: skip
    fmt = right.radio(_("Format"), list(FORMAT_LABELS), format_func=FORMAT_LABELS.get,
                      horizontal=True, key="export_format")  # fmt: skip
    norwegian = fmt == "csv" and st.checkbox(
        _("For Norwegian Excel"),
        key="export_norwegian",
        help=_("Semicolons, decimal commas and dates as dd.mm.yyyy; the import reads it back."),
    )
    db_file = data_io.database_file(conn)
    name = f"{kind}.zip" if kind == "all" else f"{kind}.{fmt}"
    st.download_button(
        _("Download {name}", name=name),
        data=lambda: data_io.export_from(db_file, kind, fmt, actor=person, norwegian=norwegian),
        file_name=name,
        icon=":material/download:",
        on_click="ignore",
    )


def backup_section() -> None:
    st.write(
        _("A consistent copy of the whole database, with the event log, as of the moment you "
          "click; the app keeps working meanwhile. The copy passes the integrity check before "
          "you get it. Restore it by pointing DECISIONS_DB at the file.")
    )  # fmt: skip
    db_file = data_io.database_file(conn)
    st.download_button(
        _("Download a backup"),
        data=lambda: data_io.backup_from(db_file, actor=person),
        file_name=f"{db_file.stem}-backup.db",
        mime="application/vnd.sqlite3",
        icon=":material/backup:",
        on_click="ignore",
    )


st.title(_("Data"))
if not permissions.allowed(person, "import"):
    st.info(permissions.refusal(person, "import"), icon=":material/lock:")
    st.stop()
ui.show_flash()
import_tab, export_tab, backup_tab = st.tabs([_("Import"), _("Export"), _("Backup")])
with import_tab:
    import_section()
with export_tab:
    export_section()
with backup_tab:
    backup_section()
