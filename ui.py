"""What every page shares: the connection of this run, the signed-in person, how errors and
messages are shown, decision tables that open a decision, and the first-start demo build.
The app side of the product; the domain lives in decisions/."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from decisions import aggregates, charts, i18n, readiness, services, store, words
from decisions.history import Programme
from decisions.model import Actor, WorkflowError
from decisions.store import analytics

DECISION_PAGE = "pages/decision.py"
ROWS_SHOWN = 500


_migrated: set[tuple[str, int]] = set()


def open_connection(path: Path) -> sqlite3.Connection:
    """A run's connection to the database file at `path`, brought up to date with the schema
    the first time this process opens that file (not on every run of every session)."""
    file = (str(path), path.stat().st_ino)
    connection = store.connect(path, migrate=file not in _migrated)
    _migrated.add(file)
    return connection


def conn() -> sqlite3.Connection:
    """This run's connection, opened by streamlit_app.py and closed when the run ends."""
    require_frame()
    return st.session_state["_conn"]


def readiness_computed(as_of: dt.date) -> Computed:
    """Every wave evaluated as of the date, with history enough for the burn-up (`.value`:
    the programme and the waves), and as of when; see shared()."""
    return shared(aggregates.Job("readiness", (as_of,)), spinner=i18n._(charts.READINESS_SPINNER))


def readiness_as_of(as_of: dt.date) -> tuple[Programme, list[readiness.WaveReadiness]]:
    """Every wave evaluated as of the date, with history enough for the burn-up; shared by
    the pages (shared objects: never modify them) and recomputed when the programme changes."""
    return readiness_computed(as_of).value


# Aggregates shared by every session of the process ------------------------------------------

MAX_AGE_VARIABLE = "DECISIONS_DASHBOARD_MAX_AGE"
WORKER_VARIABLE = "DECISIONS_AGGREGATE_WORKER"
RUNS_AT_ONCE_VARIABLE = "DECISIONS_RUNS_AT_ONCE"
# Seconds a dashboard's figures may be old. With 0 every change makes the next session that
# opens a dashboard compute its figures while every other session on it waits: at ten times
# the demo's volume, with a change every few seconds, they queued 10-20 s (benchmarks/README.md).
# Each refresh of the three dashboards costs about 2.5 s of CPU at ten times the demo's volume
# (in the aggregate worker, on the other core): with 10 s (a refresh every 5 s) half a core,
# with 30 s a sixth. Figures half a minute old are fresh enough for a readiness dashboard.
DEFAULT_MAX_AGE = 30.0
AGGREGATES_KEPT = 64
RUNS_AT_ONCE = 2  # page runs of one process at once: see RunSlots


@dataclass(frozen=True)
class Computed:
    value: Any
    event_id: int  # the last event of the data it was computed from
    as_of: dt.datetime  # when its computation began: the data it shows is at least this new
    ready: dt.datetime | None = None  # when its computation ended (None: as_of)


def _event_id(marker: str) -> tuple[str, int]:
    path, _, last = marker.rpartition("#")
    return path, int(last)


