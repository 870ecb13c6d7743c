"""`oceaninterp grid` (not built yet)."""

from __future__ import annotations

from oceaninterp.cli.common import not_built


def grid() -> None:
    """Not built yet (exits 2)."""
    not_built("grid")
