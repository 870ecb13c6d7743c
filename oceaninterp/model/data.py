"""Training tiles for the SSH 4DVarNet: a gridded cube paired with the truth.

The cube (``oceaninterp grid`` output: ``ssh``, ``mask``, optional ``sst``) gives
the observations; the truth (``oceaninterp simulate truth`` output, or any
gridded SSH that :func:`oceaninterp.truth.open_truth` reads: ``ssh``, ``adt``,
``sla``, ``zos``, ``sossheig``; ``lat``/``lon``; longitudes 0..360) is brought
onto the cube's grid and days. Days are
split into training, validation and test periods; tiles of ``T`` days x ``H`` x
``W`` pixels lie wholly inside one period.

With an MDT (:mod:`oceaninterp.mdt`) the model learns the sea level anomaly:
the truth minus the MDT, from the observations of an ``adt`` cube minus the
MDT (an ``sla`` cube is taken as already relative to it, as CMEMS products,
where ``adt = sla + mdt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.config import ModelConfig, OIConfig, TrainConfig
from oceaninterp.cube import resolution as cube_resolution
from oceaninterp.errors import InputError
from oceaninterp.io import open_dataset
from oceaninterp.mdt import GriddedMDT, align_longitudes, mdt_on_grid
from oceaninterp.oi import oi_map
from oceaninterp.truth import open_truth

DIMS = ("time", "latitude", "longitude")
PERIODS = ("train", "val", "test")


@dataclass(frozen=True)
class TrainingData:
    """A cube and its truth on the same (time, latitude, longitude) grid, in memory.

    Attributes
    ----------
    obs
        Gridded observations, metres, NaN where nothing was observed.
    truth
        True SSH on the same grid, metres, NaN where unknown (land).
    sst
        Cube SST in kelvin (NaN where missing), or ``None``.
    days
        ``datetime64[D]`` of the grid's days (consecutive).
    latitude, longitude
        Cell centres, degrees_north / degrees_east.
    resolution
        Cell size in degrees.
    ssh_kind
        ``"sla"`` or ``"adt"`` (the cube's attribute).
    mdt
        The MDT removed from ``obs`` (``adt`` cube) and ``truth``, on the
        grid, or ``None``: then both are as read.
    oi
        The OI map of ``obs`` (:func:`oceaninterp.model.data.input_map`, metres) for a
        model with ``oi_input``, or ``None``.
    """

    obs: np.ndarray
    truth: np.ndarray
    sst: np.ndarray | None
    days: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    resolution: float
    ssh_kind: str
    mdt: GriddedMDT | None = None
    oi: np.ndarray | None = None


def grid_variable(ds: xr.Dataset, path: Path, name: str) -> xr.DataArray:
    """Variable ``name`` of a cube over (time, latitude, longitude), in that order."""
    if name not in ds:
        raise InputError(
            path, f"missing variable {name!r} (found {sorted(map(str, ds.data_vars))})"
        )
    da = ds[name]
    if set(da.dims) != set(DIMS):
        raise InputError(path, f"variable {name!r} has dims {da.dims}, expected {DIMS}")
    return da.transpose(*DIMS)


def _daily(times: np.ndarray, path: Path) -> np.ndarray:
    days = times.astype("datetime64[D]")
    if days.size == 0:
        raise InputError(path, "no days in the file")
    if np.any(np.diff(days) != np.timedelta64(1, "D")):
        raise InputError(path, "time is not a series of consecutive days")
    return days


def truth_on_grid(truth: xr.DataArray, cube: xr.Dataset, truth_path: Path) -> np.ndarray:
    """Interpolate (linearly) the truth's ssh (metres) onto the cube's cells, per truth day."""
    # Bring the truth's longitudes next to the cube's (either -180..180 or 0..360).
    truth = align_longitudes(truth, cube["longitude"].values)
    on_grid = truth.interp(
        latitude=cube["latitude"].values, longitude=cube["longitude"].values
    ).values.astype(np.float32)
    if not np.isfinite(on_grid).any():
        raise InputError(truth_path, "the truth does not cover the cube's box")
    return on_grid


def load_training_data(
    cube_path: str | Path,
    truth_path: str | Path,
    *,
    use_sst: bool,
    mdt: str | Path | None = None,
    oi_input: bool = False,
) -> TrainingData:
    """Read a cube and its truth into memory on the cube's grid, on their common days.

    Parameters
    ----------
    cube_path
        Cube (NetCDF or Zarr) with ``ssh`` (metres), ``mask``, optional ``sst`` (kelvin).
    truth_path
        Truth (NetCDF or Zarr): any gridded SSH :func:`oceaninterp.truth.open_truth`
        reads (metres; a variable ``sla`` is taken as an SLA truth).
    use_sst
        Read the cube's ``sst``; an error when it has none.
    mdt
        An MDT file (:func:`oceaninterp.mdt.mdt_on_grid`): subtract it from
        the truth, and from the observations of an ``adt`` cube.
    oi_input
        Also map the observations (MDT removed) by the OI, the input of a
        model with ``oi_input``.

    Raises
    ------
    InputError
        A missing variable, non-daily times, no common days, no spatial
        overlap, or an unusable MDT.
    """
    cube_path, truth_path = Path(cube_path), Path(truth_path)
    cube = open_dataset(cube_path)
    ssh = grid_variable(cube, cube_path, "ssh")
    mask = grid_variable(cube, cube_path, "mask")
    truth = open_truth(truth_path)
    cube_days = _daily(cube["time"].values, cube_path)
    truth_days = _daily(truth["time"].values, truth_path)
    days = np.intersect1d(cube_days, truth_days)
    if days.size == 0:
        raise InputError(
            truth_path,
            f"no day in common with the cube {cube_path} (truth {truth_days[0]}..{truth_days[-1]}, "
            f"cube {cube_days[0]}..{cube_days[-1]})",
        )
    in_cube = np.isin(cube_days, days)
    in_truth = np.isin(truth_days, days)
    obs = ssh.values[in_cube].astype(np.float32)
    obs[mask.values[in_cube] == 0] = np.nan
    sst = None
    if use_sst:
        sst = grid_variable(cube, cube_path, "sst").values[in_cube].astype(np.float32)
    truth_grid = truth_on_grid(truth.isel(time=np.flatnonzero(in_truth)), cube, truth_path)
    ssh_kind = str(cube.attrs.get("ssh_kind", ssh.attrs.get("ssh_kind", "unknown")))
    truth_kind = "sla" if truth.name == "sla" else "adt"
    if ssh_kind == "sla" and truth_kind != "sla" and mdt is None:
        raise InputError(
            truth_path,
            f"the cube {cube_path.name} holds the SLA and this truth the ADT: give the MDT "
            "(--mdt) so that the model learns the SLA against the SLA",
        )
    gridded = None
    if mdt is not None:
        if ssh_kind not in ("adt", "sla"):
            raise InputError(
                cube_path, f"ssh_kind is {ssh_kind!r}: with an MDT the cube must say 'adt' or 'sla'"
            )
        gridded = mdt_on_grid(
            mdt,
            cube["latitude"].values,
            cube["longitude"].values,
            observed=np.asarray(np.isfinite(obs).any(axis=0)),
        )
        if ssh_kind == "adt":
            obs -= gridded.values
        truth_grid -= gridded.values
    return TrainingData(
        obs=obs,
        truth=truth_grid,
        sst=sst,
        days=days,
        latitude=cube["latitude"].values,
        longitude=cube["longitude"].values,
        resolution=cube_resolution(cube, cube_path),
        ssh_kind=ssh_kind,
        mdt=gridded,
        oi=_input_map(obs, cube, in_cube) if oi_input else None,
    )


def _input_map(obs: np.ndarray, cube: xr.Dataset, in_cube: np.ndarray) -> np.ndarray:
    """The OI of ``obs`` (the days ``in_cube`` of ``cube``, as the model sees them)."""
    count = None
    if "count" in cube.data_vars:
        count = cube["count"].transpose("time", "latitude", "longitude").values[in_cube]
    days = cube["time"].values[in_cube]
    return observations_oi(obs, days, cube["latitude"].values, cube["longitude"].values, count)


def observations_oi(
    obs: np.ndarray,
    days: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    count: np.ndarray | None = None,
) -> np.ndarray:
    """The input of an ``oi_input`` model: :func:`input_map` of gridded observations.

    Parameters
    ----------
    obs
        ``(time, latitude, longitude)`` metres, NaN where unobserved.
    days
        ``datetime64`` of the days.
    latitude, longitude
        Cell centres, degrees.
    count
        Observations per cell (their noise weights), or ``None``.
    """
    dims = ("time", "latitude", "longitude")
    fields = {"ssh": (dims, obs)}
    if count is not None:
        fields["count"] = (dims, count)
    coords = {"time": days.astype("datetime64[ns]"), "latitude": latitude, "longitude": longitude}
    return input_map(xr.Dataset(fields, coords=coords))


def tile_oi(data: TrainingData, origin: Sequence[int], obs: np.ndarray) -> np.ndarray:
    """:func:`observations_oi` of one tile's observations ``obs`` ``(T, H, W)`` (metres).

    ``origin`` is the tile's (day, row, column) in ``data``, whose days and
    cell centres place it.
    """
    day, row, col = (int(v) for v in origin)
    days, rows, cols = obs.shape
    return observations_oi(
        obs,
        data.days[day : day + days],
        data.latitude[row : row + rows],
        data.longitude[col : col + cols],
    )


def input_map(
    cube: xr.Dataset, *, device: str = "cpu", land: np.ndarray | None = None
) -> np.ndarray:
    """The OI a model with ``oi_input`` takes beside its observations (metres).

    :func:`oi_map` of the cube's ``ssh`` (and ``count``) with the default
    :class:`~oceaninterp.config.OIConfig`: the same in ``train`` and in
    ``reconstruct``, so that a checkpoint always sees the field it learnt from.

    Returns
    -------
    numpy.ndarray
        float32 ``(time, latitude, longitude)``.
    """
    names = [n for n in ("ssh", "count") if n in cube.data_vars]
    return np.asarray(oi_map(cube[names], OIConfig(), device=device, land=land)["ssh"].values)


def split_days(days: np.ndarray, cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Indices into ``days`` of the train, validation and test periods.

    The periods come from the dates of ``cfg`` when given, else from
    ``cfg.val_fraction`` / ``cfg.test_fraction`` in time order (train, val, test).
    """
    n = days.size
    if cfg.train_start is None:
        n_test = int(round(cfg.test_fraction * n))
        n_val = int(round(cfg.val_fraction * n))
        edges = [0, n - n_val - n_test, n - n_test, n]
        return {p: np.arange(edges[i], edges[i + 1]) for i, p in enumerate(PERIODS)}
    periods = {}
    for p in PERIODS:
        start = np.datetime64(getattr(cfg, f"{p}_start"), "D")
        end = np.datetime64(getattr(cfg, f"{p}_end"), "D")
        periods[p] = np.flatnonzero((days >= start) & (days <= end))
    return periods


def period_dates(days: np.ndarray, index: np.ndarray) -> list[str] | None:
    """``[first, last]`` ISO dates of a period, or ``None`` when it is empty."""
    if index.size == 0:
        return None
    return [str(days[index[0]]), str(days[index[-1]])]


def tile_starts(index: np.ndarray, length: int) -> np.ndarray:
    """First days (indices) of every ``length``-day window lying wholly in ``index``."""
    index = np.sort(index)
    if index.size < length:
        return np.empty(0, dtype=int)
    # A window starting at index[i] fits when the `length` days from it are consecutive.
    ends = index[length - 1 :]
    starts = index[: index.size - length + 1]
    return starts[ends - starts == length - 1]


def strided_origins(size: int, tile: int) -> np.ndarray:
    """Origins of the fewest tiles of ``tile`` pixels covering ``size`` pixels."""
    if size < tile:
        return np.empty(0, dtype=int)
    count = int(np.ceil(size / tile))
    return np.unique(np.round(np.linspace(0, size - tile, count)).astype(int))


def validation_origins(data: TrainingData, index: np.ndarray, model: ModelConfig) -> np.ndarray:
    """Tile origins ``(n, 3)`` (day, row, column) covering the validation period.

    Consecutive, non-overlapping ``T``-day windows; in space the fewest tiles
    covering the grid.
    """
    starts = tile_starts(index, model.tile_time)
    chosen: list[int] = []
    for s in starts:
        if not chosen or s >= chosen[-1] + model.tile_time:
            chosen.append(int(s))
    rows = strided_origins(data.truth.shape[1], model.tile_latitude)
    cols = strided_origins(data.truth.shape[2], model.tile_longitude)
    grid = np.array(np.meshgrid(chosen, rows, cols, indexing="ij")).reshape(3, -1).T
    return grid.astype(int)


def random_origins(
    data: TrainingData, index: np.ndarray, model: ModelConfig, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` random tile origins ``(count, 3)`` (day, row, column) in a period."""
    starts = tile_starts(index, model.tile_time)
    _, n_lat, n_lon = data.truth.shape
    return np.stack(
        [
            rng.choice(starts, size=count),
            rng.integers(0, n_lat - model.tile_latitude + 1, size=count),
            rng.integers(0, n_lon - model.tile_longitude + 1, size=count),
        ],
        axis=1,
    )


def cut(array: np.ndarray, origins: np.ndarray, model: ModelConfig) -> np.ndarray:
    """Tiles ``(n, T, H, W)`` of a ``(time, lat, lon)`` array at ``origins`` ``(n, 3)``."""
    t, h, w = model.tile_time, model.tile_latitude, model.tile_longitude
    return np.stack([array[d : d + t, r : r + h, c : c + w] for d, r, c in origins])


@dataclass(frozen=True)
class TileBatch:
    """A batch of tiles as numpy arrays ``(n, T, H, W)`` (metres / kelvin, NaN = missing).

    ``oi``: the OI map of the tiles' observations (``oi_input`` models), or ``None``.
    """

    obs: np.ndarray
    truth: np.ndarray
    sst: np.ndarray | None
    oi: np.ndarray | None = None


def make_batch(
    data: TrainingData,
    origins: np.ndarray,
    model: ModelConfig,
    *,
    swap_fraction: float = 0.0,
    rng: np.random.Generator | None = None,
) -> TileBatch:
    """Cut the tiles at ``origins``; augment a fraction of them by swapping masks.

    For a ``swap_fraction`` of the tiles (chosen with ``rng``), the observations
    are replaced by the truth of the tile seen through the observation mask of
    another tile of the batch (the reference's augmentation: same truth, new
    sampling; noise-free). A swapped tile keeps its SST and its OI map: they
    then see the same truth through other observations.
    """
    batch = TileBatch(
        obs=cut(data.obs, origins, model),
        truth=cut(data.truth, origins, model),
        sst=None if data.sst is None else cut(data.sst, origins, model),
        oi=None if data.oi is None else cut(data.oi, origins, model),
    )
    return swap_masks(batch, swap_fraction, rng)


def swap_masks(
    batch: TileBatch, swap_fraction: float, rng: np.random.Generator | None
) -> TileBatch:
    """The batch with a ``swap_fraction`` of its tiles seen through another tile's mask.

    See :func:`make_batch`; ``batch.obs`` is changed in place.
    """
    obs, truth = batch.obs, batch.truth
    n = obs.shape[0]
    if swap_fraction > 0 and n > 1:
        if rng is None:
            raise ValueError("make_batch: an rng is needed to swap masks")
        swapped = np.flatnonzero(rng.random(n) < swap_fraction)
        donors = (swapped + rng.integers(1, n, size=swapped.size)) % n
        observed = np.isfinite(obs[donors])
        obs[swapped] = np.where(observed, truth[swapped], np.nan)
    return batch
