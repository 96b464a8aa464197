"""Every text a person reads goes through here: the gettext catalogs (bokmål and English) and
dates, numbers and percentages as each language writes them (Babel).

Texts are written in English in the code, marked `_("...")`, and translated at the moment they
are shown, in the language of the person who reads them. `use(language)` sets that language for
the current thread (each Streamlit run, each CLI command); `N_("...")` marks a text kept in a
constant for extraction, to be passed through `_()` where it is shown.

The catalogs are `decisions/locale/<language>/LC_MESSAGES/<domain>.po`, one domain per area of
the product so that each area's texts live beside each other; all domains of a language are
merged into one catalog when first needed. `pybabel extract` (babel.cfg) finds the marked texts.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import os
import threading
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _babel_decimal

LANGUAGES = ("nb", "en")
DEFAULT_LANGUAGE = "nb"
LANGUAGE_NAMES = {"nb": "Norsk (bokmål)", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"

# Which Babel locale formats each language's dates and numbers.
_LOCALES = {"nb": "nb_NO", "en": "en"}
_DATE = {"nb": "dd.MM.yyyy", "en": "dd MMM yyyy"}
_DATE_MEDIUM = {"nb": "d. MMM y", "en": "d MMM y"}

T = TypeVar("T")
_language: ContextVar[str | None] = ContextVar("language", default=None)
_lock = threading.Lock()


class MissingTranslation(LookupError):
    """Raised in strict mode (the tests) when a text shown has no translation in a language."""


def use(language: str | None) -> str:
    """Read and write texts in `language` from now on in this thread; returns the one used."""
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    _language.set(chosen)
    return chosen


def in_language(make: Callable[[], T]) -> Callable[[], T]:
    """`make` to be called later, in another thread (a deferred download), in the language of
    the reader who asked for it now: that thread has no reader of its own."""
    chosen = language()

    def made() -> T:
        token = _language.set(chosen)
        try:
            return make()
        finally:
            _language.reset(token)

    return made


def language() -> str:
    """The language of this thread's reader: what `use` set, else the installation's default."""
    return _language.get() or installation_language()


def installation_language() -> str:
    """`DECISIONS_LANGUAGE` where set (the test suite sets English), else bokmål."""
    chosen = os.environ.get("DECISIONS_LANGUAGE", "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def from_browser(preferred: str | None) -> str | None:
    """The language of a browser's preferred locale ("nb-NO", "no", "nn", "en-US"), or None
    where we have no catalog for it (the programme's setting decides then)."""
    if not preferred:
        return None
    code = preferred.replace("_", "-").split(",")[0].split(";")[0].strip().lower()
    primary = code.split("-")[0]
    if primary in ("nb", "no", "nn"):
        return "nb"
    if primary == "en":
        return "en"
    return None


def choose(
    person: str | None = None, browser: str | None = None, programme: str | None = None
) -> str:
    """The language a reader reads in: their own choice, else their browser's preferred one,
    else `DECISIONS_LANGUAGE` where set, else the programme's setting, else bokmål."""
    if person in LANGUAGES:
        return person
    from_locale = from_browser(browser)
    if from_locale:
        return from_locale
    installed = os.environ.get("DECISIONS_LANGUAGE", "")
    if installed in LANGUAGES:
        return installed
    return programme if programme in LANGUAGES else DEFAULT_LANGUAGE


def strict() -> bool:
    return os.environ.get("DECISIONS_I18N_STRICT") == "1"


_catalogs: dict[str, gettext.NullTranslations] = {}


def _catalog(lang: str) -> gettext.NullTranslations:
    """The language's catalogs as one, read once per process: the sessions that arrive
    together after a start would each read them all, one after the other, under the lock."""
    found = _catalogs.get(lang)
    if found is None:
        with _lock:
            if lang not in _catalogs:
                _catalogs[lang] = _read_catalogs(lang)
            found = _catalogs[lang]
    return found


def _read_catalogs(lang: str) -> gettext.NullTranslations:
    files = sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))
    if not files:
        return gettext.NullTranslations()
    merged = None
    for path in files:
        with path.open("rb") as po:
            catalog = read_po(po, locale=lang, domain=path.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations = gettext.GNUTranslations(buffer)
        if merged is None:
            merged = translations
        else:
            merged._catalog.update(translations._catalog)  # one catalog of all domains
    return merged


def _translate(message: str, lang: str) -> str:
    translations = _catalog(lang)
    found = translations.gettext(message)
    known = getattr(translations, "_catalog", {})
    if found == message and lang != "en" and strict() and message.strip() and message not in known:
        raise MissingTranslation(f"no {lang} translation for {message!r}")
    return found


def translate(message: str, language: str) -> str:
    """`message` in `language`, whatever this thread reads in (for text stored in the database,
    such as the words of the open-data views)."""
    return _translate(message, language if language in LANGUAGES else DEFAULT_LANGUAGE)


def _(message: str, /, **values: object) -> str:
    """`message` in the reader's language, with `{name}` fields filled from `values`."""
    text = _translate(message, language())
    return text.format(**values) if values else text


def n_(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The singular or plural form for `count` in the reader's language; `{count}` is filled."""
    lang = language()
    translations = _catalog(lang)
    text = translations.ngettext(singular, plural, count)
    known = getattr(translations, "_catalog", {})
    if lang != "en" and strict() and text in (singular, plural) and (singular, 0) not in known:
        raise MissingTranslation(f"no {lang} translation for {singular!r}/{plural!r}")
    return text.format(count=format_number(count), **values)


def N_(message: str) -> str:
    """Marks `message` for the catalogs without translating it (constants defined at import)."""
    return message


def _locale(lang: str | None = None) -> Locale:
    return _parsed_locale(lang or language())


@cache
def _parsed_locale(lang: str) -> Locale:
    try:
        return Locale.parse(_LOCALES[lang])
    except (KeyError, UnknownLocaleError):
        return Locale.parse(_LOCALES[DEFAULT_LANGUAGE])


@lru_cache(maxsize=8192)
def _formatted_date(value: dt.date, pattern: str, lang: str) -> str:
    """Tables show the same few hundred dates again and again: each is formatted once."""
    return _babel_date(value, pattern, locale=_parsed_locale(lang))


def format_date(value: dt.date | None, style: str = "short") -> str:
    """A date as the reader writes it: "15.09.2022" (short) or "15. sep. 2022" (medium)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    lang = language()
    pattern = _DATE[lang] if style == "short" else _DATE_MEDIUM[lang]
    return _formatted_date(value, pattern, lang)


def format_datetime(value: dt.datetime | None) -> str:
    """A moment as the reader writes it, to the minute: "15.09.2022 14:02"."""
    if value is None:
        return ""
    lang = language()
    return _babel_datetime(value, f"{_DATE[lang]} HH:mm", locale=_locale(lang))


def format_time(value: dt.datetime | dt.time) -> str:
    return value.strftime("%H:%M:%S")


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    """A number with the reader's decimal mark and thousands separator: "1 234,5" in bokmål."""
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 1
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return _babel_decimal(value, pattern, locale=_locale())


def number_symbols() -> tuple[str, str]:
    """The reader's decimal mark and thousands separator: (",", no-break space) in bokmål."""
    symbols = _locale().number_symbols["latn"]
    return symbols["decimal"], symbols["group"]


def format_percent(fraction: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.699 is "69,9 %" in bokmål, "69.9%" in English."""
    if fraction is None:
        return ""
    return format_number(fraction * 100, decimals) + percent_sign()


def percent_sign() -> str:
    """What follows a percentage: a no-break space and % in bokmål, % alone in English."""
    return "\u00a0%" if language() == "nb" else "%"
