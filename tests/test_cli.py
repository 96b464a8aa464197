"""The command line's contract: every command documented, usage errors exit 2."""

import re
from pathlib import Path

import pytest

from decisions import cli

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_is_documented_in_the_readme(command):
    assert re.search(rf"^\| `{command}\b", README, re.MULTILINE), f"{command} not in README"


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_a_handler(command):
    assert command in cli.HANDLERS


@pytest.mark.parametrize(
    "argv", [[], ["nonsense"], ["demo", "--scale", "lots"], ["readiness", "--bogus"]]
)
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2


def test_check_on_a_missing_database_exits_1(tmp_path, capsys):
    assert cli.main(["check", "--db", str(tmp_path / "nothing.db")]) == 1
    assert "no such database" in capsys.readouterr().err
