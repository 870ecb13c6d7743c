"""``[inputs] land_mask`` of a pipeline: checked against the run's grid, as each stage takes it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from oceaninterp import cube, landmask
from oceaninterp.errors import InputError
from oceaninterp.pipeline.config import RunConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandMask:
    """``[inputs] land_mask`` as each stage takes it.

    Attributes
    ----------
    grid
        ``grid_files(land_mask=...)``: True (coastline), False (none) or a file.
    reconstruct
        ``reconstruct(land=...)``: ``"coastline"``, ``"none"`` or a file.
    key
        What identifies the mask in the units' keys: its kind and a digest of
        its cells on the run's grid (so a mask file rewritten with the same
        values, or a Zarr copy of it, changes nothing).
    """

    grid: bool | str
    reconstruct: str
    key: Any


def resolve_land_mask(cfg: RunConfig) -> LandMask:
    """The ``[inputs] land_mask`` for each stage, checked against the run's grid.

    Raises
    ------
    InputError
        Naming the key and the file: no such file, not a land mask, or not
        covering the grid.
    """
    if cfg.inputs.land_mask == cube.NO_LAND:
        return LandMask(grid=False, reconstruct=cube.NO_LAND, key=cube.NO_LAND)
    path = cfg.land_mask_file()
    if path is not None and not path.exists():
        raise InputError(
            path,
            f"[inputs] land_mask: no such file (expected {cube.COASTLINE!r}, "
            f"{cube.NO_LAND!r} or a land mask file)",
        )
    spec = cfg.grid
    try:
        cells = landmask.land_mask(spec.latitudes(), spec.longitudes(), path)
    except InputError as exc:
        raise InputError(exc.path, f"[inputs] land_mask: {exc.problem}") from None
    digest = hashlib.sha256(np.packbits(np.asarray(cells, dtype=bool)).tobytes()).hexdigest()
    logger.info(
        "land mask: %s, %d of %d cells land",
        landmask.source_name(path),
        int(np.count_nonzero(cells)),
        int(np.size(cells)),
    )
    if path is None:
        return LandMask(
            grid=True, reconstruct=cube.COASTLINE, key={"mask": cube.COASTLINE, "cells": digest}
        )
    return LandMask(grid=str(path), reconstruct=str(path), key={"mask": "file", "cells": digest})
