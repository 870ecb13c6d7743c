"""`oceaninterp reconstruct` (not built yet)."""

from __future__ import annotations

from oceaninterp.cli.common import not_built


def reconstruct() -> None:
    """Not built yet (exits 2)."""
    not_built("reconstruct")