class RunSlots:
    """At most `slots` page runs of this process at once; the others wait their turn, first
    come first served.

    Every page run is Python holding one GIL. Forty runs at once each took forty times as
    long, and each SQL query a run made waited again for the GIL when it returned; two at a
    time (one on the GIL, one in SQLite or Arrow, which let go of it) finish the same work in
    a fraction of the time. A run that waits for an aggregate gives its slot back meanwhile,
    and has the next free one when it returns: it is further along than the runs in line."""

    def __init__(self, slots: int):
        self._guard = threading.Lock()
        self._free = slots
        self._waiting: collections.deque[threading.Event] = collections.deque()
        self._holding = threading.local()

    @contextlib.contextmanager
    def taken(self) -> Iterator[None]:
        self._take(first=False)
        self._holding.slot = True
        try:
            yield
        finally:
            self._holding.slot = False
            self._give()

    @contextlib.contextmanager
    def given_back(self) -> Iterator[None]:
        """While a run waits for something that does not need the GIL (another computation),
        or does long work (an import, re-deriving every stage) that would hold up the line:
        that work then shares the GIL with the runs, as every run did before."""
        if not getattr(self._holding, "slot", False):
            yield
            return
        self._holding.slot = False
        self._give()
        try:
            yield
        finally:
            self._take(first=True)
            self._holding.slot = True

    def _take(self, *, first: bool) -> None:
        with self._guard:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            if first:
                self._waiting.appendleft(turn)
            else:
                self._waiting.append(turn)
        turn.wait()  # _give hands the slot over

    def _give(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


def number_from_environment(variable: str, default: float, least: float, kind=float) -> Any:
    """$variable as a number (`kind`) no smaller than `least`; `default` when unset or not a
    number."""
    try:
        return max(kind(os.environ.get(variable, default)), least)
    except ValueError:
        return default


RUN_SLOTS = RunSlots(number_from_environment(RUNS_AT_ONCE_VARIABLE, RUNS_AT_ONCE, 1, int))


class Aggregates:
    """Expensive figures (the readiness evaluation, the backlog's parts, the overview's
    counts) computed once per process for all its sessions.

    - Single flight: one computation per aggregate at a time. A session that needs it waits
      for the one running, and uses its result when that covers the data the session saw; so
      after a change each aggregate is computed once, not once per waiting session, and
      changes that arrive while it computes are folded into the next computation.
    - With `max_age` > 0 a dashboard may show the previous result for that many seconds after
      it was ready (and while its refresh runs), and one computation brings it up to date in
      the background once it is `refresh_after` seconds old (half the maximum age unless
      given): while the data changes all the time, each aggregate is computed about that
      often, not after every change (the page says as of when). Never older than `needed`:
      the last event of the session's own change, so a person's change shows at once.
    """

    def __init__(
        self,
        connect: Callable[[str], sqlite3.Connection],
        worker: aggregates.Worker | None = None,
    ):
        self._connect = connect
        self._worker = worker  # computes the aggregates named by an aggregates.Job
        self._guard = threading.Lock()
        self._locks: dict[tuple, threading.Lock] = {}
        self._latest: dict[tuple, Computed] = {}
        self._refreshing: set[tuple] = set()
        self.computations = 0  # how many times anything was computed (for tests, benchmarks)

    def get(
        self,
        conn: sqlite3.Connection,
        key: tuple,
        compute: Callable[[sqlite3.Connection], Any],
        *,
        needed: int = 0,
        max_age: float = 0.0,
        refresh_after: float | None = None,
    ) -> Computed:
        path, current = _event_id(analytics.data_marker(conn))
        full = (path, *key)
        with self._guard:
            lock = self._locks.setdefault(full, threading.Lock())
            latest = self._latest.get(full)
        if latest is not None and latest.event_id == current:
            return latest
        if latest is not None and needed <= latest.event_id < current and max_age > 0:
            now = services.wall_clock()
            age = (now - latest.as_of).total_seconds()
            # A computation shares the GIL with every page run: under load one that costs
            # 0.6 s of CPU may take 15 s. So a result is shown for max_age after it is ready,
            # and while its refresh runs (the page says as of when), rather than every session
            # queueing behind a computation whose result would be too old when it came.
            if (now - (latest.ready or latest.as_of)).total_seconds() <= max_age or (
                self._is_refreshing(full)
            ):
                if age >= (max_age / 2 if refresh_after is None else refresh_after):
                    self._refresh_in_background(full, lock, path, compute)
                return latest
        seen = latest
        if not lock.acquire(blocking=False):  # single flight: wait for the one under way
            with RUN_SLOTS.given_back():
                lock.acquire()
        try:
            latest = self._latest.get(full)
            # A result computed while we waited covers the data this session saw when it asked;
            # changes made since go into the next computation, not into one per waiter.
            if latest is not seen and latest.event_id >= max(current, needed):
                return latest
            return self._compute(full, conn, compute)
        finally:
            lock.release()

    def _compute(self, full: tuple, conn: sqlite3.Connection, compute) -> Computed:
        """Compute and keep the result; the caller holds the aggregate's lock."""
        event_id = _event_id(analytics.data_marker(conn))[1]
        started = services.wall_clock()
        if self._worker is not None and isinstance(compute, aggregates.Job) and full[0]:
            with RUN_SLOTS.given_back():
                value = self._worker.compute(full[0], compute, conn)
        else:
            value = compute(conn)
        computed = Computed(value, event_id, started, services.wall_clock())
        with self._guard:
            self.computations += 1
            self._latest.pop(full, None)  # computations of one aggregate run one at a time
            self._latest[full] = computed
            while len(self._latest) > AGGREGATES_KEPT:  # the least recently computed go
                self._latest.pop(next(iter(self._latest)))
        return computed

    def _is_refreshing(self, full: tuple) -> bool:
        with self._guard:
            return full in self._refreshing

    def _refresh_in_background(self, full: tuple, lock: threading.Lock, path: str, compute):
        with self._guard:
            if full in self._refreshing:
                return
            self._refreshing.add(full)

        def refresh() -> None:
            try:
                with lock:
                    connection = self._connect(path)
                    try:
                        latest = self._latest.get(full)
                        current = _event_id(analytics.data_marker(connection))[1]
                        if latest is None or latest.event_id < current:
                            self._compute(full, connection, compute)
                    finally:
                        connection.close()
            except Exception:  # the next page run computes it in the foreground and shows why
                logging.getLogger(__name__).exception("refreshing %s failed", full)
            finally:
                with self._guard:
                    self._refreshing.discard(full)

        threading.Thread(target=refresh, name=f"refresh {full[1]}", daemon=True).start()


def aggregate_worker() -> aggregates.Worker | None:
    """The worker process that computes the shared aggregates, unless $DECISIONS_AGGREGATE_WORKER
    is 0 (then the serving process computes them)."""
    if os.environ.get(WORKER_VARIABLE, "1").strip() == "0":
        return None
    worker = aggregates.Worker()
    worker.start()
    return worker


AGGREGATES = Aggregates(lambda path: store.connect(path, migrate=False), aggregate_worker())


def dashboard_max_age() -> float:
    """How many seconds old a dashboard's figures may be while they are brought up to date
    ($DECISIONS_DASHBOARD_MAX_AGE, default DEFAULT_MAX_AGE; 0 means always current)."""
    return number_from_environment(MAX_AGE_VARIABLE, DEFAULT_MAX_AGE, 0.0)


def shared(job: aggregates.Job, *, spinner: str) -> Computed:
    """The aggregate `job` names, shared by the sessions of this process and computed in its
    worker process; never older than this session's own last change. Shared objects: never
    modify them."""
    needed = int(st.session_state.get(_OWN_CHANGE, 0))
    with st.spinner(spinner):
        computed = AGGREGATES.get(conn(), job.key, job, needed=needed, max_age=dashboard_max_age())
    return computed


_OWN_CHANGE = "_own_change_event"


def figures_as_of(*computed: Computed) -> None:
    """A caption saying as of when the figures are (the oldest of those given) and, when they
    may be some seconds old, how often they are brought up to date and that a person's own
    changes show at once."""
    moment = i18n.format_time(min(c.as_of for c in computed))
    max_age = dashboard_max_age()
    text = charts.FIGURES_REFRESHED if max_age else charts.FIGURES_AS_OF
    st.caption(i18n._(text, time=moment, seconds=i18n.format_number(max_age / 2)))


# Charts ---------------------------------------------------------------------------------------

KEPT = 128
_kept: dict[tuple, Any] = {}
_building: dict[tuple, threading.Lock] = {}
_kept_guard = threading.Lock()


@dataclass(frozen=True)
class DrawnChart:
    spec: dict  # Vega-Lite, from decisions.charts.spec
    tables: tuple[pd.DataFrame, ...]  # the data behind it, as the reader writes it


def chart(
    build: Callable[[], Any], key: tuple | None = None, *, about: str, **options: Any
) -> None:
    """Draw the Altair chart `build()` makes, from its Vega-Lite spec (decisions.charts.spec),
    with its text alternative: `about`, one sentence saying what it shows (also the chart's
    description for screen readers), and the data behind it as tables in an expander.

    With a `key` that names the data drawn (for an aggregate: its key and event id), the spec
    and the tables are made once per process and language, and reused by every session until
    the data changes: building and validating a chart and writing out its data cost
    0.05-0.1 s of CPU, more than the rest of a page run. Sessions that ask for a chart being
    made wait for it rather than each making it again (when an aggregate is refreshed, every
    session on its dashboard asks at once)."""
    drawn = _draw(build) if key is None else worded(("chart", *key), lambda: _draw(build))
    st.vega_lite_chart({**drawn.spec, "description": about}, **options)
    chart_in_words(drawn.tables, about)


def worded(key: tuple, build: Callable[[], Any]) -> Any:
    """What `build()` makes from the data `key` names (for an aggregate: its key and event id),
    made once per process, database and language (see `kept`)."""
    return kept((str(store.database_path()), *key, i18n.language()), build)


def kept(full: tuple, build: Callable[[], Any]) -> Any:
    """What `build()` makes, made once per process for the key `full`, which names the data it
    is made from (with an aggregate's event id), the database and the language: what every
    session shows from a shared aggregate, worded once rather than on every run. Sessions that
    ask while it is being made wait for it rather than each making it again. Shared objects:
    never modify them."""
    with _kept_guard:
        made = _kept.get(full)
        building = _building.setdefault(full, threading.Lock()) if made is None else None
    if building is None:
        return made
    with building:
        with _kept_guard:
            made = _kept.get(full)
        if made is None:
            made = build()
            with _kept_guard:
                _kept[full] = made
                _building.pop(full, None)
                while len(_kept) > KEPT:
                    _kept.pop(next(iter(_kept)))
    return made


def _draw(build: Callable[[], Any]) -> DrawnChart:
    spec = charts.spec(build())
    return DrawnChart(spec, tables_in_words(spec))


def tables_in_words(spec: dict) -> tuple[pd.DataFrame, ...]:
    """Each dataset of the spec as a table, its cells as the reader writes them."""
    return tuple(table.map(_cell_in_words) for table in charts.data_tables(spec))


def chart_in_words(tables: tuple[pd.DataFrame, ...], about: str) -> None:
    """The chart for those who cannot see it (WCAG 1.1.1): its summary and its data."""
    with st.expander(i18n._("The chart as text and table"), icon=":material/table_view:"):
        st.markdown(md(about))
        for table in tables:
            st.table(table, hide_index=True)


_MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}(T00:00:00)?")


