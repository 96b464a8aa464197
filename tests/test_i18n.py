"""Translation frame: formats in bokmål and the order in which a reader's language is chosen."""

import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from decisions import i18n, settings

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("catalogs", ROOT / "scripts" / "catalogs.py")
catalogs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogs)


@pytest.fixture
def nb():
    i18n.use("nb")
    yield
    i18n.use("en")


def test_dates_in_bokmal(nb):
    assert i18n.format_date(dt.date(2022, 9, 15)) == "15.09.2022"
    assert i18n.format_date(dt.date(2022, 9, 15), "medium") == "15. sep. 2022"


def test_numbers_in_bokmal(nb):
    assert i18n.format_number(1234.5).replace("\u00a0", " ") == "1 234,5"
    assert i18n.format_percent(0.699).replace("\u00a0", " ") == "69,9 %"


def test_person_choice_comes_first(monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "en")
    assert i18n.choose(person="nb", browser="en-US", programme="en") == "nb"


def test_browser_before_installation(monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "en")
    assert i18n.choose(browser="nb-NO") == "nb"
    assert i18n.choose(browser="nn") == "nb"
    assert i18n.choose(browser="en-GB", programme="nb") == "en"


def test_installation_before_programme(monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "en")
    assert i18n.choose(browser="de-DE", programme="nb") == "en"


def test_programme_setting_last(monkeypatch):
    monkeypatch.delenv("DECISIONS_LANGUAGE", raising=False)
    assert i18n.choose(browser="fr-FR", programme="en") == "en"
    assert i18n.choose(programme="xx") == "nb"
    assert settings.LANGUAGE.default == "nb"


def test_the_catalogs_are_complete_and_consistent():
    """Every marked text is in the catalogs with a bokmål translation, each translation keeps
    its text's {fields}, and a text reads the same in every part of the product."""
    checked = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "catalogs.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_a_translation_that_loses_a_field_is_found():
    catalog = Catalog(locale="nb")
    catalog.add("{count} decisions in {wave}", "{count} beslutninger")
    catalog.add("Sign out", "Logg ut")
    (problem,) = catalogs.field_problems(catalog)
    assert "'{count} decisions in {wave}'" in problem and "['count']" in problem
