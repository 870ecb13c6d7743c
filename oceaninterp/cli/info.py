"""`oceaninterp info` (not built yet)."""

from __future__ import annotations

from oceaninterp.cli.common import not_built


def info() -> None:
    """Not built yet (exits 2)."""
    not_built("info")
