"""Observations to a masked daily space-time cube: ``oceaninterp grid``.

Product files (along-track, swath) are read through :mod:`oceaninterp.products`
and binned onto the daily regular longitude/latitude grid of a
:class:`~oceaninterp.config.GridSpec`: per cell, the mean of the observations
(``ssh``), their number (``count``) and ``mask`` (1 where observed), plus L4
SST on the same grid when given. The cube follows contract 3 of the project
(dims ``time``, ``latitude``, ``longitude``) with CF-1.11/ACDD-1.3 metadata.

Binning is vectorised (:func:`flat_cell_index` + :func:`numpy.bincount`, no
Python loop over points). The cube is a dask graph with one task per chunk of
days (:func:`grid_chunk`, a pure function of paths and the grid, so it runs as
well on a dask.distributed cluster); each task reads only the files touching
its days, one at a time, so memory is bounded by a chunk, not by the input.
"""

from __future__ import annotations

import functools
import glob as _glob
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

from oceaninterp.config import GridSpec
from oceaninterp.errors import InputError, OceanInterpError

log = logging.getLogger(__name__)

DAY_NS = 86_400 * 10**9
ON_ERROR = ("fail", "skip")
#: Default number of days per dask chunk (and per output chunk).
TIME_CHUNK = 8
_INPUT_SUFFIXES = (".nc", ".nc4", ".netcdf")

ProgressCallback = Callable[[str, int, int], None]


# --------------------------------------------------------------------------- binning


@dataclass(frozen=True)
class CellGrid:
    """The cells of a block of days: where a point falls, in flat-index form.

    Attributes
    ----------
    day0
        First day of the block, ``datetime64[D]``.
    lon_min, lat_min
        West and south edges of the box in degrees (``lon_min`` in any convention:
        longitudes are compared modulo 360, so boxes over Greenwich or the
        antimeridian need nothing special).
    resolution
        Cell size in degrees.
    shape
        (days, latitudes, longitudes).
    """

    day0: np.datetime64
    lon_min: float
    lat_min: float
    resolution: float
    shape: tuple[int, int, int]

    @classmethod
    def from_spec(cls, spec: GridSpec, first_day: int = 0, n_days: int | None = None) -> CellGrid:
        """The cells of days ``first_day .. first_day + n_days - 1`` of ``spec``."""
        total, n_lat, n_lon = spec.shape
        n_days = total - first_day if n_days is None else n_days
        day0 = np.datetime64(spec.start, "D") + np.timedelta64(first_day, "D")
        return cls(
            day0,
            float(spec.lon_min),
            float(spec.lat_min),
            float(spec.resolution),
            (int(n_days), n_lat, n_lon),
        )

    @property
    def size(self) -> int:
        """Number of cells."""
        return int(np.prod(self.shape))

    def day_index(self, time: np.ndarray) -> np.ndarray:
        """Day of each time relative to ``day0`` (int64, may be out of range)."""
        t = np.asarray(time, dtype="datetime64[ns]").view(np.int64)  # no copy when ns
        t0 = np.asarray(self.day0, dtype="datetime64[ns]").astype(np.int64)
        day = np.subtract(t, t0)
        day //= DAY_NS
        return day


#: Points per block of the index computation: its temporaries stay in the CPU cache.
_BLOCK = 1 << 15


