"""The masked cube: the one place that opens, validates, masks and re-grids it.

A cube (the middle arrow of the data flow, written by ``oceaninterp grid``) is
a daily ``(time, latitude, longitude)`` grid of observations: ``ssh`` (cell
mean, metres, NaN where unobserved), ``count`` (observations per cell),
``mask`` (1 where observed), optional ``sst`` (kelvin) and ``land`` (1 on
land); global attributes ``ssh_kind`` (``"sla"`` or ``"adt"``) and
``resolution`` (degrees). Coordinates are cell centres, ascending,
degrees_north / degrees_east; a box across the antimeridian keeps ascending
longitudes past 180 (e.g. 170..190). A cube is *global* when its longitudes
span 360 degrees: tiles and derivatives then wrap around.

Land (:func:`land_cells`) is the union of
- the cube's own ``land`` variable when ``grid`` wrote one, else the real
  coastline (:mod:`oceaninterp.landmask`) or a user's mask file;
- cells the cube never observes where its ``sst`` is NaN every day (an SST
  product's own land, e.g. a simulated coast);
- cells the cube never observes where the MDT is NaN (an MDT's own land).
Land cells are never observed (their values are dropped) and never mapped.

Re-gridding (:func:`regrid`) goes through cell sums and counts: each source
cell's observations go to the target cell that holds its centre, so a finer
or a coarser target conserves the observations' count-weighted mean and no
observation is invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.kinds import SSH_KINDS

if TYPE_CHECKING:
    from oceaninterp.model.checkpoint import CheckpointDescription

DIMS = ("time", "latitude", "longitude")
#: Relative tolerance when comparing resolutions (degrees).
RESOLUTION_RTOL = 1e-3
#: ``land`` argument values: the shipped coastline, no land mask, or a mask file.
COASTLINE: Literal["coastline"] = "coastline"
NO_LAND: Literal["none"] = "none"
LandSource = str | Path


def resolution(cube: xr.Dataset, path: str | Path | None = None) -> float:
    """The cube's cell size in degrees: its ``resolution`` attribute, else its latitudes."""
    if "resolution" in cube.attrs:
        return float(cube.attrs["resolution"])
    lat = np.asarray(cube["latitude"].values, dtype=np.float64)
    if lat.size < 2:
        raise InputError(path, "no 'resolution' attribute and a single latitude: cell size unknown")
    return float(np.median(np.diff(lat)))


def ssh_kind(cube: xr.Dataset, path: str | Path | None = None) -> str:
    """``"sla"`` or ``"adt"``, from the cube's (or its ``ssh``'s) ``ssh_kind`` attribute."""
    kind = cube.attrs.get("ssh_kind", cube["ssh"].attrs.get("ssh_kind"))
    if kind not in SSH_KINDS:
        raise InputError(path, f"attribute ssh_kind is {kind!r}; expected 'sla' or 'adt'")
    return str(kind)


def validate(cube: xr.Dataset, path: str | Path | None = None) -> xr.Dataset:
    """Check the cube contract and return the cube with its variables in ``DIMS`` order.

    Raises
    ------
    InputError
        Naming the file: no ``ssh``, dims other than (time, latitude,
        longitude) in any order, coordinates not ascending, days not
        consecutive, or a bad ``ssh_kind``.
    """
    if "ssh" not in cube.data_vars:
        raise InputError(path, "missing variable 'ssh' (gridded observations in metres)")
    dims = tuple(cube["ssh"].dims)
    if set(dims) != set(DIMS):
        raise InputError(path, f"variable 'ssh' has dims {dims}; expected {DIMS}")
    for name in ("latitude", "longitude"):
        values = np.asarray(cube[name].values)
        if values.size > 1 and not np.all(np.diff(values) > 0):
            raise InputError(path, f"coordinate {name!r} is not ascending")
    times = np.asarray(cube["time"].values)
    if np.issubdtype(times.dtype, np.datetime64) and times.size > 1:
        steps = np.diff(times.astype("datetime64[D]"))
        if np.any(steps != np.timedelta64(1, "D")):
            raise InputError(path, "time is not a series of consecutive days")
    ssh_kind(cube, path)
    ordered = {
        name: cube[name].transpose(*DIMS, ...)
        for name in cube.data_vars
        if set(DIMS) <= set(cube[name].dims)
    }
    return cube.assign(ordered) if ordered else cube


