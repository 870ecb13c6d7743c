"""GHRSST L4 sea surface temperature (OSTIA, CNR/GOS, ...), reader and writer.

GHRSST GDS 2 layout: dimensions ``time`` (1), ``lat``, ``lon``;
``analysed_sst`` (int16 x 0.01 K + 273.15, kelvin); ``mask`` (sea/land/lake/
ice, either ``flag_values`` 1..4 or ``flag_masks`` 1, 2, 4, 8...);
``analysis_error``; ``sea_ice_fraction``.

Reading gives a gridded dataset with dims (``time``, ``latitude``,
``longitude``) and ``sst`` (float32, kelvin), NaN on land and lakes (the mask
applied where it is not fill) and where no analysis exists. Longitudes are
kept as the file has them. :func:`regrid` brings a field onto the cells of
a cube (cell average, or the nearest pixel where the SST is coarser).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.binning import CellGrid, bin_points
from oceaninterp.errors import InputError
from oceaninterp.io import atomic_path
from oceaninterp.products._netcdf import decoded_times, header, in_degrees, load
from oceaninterp.products.format import ProductFormat

NAME = "sst_l4"
DESCRIPTION = "GHRSST L4 sea surface temperature"
_CELSIUS = {"celsius", "degc", "degree_celsius", "degrees_celsius", "deg_c"}
_KELVIN = {"kelvin", "k", "degk", "degrees_kelvin"}
_WATER_MASK_BIT = 1
_LAND_MASK_BIT = 2


def can_open(path: str | Path) -> bool:
    """True for a GHRSST L4 file (``analysed_sst`` over time, lat, lon)."""
    hdr = header(path)
    dims = hdr.variables.get("analysed_sst")
    return dims is not None and len(dims) == 3 and dims[1:] == ("lat", "lon")


def _kelvin(path: Path, da: xr.DataArray) -> np.ndarray:
    units = str(da.attrs.get("units", "")).strip().lower().replace(" ", "_")
    values = np.asarray(da.values, dtype=np.float32)
    if units in _KELVIN:
        return values
    if units in _CELSIUS:
        return values + np.float32(273.15)
    raise InputError(
        path, f"variable {da.name!r} has units {units!r}; expected kelvin (or degrees Celsius)"
    )


def _water(mask: xr.DataArray) -> np.ndarray:
    """False where the GHRSST mask says land or lake; True for sea, sea ice and mask fill.

    Some producers (e.g. CNR Black Sea REP) ship a mask that is all fill value:
    there the analysis' own fill value is the only land mask.
    """
    values = np.asarray(mask.values)
    finite = np.isfinite(values)
    codes = np.where(finite, values, 0).astype(np.int64)
    if "flag_masks" in mask.attrs:
        return ~finite | ((codes & _WATER_MASK_BIT > 0) & (codes & _LAND_MASK_BIT == 0))
    meanings = str(mask.attrs.get("flag_meanings", "sea land lake ice")).split()
    flag_values = np.atleast_1d(mask.attrs.get("flag_values", np.arange(1, len(meanings) + 1)))
    water = [int(v) for v, m in zip(flag_values, meanings, strict=False) if m in ("sea", "ice")]
    return ~finite | np.isin(codes, water)


def open(path: str | Path) -> xr.Dataset:  # noqa: A001
    """Read an L4 SST file as ``sst`` (time, latitude, longitude) in kelvin, land masked.

    Raises
    ------
    InputError
        When ``analysed_sst`` has units other than kelvin or Celsius, or the
        file cannot be read.
    """
    path = Path(path)
    if not can_open(path):
        raise InputError(path, "missing variable 'analysed_sst' over (time, lat, lon)")
    ds = load(path, ["analysed_sst", "mask", "time", "lat", "lon"])
    sst = _kelvin(path, ds["analysed_sst"])
    if "mask" in ds:
        sst = np.where(_water(ds["mask"]), sst, np.float32(np.nan))
    times = decoded_times(path, ds["time"]).astype("datetime64[D]").astype("datetime64[ns]")
    out = xr.Dataset(
        {
            "sst": (
                ("time", "latitude", "longitude"),
                sst.astype(np.float32),
                {
                    "standard_name": "sea_surface_foundation_temperature",
                    "units": "K",
                    "long_name": "analysed sea surface temperature",
                },
            )
        },
        coords={
            "time": times,
            "latitude": (
                "latitude",
                in_degrees(path, ds["lat"], "latitude"),
                {"units": "degrees_north"},
            ),
            "longitude": (
                "longitude",
                in_degrees(path, ds["lon"], "longitude"),
                {"units": "degrees_east"},
            ),
        },
        attrs={"source": str(path), "product": NAME},
    )
    return out.sortby(["latitude", "longitude"])


def regrid(sst: xr.Dataset, grid: CellGrid) -> tuple[np.ndarray, np.ndarray]:
    """L4 SST as read by :func:`open` (``sst``, kelvin) onto the cells of ``grid``.

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