def flat_cell_index(
    grid: CellGrid,
    day: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    values: np.ndarray | None = None,
    *,
    outside: int = -1,
) -> np.ndarray:
    """Flat cell index (``(day * n_lat + i) * n_lon + j``) of each point.

    Parameters
    ----------
    grid
        The cells.
    day
        Integer day of each point relative to ``grid.day0``.
    latitude, longitude
        Positions in degrees_north / degrees_east (any longitude convention).
    values
        When given, points whose value is NaN are also "outside".
    outside
        Index given to points outside the grid (default -1).

    Notes
    -----
    Vectorised over blocks of points small enough for the CPU cache (a loop over
    blocks, never over points), with preallocated temporaries.
    """
    n_days, n_lat, n_lon = grid.shape
    inv = 1.0 / grid.resolution
    n = np.size(latitude)
    out = np.empty(n, dtype=np.int64)
    block = min(_BLOCK, max(n, 1))
    fi, fj, wrap = (np.empty(block) for _ in range(3))
    ii, jj = np.empty(block, np.int64), np.empty(block, np.int64)
    bad, test = np.empty(block, bool), np.empty(block, bool)
    day = np.asarray(day, dtype=np.int64)
    for first in range(0, n, block):
        last = min(first + block, n)
        m = last - first
        idx = out[first:last]
        fi_b, fj_b, w_b, ii_b, jj_b = fi[:m], fj[:m], wrap[:m], ii[:m], jj[:m]
        bad_b, t_b = bad[:m], test[:m]
        # row + 1, truncated: rows south of the box give <= 0 (truncation is toward 0)
        np.subtract(latitude[first:last], grid.lat_min - grid.resolution, out=fi_b)
        fi_b *= inv
        np.copyto(ii_b, fi_b, casting="unsafe")
        ii_b -= 1
        np.greater_equal(ii_b.view(np.uint64), n_lat, out=bad_b)  # negative -> huge
        # column: degrees east of the west edge, modulo 360
        np.subtract(longitude[first:last], grid.lon_min, out=fj_b)
        np.multiply(fj_b, 1.0 / 360.0, out=w_b)
        np.floor(w_b, out=w_b)
        w_b *= 360.0
        fj_b -= w_b
        fj_b *= inv
        bad_b |= np.greater_equal(fj_b, n_lon, out=t_b)
        day_b = day[first:last]
        bad_b |= np.greater_equal(day_b.view(np.uint64), n_days, out=t_b)
        if values is not None:
            bad_b |= np.isnan(values[first:last], out=t_b)
        np.multiply(day_b, n_lat, out=idx)
        idx += ii_b
        idx *= n_lon
        np.copyto(jj_b, fj_b, casting="unsafe")
        idx += jj_b
        np.copyto(idx, outside, where=bad_b)
    return out