def _cell_in_words(value: Any) -> Any:
    """A chart's data as the reader writes it: a date as a date, a number with its decimal
    comma in bokmål (the data keeps Vega-Lite's ISO dates and plain numbers), and a text as
    typed (st.table renders markdown in its cells, and a title is user text)."""
    if isinstance(value, str) and _MIDNIGHT.fullmatch(value):
        return i18n.format_date(dt.date.fromisoformat(value[:10]))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return i18n.format_number(value)
    return md(value) if isinstance(value, str) else value


def fragment(draw: Callable[..., Any]) -> Callable[..., Any]:
    """st.fragment for a part of a page whose widgets should rerun only that part. Those
    reruns skip streamlit_app.py, whose connection closed with the last full run, so the part
    opens its own for the rerun and closes it after, and speaks the reader's language (set by
    streamlit_app.py on the full run that drew the page)."""

    reader = i18n.language()  # a rerun of the part alone has no reader: the full run's

    @st.fragment
    @functools.wraps(draw)
    def part(*args: Any, **kwargs: Any) -> Any:
        if _is_open(st.session_state.get("_conn")):  # drawn within a full run of the page
            return draw(*args, **kwargs)
        i18n.use(reader)
        st.session_state["_conn"] = store.connect(store.database_path(), migrate=False)
        try:
            return draw(*args, **kwargs)
        finally:
            st.session_state["_conn"].close()

    return part


