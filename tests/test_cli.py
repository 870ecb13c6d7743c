"""The command-line contract of DESIGN.md."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from oceaninterp.cli.app import app

COMMANDS = ["simulate", "grid", "train", "reconstruct", "score", "run", "info"]


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


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