def bin_indexed(index: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of ``values`` per flat cell ``index``.

    Points with an index outside ``0 .. size - 1`` (``-1`` or ``size``) are ignored,
    as are non-finite values.

    Returns
    -------
    sums, counts
        float64 and int64 arrays of length ``size``.
    """
    values = np.asarray(values, dtype=np.float64)
    bad = (index < 0) | (index >= size) | ~np.isfinite(values)
    if bad.any():
        index = np.where(bad, size, index)
        values = np.where(bad, 0.0, values)
    sums = np.bincount(index, weights=values, minlength=size + 1)[:size]
    counts = np.bincount(index, minlength=size + 1)[:size]
    return sums, counts


def bin_points(
    grid: CellGrid,
    day: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of point ``values`` per cell of ``grid``, vectorised.

    Parameters
    ----------
    grid
        The cells.
    day
        Integer day of each point relative to ``grid.day0``.
    latitude, longitude
        Degrees_north, degrees_east (any longitude convention).
    values
        The observations (NaN ignored).

    Returns
    -------
    sums, counts
        float64 and int64 arrays shaped ``grid.shape`` (time, latitude, longitude).
    """
    values = np.asarray(values, dtype=np.float64)
    index = flat_cell_index(grid, day, latitude, longitude, values, outside=grid.size)
    # every point out of the grid, or NaN, lands in the extra cell ``size``, dropped
    sums = np.bincount(index, weights=values, minlength=grid.size + 1)[: grid.size]
    counts = np.bincount(index, minlength=grid.size + 1)[: grid.size]
    return sums.reshape(grid.shape), counts.reshape(grid.shape)


class CellAccumulator:
    """Running sums and counts per cell of a :class:`CellGrid`, in bounded memory.

    Points are buffered as (flat index, value) pairs and binned with one
    :func:`numpy.bincount` whenever the buffer holds half as many points as
    there are cells, so binning costs O(points + cells x flushes), not O(cells)
    per file, and memory stays about 40 bytes per cell plus the points added.
    """

    def __init__(self, grid: CellGrid) -> None:
        self.grid = grid
        self.sums = np.zeros(grid.size, dtype=np.float64)
        self.counts = np.zeros(grid.size, dtype=np.int64)
        self._index: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._buffered = 0

    def add(
        self, time: np.ndarray, latitude: np.ndarray, longitude: np.ndarray, values: np.ndarray
    ) -> int:
        """Add points (times as datetime64, values in any unit; NaN ignored).

        Returns
        -------
        int
            How many points fell in the grid.
        """
        values = np.asarray(values, dtype=np.float64)
        index = flat_cell_index(self.grid, self.grid.day_index(time), latitude, longitude, values)
        keep = index >= 0
        self._index.append(index[keep])
        self._values.append(values[keep])
        n = int(self._index[-1].size)
        self._buffered += n
        if self._buffered >= max(self.grid.size // 2, 1 << 16):
            self._flush()
        return n

    def _flush(self) -> None:
        if self._buffered:
            index = self._index[0] if len(self._index) == 1 else np.concatenate(self._index)
            values = self._values[0] if len(self._values) == 1 else np.concatenate(self._values)
            self._index, self._values = [], []
            sums, counts = bin_indexed(index, values, self.grid.size)
            self.sums += sums
            self.counts += counts
        self._index, self._values, self._buffered = [], [], 0

    def mean_and_count(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean float32 with NaN where empty, count int32), shaped ``grid.shape``."""
        self._flush()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), np.nan)
        return (
            mean.astype(np.float32).reshape(self.grid.shape),
            self.counts.astype(np.int32).reshape(self.grid.shape),
        )


# ----------------------------------------------------------------------------- SST


def regrid_sst(sst: xr.Dataset, grid: CellGrid) -> tuple[np.ndarray, np.ndarray]:
    """L4 SST (``sst`` over time, latitude, longitude, kelvin) onto ``grid``.

    Each cell gets the average of the SST pixels whose centres fall in it; a cell
    holding no pixel centre (SST coarser than the grid) takes the nearest pixel
    within one SST pixel of its centre. Land stays NaN.

    Returns
    -------
    sums, counts
        Per cell: sum of the day-values and number of SST days (0 or 1 per file),
        shaped ``grid.shape``, so several files can be averaged.
    """
    n_days, n_lat, n_lon = grid.shape
    lat = sst["latitude"].values
    lon = sst["longitude"].values
    days = grid.day_index(sst["time"].values)
    sums = np.zeros(grid.shape)
    counts = np.zeros(grid.shape, dtype=np.int64)
    centre_lat = grid.lat_min + grid.resolution * (np.arange(n_lat) + 0.5)
    centre_lon = grid.lon_min + grid.resolution * (np.arange(n_lon) + 0.5)
    # the grid's longitudes in the file's convention, for the nearest-pixel look-up
    if lon.max() > 180.0:
        target_lon = centre_lon % 360.0
    else:
        target_lon = (centre_lon + 180.0) % 360.0 - 180.0
    near_i, ok_i = _nearest(lat, centre_lat)
    near_j, ok_j = _nearest(lon, target_lon)
    lat2 = np.broadcast_to(lat[:, None], (lat.size, lon.size)).ravel()
    lon2 = np.broadcast_to(lon[None, :], (lat.size, lon.size)).ravel()
    single = CellGrid(grid.day0, grid.lon_min, grid.lat_min, grid.resolution, (1, n_lat, n_lon))
    for k, day in enumerate(days):
        if not 0 <= day < n_days:
            continue
        field = sst["sst"].values[k]
        s, c = bin_points(single, np.zeros(lat2.size, np.int64), lat2, lon2, field.ravel())
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(c[0] > 0, s[0] / np.maximum(c[0], 1), np.nan)
        nearest = field[np.ix_(near_i, near_j)]
        nearest = np.where(ok_i[:, None] & ok_j[None, :], nearest, np.nan)
        value = np.where(c[0] > 0, value, nearest)
        valid = np.isfinite(value)
        sums[day][valid] += value[valid]
        counts[day][valid] += 1
    return sums, counts


def _nearest(axis: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest ``axis`` value (ascending) to each target, and whether it
    lies within one axis step."""
    step = float(np.median(np.abs(np.diff(axis)))) if axis.size > 1 else np.inf
    right = np.clip(np.searchsorted(axis, targets), 1, max(axis.size - 1, 1))
    left = right - 1
    pick = np.where(np.abs(targets - axis[left]) <= np.abs(axis[right] - targets), left, right)
    pick = np.clip(pick, 0, axis.size - 1)
    return pick, np.abs(axis[pick] - targets) <= step


# ------------------------------------------------------------------- files and chunks


@dataclass
class FileReport:
    """What happened to one input file.

    Attributes
    ----------
    path
        The file.
    status
        ``"read"``, ``"skipped"`` (a problem, with ``--on-error skip``),
        ``"superseded"`` (an older production of the same CMEMS day) or
        ``"duplicate"``.
    product, mission
        Detected format and mission code.
    points
        Valid points read; ``in_grid`` how many fall in the box and dates.
    first_day, last_day
        Day indices (relative to the grid start) of the points in the grid.
    problem
        Why the file was not used.
    role
        ``"obs"`` or ``"sst"``.
    ssh_kind
        ``"sla"`` or ``"adt"`` for observation files read.
    """

    path: Path
    status: str = "read"
    product: str = ""
    mission: str = ""
    points: int = 0
    in_grid: int = 0
    first_day: int = 0
    last_day: int = -1
    problem: str = ""
    role: str = "obs"
    ssh_kind: str = ""


@dataclass
class GridSummary:
    """The result of :func:`grid_files`.

    Attributes
    ----------
    output
        The cube written.
    shape
        (time, latitude, longitude).
    files
        One report per input (observations and SST).
    points
        Observations binned.
    observed_cells
        Cells with at least one observation.
    ssh_kind
        ``"sla"`` or ``"adt"``.
    """

    output: Path
    shape: tuple[int, int, int]
    files: list[FileReport] = field(default_factory=list)
    points: int = 0
    observed_cells: int = 0
    ssh_kind: str = "sla"

    @property
    def read(self) -> list[FileReport]:
        """Files used."""
        return [f for f in self.files if f.status == "read"]

    @property
    def skipped(self) -> list[FileReport]:
        """Files not used, with their reason."""
        return [f for f in self.files if f.status != "read"]


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files from paths, folders (their NetCDF files, recursively) and glob patterns.

    Order is kept; a path that matches nothing is returned as is, so that reading
    it reports "no such file".
    """
    out: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir() and path.suffix.lower() != ".zarr":
            out.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in _INPUT_SUFFIXES
                )
            )
        elif not path.exists() and _glob.has_magic(text):
            out.extend(sorted(Path(p) for p in _glob.glob(text, recursive=True)))
        else:
            out.append(path)
    return out


def _fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: equal for copies of one file."""
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as f:
        digest.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            digest.update(f.read())
    return digest.hexdigest()


class OutsidePeriod(InputError):
    """A readable file with no data in the requested dates: left out, not an error."""


def _open_obs(path: Path, variable: str, drop_nadir: bool) -> xr.Dataset:
    from oceaninterp.products import open_product

    return open_product(path, variable=variable, drop_nadir=drop_nadir)


def _scan_obs(path: Path, spec: GridSpec, variable: str, drop_nadir: bool) -> FileReport:
    """Read one observation file fully and check it can contribute (raises InputError)."""
    from oceaninterp.products import TRACK_PRODUCTS, detect

    product = detect(path)
    if product not in TRACK_PRODUCTS:
        hint = " (pass SST with --sst)" if product == "sst_l4" else ""
        raise InputError(path, f"is a {product} gridded product, not observations{hint}")
    tracks = _open_obs(path, variable, drop_nadir)
    report = FileReport(
        path,
        product=product,
        mission=str(tracks.attrs.get("mission", "")),
        points=int(tracks.sizes["obs"]),
        ssh_kind=str(tracks.attrs.get("ssh_kind", "sla")),
    )
    if report.points == 0:
        raise InputError(path, f"no valid {variable!r} value (all NaN, fill or flagged)")
    grid = CellGrid.from_spec(spec)
    day = grid.day_index(tracks["time"].values)
    index = flat_cell_index(grid, day, tracks["latitude"].values, tracks["longitude"].values)
    inside = index >= 0
    report.in_grid = int(inside.sum())
    if report.in_grid == 0 and not ((day >= 0) & (day < grid.shape[0])).any():
        raise OutsidePeriod(path, f"no point in the dates {spec.start}..{spec.end}")
    if report.in_grid == 0:
        raise InputError(
            path,
            f"no point inside the box lon {spec.lon_min}..{spec.lon_max}, "
            f"lat {spec.lat_min}..{spec.lat_max} and dates {spec.start}..{spec.end}",
        )
    report.first_day, report.last_day = int(day[inside].min()), int(day[inside].max())
    return report


def _scan_sst(path: Path, spec: GridSpec) -> FileReport:
    from oceaninterp.products import detect, product_module

    product = detect(path)
    if product != "sst_l4":
        raise InputError(path, f"--sst expects an L4 SST file, this is {product}")
    module = product_module(product)
    assert module is not None
    sst = module.open(path)
    day = CellGrid.from_spec(spec).day_index(sst["time"].values)
    report = FileReport(path, product=product, role="sst", points=int(sst["sst"].notnull().sum()))
    inside = (day >= 0) & (day < spec.shape[0])
    if report.points == 0:
        raise InputError(path, "no valid 'analysed_sst' value (all fill or land)")
    if not inside.any():
        raise OutsidePeriod(path, f"SST dates outside {spec.start}..{spec.end}")
    report.first_day, report.last_day = int(day[inside].min()), int(day[inside].max())
    report.in_grid = report.points
    return report


def grid_chunk(
    obs_files: Sequence[str],
    sst_files: Sequence[str],
    spec: GridSpec,
    first_day: int,
    n_days: int,
    variable: str = "sla_filtered",
    drop_nadir: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Grid the days ``first_day .. first_day + n_days - 1`` of ``spec``.

    A pure function of file paths and the grid (safe to run on a dask worker):
    reads each file, keeps its points in these days and the box, bins them.

    Returns
    -------
    ssh, count, sst
        Mean (float32, metres, NaN where empty), count (int32) and SST (float32
        kelvin, or ``None`` without SST files), each (n_days, n_lat, n_lon).
    """
    grid = CellGrid.from_spec(spec, first_day, n_days)
    acc = CellAccumulator(grid)
    for path in obs_files:
        tracks = _open_obs(Path(path), variable, drop_nadir)
        acc.add(
            tracks["time"].values,
            tracks["latitude"].values,
            tracks["longitude"].values,
            tracks["ssh"].values,
        )
    ssh, count = acc.mean_and_count()
    sst = None
    if sst_files:
        from oceaninterp.products import sst_l4

        sums = np.zeros(grid.shape)
        counts = np.zeros(grid.shape, dtype=np.int64)
        for path in sst_files:
            s, c = regrid_sst(sst_l4.open(path), grid)
            sums += s
            counts += c
        with np.errstate(invalid="ignore", divide="ignore"):
            sst = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).astype(np.float32)
    return ssh, count, sst


def _handle(
    problem: OceanInterpError, report: FileReport, on_error: str, status: str = "skipped"
) -> None:
    """Raise ``problem`` (``on_error="fail"``) or mark ``report`` as not used."""
    if on_error == "fail":
        raise problem
    report.status = status
    report.problem = problem.problem if isinstance(problem, InputError) else str(problem)
    log.warning("skipped %s: %s", report.path, report.problem)


def _scan_all(
    paths: list[Path],
    spec: GridSpec,
    *,
    role: str,
    variable: str,
    drop_nadir: bool,
    on_error: str,
    progress: ProgressCallback | None,
) -> list[FileReport]:
    """Reports for ``paths``: duplicates, superseded CMEMS productions, problems."""
    from oceaninterp.products import detect
    from oceaninterp.products.cmems_l3 import latest_production

    reports: list[FileReport] = []
    seen: dict[str, Path] = {}
    candidates: list[Path] = []
    for path in paths:
        report = FileReport(path, role=role)
        if not path.is_file():
            problem = "no such file" if not path.exists() else "not a file"
            _handle(InputError(path, problem), report, on_error)
            reports.append(report)
            continue
        key = _fingerprint(path)
        if key in seen:
            problem = f"duplicate of {seen[key]} (same content)"
            _handle(InputError(path, problem), report, on_error, status="duplicate")
            reports.append(report)
            continue
        seen[key] = path
        candidates.append(path)
    cmems = []
    for path in candidates:
        try:
            if detect(path) == "cmems_l3":
                cmems.append(path)
        except InputError:
            continue  # reported when the file is scanned below
    _, superseded = latest_production(cmems)
    for done, path in enumerate(candidates, start=1):
        if path in superseded:
            reports.append(
                FileReport(
                    path,
                    status="superseded",
                    product="cmems_l3",
                    role=role,
                    problem=f"superseded by {superseded[path].name}",
                )
            )
            log.info("%s superseded by %s (later production)", path, superseded[path])
            continue
        try:
            if role == "obs":
                reports.append(_scan_obs(path, spec, variable, drop_nadir))
            else:
                reports.append(_scan_sst(path, spec))
        except OutsidePeriod as exc:
            # Not an error: a folder of a whole archive gridded over a few days.
            reports.append(
                FileReport(path, status="outside period", role=role, problem=exc.problem)
            )
            log.info("%s: %s", path, exc.problem)
        except InputError as exc:
            report = FileReport(path, role=role)
            _handle(exc, report, on_error)
            reports.append(report)
        if progress is not None:
            progress(f"reading {role} files", done, len(candidates))
    return reports


def _chunks(n_days: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, n_days - start)) for start in range(0, n_days, size)]


def _touching(reports: Sequence[FileReport], first: int, size: int) -> list[str]:
    """Paths of the files with points in days ``first .. first + size - 1``."""
    return [str(r.path) for r in reports if r.first_day < first + size and r.last_day >= first]


def build_cube(
    obs: Sequence[FileReport],
    sst: Sequence[FileReport],
    spec: GridSpec,
    *,
    variable: str = "sla_filtered",
    drop_nadir: bool = False,
    time_chunk: int = TIME_CHUNK,
) -> xr.Dataset:
    """The lazy cube (dask arrays, one task per chunk of days) of the files read.

    Each chunk task (:func:`grid_chunk`) gets only the files whose points fall
    in its days.
    """

    n_days, n_lat, n_lon = spec.shape
    ssh_parts, count_parts, sst_parts = [], [], []
    for first, size in _chunks(n_days, time_chunk):
        task = dask.delayed(grid_chunk, nout=3, pure=True)(
            _touching(obs, first, size),
            _touching(sst, first, size),
            spec,
            first,
            size,
            variable,
            drop_nadir,
        )
        shape = (size, n_lat, n_lon)
        ssh_parts.append(da.from_delayed(task[0], shape, dtype=np.float32))
        count_parts.append(da.from_delayed(task[1], shape, dtype=np.int32))
        if sst:
            sst_parts.append(da.from_delayed(task[2], shape, dtype=np.float32))
    dims = ("time", "latitude", "longitude")
    count = da.concatenate(count_parts)
    data = {
        "ssh": (dims, da.concatenate(ssh_parts)),
        "count": (dims, count),
        "mask": (dims, (count > 0).astype(np.int8)),
    }
    if sst:
        data["sst"] = (dims, da.concatenate(sst_parts))
    return xr.Dataset(
        data,
        coords={"time": spec.days(), "latitude": spec.latitudes(), "longitude": spec.longitudes()},
    )


_SSH_NAMES = {
    "sla": ("sea_surface_height_above_sea_level", "sea level anomaly, mean per cell"),
    "adt": ("sea_surface_height_above_geoid", "absolute dynamic topography, mean per cell"),
}


def _describe(
    cube: xr.Dataset,
    spec: GridSpec,
    ssh_kind: str,
    variable: str,
    reports: Sequence[FileReport],
    history: str,
) -> xr.Dataset:
    """Variable attributes and CF/ACDD metadata of the cube."""
    from oceaninterp import cf

    standard_name, long_name = _SSH_NAMES[ssh_kind]
    cube["ssh"].attrs = {
        "standard_name": standard_name,
        "long_name": long_name,
        "units": "m",
        "ssh_kind": ssh_kind,
        "source_variable": variable,
        "coverage_content_type": "physicalMeasurement",
        "ancillary_variables": "count mask",
        "cell_methods": "time: mean",
    }
    cube["count"].attrs = {
        "standard_name": "number_of_observations",
        "long_name": "number of observations in the cell",
        "units": "1",
        "coverage_content_type": "auxiliaryInformation",
    }
    cube["mask"].attrs = {
        "long_name": "observed cell",
        "flag_values": np.array([0, 1], np.int8),
        "flag_meanings": "unobserved observed",
        "standard_name": "quality_flag",
        "coverage_content_type": "qualityInformation",
    }
    if "sst" in cube:
        cube["sst"].attrs = {
            "standard_name": "sea_surface_foundation_temperature",
            "long_name": "L4 sea surface temperature, cell average",
            "units": "K",
            "coverage_content_type": "physicalMeasurement",
        }
    cube = cf.cf_grid_coords(cube)
    used = [r for r in reports if r.status == "read"]
    missions = sorted({r.mission for r in used if r.role == "obs" and r.mission})
    cube.attrs = cf.global_attributes(
        cube,
        title=f"Gridded along-track {long_name.split(',')[0]} (oceaninterp grid)",
        summary=(
            f"Daily {spec.resolution} degree cube of {variable} observations from "
            f"{', '.join(missions) or 'altimetry'}: per cell the mean (ssh), the number "
            "of observations (count) and the mask of observed cells"
            + (", with L4 SST regridded to the same cells." if "sst" in cube else ".")
        ),
        history=history,
        source_files=[r.path for r in used],
        processing_level="L3",
        ssh_kind=ssh_kind,
        ssh_variable=variable,
        resolution=float(spec.resolution),
        platform=", ".join(missions),
        **(
            {"sst_files": ", ".join(r.path.name for r in used if r.role == "sst")}
            if "sst" in cube
            else {}
        ),
    )
    return cube


def grid_files(
    inputs: Iterable[str | Path],
    output: str | Path,
    spec: GridSpec,
    *,
    variable: str = "sla_filtered",
    sst: Iterable[str | Path] = (),
    on_error: str = "fail",
    overwrite: bool = False,
    drop_nadir: bool = False,
    time_chunk: int = TIME_CHUNK,
    history: str | None = None,
    progress: ProgressCallback | None = None,
) -> GridSummary:
    """Grid observation files into a masked daily cube (NetCDF or Zarr by suffix).

    Parameters
    ----------
    inputs
        Files, folders (their ``*.nc``, recursively) or glob patterns of
        CMEMS L3, NASA-SSH or SWOT L3 files, detected by content.
    output
        ``.nc`` (NetCDF-4) or ``.zarr`` (Zarr v3); written atomically.
    spec
        Box (degrees; ``lon_min > lon_max`` crosses the antimeridian), daily
        dates and resolution (degrees).
    variable
        Sea-level variable: ``sla_filtered``, ``sla_unfiltered``, ``adt``...
        (see each product module).
    sst
        L4 SST files, regridded onto the cube's cells (``sst``, kelvin).
    on_error
        ``"fail"``: the first unusable file stops everything (nothing is written);
        ``"skip"``: unusable files are reported and left out.
    overwrite
        Replace an existing output.
    drop_nadir
        Leave out the nadir pixels copied into SWOT swaths.
    time_chunk
        Days per dask task and per output chunk (memory ~ one chunk per worker).
    history
        The command line, for the ``history`` attribute.
    progress
        Called with (phase, done, total) while reading and gridding.

    Raises
    ------
    InputError, OutputExistsError
        On a bad input (with ``on_error="fail"``), when no file is usable, or
        when the output exists without ``overwrite``.
    """
    from oceaninterp import cf
    from oceaninterp.io import check_output, output_format, write_dataset

    if on_error not in ON_ERROR:
        raise InputError(None, f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    if time_chunk < 1:
        raise InputError(None, f"time_chunk must be a positive number of days, got {time_chunk}")
    output = Path(output)
    fmt = output_format(output)
    check_output(output, overwrite)
    obs_paths = expand_inputs(inputs)
    if not obs_paths:
        raise InputError(None, "no input file given (or no NetCDF file in the folders given)")
    scan = functools.partial(
        _scan_all,
        spec=spec,
        variable=variable,
        drop_nadir=drop_nadir,
        on_error=on_error,
        progress=progress,
    )
    reports = scan(obs_paths, role="obs") + scan(expand_inputs(sst), role="sst")
    obs = [r for r in reports if r.role == "obs" and r.status == "read"]
    sst_read = [r for r in reports if r.role == "sst" and r.status == "read"]
    if not obs:
        raise InputError(
            None,
            f"no usable observation file among {len(obs_paths)} given "
            f"(inside the box and the dates {spec.start}..{spec.end})",
        )
    kinds = {r.ssh_kind for r in obs}
    if len(kinds) > 1:
        raise InputError(None, f"inputs mix sea level kinds {sorted(kinds)} for {variable!r}")
    ssh_kind = kinds.pop()
    cube = build_cube(
        obs, sst_read, spec, variable=variable, drop_nadir=drop_nadir, time_chunk=time_chunk
    )
    cube = _describe(
        cube,
        spec,
        ssh_kind,
        variable,
        reports,
        history or f"oceaninterp.grid.grid_files(variable={variable!r})",
    )
    n_chunks = len(_chunks(spec.shape[0], time_chunk))
    encoding = cf.encoding(cube, fmt)
    if fmt == "netcdf":  # on-disk chunks = dask chunks: one block of days, whole box
        for name in ("ssh", "count", "mask", "sst"):
            if name in cube:
                encoding[name]["chunksizes"] = (min(time_chunk, spec.shape[0]), *spec.shape[1:])
    # One thread: reading product files (under HDF5_LOCK) while xarray's NetCDF
    # writer (under its own lock) writes finished chunks crashes HDF5, and the
    # reads are serialised by the lock anyway. Scale-out goes through
    # grid_chunk on dask.distributed workers (separate processes).
    with _ChunkProgress(progress, n_chunks), dask.config.set(scheduler="synchronous"):
        write_dataset(cube, output, overwrite=overwrite, encoding=encoding)
    from oceaninterp.io import open_dataset

    with open_dataset(output, chunks={}) as written:
        count = written["count"]
        points, cells = int(count.sum().compute()), int((count > 0).sum().compute())
    return GridSummary(
        output=output,
        shape=spec.shape,
        files=reports,
        points=points,
        observed_cells=cells,
        ssh_kind=ssh_kind,
    )


class _ChunkProgress:
    """Report finished :func:`grid_chunk` tasks of the local dask schedulers."""

    def __init__(self, progress: ProgressCallback | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self._callback: Any = None

    def __enter__(self) -> _ChunkProgress:
        progress = self.progress
        if progress is not None:
            from dask.callbacks import Callback

            def posttask(key, result, dsk, state, worker_id) -> None:  # noqa: ANN001
                name = key[0] if isinstance(key, tuple) else key
                if str(name).startswith("grid_chunk"):
                    self.done += 1
                    progress("gridding", self.done, self.total)

            self._callback = Callback(posttask=posttask)
            self._callback.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._callback is not None:
            self._callback.__exit__(*exc)
