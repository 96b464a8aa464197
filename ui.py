"""What every page shares: the connection of this run, the signed-in person, how errors and
messages are shown, decision tables that open a decision, and the first-start demo build.
The app side of the product; the domain lives in decisions/."""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from decisions import readiness, store
from decisions.history import Programme
from decisions.model import Actor, WorkflowError
from decisions.store import analytics

DECISION_PAGE = "pages/decision.py"
ROWS_SHOWN = 500


def conn() -> sqlite3.Connection:
    """This run's connection, opened by streamlit_app.py and closed when the run ends."""
    _require_frame()
    return st.session_state["_conn"]


@st.cache_resource(max_entries=6, show_spinner="Evaluating the go-live criteria…")
def _assessed(_conn: sqlite3.Connection, marker: str, as_of: dt.date):
    return readiness.assess(_conn, as_of, weeks=readiness.BURN_UP_WEEKS)


def readiness_as_of(as_of: dt.date) -> tuple[Programme, list[readiness.WaveReadiness]]:
    """Every wave evaluated as of the date, with history enough for the burn-up; shared by
    the pages (shared objects: never modify them) and recomputed when the programme changes."""
    return _assessed(conn(), analytics.data_marker(conn()), as_of)


def actor() -> Actor | None:
    """The signed-in person, or None."""
    _require_frame()
    return st.session_state.get("_actor")


def _is_open(connection: sqlite3.Connection | None) -> bool:
    try:
        return connection is not None and connection.total_changes >= 0
    except sqlite3.ProgrammingError:  # closed when the previous run ended
        return False


def _require_frame() -> None:
    """Rerun through streamlit_app.py when a page was started without it.

    Streamlit treats an app with a pages/ folder as an old-style multipage app until the first
    st.navigation call in the process, so the very first run (and every AppTest run) may
    execute a page file directly, without this run's connection or the sign-in. Switching that mode
    off and rerunning runs the entry script, which then runs the requested page.
    """
    if not _is_open(st.session_state.get("_conn")):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()


def show_refusal(error: WorkflowError) -> None:
    """A refused change: say why (the message may quote user input); nothing was written."""
    st.error(md(error), icon=":material/block:")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=])")


def md(text: object) -> str:
    """User text made safe to put inside markdown: every markdown, directive (`:red[...]`,
    `:material/...:`) and LaTeX character is escaped, so it shows as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# Forms that change a versioned record -----------------------------------------------------------


def seen(kind: str, key: str, row_version: int | None) -> int | None:
    """The row version of the record when its form was first shown in this session, kept
    across reruns so that a save sends that one and a change made meanwhile by someone else
    is refused as stale (the current one is read again on each run)."""
    return st.session_state.setdefault(f"_seen:{kind}:{key}", row_version)


def forget(kind: str, key: str) -> None:
    """After a save (done or refused): the form is built afresh from the record."""
    st.session_state.pop(f"_seen:{kind}:{key}", None)


# Messages that survive the rerun after a change -----------------------------------------------


def flash(message: str) -> None:
    """Show `message` as a success on the next run (the one after st.rerun). It is plain text
    (it quotes keys and names): shown as typed, never as markup."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(md(message), icon=":material/check_circle:")


# Decision tables -----------------------------------------------------------------------------


def open_decision(key: str) -> None:
    st.switch_page(DECISION_PAGE, query_params={"key": key})


def decision_table(
    frame: pd.DataFrame, key: str, *, total: int | None = None, height: int | str = "auto"
) -> None:
    """Decisions as a table (at most ROWS_SHOWN rows); selecting a row opens that decision."""
    shown = frame.head(ROWS_SHOWN)
    if total is not None and total > len(shown):
        st.caption(f"Showing the first {len(shown):,} of {total:,}; narrow the search to see more.")
    event = st.dataframe(
        shown,
        key=key,
        height=height,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={"key": st.column_config.TextColumn("key", pinned=True)},
    )
    if event.selection.rows:
        open_decision(str(shown.iloc[event.selection.rows[0]]["key"]))


# First start: the demo programme ----------------------------------------------------------------

STALE_BUILD_SECONDS = 30 * 60


def build_demo_once(path: Path, build: Callable[[sqlite3.Connection], None]) -> None:
    """Create the database at `path` with `build`, once, however many sessions start at the
    same moment: one takes the lock file and builds into a temporary file that is renamed into
    place when complete; the others wait for the file to appear."""
    lock = path.with_name(path.name + ".building")
    path.parent.mkdir(parents=True, exist_ok=True)
    while not path.exists():
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _abandoned(lock):
                lock.unlink(missing_ok=True)
            time.sleep(0.5)
            continue
        try:
            os.write(descriptor, str(os.getpid()).encode())
            if not path.exists():
                _build_and_rename(path, build)
        finally:
            os.close(descriptor)
            lock.unlink(missing_ok=True)


def _abandoned(lock: Path) -> bool:
    """True when the process that took the lock is gone, or has held it far too long."""
    try:
        owner = int(lock.read_text() or 0)
        age = time.time() - lock.stat().st_mtime
    except (FileNotFoundError, ValueError):
        return False  # just released, or being written
    if age > STALE_BUILD_SECONDS:
        return True
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


def _build_and_rename(path: Path, build: Callable[[sqlite3.Connection], None]) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        connection = store.connect(temporary)
        try:
            build(connection)
            connection.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            connection.close()
        os.replace(temporary, path)
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)