def actor() -> Actor | None:
    """The signed-in person, or None."""
    require_frame()
    return st.session_state.get("_actor")


def _is_open(connection: sqlite3.Connection | None) -> bool:
    try:
        return connection is not None and connection.total_changes >= 0
    except sqlite3.ProgrammingError:  # closed when the previous run ended
        return False


def require_frame() -> None:
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


def record_not_found(
    title: str, missing: str | None, where_to_find: str, listing: tuple[str, str, str]
) -> None:
    """A page for one record opened without one, or with a key nobody holds: say so, where
    records are found, link to their list (`listing`: page, label, icon), and stop the run."""
    st.title(title)
    if missing:
        st.error(missing, icon=":material/search_off:")
    st.write(where_to_find)
    page, label, icon = listing
    st.page_link(page, label=label, icon=icon)
    st.stop()


def show_refusal(error: WorkflowError) -> None:
    """A refused change: say why (the message may quote user input); nothing was written.
    Several problems found at once are listed, each on its line."""
    problems = getattr(error, "problems", ()) or (str(error),)
    if len(problems) > 1:
        st.error("\n".join(f"- {md(p)}" for p in problems), icon=":material/block:")
    else:
        st.error(md(problems[0]), icon=":material/block:")


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


def form_key(name: str) -> str:
    """The key of a form that is shown empty again once saved (`form_saved`). Its widgets are
    new widgets then, so a second click that reaches the server after the save finds nothing
    submitted and never creates a second record; a refused save keeps what was typed."""
    return f"{name}-{st.session_state.get(f'_form_generation:{name}', 0)}"


