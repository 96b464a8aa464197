"""The project's rules on where a thing may be spelled, checked over the whole tree: every
module of decisions/, pages/, ui.py and streamlit_app.py, found by walking the folders so a new
module is covered the day it is added. Role names live in the permission table, the model and
the schema's CHECK; SQL lives in decisions/store/; settings are read and written through the
registry in decisions/settings.py."""

from __future__ import annotations

import ast
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from decisions import settings
from decisions.model import ROLES

ROOT = Path(__file__).resolve().parents[1]


def product_modules(root: Path = ROOT) -> list[Path]:
    """Every Python module of the product, walked (never listed)."""
    walked = [*root.glob("decisions/**/*.py"), *root.glob("pages/**/*.py")]
    return sorted([*walked, *root.glob("*.py")])


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the constants that are docstrings (prose, not code)."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """The line and text of each string of the code (an f-string with `x` for its fields),
    docstrings left out."""
    prose = _docstrings(tree)
    parts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts.update(id(v) for v in node.values)
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            yield node.lineno, text
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in prose and id(node) not in parts:
            yield node.lineno, node.value


@functools.cache
def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def findings(check: Callable[[ast.AST], Iterator[int]], homes: Callable[[str], bool]) -> list[str]:
    """`path:line` of every place `check` finds, in the modules that are not `homes`."""
    return [
        f"{_name(path)}:{line}"
        for path in product_modules()
        if not homes(_name(path))
        for line in sorted(set(check(_tree(path))))
    ]


# Role names -----------------------------------------------------------------------------------

ROLE_HOMES = {"decisions/permissions.py", "decisions/model.py", "decisions/store/schema.py"}
QUOTED_ROLE = re.compile(r"'(" + "|".join(ROLES) + r")'")  # a role in SQL


def _is_role(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in ROLES


def _holds_role(node: ast.AST) -> bool:
    return _is_role(node) or (
        isinstance(node, (ast.List, ast.Tuple, ast.Set)) and any(map(_is_role, node.elts))
    )


def _only_roles(node: ast.AST) -> bool:
    return (
        isinstance(node, (ast.List, ast.Tuple, ast.Set))
        and bool(node.elts)
        and all(map(_is_role, node.elts))
    )


def _is_words(node: ast.Dict) -> bool:
    """A table of the words a reader reads for each role: vocabulary, not a rule."""
    return all(
        isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in ("N_", "_")
        for v in node.values
    )


def _compared(node: ast.AST) -> list[ast.AST]:
    """The operands of a comparison, pandas' `eq` and `ne` included; [] for anything else."""
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("eq", "ne"):
        return node.args
    return []


def role_names(tree: ast.AST) -> Iterator[int]:
    """Lines that spell a role as a role: compared with one, a collection of roles, a role as a
    keyword's value or a default, a `case`, or a role quoted in SQL. A column or a record kind
    that shares a role's name (`row["expert"]`, `groupby("tester")`) is not a role."""
    for node in ast.walk(tree):
        if any(map(_holds_role, _compared(node))) or _only_roles(node):
            yield node.lineno
        elif isinstance(node, ast.Dict) and len(node.keys) > 1 and all(map(_is_role, node.keys)):
            if not _is_words(node):  # one role as a key is a query's parameter: {"expert": e}
                yield node.lineno
        elif isinstance(node, ast.keyword) and node.arg in ("role", "roles", "default"):
            if _holds_role(node.value):
                yield node.value.lineno
        elif isinstance(node, ast.arguments):
            yield from (d.lineno for d in [*node.defaults, *node.kw_defaults] if d and _is_role(d))
        elif isinstance(node, ast.MatchValue) and _is_role(node.value):
            yield node.lineno
    yield from (line for line, text in _strings(tree) if QUOTED_ROLE.search(text))


def test_no_role_name_outside_the_permission_table():
    assert findings(role_names, ROLE_HOMES.__contains__) == []


def test_the_schemas_role_check_is_the_models_roles(fresh_db):
    from decisions import store

    table = store.scalar(fresh_db, "SELECT sql FROM sqlite_master WHERE name = 'expert_roles'")
    checked = re.search(r"CHECK \(role IN \(([^)]*)\)\)", table).group(1)
    assert tuple(QUOTED_ROLE.findall(checked)) == ROLES


# SQL ------------------------------------------------------------------------------------------

SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\bPRAGMA\b|\b(CREATE|DROP|ALTER)\s+(TEMP\w*\s+)?(TABLE|VIEW|INDEX)\b"
    r"|\bVACUUM\b|\bATTACH\s+DATABASE\b|^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)\b(?!:)"
)
RUNS_SQL = {"execute", "executemany", "executescript", "read_sql", "read_sql_query"}


def sql(tree: ast.AST) -> Iterator[int]:
    """Lines that hold a statement or run one."""
    yield from (line for line, text in _strings(tree) if SQL.search(text))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in RUNS_SQL:
            yield node.lineno


def test_no_sql_outside_the_store():
    assert findings(sql, lambda name: name.startswith("decisions/store/")) == []


# Settings -------------------------------------------------------------------------------------

SETTINGS_HOMES = {"decisions/settings.py", "decisions/store/__init__.py"}
STORED_SETTINGS = {"get_settings", "put_setting"}  # the store's side of the registry
DOTTED_KEYS = {s.name for s in settings.SETTINGS if "." in s.name}  # plain words are names too


