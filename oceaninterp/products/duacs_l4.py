"""DUACS / CMEMS L4 gridded sea level (SEALEVEL_*_PHY_L4_*), reader and writer.

Layouts read
------------
- ``*_allsat_phy_l4_*`` since 2018: dims ``time``, ``latitude``,
  ``longitude``, ``nv``; ``sla``, ``adt``, ``ugos``, ``vgos``, ``ugosa``,
  ``vgosa``, ``err_sla`` (int32 x 1e-4, _FillValue -2147483647), ``crs``,
  ``lat_bnds``/``lon_bnds``; time in days since 1950-01-01. Some published
  extracts lack the ``time`` variable: the day then comes from the file name
  (``..._<YYYYMMDD>_<production YYYYMMDD>.nc``), else ``time_coverage_start``.
- older ``*_msla_h_*`` files: dims ``lat``/``lon`` and the mapping error named
  ``err``; longitudes may run past 360 (e.g. 354..397 for the Mediterranean).

:func:`open` returns a gridded dataset with dims ``(time, latitude,
longitude)``, longitudes in [-180, 180) when that keeps them ascending, and the
variables present among :data:`VARIABLES` decoded to float32 (metres, m s-1);
``err`` is renamed ``err_sla``.

:func:`write` writes maps with the same names and encodings (int32 x 1e-4,
_FillValue -2147483647, time in days since 1950-01-01, ``lat_bnds``/
``lon_bnds`` over ``nv``, ``crs``) and CF-1.11 + ACDD-1.3 metadata from
:mod:`oceaninterp.cf`, as NetCDF-4 or Zarr v3 (by suffix), atomically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp import cf
from oceaninterp.errors import InputError
from oceaninterp.io import ZARR_SUFFIXES, open_dataset, output_format, write_dataset
from oceaninterp.products._netcdf import READ_ERRORS, header, text_attr
from oceaninterp.products.schema import wrap_longitude

NAME = "duacs_l4"
DESCRIPTION = "DUACS/CMEMS L4 gridded sea level"

#: Packing of every data variable: metres (or m s-1) per count.
SCALE = 1e-4
FILL_VALUE = np.int32(-2147483647)
DIMS = ("time", "latitude", "longitude")

_SSH_ERROR_NAME = "sea_surface_height_above_sea_level standard_error"

#: CF attributes of each DUACS L4 variable, by name (the DUACS long names).
VARIABLE_ATTRS: dict[str, dict[str, str]] = {
    "sla": {
        "standard_name": "sea_surface_height_above_sea_level",
        "long_name": "Sea level anomaly",
        "units": "m",
    },
    "adt": {
        "standard_name": "sea_surface_height_above_geoid",
        "long_name": "Absolute dynamic topography",
        "units": "m",
    },
    "ugos": {
        "standard_name": "surface_geostrophic_eastward_sea_water_velocity",
        "long_name": "Absolute geostrophic velocity: zonal component",
        "units": "m s-1",
    },
    "vgos": {
        "standard_name": "surface_geostrophic_northward_sea_water_velocity",
        "long_name": "Absolute geostrophic velocity: meridian component",
        "units": "m s-1",
    },
    "ugosa": {
        "standard_name": (
            "surface_geostrophic_eastward_sea_water_velocity_assuming_sea_level_for_geoid"
        ),
        "long_name": "Geostrophic velocity anomalies: zonal component",
        "units": "m s-1",
    },
    "vgosa": {
        "standard_name": (
            "surface_geostrophic_northward_sea_water_velocity_assuming_sea_level_for_geoid"
        ),
        "long_name": "Geostrophic velocity anomalies: meridian component",
        "units": "m s-1",
    },
    "err_sla": {
        "standard_name": _SSH_ERROR_NAME,
        "long_name": "Formal mapping error",
        "units": "m",
    },
}
VARIABLES = tuple(VARIABLE_ATTRS)

#: Geostrophic velocity names for each sea-level variable (DUACS convention).
VELOCITY_NAMES = {"adt": ("ugos", "vgos"), "sla": ("ugosa", "vgosa")}

_RENAMES = {"lat": "latitude", "lon": "longitude", "err": "err_sla"}
_NAME_DATES = re.compile(r"_(\d{8})_(\d{8})$")


def _is_zarr(path: Path) -> bool:
    return path.suffix.lower() in ZARR_SUFFIXES or path.is_dir()


def can_open(path: str | Path) -> bool:
    """True for a gridded file with ``sla`` or ``adt`` over latitude and longitude."""
    path = Path(path)
    if _is_zarr(path):
        try:
            with open_dataset(path) as ds:
                variables = {str(k): tuple(map(str, v.dims)) for k, v in ds.variables.items()}
        except InputError:
            return False
    else:
        variables = header(path).variables
    spatial = ({"latitude", "longitude"}, {"lat", "lon"})
    return any(
        name in variables and any(s <= set(variables[name]) for s in spatial)
        for name in ("sla", "adt")
    )


def _day_from_name_or_attrs(path: Path, attrs: Mapping[str, Any]) -> np.datetime64:
    match = _NAME_DATES.search(path.name.split(".")[0])
    if match:
        return np.datetime64(f"{match[1][:4]}-{match[1][4:6]}-{match[1][6:]}", "ns")
    start = text_attr(dict(attrs), "time_coverage_start").strip()
    if start:
        return np.datetime64(start[:10], "ns")
    raise InputError(
        path, "no 'time' variable, no date in the file name and no time_coverage_start"
    )


def open(path: str | Path, *, variables: Iterable[str] | None = None) -> xr.Dataset:  # noqa: A001
    """Read a DUACS L4 file (or an oceaninterp map) as a gridded dataset.

    Parameters
    ----------
    path
        A NetCDF file or Zarr store.
    variables
        Names among :data:`VARIABLES` to keep (``err`` may be asked as
        ``err_sla``); default: every one present.

    Returns
    -------
    xarray.Dataset
        Dims ``(time, latitude, longitude)``; float32 variables in metres or
        m s-1 with NaN where the product is masked; coordinates ``time``
        (datetime64, UTC), ``latitude`` (degrees_north, ascending), ``longitude``
        (degrees_east, ascending; wrapped to [-180, 180) unless that breaks the
        order); the global attributes of the file plus ``source``.
    """
    path = Path(path)
    try:
        ds = open_dataset(path)
        ds = ds.rename({k: v for k, v in _RENAMES.items() if k in ds.variables})
    except READ_ERRORS as exc:
        raise InputError(path, f"cannot be read as a DUACS L4 file ({exc})") from exc
    present = [v for v in VARIABLES if v in ds.data_vars]
    wanted = present if variables is None else list(variables)
    missing = [v for v in wanted if v not in present]
    if missing or not wanted:
        raise InputError(path, f"missing variable(s) {missing or list(VARIABLES)}; found {present}")
    for name in ("latitude", "longitude"):
        if name not in ds.variables:
            raise InputError(path, f"missing coordinate {name!r} (degrees)")
    out = ds[wanted]
    if "time" not in ds.variables:
        day = _day_from_name_or_attrs(path, ds.attrs)
        out = (
            out.expand_dims(time=[day]) if "time" not in out.dims else out.assign_coords(time=[day])
        )
    out = out.drop_vars([v for v in out.coords if v not in DIMS])
    out = out.transpose(*DIMS)
    lon = wrap_longitude(out["longitude"].values)
    if np.all(np.diff(lon) > 0):
        out = out.assign_coords(longitude=lon)
    if out.sizes["latitude"] > 1 and out["latitude"].values[1] < out["latitude"].values[0]:
        out = out.isel(latitude=slice(None, None, -1))
    out = out.assign_coords(
        latitude=out["latitude"].values.astype(np.float64),
        longitude=out["longitude"].values.astype(np.float64),
    )
    for name in wanted:
        out[name] = out[name].astype(np.float32)
        out[name].attrs = {k: v for k, v in ds[name].attrs.items() if k != "coordinates"}
    out.attrs = dict(ds.attrs)
    out.attrs["source"] = str(path)
    return out


def to_product(
    maps: xr.Dataset,
    *,
    history: str = "written by oceaninterp",
    parent_history: str = "",
    source_files: Iterable[str | Path] = (),
    title: str = "oceaninterp gridded sea surface height (L4)",
    summary: str = "Daily sea surface height maps interpolated from satellite altimetry.",
    **extra: Any,
) -> xr.Dataset:
    """Attach the DUACS L4 names' CF attributes, bounds, ``crs`` and global attributes.

    Parameters
    ----------
    maps
        Dims ``(time, latitude, longitude)``; variables named as in
        :data:`VARIABLES` (floats, metres or m s-1, NaN where masked).
    history
        The command that made the maps (stamped with the UTC time).
    parent_history
        The inputs' ``history``, kept before this step's line.
    source_files
        Input files (their names go to ``source_files``).
    title, summary
        ACDD title and summary.
    extra
        Further global attributes (e.g. ``method``, ``ssh_kind``).

    Raises
    ------
    ValueError
        When a variable is not a DUACS L4 name or is not over ``(time, latitude, longitude)``.
    """
    unknown = [str(v) for v in maps.data_vars if v not in VARIABLE_ATTRS]
    if unknown:
        raise ValueError(f"not DUACS L4 variable names: {unknown}; expected some of {VARIABLES}")
    ds = maps.transpose(*DIMS)
    ds = ds.drop_vars([v for v in ds.coords if v not in DIMS])
    for name in ds.data_vars:
        attrs = dict(VARIABLE_ATTRS[str(name)])
        attrs["cell_methods"] = "time: mean (interval: 1 day)"
        attrs["coverage_content_type"] = (
            "qualityInformation" if name == "err_sla" else "modelResult"
        )
        if name in ("sla", "adt") and "err_sla" in ds:
            attrs["ancillary_variables"] = "err_sla"
        ds[name].attrs = attrs
        ds[name].encoding = {}
    ds = cf.cf_grid_coords(ds)
    ds.attrs = cf.global_attributes(
        ds, title=title, summary=summary, history=history, source_files=source_files, **extra
    )
    if parent_history:
        ds.attrs["history"] = f"{parent_history.rstrip()}\n{ds.attrs['history']}"
    return ds


def encoding(ds: xr.Dataset, fmt: str) -> dict[str, dict[str, Any]]:
    """Encoding of a :func:`to_product` dataset for ``fmt`` (``"netcdf"`` or ``"zarr"``).

    Data variables are int32 x 1e-4 with _FillValue -2147483647, chunked one
    day at a time (at most 1024 x 1024 cells for Zarr); coordinates as
    :func:`oceaninterp.cf.encoding`.
    """
    enc = cf.encoding(ds, fmt)
    for name in ds.data_vars:
        if name not in VARIABLE_ATTRS:
            continue
        entry = enc.setdefault(str(name), {})
        entry.update(dtype="int32", scale_factor=SCALE, _FillValue=FILL_VALUE)
        chunks = (1, min(ds.sizes["latitude"], 1024), min(ds.sizes["longitude"], 1024))
        entry["chunksizes" if fmt == "netcdf" else "chunks"] = chunks
    return enc


def write(maps: xr.Dataset, path: str | Path, *, overwrite: bool = False, **attrs: Any) -> Path:
    """Write maps as a DUACS-L4-like NetCDF-4 file or Zarr v3 store (atomic).

    Parameters
    ----------
    maps
        As for :func:`to_product` (may be dask-backed: written chunk by chunk).
    path
        ``.nc`` or ``.zarr``.
    overwrite
        Replace an existing output.
    attrs
        Keyword arguments of :func:`to_product` (``history``, ``source_files``...).
    """
    product = to_product(maps, **attrs)
    return write_dataset(
        product, path, overwrite=overwrite, encoding=encoding(product, output_format(path))
    )
