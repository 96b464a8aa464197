"""The Streamlit settings in .streamlit/config.toml: real option names, the values the
benchmarks support, and the pages' independence from the magic those settings turn off."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from streamlit import config
from streamlit.runtime.scriptrunner import magic

REPO = Path(__file__).resolve().parents[1]
SETTINGS = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
OPTIONS = [f"{section}.{name}" for section, values in SETTINGS.items() for name in values]
SCRIPTS = [REPO / "streamlit_app.py", *sorted((REPO / "pages").glob("*.py"))]


@pytest.mark.parametrize("option", OPTIONS)
def test_every_setting_is_a_streamlit_option(option):
    assert option in config.get_config_options(), f"Streamlit has no option {option}"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("runner.postScriptGC", False),
        ("runner.magicEnabled", False),
        ("server.fileWatcherType", "none"),
        ("browser.gatherUsageStats", False),
        ("client.showErrorDetails", "none"),
    ],
)
def test_setting(option, value):
    section, name = option.split(".")
    assert SETTINGS[section][name] == value


def magic_writes(path: Path) -> list[int]:
    """Lines whose bare expression Streamlit's magic would have shown (and now will not)."""
    tree = magic.add_magic(path.read_text(), str(path))
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "transparent_write"
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_no_script_relies_on_magic(script):
    assert magic_writes(script) == [], f"{script.name}: use st.write, magic is off"


def test_magic_writes_finds_a_bare_expression(tmp_path):
    script = tmp_path / "page.py"
    script.write_text('"""Docstring."""\nimport streamlit as st\n\nst.title("x")\n"shown"\n')
    assert magic_writes(script) == [5]
