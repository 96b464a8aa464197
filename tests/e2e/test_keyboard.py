"""Issue 24, item 7: every role's main journey by keyboard alone (Tab, Shift+Tab, Enter,
Space, arrow keys and typing; no mouse), on a private copy of the small demo programme at
1440x900, each checked in the database afterwards. Every control the keyboard reaches must
show the focus as a line (an outline, a ring or a border): the menu's links and the radio
buttons showed only a faint tint until ui.FOCUS_RINGS. The journeys themselves are in
tests/e2e/journeys.py; benchmarks/journey_counts.py counts them by mouse and by keyboard."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e import journeys
from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def keyboard_programme(demo_db, tmp_path_factory) -> tuple[str, Path]:
    """A server on a copy of the small demo that only these journeys change (each changes
    records of its own)."""
    folder = tmp_path_factory.mktemp("keyboard")
    copy = folder / "decisions.db"
    source, target = sqlite3.connect(demo_db), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    servers = Servers(folder)
    yield servers.start(copy), copy
    servers.stop_all()


@pytest.mark.parametrize("role", list(journeys.JOURNEYS))
def test_the_main_journey_by_keyboard_alone(keyboard_programme, page, role):
    base, db = keyboard_programme
    page.set_viewport_size({"width": 1440, "height": 900})
    keyboard = journeys.Keyboard(page)
    journeys.JOURNEYS[role](keyboard, base, db)  # asserts what it stored
    print(f"{role} by keyboard: {keyboard.counts}")
    assert keyboard.counts.clicks == 0
    assert keyboard.counts.unfocusable == []
