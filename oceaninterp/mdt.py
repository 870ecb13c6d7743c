"""Mean dynamic topography (MDT): read one, bring it onto a cube's grid, write one.

DUACS maps the sea level anomaly (SLA) and adds an MDT back: ``adt = sla + mdt``.
oceaninterp does the same when given an MDT file (``--mdt``): the OI and an
MDT-trained 4DVarNet map ``cube ssh - mdt`` and write both ``sla`` and ``adt``.

An MDT file is NetCDF or Zarr with a variable ``mdt`` (a length: m, cm or mm)
over ``latitude``/``longitude`` (or ``lat``/``lon``), possibly with a leading
``time`` dimension of length 1: the layout of the CMEMS MDT product
(``cnes_obs-sl_glo_phy-mdt_my_0.125deg_P20Y``) and of the ``mdt.nc`` written by
``oceaninterp simulate obs``. Longitudes may run 0..360 or -180..180.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp import cf
from oceaninterp.errors import InputError
from oceaninterp.io import open_dataset, output_format, write_dataset
from oceaninterp.products._netcdf import in_metres

VARIABLE = "mdt"
#: CF attributes of the ``mdt`` variable written by :func:`write_mdt` (CMEMS MDT names).
ATTRS = {
    "standard_name": "sea_surface_height_above_geoid",
    "long_name": "Mean dynamic topography",
    "units": "m",
    "coverage_content_type": "modelResult",
}
_RENAMES = {"lat": "latitude", "lon": "longitude"}


@dataclass(frozen=True)
class GriddedMDT:
    """An MDT brought onto a cube's grid.

    Attributes
    ----------
    values
        float32 ``(latitude, longitude)`` of the cube, metres; NaN where the
        MDT has no value (land) and the cube observes nothing.
    path
        The MDT file.
    sha256
        Digest of the MDT as read (coordinates and values in metres): the same
        MDT in another file layout gives the same digest.
    """

    values: np.ndarray
    path: Path
    sha256: str


def align_longitudes(da: xr.DataArray, longitude: np.ndarray) -> xr.DataArray:
    """``da`` with its ``longitude`` (degrees_east) brought next to a grid's longitudes.

    The field's longitudes are moved into the 360 degree window centred on the
    middle of ``longitude`` (so a field in 0..360 meets a grid in -180..180, a
    box across the antimeridian such as 170..190, or a global grid), and
    sorted. A global field (its longitudes go all the way round) is also
    extended by two wrapped columns on each side, so that interpolation at the
    window's edges sees both neighbours.
    """
    from oceaninterp.cube import is_global

    target = np.asarray(longitude, dtype=np.float64)
    near = 0.5 * (float(target.min()) + float(target.max()))
    lon = np.asarray(da["longitude"].values, dtype=np.float64)
    outside = (lon < near - 180.0) | (lon >= near + 180.0)  # others keep their exact values
    shifted = np.where(outside, near - 180.0 + (lon - near + 180.0) % 360.0, lon)
    out = da.assign_coords(longitude=shifted).sortby("longitude").sortby("latitude")
    if is_global(out["longitude"].values) and out.sizes["longitude"] > 4:
        west = out.isel(longitude=slice(-2, None))
        east = out.isel(longitude=slice(0, 2))
        west = west.assign_coords(longitude=west["longitude"].values - 360.0)
        east = east.assign_coords(longitude=east["longitude"].values + 360.0)
        out = xr.concat([west, out, east], dim="longitude")
    return out


def read_mdt(path: str | Path) -> xr.DataArray:
    """The MDT of a file, float64 metres over ascending ``(latitude, longitude)``.

    Raises
    ------
    InputError
        Naming the file: no ``mdt`` variable, units not a length, dims other
        than (latitude, longitude) after a length-1 ``time``, or no finite value.
    """
    path = Path(path)
    ds = open_dataset(path)
    ds = ds.rename({k: v for k, v in _RENAMES.items() if k in ds.variables})
    if VARIABLE not in ds.data_vars:
        raise InputError(
            path,
            f"no variable {VARIABLE!r} (mean dynamic topography, m); "
            f"found {sorted(map(str, ds.data_vars))}",
        )
    da = ds[VARIABLE]
    if "time" in da.dims:
        if da.sizes["time"] != 1:
            raise InputError(
                path, f"variable {VARIABLE!r} has {da.sizes['time']} times; expected one (a mean)"
            )
        da = da.isel(time=0, drop=True)
    if set(da.dims) != {"latitude", "longitude"}:
        raise InputError(
            path, f"variable {VARIABLE!r} has dims {da.dims}; expected (latitude, longitude)"
        )
    da = da.transpose("latitude", "longitude")
    values = in_metres(path, da)
    if not np.isfinite(values).any():
        raise InputError(path, f"variable {VARIABLE!r} has no finite value")
    out = xr.DataArray(
        values,
        dims=("latitude", "longitude"),
        coords={
            "latitude": np.asarray(da["latitude"].values, dtype=np.float64),
            "longitude": np.asarray(da["longitude"].values, dtype=np.float64),
        },
        name=VARIABLE,
        attrs={"units": "m"},
    )
    return out.sortby("latitude").sortby("longitude")


def mdt_digest(mdt: xr.DataArray) -> str:
    """SHA-256 (hex) of an MDT's latitudes, longitudes and values (float64 metres)."""
    h = hashlib.sha256()
    for values in (mdt["latitude"].values, mdt["longitude"].values, mdt.values):
        h.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return h.hexdigest()