def _registry_call_with_a_key(node: ast.Call) -> bool:
    """`settings.get(conn, "key")`: the key typed again instead of its entry."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ("get", "put")
        and isinstance(func.value, ast.Name)
        and func.value.id == "settings"
        and any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
    )


def settings_access(tree: ast.AST) -> Iterator[int]:
    """Lines that read or write a setting other than through the registry's entries."""
    for node in ast.walk(tree):
        named = (
            getattr(node, "attr", None) or getattr(node, "id", None) or getattr(node, "name", None)
        )
        if named in STORED_SETTINGS and isinstance(node, (ast.Attribute, ast.Name, ast.alias)):
            yield getattr(node, "lineno", 0)
        elif isinstance(node, ast.Call) and _registry_call_with_a_key(node):
            yield node.lineno
    yield from (line for line, text in _strings(tree) if text in DOTTED_KEYS)


def test_settings_only_through_the_registry():
    assert findings(settings_access, SETTINGS_HOMES.__contains__) == []


# The guards themselves --------------------------------------------------------------------------


def test_the_walk_covers_every_folder_of_the_product():
    names = {_name(p) for p in product_modules()}
    assert {"ui.py", "streamlit_app.py", "pages/decision.py", "decisions/io/apply.py",
            "decisions/charts/readiness.py", "decisions/store/schema.py"} <= names  # fmt: skip


def test_a_module_added_in_a_new_folder_is_walked(tmp_path):
    added = tmp_path / "decisions" / "publish" / "views.py"
    added.parent.mkdir(parents=True)
    added.write_text("")
    assert added in product_modules(tmp_path)


def _lines(check: Callable[[ast.AST], Iterator[int]], source: str) -> list[int]:
    return sorted(set(check(ast.parse(source))))


@pytest.mark.parametrize(
    "source",
    [
        'people.isin(roles.loc[roles["role"] == "expert", "expert"])',
        'allowed = "admin" in actor.roles',
        'st.multiselect("Roles", ROLES, default=["expert"])',
        "def f(role='manager'): pass",
        'match role:\n    case "tester": pass',
        "Actor('a@b.no', 'A', frozenset({'admin'}))",
        """conn.execute("SELECT email FROM expert_roles WHERE role = 'analyst'")""",
        "shown = role in ('expert', 'analyst')",
        'experts = roles[roles["role"].eq("expert")]',
    ],
)
def test_a_role_spelled_as_a_role_is_found(source):
    assert _lines(role_names, source) != []


@pytest.mark.parametrize(
    "source",
    [
        'row["expert"]',
        'verdicts.groupby("expert").size()',
        'given.merge(domains, on=["expert", "domain"])',
        'write.replace_links(conn, "expert_roles", "expert", "role", links)',
        'WORDS = {"expert": N_("expert"), "admin": N_("admin")}',
        '"""A docstring that says SELECT x FROM y and names the expert."""',
    ],
)
def test_a_column_named_like_a_role_is_not_a_role(source):
    assert _lines(role_names, source) == []


@pytest.mark.parametrize(
    "source, found",
    [
        ('store.scalar(conn, "SELECT 1 FROM modules WHERE code = ?", (m,))', True),
        ('connection.execute("PRAGMA journal_mode = DELETE")', True),
        ("conn.executescript(script)", True),
        ('f"UPDATE {table} SET name = ?"', True),
        ('lines.append("BEGIN:VEVENT")', False),
        ('"""Copies the file (VACUUM INTO runs in a snapshot)."""', False),
        ('_("Select the decisions to show from the list")', False),
    ],
)
def test_sql_is_found_in_strings_and_calls(source, found):
    assert bool(_lines(sql, source)) is found


@pytest.mark.parametrize(
    "source, found",
    [
        ('demo = bool(store.get_settings(conn).get("demo"))', True),
        ("store.put_setting(conn, name, value)", True),
        ("from decisions.store import get_settings", True),
        ('settings.get(conn, "clock")', True),
        ('rule = stored.get("approval.min_approvers")', True),
        ("settings.get(conn, settings.CLOCK)", False),
        ("settings.put(conn, settings.BASE_URL, url)", False),
    ],
)
def test_settings_access_around_the_registry_is_found(source, found):
    assert bool(_lines(settings_access, source)) is found


# Dead code ------------------------------------------------------------------------------------


def _project_modules() -> list[Path]:
    """Every module that may use the product's names: the product, its tests, scripts and
    benchmarks."""
    folders = ("decisions", "pages", "tests", "scripts", "benchmarks")
    return sorted({*product_modules(), *(p for f in folders for p in ROOT.glob(f"{f}/**/*.py"))})


def _uses(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.alias):
            yield node.name.rpartition(".")[2]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value  # a name in __all__ or looked up by getattr


def _defined(tree: ast.Module) -> Iterator[tuple[str, int, int]]:
    """The module's top-level names, each with its line and how often its definition counts
    among `_uses` (an assignment's target is a Name); not those a decorator registers (the
    migrations)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.decorator_list:
            yield node.name, node.lineno, 0
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield from ((t.id, node.lineno, 1) for t in targets if isinstance(t, ast.Name))


def test_every_name_the_product_defines_is_used():
    uses = Counter(name for path in _project_modules() for name in _uses(_tree(path)))
    unused = [
        f"{_name(path)}:{line} {name}"
        for path in ROOT.glob("decisions/**/*.py")
        for name, line, defining in _defined(_tree(path))
        if not name.startswith("__") and uses[name] <= defining
    ]
    assert unused == []
