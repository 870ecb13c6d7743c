"""Land and sea on a regular latitude/longitude grid, from a real coastline.

The default source is GSHHG (the Global Self-consistent, Hierarchical,
High-resolution Geography database, full resolution), shipped inside the
``roaring-landmask`` package (the land mask of OpenDrift) as a 1/240 degree
raster: nothing is downloaded at run time. Lakes inside continents count as
land, as in the DUACS maps. Loading the raster takes about 3 s and 0.5 GB,
so the mask of each grid is kept in a cache folder (``$OCEANINTERP_CACHE``,
else ``$XDG_CACHE_HOME/oceaninterp``, else ``~/.cache/oceaninterp``): a
daily run on the same grid reads a few hundred kB instead.

A grid cell is land when more than half of its area is land, estimated from
``n x n`` points evenly spread in the cell: ``n = 1`` (the cell centre) at
1/10 deg or finer, up to 5 x 5 at 1/2 deg and coarser. A narrow strait finer
than a cell can close (the Bosphorus at 1/10 deg), a wide one stays open (the
Sea of Marmara is sea at 1/10 deg).

A user mask file (``--land-mask FILE``) is NetCDF or Zarr with 1-D
``latitude``/``longitude`` (or ``lat``/``lon``) and one 2-D variable among
:data:`LAND_VARIABLES` (1 / a fraction > 0.5 = land, e.g. ERA5's ``lsm``) or
:data:`SEA_VARIABLES` (1 = sea); it is sampled at the cell centres (nearest
value) and must cover the grid.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.errors import InputError
from oceaninterp.mdt import align_longitudes

#: The ``land_mask_source`` of a mask made from the shipped coastline.
GSHHG = "GSHHG full resolution (roaring-landmask)"
#: Variables of a mask file read as "1 (or a fraction > 0.5) = land".
LAND_VARIABLES = ("land", "lsm", "landmask", "land_mask", "sftlf")
#: Variables of a mask file read as "1 = sea".
SEA_VARIABLES = ("sea", "ocean", "seamask", "sea_mask", "mask")
#: Version of the cell rule below (part of the cache key).
_SCHEME = 1
#: Most coastline points tested at once (bounded memory on a global grid).
_POINTS_PER_CALL = 4_000_000


@functools.lru_cache(maxsize=1)
def _coastline() -> Any:
    """The 1/240 deg GSHHG raster of roaring-landmask, loaded once per process."""
    from roaring_landmask import LandmaskProvider, RoaringMask

    return RoaringMask.new(LandmaskProvider.Gshhg)


def cache_dir() -> Path:
    """Where masks of grids are kept (see the module docstring)."""
    root = os.environ.get("OCEANINTERP_CACHE")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "oceaninterp"


def _cache_key(lat: np.ndarray, lon: np.ndarray) -> str:
    from importlib.metadata import version

    h = hashlib.sha256(f"gshhg-{version('roaring-landmask')}-{_SCHEME}".encode())
    for axis in (lat, lon):
        h.update(np.ascontiguousarray(axis, dtype=np.float64).tobytes())
    return h.hexdigest()[:32]


def _cached(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The coastline mask of a grid, from the cache or computed and stored there."""
    path = cache_dir() / "landmask" / f"{_cache_key(lat, lon)}.npy"
    with contextlib.suppress(OSError, ValueError):
        packed = np.load(path, allow_pickle=False)
        return (
            np.unpackbits(packed, count=lat.size * lon.size)
            .astype(bool)
            .reshape(lat.size, lon.size)
        )
    land = _compute(lat, lon)
    _coastline.cache_clear()  # 0.5 GB: not kept for the rest of the run
    with contextlib.suppress(OSError):  # a read-only home only costs the next run time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.npy")
        np.save(tmp, np.packbits(land.ravel()), allow_pickle=False)
        os.replace(tmp, path)
    return land


def subsamples(resolution: float) -> int:
    """Points per axis tested in a cell of ``resolution`` degrees (1 to 5)."""
    return int(min(5, max(1, math.ceil(resolution / 0.1 - 1e-9))))


def _cell_offsets(step: float, n: int) -> np.ndarray:
    """``n`` offsets (degrees) evenly spread across a cell of ``step`` degrees."""
    return (np.arange(n) + 0.5) / n * step - 0.5 * step


def _step(axis: np.ndarray) -> float:
    return float(np.median(np.diff(axis))) if axis.size > 1 else 0.1


