"""Observations to a masked daily space-time cube: ``oceaninterp grid``.

Product files (along-track, swath) are read through :mod:`oceaninterp.products`
and binned onto the daily regular longitude/latitude grid of a
:class:`~oceaninterp.config.GridSpec`: per cell, the mean of the observations
(``ssh``), their number (``count``) and ``mask`` (1 where observed), plus L4
SST on the same grid when given. The cube follows contract 3 of the project
(dims ``time``, ``latitude``, ``longitude``) with CF-1.11/ACDD-1.3 metadata.

Which files are read is decided by :mod:`oceaninterp.ingest` (expansion,
copies, latest productions); binning is :mod:`oceaninterp.binning` (flat cell
index + :func:`numpy.bincount`, no Python loop over points). The cube is a
dask graph with one task per chunk of days (:func:`grid_chunk`, a pure function
of paths and the grid, so it runs as well on a dask.distributed cluster); each
task reads only the files touching its days, one at a time, so memory is
bounded by a chunk, not by the input.

What is refused and what is left out
------------------------------------
An unusable file (unreadable, truncated, wrong units, undecodable times, a
calendar other than the standard one, mostly implausible values) is an error
(``on_error="fail"``) or left out and reported (``"skip"``). Not errors, left
out and counted in the summary: files with no point in the dates or in the
box, older productions, MDT files. Values outside the physical range
(:data:`~oceaninterp.products.schema.PLAUSIBLE_SSH`) are dropped and counted
per file. With a land mask (:mod:`oceaninterp.landmask`), land cells are never
observed (ssh NaN, count 0) and the observations there are counted. A grid too
large for the machine is refused before anything is allocated
(:func:`check_grid_size`), and so is an output that is one of the inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

from oceaninterp.binning import (  # noqa: F401  (bin_points: imported from here by benchmarks)
    CellAccumulator,
    CellGrid,
    bin_points,
    check_grid_size,
)
from oceaninterp.config import GridSpec
from oceaninterp.errors import InputError
from oceaninterp.ingest import (
    NOT_ERRORS,
    FileReport,
    ProgressCallback,
    expand_inputs,
    open_observations,
    scan_inputs,
)
from oceaninterp.kinds import ON_ERROR, OnError

log = logging.getLogger(__name__)

#: Default number of days per dask chunk (and per output chunk).
TIME_CHUNK = 8


# ------------------------------------------------------------------- files and chunks


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
        One report per input (observations, SST, MDT).
    points
        Observations binned.
    observed_cells
        Cells with at least one observation.
    ssh_kind
        ``"sla"`` or ``"adt"``.
    land_cells
        Cells of the (latitude, longitude) grid masked as land (0 without a
        land mask).
    land_mask_source
        Where the land mask came from, ``""`` without one.
    """

    output: Path
    shape: tuple[int, int, int]
    files: list[FileReport] = field(default_factory=list)
    points: int = 0
    observed_cells: int = 0
    ssh_kind: str = "sla"
    land_cells: int = 0
    land_mask_source: str = ""

    @property
    def read(self) -> list[FileReport]:
        """Files used."""
        return [f for f in self.files if f.status == "read"]

    @property
    def skipped(self) -> list[FileReport]:
        """Files not used, with their reason."""
        return [f for f in self.files if f.status != "read"]

    @property
    def failed(self) -> list[FileReport]:
        """Files left out because of a problem (``--on-error skip``)."""
        return [f for f in self.files if f.status not in ("read", *NOT_ERRORS)]

    @property
    def mdt(self) -> list[Path]:
        """MDT files found among the inputs (not observations)."""
        return [f.path for f in self.files if f.status == "mdt"]

    @property
    def implausible(self) -> int:
        """Values dropped as physically implausible, in all files."""
        return sum(f.implausible for f in self.files if f.status == "read")

    @property
    def on_land(self) -> int:
        """Observations dropped on land cells, in all files."""
        return sum(f.on_land for f in self.files if f.status == "read")