def is_global(longitude: np.ndarray) -> bool:
    """Whether cell centres (degrees_east, regularly spaced) go all the way round."""
    lon = np.asarray(longitude, dtype=np.float64)
    if lon.size < 2:
        return False
    step = float(np.median(np.diff(lon)))
    return bool(abs(lon[-1] - lon[0] + step - 360.0) < 0.5 * step)


def check_compatible(
    cube: xr.Dataset,
    checkpoint: CheckpointDescription | Mapping[str, Any],
    *,
    cube_path: str | Path | None = None,
    checkpoint_path: str | Path | None = None,
) -> None:
    """Refuse a cube that does not match a checkpoint's description.

    Parameters
    ----------
    cube
        The cube (:func:`validate`).
    checkpoint
        The checkpoint's description, or the JSON mapping it is read from
        (:func:`oceaninterp.model.checkpoint.as_description`).
    cube_path, checkpoint_path
        The files, named in the messages.

    Raises
    ------
    InputError
        Naming the cube and both values, when the resolution (degrees), the
        ``ssh_kind`` or the presence of ``sst`` (for a model using SST) differ.
    """
    from oceaninterp.model.checkpoint import as_description

    description = as_description(checkpoint)
    ckpt = f"checkpoint {Path(checkpoint_path).name}" if checkpoint_path else "the checkpoint"
    res = resolution(cube, cube_path)
    want = description.resolution
    if not np.isclose(res, want, rtol=RESOLUTION_RTOL, atol=0.0):
        raise InputError(
            cube_path,
            f"grid resolution {res:g} deg does not match {ckpt} ({want:g} deg): grid the "
            f"observations at {want:g} deg, or re-grid the cube (--resample)",
        )
    kind = ssh_kind(cube, cube_path)
    if kind != description.ssh_kind:
        raise InputError(
            cube_path,
            f"ssh_kind {kind!r} does not match {ckpt} (trained on {description.ssh_kind!r}): "
            f"grid the observations with the {description.ssh_kind} variable, or give the MDT "
            "(--mdt) to go from one to the other",
        )
    if description.uses_sst and "sst" not in cube.data_vars:
        raise InputError(
            cube_path, f"no 'sst' variable, but {ckpt} was trained with SST (uses_sst = true)"
        )


def target_axis(axis: np.ndarray, step: float, new_step: float) -> np.ndarray:
    """Cell centres of ``new_step`` degrees covering the cells of ``axis`` (``step`` degrees).

    The target starts on the first cell's lower edge and covers the last
    cell's upper edge (its last cell may stick out when the extent is not a
    multiple of ``new_step``).
    """
    lo = float(axis[0]) - 0.5 * step
    extent = float(axis[-1]) + 0.5 * step - lo
    n = max(1, int(np.ceil(extent / new_step - 1e-6)))
    return lo + (np.arange(n) + 0.5) * new_step


def _cell_of(axis: np.ndarray, target: np.ndarray, new_step: float) -> np.ndarray:
    """Index of the target cell holding each centre of ``axis``; -1 outside."""
    index = np.floor((axis - (target[0] - 0.5 * new_step)) / new_step + 1e-9).astype(np.int64)
    return np.where((index >= 0) & (index < target.size), index, -1)


