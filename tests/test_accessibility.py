"""Accessibility (WCAG 2.1 AA) without a browser: the theme's colours keep text at 4.5:1
where Streamlit fades or tints it, every chart carries its summary and data, and the
accessibility statement reads in both languages. tests/e2e/test_accessibility.py runs axe-core
on every page."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import as_read
from streamlit.testing.v1 import AppTest

from decisions import store

REPO = Path(__file__).resolve().parents[1]
THEME = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["theme"]
APP = str(REPO / "streamlit_app.py")
WHITE, SIDEBAR = (255, 255, 255), (240, 242, 246)  # Streamlit's light backgrounds
CAPTION_OPACITY = 0.6  # Streamlit draws st.caption at this opacity
AA = 4.5


def rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def over(colour: tuple, background: tuple, alpha: float) -> tuple[float, ...]:
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(colour, background, strict=True))


def luminance(colour: tuple) -> float:
    linear = [(c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in colour]  # fmt: skip
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: tuple, other: tuple) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("background", [WHITE, SIDEBAR])
@pytest.mark.parametrize("colour", ["textColor", "linkColor"])
def test_captions_and_their_links_meet_aa(colour, background):
    shown = over(rgb(THEME[colour]), background, CAPTION_OPACITY)
    assert contrast(shown, background) >= AA


def test_a_selected_control_on_its_tint_and_a_primary_button_meet_aa():
    primary = rgb(THEME["primaryColor"])
    assert contrast(primary, over(primary, WHITE, 0.1)) >= AA
    assert contrast(WHITE, primary) >= AA


@pytest.fixture
def app_db(programme, db_path, monkeypatch):
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return programme


def open_page(page: str, email: str = "mona@hemit.no") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.sidebar.selectbox[0].set_value(email).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    "language, title, tested",
    [
        ("nb", "Tilgjengelighetserklæring", "Hva som er testet, og hvordan"),
        ("en", "Accessibility statement", "What was tested, and how"),
    ],
)
def test_the_statement_says_what_was_tested_in_the_readers_language(
    app_db, monkeypatch, language, title, tested
):
    monkeypatch.setenv("DECISIONS_LANGUAGE", language)
    at = open_page("pages/accessibility.py")
    assert at.title[0].value == title
    assert tested in [s.value for s in at.subheader]
    text = " ".join(m.value for m in at.markdown)
    assert all(word in text for word in ("axe-core", "1440", "390", "(WCAG) 2.1", "AA"))


@pytest.mark.parametrize(
    "language, journeys",
    [
        ("nb", ("bare tastatur", "fagekspert", "analytiker", "tester", "programleder",
                "administrator", "Shift+mellomrom")),
        ("en", ("keyboard alone", "subject expert", "analyst", "tester", "programme manager",
                "administrator", "Shift+Space")),
    ],
)  # fmt: skip
def test_the_statement_names_the_journeys_tested_by_keyboard_alone(
    app_db, monkeypatch, language, journeys
):
    monkeypatch.setenv("DECISIONS_LANGUAGE", language)
    text = " ".join(m.value for m in open_page("pages/accessibility.py").markdown)
    assert all(word in text for word in journeys)


def test_a_chart_comes_with_its_summary_and_the_data_behind_it(app_db):
    at = open_page("pages/readiness.py")
    [words] = [e for e in at.expander if e.label == "The chart as text and table"]
    summary = as_read(words.markdown[0].value)
    assert summary.startswith("Decisions in the wave's scope reaching approved and ready")
    data = words.table[0].value
    assert len(data) > 0 and "Decisions" in data.columns