def grid_chunk(
    obs_files: Sequence[str],
    sst_files: Sequence[str],
    spec: GridSpec,
    first_day: int,
    n_days: int,
    variable: str = "sla_filtered",
    drop_nadir: bool = False,
    land: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Grid the days ``first_day .. first_day + n_days - 1`` of ``spec``.

    A pure function of file paths and the grid (safe to run on a dask worker):
    reads each file, keeps its points in these days and the box, bins them.

    Parameters
    ----------
    land
        bool ``(latitude, longitude)``, True on land: observations there are
        dropped (count 0, ssh and sst NaN). ``None``: no land mask.

    Returns
    -------
    ssh, count, sst
        Mean (float32, metres, NaN where empty), count (int32) and SST (float32
        kelvin, or ``None`` without SST files), each (n_days, n_lat, n_lon).
    """
    grid = CellGrid.from_spec(spec, first_day, n_days)
    acc = CellAccumulator(grid)
    for path in obs_files:
        tracks = open_observations(Path(path), variable, drop_nadir)
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

        sst = sst_l4.grid_sst(sst_files, grid)
    if land is not None:
        ssh[:, land] = np.nan
        count[:, land] = 0
        if sst is not None:
            sst[:, land] = np.nan
    return ssh, count, sst


def _chunks(n_days: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, n_days - start)) for start in range(0, n_days, size)]


def _touching(reports: Sequence[FileReport], first: int, size: int) -> list[str]:
    """Paths of the files with points in days ``first .. first + size - 1``."""
    return [str(r.path) for r in reports if r.first_day < first + size and r.last_day >= first]


def spec_from_data(
    inputs: Iterable[str | Path],
    *,
    lon_min: float | None = None,
    lon_max: float | None = None,
    lat_min: float | None = None,
    lat_max: float | None = None,
    resolution: float,
    start: str | None = None,
    end: str | None = None,
    time_chunk: int = TIME_CHUNK,
) -> GridSpec:
    """The grid of a box and dates, what is not given taken from the observations.

    Only the time and position variables of the along-track and swath files
    among ``inputs`` are read (SST, MDT and unreadable files are passed over).
    A box edge not given is the observations' extent, widened to whole cells
    of ``resolution`` (points straddling 180 give a box across it).

    Parameters
    ----------
    inputs
        Files, folders or glob patterns (as :func:`grid_files`).
    lon_min, lon_max, lat_min, lat_max
        Box, degrees_east / degrees_north; ``None``: from the data.
    resolution
        Cell size, degrees.
    start, end
        First / last day (ISO); ``None``: the first / last day of the data.
    time_chunk
        Days per chunk (the size of one day of the grid is checked first).

    Raises
    ------
    InputError
        When a date or an edge is missing and no observation can be read, or
        the grid is too large (:func:`check_grid_size`).
    """
    given = {"lon_min": lon_min, "lon_max": lon_max, "lat_min": lat_min, "lat_max": lat_max}
    if start is not None and end is not None and None not in given.values():
        return GridSpec(**given, resolution=resolution, start=start, end=end)  # type: ignore[arg-type]
    from oceaninterp.ingest import time_span

    span = time_span(expand_inputs(inputs))
    if span is None:
        raise InputError(
            None,
            "no along-track or swath file among the inputs to take the dates and box from: "
            "give them (-t/-T, -x/-X/-y/-Y)",
        )

    def snap(value: float, up: bool, lo: float, hi: float) -> float:
        cells = np.ceil(value / resolution - 1e-9) if up else np.floor(value / resolution + 1e-9)
        return float(np.clip(cells * resolution, lo, hi))

    found = {
        "lon_min": snap(span.lon_min, False, -180.0, 180.0),
        "lon_max": snap(span.lon_max, True, -180.0, 180.0),
        "lat_min": snap(span.lat_min, False, -90.0, 90.0),
        "lat_max": snap(span.lat_max, True, -90.0, 90.0),
    }
    if found["lat_max"] <= found["lat_min"]:  # points on one row of cell edges
        found["lat_max"] = found["lat_min"] + resolution
    if found["lon_max"] == found["lon_min"]:
        found["lon_max"] = found["lon_min"] + resolution
    box = {k: found[k] if v is None else v for k, v in given.items()}
    first, last = str(span.first), str(span.last)
    day = start or end or first
    check_grid_size(GridSpec(**box, resolution=resolution, start=day, end=day), time_chunk)
    return GridSpec(**box, resolution=resolution, start=start or first, end=end or last)


def build_cube(
    obs: Sequence[FileReport],
    sst: Sequence[FileReport],
    spec: GridSpec,
    *,
    variable: str = "sla_filtered",
    drop_nadir: bool = False,
    time_chunk: int = TIME_CHUNK,
    land: np.ndarray | None = None,
) -> xr.Dataset:
    """The lazy cube (dask arrays, one task per chunk of days) of the files read.

    Each chunk task (:func:`grid_chunk`) gets only the files whose points fall
    in its days. With ``land`` (bool (latitude, longitude), True on land) land
    cells are never observed and the cube carries ``land`` (int8, 1 on land).
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
            land,
        )
        shape = (size, n_lat, n_lon)
        ssh_parts.append(da.from_delayed(task[0], shape, dtype=np.float32))
        count_parts.append(da.from_delayed(task[1], shape, dtype=np.int32))
        if sst:
            sst_parts.append(da.from_delayed(task[2], shape, dtype=np.float32))
    dims = ("time", "latitude", "longitude")
    count = da.concatenate(count_parts)
    data: dict[str, tuple[tuple[str, ...], Any]] = {
        "ssh": (dims, da.concatenate(ssh_parts)),
        "count": (dims, count),
        "mask": (dims, (count > 0).astype(np.int8)),
    }
    if sst:
        data["sst"] = (dims, da.concatenate(sst_parts))
    if land is not None:
        data["land"] = (dims[1:], land.astype(np.int8))
    return xr.Dataset(
        data,
        coords={"time": spec.days(), "latitude": spec.latitudes(), "longitude": spec.longitudes()},
    )