def form_saved(name: str) -> None:
    """The form's next run shows it empty. Call it *before* the change is written, and
    `form_refused` when the change is refused: a double click's second click reaches the
    server as a new run that interrupts this one at its next Streamlit call (a session-state
    access is one), so a run interrupted after writing and before this call would let the
    second click write again."""
    generation = f"_form_generation:{name}"
    st.session_state[generation] = st.session_state.get(generation, 0) + 1


def form_refused(name: str) -> None:
    """Undo `form_saved` when the change was refused: the form keeps what was typed."""
    generation = f"_form_generation:{name}"
    st.session_state[generation] = max(st.session_state.get(generation, 1) - 1, 0)


# Messages that survive the rerun after a change -----------------------------------------------


def flash(message: str) -> None:
    """Show `message` as a success on the next run (the one after st.rerun). It is plain text
    (it quotes keys and names): shown as typed, never as markup. Called after every change a
    person makes: from now on this session's dashboards include it."""
    st.session_state["_flash"] = message
    connection = st.session_state.get("_conn")
    if _is_open(connection):  # a change made on a page of the app (not a bare test script)
        st.session_state[_OWN_CHANGE] = _event_id(analytics.data_marker(connection))[1]


def saving() -> dict:
    """Call just before writing a change, with `form_saved`: a dict the page fills by plain
    assignment once the change is written (`message`, shown as a success on the next run, and
    whatever else the next run needs). A double click's second click may interrupt this run
    at its next Streamlit call, before `flash` and `st.rerun`; the run it starts still finds
    what was done, as `show_flash` returns it."""
    box: dict = {}
    st.session_state["_saving"] = box
    return box


def show_flash() -> dict:
    """Show the message of the last change; returns what its page kept in `saving()`."""
    message = st.session_state.pop("_flash", None)
    done = st.session_state.pop("_saving", None) or {}
    message = message or done.get("message")
    if message:
        shown = st.session_state.get("_flashes", 0) + 1
        st.session_state["_flashes"] = shown
        with st.container(key=f"{FLASH}{shown}"):  # brought into view (phone_layout)
            st.success(md(message), icon=":material/check_circle:")
    return done


# Decision tables -----------------------------------------------------------------------------


def open_decision(key: str) -> None:
    st.switch_page(DECISION_PAGE, query_params={"key": key})


# The keyboard's focus as a line where Streamlit draws only a faint tint: the menu's links and
# the pages' links (the same tint marks the current page) and the options of radio buttons and checkboxes, whose own
# ring is drawn on an input hidden from view (WCAG 2.4.7; tests/e2e/test_keyboard.py).
# A focused or hovered segment that is chosen darkens its tint of the primary colour
# (.streamlit/config.toml) to 20 %: the primary colour on it stood at 4.3:1, this darker red
# at 6.2:1.
FOCUS_RINGS = """<style>
[data-testid="stSidebarNavLink"]:focus-visible,
[data-testid="stPageLink-NavLink"]:focus-visible {
  outline: 2px solid currentColor;
  outline-offset: -2px;
}
label:has(input[type="radio"]:focus-visible),
label:has(input[type="checkbox"]:focus-visible) {
  outline: 2px solid currentColor;
  outline-offset: 2px;
  border-radius: 0.25rem;
}
button[data-variant="segmented_control"][aria-checked="true"]:is(:hover, :focus),
button[data-variant="segmented_control"][aria-checked="true"]:is(:hover, :focus) p {
  color: #8A1F2C;
}
</style>"""


def focus_rings() -> None:
    """Show where the keyboard's focus is on every page (a style sheet only: takes no room)."""
    st.html(FOCUS_RINGS)


