"""What a run has to do: units of work, their keys, and which are up to date.

Layout of an output root (day-based, so that a run is incremental and every
file is written whole, atomically)::

    OUTPUT_ROOT/
      cubes/YYYY/oceaninterp_cube_YYYYMMDD.nc        one day of the gridded cube
      maps/<name>/YYYY/oceaninterp_<name>_YYYYMMDD.nc one day of maps per method
      scores/                                         what score_maps writes
      manifest.json   logs/run-*.log   .lock

Units and their keys (:func:`~oceaninterp.pipeline.manifest.digest`):

grid, one per day
    the content hashes of the observation (and SST) files holding data of that
    day, the grid box and resolution, and the variable read;
maps, one per day and method
    the method, the checkpoint's hash, the halo, and the keys of the cube days
    in ``[day - halo, day + halo]`` (a missing cube day counts as missing);
    so a new day of observations, or a newer production date of an NRT file,
    re-maps exactly the days whose window sees it;
score, one per pipeline
    the keys of every map day of every method and the reference's hash.

Map days are computed in *blocks*: the days to compute that fall in the same
``block_days``-long block (blocks are aligned on 1970-01-01, so they do not
move when ``start`` does) form one reconstruction call over the block's days
plus the halo on each side. The plan is the same however it is executed, so a
distributed run makes the same calls, with the same results, as a serial one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oceaninterp.config import GridSpec, RunConfig, RunReconstruct
from oceaninterp.pipeline.catalogue import InputFile
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


def cube_path(root: Path, day: str) -> Path:
    """The cube file of ``day`` under ``root``."""
    return root / "cubes" / day[:4] / f"oceaninterp_cube_{compact(day)}.nc"


def map_path(root: Path, name: str, day: str) -> Path:
    """The map file of method ``name`` for ``day`` under ``root``."""
    return root / "maps" / name / day[:4] / f"oceaninterp_{name}_{compact(day)}.nc"


@dataclass(frozen=True)
class GridUnit:
    """Grid one day of observations into ``output``.

    Attributes
    ----------
    day
        ISO day (UTC).
    inputs, sst
        Readable observation and SST files holding data of that day.
    key
        Digest of what the cube is made from.
    output
        The cube file (not written when there is no observation file).
    current
        Whether the manifest already holds this unit with this key.
    """

    day: str
    inputs: tuple[str, ...]
    sst: tuple[str, ...]
    key: str
    output: Path
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
        halo each side, clipped to the grid's period.
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


def grid_days(days: list[str], spec: GridSpec, halo: int) -> list[str]:
    """The cube days needed to map ``days`` with ``halo``, within the grid's period."""
    if not days:
        return []
    first = max(shift(days[0], -halo), str(np.datetime64(spec.start, "D")))
    last = min(shift(days[-1], halo), str(np.datetime64(spec.end, "D")))
    return day_range(first, last) if first <= last else []


def plan_grid(
    cfg: RunConfig,
    days: list[str],
    observations: list[InputFile],
    sst: list[InputFile],
    manifest: Manifest,
) -> list[GridUnit]:
    """One :class:`GridUnit` per day of ``days``."""
    spec = cfg.grid
    grid_id = {
        "box": [spec.lon_min, spec.lon_max, spec.lat_min, spec.lat_max],
        "resolution": spec.resolution,
        "variable": cfg.inputs.variable,
    }
    units = []
    for day in days:
        obs = sorted((f for f in observations if f.error is None and day in f.days),
                     key=lambda f: f.path)
        sst_day = sorted((f for f in sst if f.error is None and day in f.days),
                         key=lambda f: f.path)
        key = digest({
            "stage": "grid",
            "day": day,
            **grid_id,
            "inputs": sorted(f.sha256 for f in obs),
            "sst": sorted(f.sha256 for f in sst_day),
        })
        units.append(GridUnit(
            day=day,
            inputs=tuple(f.path for f in obs),
            sst=tuple(f.path for f in sst_day),
            key=key,
            output=cube_path(manifest.root, day),
            current=manifest.is_current(f"grid/{day}", key),
        ))
    return units


def plan_maps(
    method: RunReconstruct,
    halo: int,
    checkpoint_sha256: str | None,
    days: list[str],
    cube_keys: dict[str, str | None],
    spec: GridSpec,
    manifest: Manifest,
) -> tuple[list[MapDay], list[MapBlock]]:
    """The map days of ``method`` and the blocks that compute the stale ones.

    Parameters
    ----------
    method
        The ``[[reconstruct]]`` table.
    halo
        Days of cubes read each side of a mapped day.
    checkpoint_sha256
        Hash of the checkpoint file (4dvarnet), or ``None``.
    days
        The days to map.
    cube_keys
        The key of each cube day that is (or will be) up to date; ``None`` or
        absent for a day whose cube is missing or failed.
    spec
        The grid (its period clips the windows).
    manifest
        The record of finished work.
    """
    method_id = {
        "method": method.method,
        "checkpoint": checkpoint_sha256,
        "halo": halo,
    }
    map_days = []
    for day in days:
        window = grid_days([day], spec, halo)
        key = digest({
            "stage": "maps",
            "day": day,
            **method_id,
            "cubes": [[d, cube_keys.get(d)] for d in window],
        })
        unit = f"maps/{method.name}/{day}"
        map_days.append(MapDay(
            name=method.name,
            day=day,
            key=key,
            output=map_path(manifest.root, method.name, day),
            current=manifest.is_current(unit, key),
        ))
    epoch = np.datetime64("1970-01-01", "D")
    groups: dict[int, list[MapDay]] = {}
    for m in map_days:
        if not m.current:
            index = int((np.datetime64(m.day, "D") - epoch).astype(int)) // method.block_days
            groups.setdefault(index, []).append(m)
    blocks = [
        MapBlock(method=method, days=tuple(group),
                 window=tuple(grid_days([group[0].day, group[-1].day], spec, halo)))
        for _, group in sorted(groups.items())
    ]
    return map_days, blocks


def plan_score(
    reference_sha256: list[str],
    maps: dict[str, list[MapDay]],
    manifest: Manifest,
) -> ScoreUnit:
    """The score unit over every map day of every method."""
    key = digest({
        "stage": "score",
        "reference": reference_sha256,
        "maps": {name: [m.key for m in days] for name, days in sorted(maps.items())},
    })
    return ScoreUnit(key=key, output_dir=manifest.root / "scores",
                     current=manifest.is_current("score", key))