def grid_sst(paths: Sequence[str | Path], grid: CellGrid) -> np.ndarray:
    """The L4 SST of files (kelvin) on the cells of ``grid``, float32, NaN where none.

    Each file is regridded by :func:`regrid`; a cell's value is the mean over
    the files holding its day.
    """
    sums = np.zeros(grid.shape)
    counts = np.zeros(grid.shape, dtype=np.int64)
    for path in paths:
        s, c = regrid(open(path), grid)
        sums += s
        counts += c
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).astype(np.float32)


def _nearest(axis: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest ``axis`` value (ascending) to each target, and whether it
    lies within one axis step."""
    step = float(np.median(np.abs(np.diff(axis)))) if axis.size > 1 else np.inf
    right = np.clip(np.searchsorted(axis, targets), 1, max(axis.size - 1, 1))
    left = right - 1
    pick = np.where(np.abs(targets - axis[left]) <= np.abs(axis[right] - targets), left, right)
    pick = np.clip(pick, 0, axis.size - 1)
    return pick, np.abs(axis[pick] - targets) <= step


def write(sst: xr.DataArray, path: str | Path) -> Path:
    """Write ``analysed_sst`` (time, lat, lon) in kelvin as a GHRSST L4 file (atomic).

    Dimensions may be named ``lat``/``lon`` or ``latitude``/``longitude``. NaN
    cells are written as land in ``mask`` (flag 2) and as the fill value in
    ``analysed_sst``; ``analysed_sst`` is packed int16 x 0.01 K + 273.15.
    """
    path = Path(path)
    renames = {"latitude": "lat", "longitude": "lon"}
    sst = sst.rename({k: v for k, v in renames.items() if k in sst.dims})
    if tuple(sst.dims) != ("time", "lat", "lon"):
        raise InputError(path, f"analysed_sst must be over (time, lat, lon), got {sst.dims}")
    values = np.asarray(sst.values, dtype=np.float64)
    mask = np.where(np.isfinite(values), 1, 2).astype(np.int8)
    ds = xr.Dataset(
        {
            "analysed_sst": (
                sst.dims,
                values,
                {
                    "long_name": "analysed sea surface temperature",
                    "standard_name": "sea_surface_foundation_temperature",
                    "units": "kelvin",
                },
            ),
            "mask": (
                sst.dims,
                mask,
                {
                    "long_name": "sea/land/lake/ice field composite mask",
                    "units": "1",
                    "flag_values": np.array([1, 2, 3, 4], np.int8),
                    "flag_meanings": "sea land lake ice",
                },
            ),
        },
        coords={
            "time": ("time", sst["time"].values, {"standard_name": "time", "axis": "T"}),
            "lat": (
                "lat",
                sst["lat"].values.astype(np.float32),
                {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"},
            ),
            "lon": (
                "lon",
                sst["lon"].values.astype(np.float32),
                {"standard_name": "longitude", "units": "degrees_east", "axis": "X"},
            ),
        },
        attrs={
            "Conventions": "CF-1.4",
            "title": "L4 SST analysis (oceaninterp)",
            "processing_level": "L4",
            "gds_version_id": "2.0",
            "history": str(sst.attrs.get("history", "written by oceaninterp")),
        },
    )
    encoding: dict[str, dict[str, Any]] = {
        "analysed_sst": {
            "dtype": "int16",
            "scale_factor": 0.01,
            "add_offset": 273.15,
            "_FillValue": np.int16(-32768),
            "zlib": True,
        },
        "mask": {"_FillValue": np.int8(-128), "zlib": True},
        "time": {
            "units": "seconds since 1981-01-01 00:00:00",
            "calendar": "gregorian",
            "dtype": "int32",
            "_FillValue": None,
        },
        "lat": {"_FillValue": None},
        "lon": {"_FillValue": None},
    }
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


#: This format in the registry (:mod:`oceaninterp.products`).
FORMAT = ProductFormat(NAME, DESCRIPTION, "gridded", can_open, open, write, frozenset(), ("sst",))
