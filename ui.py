"""What every page shares: the connection of this run, the signed-in person, and how errors
are shown. The app side of the product; the domain lives in decisions/."""

from __future__ import annotations

import sqlite3

import streamlit as st

from decisions.model import Actor, WorkflowError


def conn() -> sqlite3.Connection:
    """This run's connection, opened by streamlit_app.py and closed when the run ends."""
    return st.session_state["_conn"]


def actor() -> Actor | None:
    """The signed-in person, or None."""
    return st.session_state.get("_actor")


def show_refusal(error: WorkflowError) -> None:
    """A refused change: say why; nothing was written."""
    st.error(str(error), icon=":material/block:")