def coastline_mask(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Land cells of a grid from the GSHHG coastline (cached; see :func:`_compute`)."""
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    return _cached(lat, lon)


def _compute(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Land cells of a grid from the GSHHG coastline.

    Parameters
    ----------
    latitude, longitude
        Cell centres, degrees_north and degrees_east (any longitude convention,
        e.g. -180..180, 0..360 or across the antimeridian), regularly spaced.

    Returns
    -------
    numpy.ndarray
        bool ``(latitude, longitude)``, True on land (land fraction > 0.5).
    """
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    n = subsamples(max(_step(lat), _step(lon)))
    dy, dx = _cell_offsets(_step(lat), n), _cell_offsets(_step(lon), n)
    mask = _coastline()
    land = np.zeros((lat.size, lon.size), dtype=np.float32)
    rows = max(1, _POINTS_PER_CALL // max(1, lon.size * n * n))
    wrapped_lon = (lon[None, :] + dx[:, None] + 180.0) % 360.0 - 180.0  # (n, lon)
    for lo in range(0, lat.size, rows):
        block = lat[lo : lo + rows]
        y = np.clip(block[:, None] + dy[None, :], -89.999, 89.999)  # (rows, n)
        yy = np.broadcast_to(y[:, :, None, None], (block.size, n, n, lon.size))
        xx = np.broadcast_to(wrapped_lon[None, None, :, :], (block.size, n, n, lon.size))
        hits = mask.contains_many(
            np.ascontiguousarray(xx).ravel(), np.ascontiguousarray(yy).ravel()
        )
        land[lo : lo + block.size] = (
            np.asarray(hits, dtype=np.float32).reshape(block.size, n * n, lon.size).mean(axis=1)
        )
    return land > 0.5


def file_mask(path: str | Path, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Land cells of a grid from a user's mask file (see the module docstring).

    Raises
    ------
    InputError
        Naming the file: unreadable, no known mask variable, not 2-D over
        latitude/longitude, or not covering the grid.
    """
    from oceaninterp.io import open_dataset

    path = Path(path)
    ds = open_dataset(path)
    ds = ds.rename({k: v for k, v in {"lat": "latitude", "lon": "longitude"}.items() if k in ds})
    names = [v for v in (*LAND_VARIABLES, *SEA_VARIABLES) if v in ds.data_vars]
    if not names or "latitude" not in ds.coords or "longitude" not in ds.coords:
        raise InputError(
            path,
            "not a land mask: expected latitude/longitude and one of the variables "
            f"{list(LAND_VARIABLES + SEA_VARIABLES)}; found {sorted(map(str, ds.data_vars))}",
        )
    da = ds[names[0]].squeeze(drop=True)
    if set(da.dims) != {"latitude", "longitude"}:
        raise InputError(path, f"variable {names[0]!r} has dims {da.dims}; expected 2-D")
    # the project's longitude alignment (any convention; a global file wraps around)
    da = align_longitudes(da.transpose("latitude", "longitude").astype(np.float64), longitude)
    for dim, wanted in (("latitude", latitude), ("longitude", longitude)):
        axis = da[dim].values
        try:
            da = da.sel(
                {dim: np.asarray(wanted, dtype=np.float64)},
                method="nearest",
                tolerance=0.5 * _step(axis) + 1e-6,
            )
        except KeyError:
            raise InputError(
                path,
                f"the land mask does not cover the grid in {dim} ({np.min(wanted):g} .. "
                f"{np.max(wanted):g} asked, {axis[0]:g} .. {axis[-1]:g} in the file)",
            ) from None
    values = da.values
    land = values > 0.5 if names[0] in LAND_VARIABLES else ~(values > 0.5)
    return np.asarray(land, dtype=bool)


def land_mask(
    latitude: np.ndarray, longitude: np.ndarray, source: str | Path | None = None
) -> np.ndarray:
    """Land cells of a regular grid: from the GSHHG coastline, or a user's mask file.

    Parameters
    ----------
    latitude, longitude
        Cell centres, degrees_north / degrees_east.
    source
        ``None`` for the shipped GSHHG coastline, else a mask file.

    Returns
    -------
    numpy.ndarray
        bool ``(latitude, longitude)``, True on land.
    """
    if source is None:
        return coastline_mask(latitude, longitude)
    return file_mask(source, latitude, longitude)


def source_name(source: str | Path | None) -> str:
    """What ``land_mask_source`` attributes say of a mask's origin."""
    return GSHHG if source is None else Path(source).name
