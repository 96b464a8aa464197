"""Translation frame: formats in bokmål and the order in which a reader's language is chosen."""

import datetime as dt

import pytest

from decisions import i18n, settings


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