def tabs_drawn_when_open(key: str, labels: list[str]) -> Sequence[Any]:
    """Tabs of which only the open one runs its content (test each tab's `.open`): drawing
    every tab's tables on each run was most of a page's cost. The open tab is kept by its
    position, so a count in a label that changes under the reader, or a new language, does
    not move them back to the first tab."""
    position = f"_{key}_position"
    if st.session_state.get(key) in labels:
        st.session_state[position] = labels.index(st.session_state[key])
    # New labels make a new widget, which would open the first tab: it is told which is open.
    st.session_state[key] = labels[min(st.session_state.get(position, 0), len(labels) - 1)]
    return st.tabs(labels, key=key, on_change="rerun")


def coloured_labels(title: str, colours: dict[str, str], word, width: int | None = None):
    """A table column of coloured labels (a status, an outlook): each cell holds a list of one
    code, shown as its word in its theme colour."""
    return st.column_config.MultiselectColumn(
        title, options=list(colours), color=list(colours.values()), format_func=word, width=width
    )


def decision_table(
    frame: pd.DataFrame,
    key: str,
    *,
    total: int | None = None,
    height: int | str = "auto",
    opens: Callable[[int], None] | None = None,
    cards: bool = False,
    card_link: Callable[[int], tuple[str, dict]] | None = None,
) -> None:
    """Decisions as a table (at most ROWS_SHOWN rows); selecting a row opens that decision, or
    calls `opens` with the row's position. With `cards`, a phone shows them as cards instead
    (decision_cards), each a link to the decision or where `card_link` says."""
    shown = frame if len(frame) <= ROWS_SHOWN else frame.head(ROWS_SHOWN)
    if total is not None and total > len(shown):
        st.caption(i18n._("Showing the first {shown} of {total}; narrow the search to see more.",
                          shown=i18n.format_number(len(shown)),
                          total=i18n.format_number(total)))  # fmt: skip
    with st.container(key=f"{WIDE}{key}") if cards else contextlib.nullcontext():
        event = st.dataframe(
            shown,
            key=key,
            height=height,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            column_config={"key": st.column_config.TextColumn(i18n._("ID"), pinned=True)},
        )
    if cards:
        decision_cards(shown, key, card_link)
    if event.selection.rows:
        row = event.selection.rows[0]
        if opens is None:
            open_decision(str(shown.iloc[row]["key"]))
        else:
            opens(row)


# The phone ------------------------------------------------------------------------------------

# Streamlit's own breakpoint (theme breakpoints.md, 768 px): narrower, the sidebar lies over
# the page, and lists drawn both ways show as cards rather than tables.
NARROW_MAX_PX = 767
WIDE, NARROW = "wide_", "narrow_"  # keys of containers shown only wide / only narrow
# Cards are drawn with the table on every run (a style sheet shows one by the width): each costs
# about 1.5 ms of a run's CPU, so a phone gets ten per list and a button for more.
CARDS_SHOWN = 10
CARD_DETAILS = 5  # a card's values after its key and title: the first columns, by the table
FLASH = "flash_"  # key of a confirmation's container: brought into view when it appears


def decision_cards(
    frame: pd.DataFrame, key: str, link: Callable[[int], tuple[str, dict]] | None = None
) -> None:
    """A list of decisions as cards, for a phone: each a link (to the decision, or where
    `link(position)` says) with the row's other values as one line of words."""
    shown = int(st.session_state.get(f"_cards:{key}", CARDS_SHOWN))
    header = words.QUEUE_COLUMN_WORDS["title"]
    title = i18n._(header)  # the title's header, as readable() gives it
    columns = list(frame.columns)
    records = [dict(zip(columns, values, strict=True))
               for values in frame.head(shown).to_numpy(dtype=object).tolist()]  # fmt: skip
    with st.container(key=f"{NARROW}{key}"):
        for position, row in enumerate(records):
            page, query = link(position) if link else (DECISION_PAGE, {"key": row["key"]})
            label = " · ".join(md(row[c]) for c in ("key", title) if c in row and row[c])
            details = [f"{column}: {value}" for column, value in row.items()
                       if column not in ("key", title) and _shown(value)][:CARD_DETAILS]  # fmt: skip
            with st.container(border=True, gap="small"):
                st.page_link(page, label=f"**{label}**", query_params=query)
                if details:
                    st.caption(md(" · ".join(details)))
        if len(frame) > shown:
            st.button(i18n._("Show {n} more", n=i18n.format_number(min(CARDS_SHOWN, len(frame) - shown))),
                      key=f"_more_cards:{key}", on_click=_more_cards, args=(key, shown))  # fmt: skip