def _covers(axis: np.ndarray, wanted: np.ndarray) -> bool:
    """Whether ``wanted`` lies within ``axis``'s range grown by half its step."""
    half = 0.5 * float(np.median(np.diff(axis))) if axis.size > 1 else 0.0
    return bool(wanted.min() >= axis[0] - half - 1e-9 and wanted.max() <= axis[-1] + half + 1e-9)


def mdt_on_grid(
    path: str | Path,
    latitude: np.ndarray,
    longitude: np.ndarray,
    observed: np.ndarray | None = None,
) -> GriddedMDT:
    """Read an MDT file and interpolate it (bilinear) onto a cube's cell centres.

    The interpolation leaves NaN (land) neighbours out: a cube cell next to
    the coast gets the weighted mean of the finite MDT values around it, and
    is NaN only when all of them are.

    Parameters
    ----------
    path
        The MDT file (see the module docstring).
    latitude, longitude
        The cube's ascending cell centres, degrees_north / degrees_east.
    observed
        Boolean ``(latitude, longitude)``: the cells the cube observes on some
        day; the MDT must be finite there.

    Raises
    ------
    InputError
        Naming the MDT file: unreadable (see :func:`read_mdt`), not covering
        the cube's box (cube centres farther than half an MDT cell outside the
        MDT's centres), or NaN over cells the cube observes.
    """
    path = Path(path)
    native = read_mdt(path)
    lat = np.asarray(latitude, dtype=np.float64)
    lon = np.asarray(longitude, dtype=np.float64)
    aligned = align_longitudes(native, lon)
    mdt_lat, mdt_lon = aligned["latitude"].values, aligned["longitude"].values
    if not (_covers(mdt_lat, lat) and _covers(mdt_lon, lon)):
        raise InputError(
            path,
            f"the MDT ({mdt_lat[0]:g}..{mdt_lat[-1]:g} N, {native['longitude'].values[0]:g}.."
            f"{native['longitude'].values[-1]:g} E) does not cover the cube's box "
            f"({lat[0]:g}..{lat[-1]:g} N, {lon[0]:g}..{lon[-1]:g} E)",
        )
    # Cube centres within half a cell outside the MDT's centres take its edge values.
    where = {
        "latitude": np.clip(lat, mdt_lat[0], mdt_lat[-1]),
        "longitude": np.clip(lon, mdt_lon[0], mdt_lon[-1]),
    }
    finite = aligned.notnull()
    weight = finite.astype(np.float64).interp(where).values
    total = aligned.fillna(0.0).astype(np.float64).interp(where).values
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(weight > 1e-9, total / weight, np.nan).astype(np.float32)
    if observed is not None:
        missing = np.asarray(observed, dtype=bool) & ~np.isfinite(values)
        if missing.any():
            i, j = np.argwhere(missing)[0]
            raise InputError(
                path,
                f"the MDT is NaN over {int(missing.sum())} cell(s) the cube observes "
                f"(e.g. {lat[i]:g} N, {lon[j]:g} E)",
            )
    return GriddedMDT(values=values, path=path, sha256=mdt_digest(native))


def write_mdt(
    mdt: xr.DataArray,
    path: str | Path,
    *,
    history: str,
    source_files: Iterable[str | Path] = (),
    summary: str = "Mean dynamic topography (MDT): mean sea surface height above the geoid.",
    overwrite: bool = False,
    **attrs: Any,
) -> Path:
    """Write an MDT as a CF-1.11 + ACDD-1.3 NetCDF-4 file or Zarr v3 store (atomic).

    Parameters
    ----------
    mdt
        Metres over ``(latitude, longitude)`` (degrees_north / degrees_east,
        cell centres); NaN where there is none (land).
    path
        ``.nc`` or ``.zarr``.
    history
        The command that made it.
    source_files
        Files it was computed from.
    summary
        ACDD summary (say how the MDT was made).
    overwrite
        Replace an existing output.
    attrs
        Further global attributes (e.g. ``time_coverage_start`` of the mean).
    """
    da = mdt.transpose("latitude", "longitude").astype(np.float32)
    ds = xr.Dataset(
        {VARIABLE: (("latitude", "longitude"), da.values, dict(ATTRS))},
        coords={
            "latitude": np.asarray(da["latitude"].values, dtype=np.float64),
            "longitude": np.asarray(da["longitude"].values, dtype=np.float64),
        },
    )
    ds = cf.cf_grid_coords(ds)
    ds.attrs = cf.global_attributes(
        ds,
        title="oceaninterp mean dynamic topography",
        summary=summary,
        history=history,
        source_files=source_files,
        **attrs,
    )
    return write_dataset(
        ds, path, overwrite=overwrite, encoding=cf.encoding(ds, output_format(path))
    )
