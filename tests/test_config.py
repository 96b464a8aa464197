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
        ("client.disableDataExport", True),
        ("client.toolbarMode", "minimal"),
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


def test_uploads_are_refused_above_the_import_limit():
    """The upload limit was 200 MB while an import refuses more than 50 MB, after reading."""
    from decisions import settings

    assert SETTINGS["server"]["maxUploadSize"] * 1024 * 1024 == settings.IMPORT_MAX_BYTES.default
    assert SETTINGS["server"]["enableXsrfProtection"] is True


README = (REPO / "README.md").read_text()


@pytest.mark.parametrize(
    "words",
    [
        "--server.address 127.0.0.1",
        'client.showErrorDetails = "none"',
        "server.enableXsrfProtection = true",
        "server.maxUploadSize = 50",
        "X-Frame-Options",
        "X-Content-Type-Options: nosniff",
        "TLS",
        "/_stcore/stream",
    ],
)
def test_the_readme_gives_the_production_settings(words):
    section = README.split("## Production settings", 1)[-1].split("\n## ", 1)[0]
    assert "## Production settings" in README and words in section
