"""Every text a person reads goes through the catalogs, checked over the whole tree (AST): a text
with words handed to a place a person reads it (a page's `st.*` call, `print`, a stream's
`write`, an exception that reaches a person, argparse's help) must be `_()` / `n_()` of a
literal, or a value worded elsewhere; never an English literal or f-string.

Once the command line printed "imported as system", "1 new, 0 rejected" and refusals such as
"only the author may ..." in English to a bokmål reader, because the texts were f-strings that
the catalogs never saw."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORDS = re.compile(r"[A-Za-zÆØÅæøå]{2,}")
# Exceptions for programmers, never shown to a person as a message of the product: a broken
# invariant of the code (ValueError and its kin), or the catalogs' own strict-mode error.
FOR_PROGRAMMERS = {
    "ValueError",
    "TypeError",
    "KeyError",
    "RuntimeError",
    "AssertionError",
    "NotImplementedError",
    "MissingTranslation",
}
# Keywords of a Streamlit call that a person reads; the first positional argument too.
READ_KEYWORDS = {"label", "help", "placeholder", "caption", "body", "title", "text"}
# Streamlit calls whose first argument is not a text: a page's file, a session's or a query's
# key, a form's key, code shown as code, the signed-in user's claims.
ST_NOT_TEXT = {"Page", "page_link", "switch_page", "session_state", "query_params", "form", "code",
               "user"}  # fmt: skip
# Lists whose items a person reads, one text each (a file's problems, a check's findings).
READ_LISTS = {"problems", "errors", "notes", "warnings", "findings", "refusals"}
# Not words: a link, a record's key given as an example, a Streamlit icon or badge.
NOT_WORDS = re.compile(r"https?://\S*|[A-Z]{2,}-\d+|:material/\w+:|:\w*-badge\[")


def product_modules() -> list[Path]:
    walked = [*ROOT.glob("decisions/**/*.py"), *ROOT.glob("pages/**/*.py")]
    return sorted([*walked, ROOT / "ui.py", ROOT / "streamlit_app.py"])


def _callee(node: ast.Call) -> list[str]:
    """The dotted name of what `node` calls, outermost first: st.sidebar.write is
    ["st", "sidebar", "write"]; [] where it is not a plain name or attribute chain."""
    parts, func = [], node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return []
    return [func.id, *reversed(parts)]


def _has_words(literal: str) -> bool:
    return bool(WORDS.search(NOT_WORDS.sub("", literal)))


def _untranslated(node: ast.AST) -> Iterator[ast.AST]:
    """The literals with words inside an expression a person reads: through f-strings, `+`,
    `x if c else y`, `a or b`, tuples and `"...".format(...)`; a call's result is its own
    callee's business (`_()`, a words function), and so is a name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if _has_words(node.value):
            yield node
    elif isinstance(node, ast.JoinedStr):
        if _has_words("".join(v.value for v in node.values if isinstance(v, ast.Constant))):
            yield node
    elif isinstance(node, ast.BinOp):
        yield from _untranslated(node.left)
        yield from _untranslated(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _untranslated(node.body)
        yield from _untranslated(node.orelse)
    elif isinstance(node, ast.BoolOp | ast.Tuple | ast.List):
        for value in node.values if isinstance(node, ast.BoolOp) else node.elts:
            yield from _untranslated(value)
    elif isinstance(node, ast.Call):
        yield from _filled_in(node)


def _filled_in(node: ast.Call) -> Iterator[ast.AST]:
    """The literals of `"...".format(...)` and the values filled into a text, translated
    (`_("{what} was changed", what="Decision")`) or not: the words of a value are read too."""
    func = node.func
    formats = isinstance(func, ast.Attribute) and func.attr == "format"
    if formats:
        yield from _untranslated(func.value)
    if formats or _callee(node) in (["_"], ["n_"]):
        values = [*(node.args if formats else ()), *(k.value for k in node.keywords)]
        for value in values:
            yield from _untranslated(value)


def _read_arguments(node: ast.Call) -> list[ast.AST]:
    """The arguments of `node` that a person reads, where `node` is a call that shows them."""
    name = _callee(node)
    if name == ["print"] or name[-2:] in (["stderr", "write"], ["stdout", "write"]):
        return list(node.args)
    if name[-1:] == ["echo"]:
        return list(node.args)
    if name[-1:] in (["add_argument"], ["add_parser"], ["ArgumentParser"]):
        return [k.value for k in node.keywords if k.arg in ("help", "description")]
    if len(name) > 1 and name[-1] in ("append", "extend") and name[-2] in READ_LISTS:
        return list(node.args)
    if name[-1:] in (["fail"], ["refuse"]):  # an import's refusal of a row's column
        return list(node.args[2:])
    if name[-1:] == ["Issue"]:
        return [*node.args[3:], *(k.value for k in node.keywords if k.arg == "message")]
    if name[:1] == ["st"] and not set(name) & ST_NOT_TEXT:
        keywords = [k.value for k in node.keywords if k.arg in READ_KEYWORDS]
        return [*node.args[:1], *keywords]
    return []


def _raised_messages(node: ast.Raise) -> list[ast.AST]:
    exc = node.exc
    if not isinstance(exc, ast.Call) or not _callee(exc):
        return []
    if _callee(exc)[-1] in FOR_PROGRAMMERS:
        return []
    return list(exc.args)


def _marked_fstrings(node: ast.Call) -> list[ast.AST]:
    """`_(f"...")`: the catalogs can never hold a text whose words are computed."""
    if _callee(node) in (["_"], ["n_"], ["N_"]) and node.args:
        first = node.args[0]
        if isinstance(first, ast.JoinedStr | ast.BinOp):
            return [first]
    return []


def texts_not_in_catalogs(tree: ast.AST) -> Iterator[int]:
    """The line of each text with words that reaches a person without the catalogs."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            for argument in _raised_messages(node):
                yield from (found.lineno for found in _untranslated(argument))
        elif isinstance(node, ast.Call):
            for argument in _read_arguments(node):
                yield from (found.lineno for found in _untranslated(argument))
            yield from (marked.lineno for marked in _marked_fstrings(node))
        elif isinstance(node, ast.AugAssign) and _target(node.target) in READ_LISTS:
            yield from (found.lineno for found in _untranslated(node.value))


def _target(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def findings() -> list[str]:
    found = []
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT).as_posix()
        found += [f"{name}:{line}" for line in sorted(set(texts_not_in_catalogs(tree)))]
    return found


def test_every_text_a_person_reads_is_in_the_catalogs():
    found = findings()
    assert not found, f"{len(found)} texts a person reads bypass the catalogs:\n" + "\n".join(found)


def _lines(source: str) -> list[int]:
    return sorted(set(texts_not_in_catalogs(ast.parse(source))))


@pytest.mark.parametrize(
    "source",
    [
        'print("imported as system")',
        'print(f"imported as {who}")',
        'sys.stderr.write("no such database")',
        'raise WorkflowError("only the author may do this")',
        'raise UsageError(f"{path}: no such file")',
        'raise WorkflowError("refused: " + reason)',
        'parser.add_argument("--db", help="database file")',
        'st.error("Could not save")',
        'st.sidebar.button(label="Save")',
        'st.warning("{n} rows".format(n=3))',
        'print(_(f"imported as {who}"))',
        'print("dry run" if dry else _("imported"))',
        'problems.append(f"{ref} is required")',
        'row.notes.append("stage set to built")',
        'findings += [f"event {n}: hash broken"]',
        'Issue(name, 0, "", "no rows")',
        'a.fail(row, "stage", f"cannot go from {stage} back")',
        'raise StaleRecord(STALE.format(what=f"Decision {key}"))',
        'raise WorkflowError(_("{what} is unchanged", what="The approval rule"))',
    ],
)
def test_a_text_that_bypasses_the_catalogs_is_found(source):
    assert _lines(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        'print(_("imported as {who}", who=who))',
        'print(f"{path}: {error}")',
        'raise ValueError(f"not a reference table: {table}")',
        "raise WorkflowError(words.refusal_text(code))",
        'st.page_link("pages/plan.py", label=_("Plan"))',
        'st.session_state.get("signed_in")',
        'st.markdown("---")',
        'print(n_("{count} row", "{count} rows", n))',
        'st.text_input(_("Key"), placeholder="DEF-0042")',
        'st.caption(f":material/info: {note}")',
        'problems.append(_("{ref} is required", ref=ref))',
    ],
)
def test_a_text_through_the_catalogs_or_without_words_passes(source):
    assert _lines(source) == []


# The command line in the reader's language ------------------------------------------------------

BAD_EMAIL = (
    "email,name,organization,domains,roles,allocation_pct\nnew at stolav.no,New,STO,MED,expert,50\n"
)
NEW_ORGANISATION = "code,name,kind\nORK,Orkdal sykehus,hospital\n"


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    from decisions import cli

    status = cli.main(argv)
    printed = capsys.readouterr()
    return status, printed.out, printed.err


@pytest.fixture
def reader(monkeypatch, programme, db_path):
    """Run the command line as an administrator does: no DECISIONS_LANGUAGE, the programme's
    setting app.language (bokmål unless `reader(...)` stores another)."""
    from decisions import settings, store

    monkeypatch.delenv("DECISIONS_LANGUAGE", raising=False)

    def choose(language: str | None = None) -> str:
        if language:
            with store.transaction(programme):
                settings.put(programme, settings.LANGUAGE, language)
        return str(db_path)

    return choose


def test_a_refused_row_and_the_summary_read_in_bokmal(reader, tmp_path, capsys):
    db = reader()
    bad = tmp_path / "experts.csv"
    bad.write_text(BAD_EMAIL, encoding="utf-8")
    status, out, err = _run(["import", "experts", str(bad), "--db", db], capsys)
    assert status == 1
    assert f"{bad}:2:email: 'new at stolav.no' er ikke en e-postadresse" in err
    assert f"{bad}: experts, CSV, UTF-8, kommaseparert: 0 nye, 0 oppdaterte, 0 uendrede, " \
           "1 avvist" in out  # fmt: skip
    assert "rejected" not in out + err and "not an email" not in err


def test_a_summary_and_a_use_case_refusal_read_in_bokmal(reader, tmp_path, capsys):
    db = reader()
    good = tmp_path / "organizations.csv"
    good.write_text(NEW_ORGANISATION, encoding="utf-8")
    status, out, _err = _run(["import", "organizations", str(good), "--db", db, "--dry-run"],
                             capsys)  # fmt: skip
    assert status == 0
    assert "1 ny, 0 oppdaterte, 0 uendrede, 0 avviste" in out
    assert "prøvekjøring: ingenting skrevet" in out
    status, _out, err = _run(["import", "organizations", str(good), "--db", db,
                              "--as", "vera@hemit.no"], capsys)  # fmt: skip
    assert status == 1 and err.startswith("--as vera@hemit.no: ")
    assert not re.search(r"\b(may not|not allowed|import)\b", err.split(": ", 1)[1]), err


def test_check_and_its_usage_errors_read_in_bokmal(reader, tmp_path, capsys):
    db = reader()
    status, out, _err = _run(["check", "--db", db], capsys)
    assert status == 0
    assert f"{db}: advarsel: hendelseslogg: ingen hodefil å holde den mot" in out
    assert f"{db}: ok" in out and "warning" not in out
    status, _out, err = _run(["import", "kinds", str(tmp_path), "--db", db], capsys)
    assert status == 2 and "ukjent KIND 'kinds'; forventet all eller en av" in err


def test_the_programmes_language_is_the_command_lines(reader, tmp_path, capsys):
    db = reader("en")
    bad = tmp_path / "experts.csv"
    bad.write_text(BAD_EMAIL, encoding="utf-8")
    _status, out, err = _run(["import", "experts", str(bad), "--db", db], capsys)
    assert "'new at stolav.no' is not an email address" in err
    assert "0 new, 0 updated, 0 unchanged, 1 rejected" in out


@pytest.mark.parametrize("command", [["check"], ["readiness"], ["export", "waves"]])
def test_a_file_that_is_no_database_is_named_in_the_readers_words(command, tmp_path, capsys):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all, " * 200)
    status, _out, err = _run([*command, "--db", str(garbage)], capsys)
    assert status == 1
    assert err == f"{garbage}: not a database this program can read (damaged, or another kind " \
                  "of file)\n"  # fmt: skip


def test_the_help_and_a_usage_error_read_in_bokmal(monkeypatch, capsys):
    monkeypatch.delenv("DECISIONS_LANGUAGE", raising=False)
    status, out, _err = _run(["import", "--help"], capsys)
    assert status == 0 and out.startswith("bruk: python -m decisions import")
    assert "vis denne hjelpen og avslutt" in out and "kontroller og rapporter" in out
    assert not re.search(r"\b(usage|options|show this|validate)\b", out), out
    status, _out, err = _run(["demo", "--scale", "lots"], capsys)
    assert status == 2 and "python -m decisions demo: feil: argument --scale" in err
