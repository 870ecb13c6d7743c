"""What a run has to do: units of work, their keys, and which are up to date.

Layout of an output root (day-based, so that a run is incremental and every
file is written whole, atomically)::

    OUTPUT_ROOT/
      cubes/YYYY/oceaninterp_cube_YYYYMMDD.nc        one day of the gridded cube
      maps/<name>/YYYY/oceaninterp_<name>_YYYYMMDD.nc one day of maps per method
                                                      (.zarr stores with format = "zarr")
      scores/                                         what score_maps writes
      manifest.json   logs/run-*.log   .lock

Units and their keys (:func:`~oceaninterp.pipeline.manifest.digest`):

grid, one per day
    the content hashes of the observation (and SST) files holding data of that
    day, the grid box and resolution, the variable read, and the land mask
    (``[inputs] land_mask``: the coastline's version, ``"none"``, or the mask
    file's hash);
maps, one per day and method
    the method, the checkpoint's hash, the MDT file's hash (when ``[inputs]
    mdt`` is set), the land mask (as for grid), the days of the day's block and the
    keys of the cube days of the block plus ``halo`` days each side (a missing
    cube day counts as missing; the halo reaches beyond the mapped period, so
    edge days are mapped like the others);
    so a new day of observations, or a newer production date of an NRT file,
    re-maps exactly the days whose window sees it;
score, one per pipeline
    the keys of every map day of every method and the reference's hash.

Map days are computed in *blocks* of ``block_days`` days, from ``[grid]
start`` on (the last block is cut at ``end``; keep ``start`` fixed for daily
runs, or every block moves): one reconstruction call maps a whole block from
its cubes plus the halo on each side, and is redone whole when any cube of
that window changes (a new day re-maps the last block, which grew, and the
blocks whose halo sees it).
A day's map is therefore always the same function of the same inputs: a
serial, a distributed and a crash-resumed run give the same maps, bit for bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.kinds import Format
from oceaninterp.pipeline.catalogue import InputFile
from oceaninterp.pipeline.config import RunConfig, RunReconstruct
from oceaninterp.pipeline.manifest import Manifest, digest


def compact(day: str) -> str:
    """``"2024-01-05"`` -> ``"20240105"``."""
    return day.replace("-", "")


def day_range(first: str, last: str) -> list[str]:
    """ISO days from ``first`` to ``last`` inclusive."""
    start, end = np.datetime64(first, "D"), np.datetime64(last, "D")
    return [str(d) for d in np.arange(start, end + np.timedelta64(1, "D"))]


def shift(day: str, days: int) -> str:
    """``day`` moved by ``days`` days."""
    return str(np.datetime64(day, "D") + np.timedelta64(days, "D"))


#: File suffix of each ``[pipeline] format``.
SUFFIXES: dict[Format, str] = {"netcdf": ".nc", "zarr": ".zarr"}


def cube_path(root: Path, day: str, fmt: Format = "netcdf") -> Path:
    """The cube file (``fmt`` ``"netcdf"`` or ``"zarr"``) of ``day`` under ``root``."""
    return root / "cubes" / day[:4] / f"oceaninterp_cube_{compact(day)}{SUFFIXES[fmt]}"


def map_path(root: Path, name: str, day: str, fmt: Format = "netcdf") -> Path:
    """The map file (``fmt`` ``"netcdf"`` or ``"zarr"``) of method ``name`` for ``day``."""
    return root / "maps" / name / day[:4] / f"oceaninterp_{name}_{compact(day)}{SUFFIXES[fmt]}"


@dataclass(frozen=True)
class GridUnit:
    """Grid one day of observations into ``output``."""

    #: ISO day (UTC).
    day: str
    #: The cube file (not written when there is no observation file).
    output: Path
    #: Readable observation files holding data of that day.
    inputs: tuple[str, ...]
    #: Readable SST files holding data of that day.
    sst: tuple[str, ...]
    #: Digest of what the cube is made from.
    key: str
    #: Whether the manifest already holds this unit with this key.
    current: bool

    @property
    def id(self) -> str:
        return f"grid/{self.day}"

    @property
    def unit_ids(self) -> list[str]:
        """The manifest units this work produces."""
        return [self.id]


@dataclass(frozen=True)
class MapDay:
    """One day of maps of one method."""

    name: str
    day: str
    key: str
    output: Path
    current: bool

    @property
    def id(self) -> str:
        return f"maps/{self.name}/{self.day}"


@dataclass(frozen=True)
class MapBlock:
    """One reconstruction call: map ``days`` from the cubes of ``window``.

    Attributes
    ----------
    method
        The ``[[reconstruct]]`` table.
    days
        The days whose maps are written (all not up to date).
    window
        Every day whose cube is read, in order: the span of ``days`` plus the
        halo each side.
    """

    method: RunReconstruct
    days: tuple[MapDay, ...]
    window: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"maps/{self.method.name}/{self.days[0].day}..{self.days[-1].day}"

    @property
    def unit_ids(self) -> list[str]:
        """The manifest units this work produces (one per day)."""
        return [m.id for m in self.days]


@dataclass(frozen=True)
class ScoreUnit:
    """Score the maps of every method against the reference."""

    key: str
    output_dir: Path
    current: bool

    @property
    def id(self) -> str:
        return "score"

    @property
    def unit_ids(self) -> list[str]:
        """The manifest units this work produces."""
        return [self.id]


def grid_days(days: list[str], halo: int) -> list[str]:
    """The cube days needed to map ``days`` (consecutive): their span plus ``halo`` each side.

    The halo reaches beyond ``[grid] start/end``: the first and last mapped
    days see observations on both sides like every other day, and the keys of
    the maps do not change when a rolling period (``start = "today-30"``) moves.
    """
    if not days:
        return []
    return day_range(shift(days[0], -halo), shift(days[-1], halo))


def plan_grid(
    cfg: RunConfig,
    days: list[str],
    observations: list[InputFile],
    sst: list[InputFile],
    manifest: Manifest,
    land_mask: Any = None,
) -> list[GridUnit]:
    """One :class:`GridUnit` per day of ``days``.

    ``land_mask`` identifies the land mask the cubes are made with (a small
    JSON-able value, see :func:`~oceaninterp.pipeline.land.resolve_land_mask`);
    ``None`` leaves it out of the keys.
    """
    spec = cfg.grid
    grid_id = {
        "box": [spec.lon_min, spec.lon_max, spec.lat_min, spec.lat_max],
        "resolution": spec.resolution,
        "variable": cfg.inputs.variable,
        "format": cfg.pipeline.format,
    }
    if land_mask is not None:
        grid_id["land_mask"] = land_mask
    units = []
    for day in days:
        obs = sorted(
            (f for f in observations if f.error is None and day in f.days), key=lambda f: f.path
        )
        sst_day = sorted(
            (f for f in sst if f.error is None and day in f.days), key=lambda f: f.path
        )
        key = digest(
            {
                "stage": "grid",
                "day": day,
                **grid_id,
                "inputs": sorted(f.sha256 for f in obs),
                "sst": sorted(f.sha256 for f in sst_day),
            }
        )
        units.append(
            GridUnit(
                day=day,
                inputs=tuple(f.path for f in obs),
                sst=tuple(f.path for f in sst_day),
                key=key,
                output=cube_path(manifest.root, day, cfg.pipeline.format),
                current=manifest.is_current(f"grid/{day}", key),
            )
        )
    return units


def map_blocks(days: list[str], block_days: int, period: tuple[str, str]) -> list[list[str]]:
    """The blocks that hold ``days``: ``block_days``-day spans from ``period[0]``.

    Blocks start at the period's first day and every ``block_days`` days after
    it; the last is cut at ``period[1]`` (ISO days, inclusive). Every day of a
    returned block is mapped, also the days of it outside ``days``
    (``--start/--end`` select blocks, not single days).
    """
    origin = np.datetime64(period[0], "D")
    indices = sorted(
        {int((np.datetime64(d, "D") - origin).astype(int)) // block_days for d in days}
    )
    return [
        day_range(
            str(origin + np.timedelta64(k * block_days, "D")),
            min(str(origin + np.timedelta64((k + 1) * block_days - 1, "D")), period[1]),
        )
        for k in indices
    ]


def plan_maps(
    method: RunReconstruct,
    halo: int,
    checkpoint_sha256: str | None,
    blocks: list[list[str]],
    cube_keys: dict[str, str | None],
    manifest: Manifest,
    fmt: Format = "netcdf",
    mdt_sha256: str | None = None,
    land_mask: Any = None,
) -> tuple[list[MapDay], list[MapBlock]]:
    """The map days of ``method`` in ``blocks``, and the blocks to compute.

    A block is computed whole, from the cubes of its days plus ``halo`` on
    each side, and its days share one key over all of that: a day's map is
    thus always the same function of the same inputs, whatever was stale,
    whichever run (serial, distributed, resumed after a crash) made it.

    Parameters
    ----------
    method
        The ``[[reconstruct]]`` table.
    halo
        Days of cubes read each side of a block.
    checkpoint_sha256
        Hash of the checkpoint file (4dvarnet), or ``None``.
    blocks
        The blocks to map (:func:`map_blocks`).
    cube_keys
        The key of each cube day that is (or will be) up to date; ``None`` or
        absent for a day whose cube is missing or failed.
    manifest
        The record of finished work.
    fmt
        ``"netcdf"`` or ``"zarr"``: the format of the map files.
    mdt_sha256
        Hash of the MDT file given to the method, or ``None`` (then the key is
        what it was before MDTs existed).
    land_mask
        What identifies the land mask given to the method (as for
        :func:`plan_grid`), or ``None`` (left out of the key).
    """
    map_days: list[MapDay] = []
    stale: list[MapBlock] = []
    for days in blocks:
        window = grid_days(days, halo)
        payload: dict[str, Any] = {
            "stage": "maps",
            "method": method.method,
            "checkpoint": checkpoint_sha256,
            "oi": None if method.oi is None else dataclasses.asdict(method.oi),
            "format": fmt,
            "days": days,
            "cubes": [[d, cube_keys.get(d)] for d in window],
        }
        if method.normalise != "checkpoint":  # the defaults leave earlier keys as they were
            payload["normalise"] = method.normalise
        if method.oi_weight:
            payload["oi_weight"] = method.oi_weight
        if mdt_sha256 is not None:
            payload["mdt"] = mdt_sha256
        if land_mask is not None:
            payload["land_mask"] = land_mask
        key = digest(payload)
        block = tuple(
            MapDay(
                name=method.name,
                day=day,
                key=key,
                output=map_path(manifest.root, method.name, day, fmt),
                current=manifest.is_current(f"maps/{method.name}/{day}", key),
            )
            for day in days
        )
        map_days.extend(block)
        if not all(m.current for m in block):
            stale.append(MapBlock(method=method, days=block, window=tuple(window)))
    return map_days, stale


def plan_score(
    reference_sha256: list[str],
    maps: dict[str, list[MapDay]],
    manifest: Manifest,
) -> ScoreUnit:
    """The score unit over every map day of every method."""
    key = digest(
        {
            "stage": "score",
            "reference": reference_sha256,
            "maps": {name: [m.key for m in days] for name, days in sorted(maps.items())},
        }
    )
    return ScoreUnit(
        key=key, output_dir=manifest.root / "scores", current=manifest.is_current("score", key)
    )