def regrid(cube: xr.Dataset, new_resolution: float, path: str | Path | None = None) -> xr.Dataset:
    """The cube on a grid of ``new_resolution`` degrees (finer or coarser), same extent.

    Each source cell's ``count`` observations (mean ``ssh``) are added to the
    target cell holding its centre: ``ssh`` = sum(ssh * count) / sum(count),
    ``count`` = sum(count), ``mask`` = count > 0; ``sst`` is the mean of the
    finite source cells in the target cell, else the nearest source cell;
    ``land`` is 1 where more than half the source cells in the target cell are
    land, else the nearest source cell's flag. A finer target gets each source
    cell's observations in one cell (no observation invented): its other
    cells are unobserved.

    Raises
    ------
    InputError
        When ``new_resolution`` is not positive.
    """
    if not new_resolution > 0:
        raise InputError(path, f"cannot re-grid to {new_resolution!r} deg")
    res = resolution(cube, path)
    lat = np.asarray(cube["latitude"].values, dtype=np.float64)
    lon = np.asarray(cube["longitude"].values, dtype=np.float64)
    new_lat = target_axis(lat, res, new_resolution)
    new_lon = target_axis(lon, res, new_resolution)
    iy, ix = _cell_of(lat, new_lat, new_resolution), _cell_of(lon, new_lon, new_resolution)
    inside_y, inside_x = iy >= 0, ix >= 0
    flat = (iy[inside_y][:, None] * new_lon.size + ix[inside_x][None, :]).ravel()
    n_cells = new_lat.size * new_lon.size
    # the nearest source cell of each target centre (for fields a finer grid must fill)
    near_y = np.clip(np.rint((new_lat - lat[0]) / res).astype(np.int64), 0, lat.size - 1)
    near_x = np.clip(np.rint((new_lon - lon[0]) / res).astype(np.int64), 0, lon.size - 1)

    def binned(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per target cell: sum of weights * values and sum of weights."""
        v = values[..., inside_y, :][..., inside_x]
        w = weights[..., inside_y, :][..., inside_x]
        lead = v.shape[:-2]
        layers = int(np.prod(lead, dtype=np.int64))
        # one bincount over every day: each day's cells offset by n_cells
        index = (np.arange(layers)[:, None] * n_cells + flat[None, :]).ravel()
        size = layers * n_cells
        sums = np.bincount(index, (w * v).ravel(), size)
        totals = np.bincount(index, w.ravel(), size)
        shape = (*lead, new_lat.size, new_lon.size)
        return sums.reshape(shape), totals.reshape(shape)

    ssh = np.asarray(cube["ssh"].transpose(*DIMS).values, dtype=np.float64)
    observed = np.isfinite(ssh)
    if "count" in cube:
        count = np.asarray(cube["count"].transpose(*DIMS).values, dtype=np.float64)
        count = np.where(observed, np.maximum(count, 1.0), 0.0)
    else:
        count = observed.astype(np.float64)
    sums, totals = binned(np.where(observed, ssh, 0.0), count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(totals > 0, sums / np.where(totals > 0, totals, 1.0), np.nan)
    dims3 = DIMS
    out = xr.Dataset(
        {
            "ssh": (dims3, mean.astype(np.float32), dict(cube["ssh"].attrs)),
            "count": (dims3, totals.astype(np.int32)),
            "mask": (dims3, (totals > 0).astype(np.int8)),
        },
        coords={"time": cube["time"].values, "latitude": new_lat, "longitude": new_lon},
    )
    if "sst" in cube:
        sst = np.asarray(cube["sst"].transpose(*DIMS).values, dtype=np.float64)
        finite = np.isfinite(sst)
        s_sum, s_n = binned(np.where(finite, sst, 0.0), finite.astype(np.float64))
        nearest = sst[:, near_y][:, :, near_x]
        with np.errstate(invalid="ignore", divide="ignore"):
            sst_new = np.where(s_n > 0, s_sum / np.where(s_n > 0, s_n, 1.0), nearest)
        out["sst"] = (dims3, sst_new.astype(np.float32), dict(cube["sst"].attrs))
    if "land" in cube:
        flag = np.asarray(cube["land"].values, dtype=np.float64)
        l_sum, l_n = binned(flag, np.ones_like(flag))
        nearest = flag[near_y][:, near_x]
        land = np.where(l_n > 0, l_sum > 0.5 * l_n, nearest > 0.5)
        out["land"] = (("latitude", "longitude"), land.astype(np.int8), dict(cube["land"].attrs))
    out.attrs = {**cube.attrs, "resolution": float(new_resolution)}
    return out


def drop_land(cube: xr.Dataset, land: np.ndarray) -> xr.Dataset:
    """The cube with its observations on ``land`` cells removed (``ssh`` NaN, ``count`` 0)."""
    if not land.any():
        return cube
    sea = xr.DataArray(~land, dims=("latitude", "longitude"))
    out = cube.assign(ssh=cube["ssh"].where(sea))
    if "count" in cube:
        out["count"] = cube["count"].where(sea, 0).astype(cube["count"].dtype)
    if "mask" in cube:
        out["mask"] = cube["mask"].where(sea, 0).astype(cube["mask"].dtype)
    return out


def land_cells(
    cube: xr.Dataset,
    land: LandSource = COASTLINE,
    mdt: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean ``(latitude, longitude)``: True on land (see the module docstring).

    Parameters
    ----------
    cube
        A cube.
    land
        :data:`COASTLINE` (the cube's ``land`` variable if any, else the GSHHG
        coastline), :data:`NO_LAND` (no coastline; the SST and MDT rules still
        apply), or a land mask file.
    mdt
        The MDT on the cube's grid (metres, NaN on its land), or ``None``.
    """
    from oceaninterp import landmask

    lat = np.asarray(cube["latitude"].values)
    lon = np.asarray(cube["longitude"].values)
    shape = (lat.size, lon.size)
    if str(land) == NO_LAND:
        out = np.zeros(shape, dtype=bool)
    elif str(land) == COASTLINE and "land" in cube:
        out = np.asarray(cube["land"].values, dtype=np.float64) > 0.5
    else:
        out = landmask.land_mask(lat, lon, None if str(land) == COASTLINE else land)
    never_observed = np.asarray(cube["ssh"].isnull().all("time").values, dtype=bool)
    if "sst" in cube.data_vars:
        out |= never_observed & np.asarray(cube["sst"].isnull().all("time").values, dtype=bool)
    if mdt is not None:
        out |= never_observed & ~np.isfinite(mdt)
    return out


def land_source_name(land: LandSource) -> str:
    """What a ``land_mask_source`` attribute says of ``land``."""
    from oceaninterp import landmask

    if str(land) == NO_LAND:
        return "none"
    return landmask.source_name(None if str(land) == COASTLINE else land)


def to_kind(cube: xr.Dataset, kind: str, target: str, mdt: np.ndarray) -> tuple[xr.Dataset, str]:
    """The cube as ``target`` (``"sla"`` or ``"adt"``): ``adt = sla + mdt``.

    Parameters
    ----------
    kind
        The cube's kind.
    mdt
        The MDT on the cube's grid, metres.

    Returns
    -------
    The cube (``ssh`` in metres, ``ssh_kind = target``; lazy when the cube
    is) and ``target``.
    """
    if kind == target:
        return cube, kind
    field = xr.DataArray(mdt, dims=("latitude", "longitude"))
    sign = 1.0 if target == "adt" else -1.0
    ssh = (cube["ssh"] + sign * field).astype(np.float32)
    ssh.attrs = {**cube["ssh"].attrs, "ssh_kind": target}
    return cube.assign(ssh=ssh).assign_attrs(ssh_kind=target), target


def open_cube(path: str | Path) -> xr.Dataset:
    """Open a cube file (NetCDF or Zarr) and validate it (:func:`validate`)."""
    from oceaninterp.io import open_dataset

    return validate(open_dataset(Path(path)), path)