_SSH_NAMES = {
    "sla": ("sea_surface_height_above_sea_level", "sea level anomaly, mean per cell"),
    "adt": ("sea_surface_height_above_geoid", "absolute dynamic topography, mean per cell"),
}


def _binary_flag(long_name: str, meanings: str, content: str, **extra: str) -> dict[str, Any]:
    """CF attributes of an int8 flag variable of values 0 and 1 (``meanings`` in that order)."""
    return {
        "long_name": long_name,
        "flag_values": np.array([0, 1], np.int8),
        "flag_meanings": meanings,
        "coverage_content_type": content,
        **extra,
    }


def _describe(
    cube: xr.Dataset,
    spec: GridSpec,
    ssh_kind: str,
    variable: str,
    reports: Sequence[FileReport],
    history: str,
    land_mask_source: str = "",
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
    cube["mask"].attrs = _binary_flag(
        "observed cell", "unobserved observed", "qualityInformation", standard_name="quality_flag"
    )
    if "sst" in cube:
        cube["sst"].attrs = {
            "standard_name": "sea_surface_foundation_temperature",
            "long_name": "L4 sea surface temperature, cell average",
            "units": "K",
            "coverage_content_type": "physicalMeasurement",
        }
    if "land" in cube:
        cube["land"].attrs = _binary_flag(
            "land cell (never observed: ssh NaN, count 0)",
            "sea land",
            "auxiliaryInformation",
            source=land_mask_source,
        )
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
        **({"land_mask_source": land_mask_source} if "land" in cube else {}),
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
    on_error: OnError = "fail",
    overwrite: bool = False,
    drop_nadir: bool = False,
    time_chunk: int = TIME_CHUNK,
    history: str | None = None,
    progress: ProgressCallback | None = None,
    land_mask: bool | str | Path = False,
) -> GridSummary:
    """Grid observation files into a masked daily cube (NetCDF or Zarr by suffix).

    Parameters
    ----------
    inputs
        Files, folders (their ``*.nc``, recursively) or glob patterns of
        CMEMS L3, NASA-SSH or SWOT L3 files, detected by content. L4 SST files
        among them are used as with ``sst``; MDT files are recognised, reported
        and not used (they are not observations).
    output
        ``.nc`` (NetCDF-4) or ``.zarr`` (Zarr v3); written atomically. It must
        not be one of the inputs.
    spec
        Box (degrees; ``lon_min > lon_max`` crosses the antimeridian), daily
        dates and resolution (degrees). See :func:`spec_from_data` for dates
        taken from the data.
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
    land_mask
        ``True``: land cells from the GSHHG coastline; a path: a land mask file
        (:func:`oceaninterp.landmask.land_mask`); ``False``: none. Land cells
        get ssh NaN and count 0, observations there are dropped and counted,
        and the cube carries ``land`` (int8, 1 on land) and the global
        attribute ``land_mask_source``.

    Raises
    ------
    InputError, OutputExistsError
        On a bad input (with ``on_error="fail"``), when no file is usable, when
        the grid is too large for this machine, when the output is an input,
        or when the output exists without ``overwrite``.
    """
    from oceaninterp import cf
    from oceaninterp.io import check_output, output_format, write_dataset

    if on_error not in ON_ERROR:
        raise InputError(None, f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    if time_chunk < 1:
        raise InputError(None, f"time_chunk must be a positive number of days, got {time_chunk}")
    output = Path(output)
    fmt = output_format(output)
    check_grid_size(spec, time_chunk)
    obs_paths = expand_inputs(inputs)
    sst_paths = expand_inputs(sst)
    check_output(output, overwrite, inputs=[*obs_paths, *sst_paths])
    if not obs_paths:
        raise InputError(None, "no input file given (or no NetCDF file in the folders given)")
    land, land_source = _land(spec, land_mask)
    reports = scan_inputs(
        obs_paths,
        sst_paths,
        spec,
        variable=variable,
        drop_nadir=drop_nadir,
        on_error=on_error,
        progress=progress,
        land=land,
    )
    obs = [r for r in reports if r.role == "obs" and r.status == "read"]
    sst_read = [r for r in reports if r.role == "sst" and r.status == "read"]
    if not obs:
        raise InputError(
            None,
            f"no usable observation file among {len(obs_paths)} given (inside the box "
            f"lon {spec.lon_min}..{spec.lon_max}, lat {spec.lat_min}..{spec.lat_max} "
            f"and the dates {spec.start}..{spec.end})",
        )
    kinds = {r.ssh_kind for r in obs}
    if len(kinds) > 1:
        raise InputError(None, f"inputs mix sea level kinds {sorted(kinds)} for {variable!r}")
    ssh_kind = kinds.pop()
    cube = build_cube(
        obs,
        sst_read,
        spec,
        variable=variable,
        drop_nadir=drop_nadir,
        time_chunk=time_chunk,
        land=land,
    )
    cube = _describe(
        cube,
        spec,
        ssh_kind,
        variable,
        reports,
        history or f"oceaninterp.grid.grid_files(variable={variable!r})",
        land_source,
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
        land_cells=0 if land is None else int(land.sum()),
        land_mask_source=land_source,
    )


def _land(spec: GridSpec, land_mask: bool | str | Path) -> tuple[np.ndarray | None, str]:
    """(land cells or None, ``land_mask_source``) of ``spec`` for ``land_mask``."""
    if land_mask is False:
        return None, ""
    from oceaninterp.landmask import land_mask as make_mask
    from oceaninterp.landmask import source_name

    source = None if land_mask is True else Path(land_mask)
    land = make_mask(spec.latitudes(), spec.longitudes(), source)
    return np.asarray(land, dtype=bool), source_name(source)


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