def _shown(value: Any) -> bool:
    return value is not None and value == value and str(value) != ""


def _more_cards(key: str, shown: int) -> None:
    st.session_state[f"_cards:{key}"] = shown + CARDS_SHOWN


_PHONE_CSS = f"""<style>
@media (max-width: {NARROW_MAX_PX}.98px) {{
  [class*="st-key-{WIDE}"] {{ display: none; }}
  [data-testid="stMain"] h1 {{ font-size: 1.875rem; }}
}}
.st-key-phone_script {{ display: none; }}
@media (min-width: {NARROW_MAX_PX + 1}px) {{
  [class*="st-key-{NARROW}"] {{ display: none; }}
}}
h1, h2, h3, h4, [data-testid="stHeadingWithActionElements"] {{
  overflow-wrap: break-word; word-break: normal; hyphens: auto;
}}
</style>"""

# Streamlit closes the menu after a choice only when the browser says it is a phone (its user
# agent); a narrow window on anything else kept it open over the page. And a confirmation
# drawn above a form the person scrolled down to was out of view. Streamlit's skip link has no
# parameter for its words, and a style sheet that hid them would make it unfocusable.
_PHONE_SCRIPT = """<script>
document.documentElement.lang = "%(lang)s";
document.querySelectorAll('[data-testid="stSkipToContent"]').forEach((link) => {
  link.textContent = %(skip)s;
});
window.decisionsLabelUploads = () => {
  document.querySelectorAll('[data-testid="stFileUploaderDropzone"] button').forEach((button) => {
    if (%(upload)s) button.setAttribute("aria-label", %(upload)s);
    else button.removeAttribute("aria-label");
  });
};
window.decisionsLabelUploads();
if (!window.decisionsPhone) {
  window.decisionsPhone = true;
  const narrow = () => window.matchMedia("(max-width: %(narrow)d.98px)").matches;
  document.addEventListener("click", (event) => {
    if (!narrow() || !event.target.closest('[data-testid="stSidebarNav"] a')) return;
    setTimeout(() => {
      const sidebar = document.querySelector('[data-testid="stSidebar"]');
      if (sidebar && sidebar.getAttribute("data-collapsed") === "false") {
        document.querySelector('[data-testid="stSidebarCollapseButton"] button')?.click();
      }
    }, 0);
  }, true);
  const seen = new WeakSet();
  const bringIntoView = () => {
    for (const flash of document.querySelectorAll('[class*="st-key-%(flash)s"]')) {
      if (seen.has(flash)) continue;
      seen.add(flash);
      const box = flash.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) {
        flash.scrollIntoView({block: "center"});
      }
    }
  };
  let queued = false;  // at most one look per frame, however many changes the page makes
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      bringIntoView();
      window.decisionsLabelUploads();
    });
  }).observe(document.body, {childList: true, subtree: true});
}
</script>"""


def phone_layout() -> None:
    """What a phone needs beyond Streamlit's own: cards instead of wide tables, titles that
    wrap between words, the menu closed after a choice, confirmations in view; and the page's
    language for the browser's hyphenation and screen readers."""
    st.html(_PHONE_CSS)
    skip = json.dumps(i18n._("Skip to main content"), ensure_ascii=False)
    # widget_texts draws the upload button's word over Streamlit's, which a screen reader and
    # axe-core do not take for its name: the button is named by aria-label in the same words.
    upload = "null" if i18n.language() == "en" else json.dumps(i18n._("Upload"), ensure_ascii=False)
    script = _PHONE_SCRIPT % {
        "lang": i18n.language(), "narrow": NARROW_MAX_PX, "flash": FLASH, "skip": skip,
        "upload": upload,
    }  # fmt: skip
    with st.container(key="phone_script"):
        st.html(script, unsafe_allow_javascript=True)


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
            store.leave_wal(connection)
        finally:
            connection.close()
        os.replace(temporary, path)
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)
