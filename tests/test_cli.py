"""The command-line contract of DESIGN.md."""

from __future__ import annotations

import re
import subprocess
import sys

from typer.testing import CliRunner

from oceaninterp.cli.app import app

COMMANDS = ["simulate", "grid", "train", "reconstruct", "score", "run", "info"]


def _commands_panel(output: str) -> list[str]:
    """The command names of the help's "Commands" panel, in their order.

    A name starts a panel row (``│ grid   Bin ...``); a wrapped description's
    row starts with spaces.
    """
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(r"[─-] Commands [─-]", line))
    names = []
    for line in lines[start + 1 :]:
        if not line.startswith(("│", "|")):
            break  # the panel's bottom edge
        match = re.match(r"^[│|] (\S+)", line)
        if match:
            names.append(match.group(1))
    return names


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert sorted(_commands_panel(result.output)) == sorted(COMMANDS), result.output


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from oceaninterp.cli.app import app; "
        "heavy = [m for m in ('torch', 'distributed', 'matplotlib') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_user_errors_keep_square_brackets(tmp_path) -> None:
    """A TOML table name such as [pipeline] must survive rich's markup."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline]\nnot_a_key = 1\n")
    result = CliRunner().invoke(app, ["run", str(bad)])
    assert result.exit_code != 0
    assert "[inputs]" in result.output, result.output
