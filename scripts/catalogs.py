"""Keep the translation catalogs in step with the code.

    python scripts/catalogs.py            # extract the marked texts, update every catalog
    python scripts/catalogs.py --check    # fail if a catalog is out of date or a text lacks bokmål

Each domain is a part of the product (its files below) with its own catalog per language,
decisions/locale/<language>/LC_MESSAGES/<domain>.po. Updating keeps every translation made,
adds new texts untranslated and drops texts the code no longer has.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "decisions" / "locale"
LANGUAGES = ("nb", "en")
# Fixed header dates, so that a run that changes no text leaves every catalog as it was (the
# catalogs are edited on several branches at once; dates that change on each run would collide).
STABLE_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
KEYWORDS = {"_": None, "N_": None, "n_": (1, 2)}

# Each file belongs to one domain; the first pattern that matches decides.
DOMAINS = {
    "frame": ["streamlit_app.py", "ui.py", "widget_texts.py", "pages/accessibility.py"],
    "notices": ["decisions/notices.py", "decisions/notice_texts.py", "decisions/calendar.py"],
    "io": ["decisions/io/*.py"],
    "search": ["pages/decisions_register.py", "decisions/demo.py"],
    "expert": ["pages/my_work.py", "pages/decision.py", "pages/approvals.py", "pages/demo.py"],
    "analyst": ["pages/new_decision.py", "pages/demos.py", "pages/people.py"],
    "testing": ["pages/testing.py"],
    "programme": [
        "pages/readiness.py",
        "pages/plan.py",
        "pages/overview.py",
        "pages/backlog.py",
        "pages/suspect.py",
        "decisions/charts/*.py",
    ],
    "admin": ["pages/data.py", "pages/notices.py"],
    "publish": ["decisions/publish/*.py"],
    "rules": ["decisions/*.py", "decisions/store/*.py"],
}


def domain_files() -> dict[str, list[Path]]:
    claimed: set[Path] = set()
    files: dict[str, list[Path]] = {}
    for domain, patterns in DOMAINS.items():
        found = sorted({p for pattern in patterns for p in ROOT.glob(pattern)} - claimed)
        claimed.update(found)
        files[domain] = found
    return files


def extract(paths: list[Path]) -> Catalog:
    template = Catalog(fuzzy=False, creation_date=STABLE_DATE)
    for path in paths:
        for lineno, message, comments, _context in extract_from_file(
            "python", path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            where = [(str(path.relative_to(ROOT)), lineno)]
            template.add(message, locations=where, auto_comments=comments)
    return template


def read(path: Path, domain: str, language: str) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=domain)


def _ids(catalog: Catalog) -> set:
    return {message.id for message in catalog if message.id}


def updated(domain: str, language: str, template: Catalog) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if path.exists():
        catalog = read(path, domain, language)
    else:
        catalog = Catalog(
            locale=language,
            domain=domain,
            project="decisions",
            creation_date=STABLE_DATE,
            revision_date=STABLE_DATE,
        )
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    return catalog


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=100, omit_header=False, sort_output=False, no_location=True)


def untranslated(catalog: Catalog) -> list[str]:
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


FIELD = re.compile(r"{(\w*)[^{}]*}")


def field_problems(catalog: Catalog) -> list[str]:
    """Translations whose {fields} differ from their text's: filling them would fail or leave
    a value out."""
    problems = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(FIELD.findall(ids[-1]))
        for string in strings:
            if string and set(FIELD.findall(string)) != wanted:
                problems.append(f"{ids[0]!r}: fields {sorted(FIELD.findall(string))} "
                                f"where the text has {sorted(wanted)}")  # fmt: skip
    return problems


def conflicts(language: str) -> list[str]:
    """Texts translated differently in two domains: all domains of a language are merged into
    one catalog, so one of the two translations would never be shown."""
    seen: dict[str, tuple[str, object]] = {}
    problems = []
    for path in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        for message in read(path, path.stem, language):
            if not message.id or not message.string:
                continue
            text = message.id if isinstance(message.id, str) else message.id[0]
            if text in seen and seen[text][1] != message.string:
                problems.append(f"{language}: {text!r} is {seen[text][1]!r} in {seen[text][0]} "
                                f"but {message.string!r} in {path.name}")  # fmt: skip
            seen.setdefault(text, (path.name, message.string))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail on gaps")
    args = parser.parse_args()
    problems = []
    for domain, paths in domain_files().items():
        template = extract(paths)
        for language in LANGUAGES:
            path = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
            catalog = updated(domain, language, template)
            if args.check:
                if not path.exists() or _ids(read(path, domain, language)) != _ids(template):
                    problems.append(f"{path.relative_to(ROOT)}: out of date, run the script")
                if language != "en":
                    for text in untranslated(catalog):
                        problems.append(f"{path.relative_to(ROOT)}: no translation for {text!r}")
                    for problem in field_problems(catalog):
                        problems.append(f"{path.relative_to(ROOT)}: {problem}")
            else:
                write(catalog, path)
    if args.check:
        problems += [p for language in LANGUAGES for p in conflicts(language)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
