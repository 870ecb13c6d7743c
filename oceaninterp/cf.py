"""CF-1.11 and ACDD-1.3 metadata shared by every gridded output (cubes, maps).

Three helpers, applied in this order before writing::

    ds = cf_grid_coords(ds)
    ds.attrs.update(global_attributes(ds, title=..., summary=..., history=...,
                                      source_files=paths))
    write_dataset(ds, path, encoding=encoding(ds, output_format(path)))

Coordinates are named ``time``, ``latitude`` and ``longitude`` (the DUACS
names); latitude/longitude are cell centres in degrees on WGS-84.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp import __version__

CONVENTIONS = "CF-1.11, ACDD-1.3"
STANDARD_NAME_VOCABULARY = "CF Standard Name Table v93"
#: As xarray writes it (it drops " 00:00:00" from eagerly encoded times but not from
#: lazily encoded ones, e.g. dask-backed ``time_bnds``: one spelling keeps them equal).
TIME_UNITS = "days since 1950-01-01"
CALENDAR = "standard"
BOUNDS_DIM = "nv"
CRS_NAME = "crs"
PROJECT_URL = "https://github.com/oceaninterp/oceaninterp"
CONTACT = "oceaninterp@users.noreply.github.com"

_COORD_ATTRS: dict[str, dict[str, str]] = {
    "time": {"standard_name": "time", "long_name": "Time", "axis": "T"},
    "latitude": {
        "standard_name": "latitude",
        "long_name": "Latitude",
        "units": "degrees_north",
        "axis": "Y",
    },
    "longitude": {
        "standard_name": "longitude",
        "long_name": "Longitude",
        "units": "degrees_east",
        "axis": "X",
    },
}
_BOUNDS_NAMES = {"time": "time_bnds", "latitude": "lat_bnds", "longitude": "lon_bnds"}


def _centre_bounds(centres: np.ndarray) -> np.ndarray:
    """Cell edges (n, 2) of a regular 1-D axis of cell centres."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.size == 1:
        half = 0.5
    else:
        half = 0.5 * float(np.median(np.diff(centres)))
    return np.stack([centres - half, centres + half], axis=-1)


def _time_bounds(times: np.ndarray) -> np.ndarray:
    """Daily cell bounds (n, 2): [t, t + 1 day) for daily times, else midpoints."""
    times = np.asarray(times).astype("datetime64[ns]")
    if times.size > 1:
        step = np.median(np.diff(times).astype(np.int64)).astype("timedelta64[ns]")
    else:
        step = np.timedelta64(1, "D").astype("timedelta64[ns]")
    return np.stack([times, times + step], axis=-1)


def crs_variable() -> xr.DataArray:
    """The WGS-84 ``latitude_longitude`` grid-mapping variable (CF section 5.6)."""
    from pyproj import CRS

    return xr.DataArray(
        np.int32(0),
        attrs={
            "grid_mapping_name": "latitude_longitude",
            "long_name": "CRS definition",
            "semi_major_axis": 6378137.0,
            "inverse_flattening": 298.257223563,
            "longitude_of_prime_meridian": 0.0,
            "crs_wkt": CRS.from_epsg(4326).to_wkt(),
            "epsg_code": "EPSG:4326",
        },
    )


def cf_grid_coords(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` with CF coordinate attributes, bounds and a ``crs`` variable.

    Adds ``standard_name``/``long_name``/``units``/``axis`` and a ``bounds``
    attribute to each of the ``time``, ``latitude`` and ``longitude`` coordinates
    present, the bounds variables ``time_bnds``/``lat_bnds``/``lon_bnds`` over
    (coordinate, ``nv``), a scalar ``crs`` grid-mapping variable, and
    ``grid_mapping = "crs"`` on every data variable over latitude and longitude.
    Time bounds are one day for daily data (the cell is the day); time gets
    ``units_metadata = "leap_seconds: none"`` (CF-1.11, UTC without leap seconds).
    """
    ds = ds.copy()
    for name, attrs in _COORD_ATTRS.items():
        if name not in ds.coords:
            continue
        bounds_name = _BOUNDS_NAMES[name]
        values = ds[name].values
        edges = _time_bounds(values) if name == "time" else _centre_bounds(values)
        ds[name].attrs.update(attrs)
        ds[name].attrs["bounds"] = bounds_name
        if name == "time":
            ds[name].attrs["units_metadata"] = "leap_seconds: none"
        ds[bounds_name] = ((name, BOUNDS_DIM), edges)
        ds[bounds_name].attrs = {}
    if "latitude" in ds.coords and "longitude" in ds.coords:
        ds[CRS_NAME] = crs_variable()
        for var in ds.data_vars.values():
            if {"latitude", "longitude"} <= set(var.dims):
                var.attrs["grid_mapping"] = CRS_NAME
    return ds


def _iso(value: np.datetime64) -> str:
    return str(np.asarray(value, dtype="datetime64[s]")) + "Z"


def _coverage(ds: xr.Dataset) -> dict[str, Any]:
    """geospatial_* and time_coverage_* attributes measured on the data.

    As DUACS: the latitude/longitude limits are those of the cell centres
    (``valid_min``/``valid_max`` of the coordinates), so that ``min +
    k * resolution`` gives the k-th centre; the time coverage runs from the
    start of the first day to the end of the last (from ``time_bnds``).
    """
    attrs: dict[str, Any] = {}
    for dim, short, units in (
        ("latitude", "lat", "degrees_north"),
        ("longitude", "lon", "degrees_east"),
    ):
        if dim not in ds.coords or not ds.sizes.get(dim, 0):
            continue
        values = ds[dim].values
        attrs[f"geospatial_{short}_min"] = float(np.min(values))
        attrs[f"geospatial_{short}_max"] = float(np.max(values))
        attrs[f"geospatial_{short}_units"] = units
        if ds.sizes[dim] > 1:
            attrs[f"geospatial_{short}_resolution"] = float(np.median(np.diff(ds[dim].values)))
    if "time" in ds.coords and ds.sizes.get("time", 0):
        times = ds["time_bnds"].values if "time_bnds" in ds else ds["time"].values
        start, end = np.min(times), np.max(times)
        attrs.update(
            time_coverage_start=_iso(start),
            time_coverage_end=_iso(end),
            time_coverage_duration=_iso_duration(end - start),
        )
        if ds.sizes["time"] > 1:
            step = np.median(np.diff(ds["time"].values).astype(np.int64))
            attrs["time_coverage_resolution"] = _iso_duration(np.timedelta64(int(step), "ns"))
        else:
            attrs["time_coverage_resolution"] = "P1D"
    return attrs


def _iso_duration(delta: np.timedelta64) -> str:
    """An ISO-8601 duration such as ``P10D`` or ``P1DT6H``."""
    seconds = int(np.timedelta64(delta, "s").astype(np.int64))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"P{days}D"
    if hours or minutes or secs:
        out += f"T{hours}H{minutes}M{secs}S"
    return out


def global_attributes(
    ds: xr.Dataset,
    *,
    title: str,
    summary: str,
    history: str,
    source_files: Iterable[str | Path] = (),
    keywords: str = "EARTH SCIENCE > OCEANS > SEA SURFACE TOPOGRAPHY > SEA SURFACE HEIGHT",
    processing_level: str = "L4",
    **extra: Any,
) -> dict[str, Any]:
    """CF-1.11 + ACDD-1.3 global attributes for a gridded dataset.

    Parameters
    ----------
    ds
        The dataset to describe (after :func:`cf_grid_coords`): spatial and
        time coverage are measured on its coordinates and bounds.
    title, summary
        ACDD ``title`` and ``summary``.
    history
        The command that made the data (e.g. the ``oceaninterp ...`` line);
        written as ``"<UTC timestamp>: <history>"``.
    source_files
        Input files; written as ``source_files`` (names joined by ``", "``).
    keywords, processing_level
        ACDD keywords (GCMD) and processing level.
    extra
        Further attributes, which override the defaults (e.g. ``ssh_kind``).
    """
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    files = [str(f) for f in source_files]
    attrs: dict[str, Any] = {
        "Conventions": CONVENTIONS,
        "title": title,
        "summary": summary,
        "keywords": keywords,
        "keywords_vocabulary": "GCMD Science Keywords",
        "standard_name_vocabulary": STANDARD_NAME_VOCABULARY,
        "history": f"{now}: {history}",
        "source": "satellite altimetry" if files else "oceaninterp",
        "source_files": ", ".join(Path(f).name for f in files),
        "processing_level": processing_level,
        "date_created": now,
        "date_modified": now,
        "date_issued": now,
        "creator_name": "oceaninterp",
        "creator_type": "institution",
        "creator_url": PROJECT_URL,
        "creator_email": CONTACT,
        "contact": CONTACT,
        "institution": "oceaninterp users",
        "publisher_name": "oceaninterp",
        "publisher_url": PROJECT_URL,
        "publisher_email": CONTACT,
        "project": "oceaninterp",
        "product_version": __version__,
        "software_version": f"oceaninterp {__version__}",
        "references": PROJECT_URL,
        "license": "Derived from the input products: their licences apply (see source_files).",
        "cdm_data_type": "Grid",
        "naming_authority": "oceaninterp",
        "id": f"oceaninterp-{now}",
        "comment": "Made by oceaninterp " + __version__,
        "acknowledgement": "Cite the producers of the input products listed in source_files.",
        "geospatial_bounds_crs": "EPSG:4326",
        "geospatial_vertical_min": 0.0,
        "geospatial_vertical_max": 0.0,
        "geospatial_vertical_positive": "up",
        "geospatial_vertical_units": "m",
        "geospatial_vertical_resolution": "point",
    }
    attrs.update(_coverage(ds))
    if {"geospatial_lat_min", "geospatial_lon_min"} <= set(attrs):
        attrs["geospatial_bounds"] = (
            "POLYGON(("
            f"{attrs['geospatial_lat_min']} {attrs['geospatial_lon_min']}, "
            f"{attrs['geospatial_lat_min']} {attrs['geospatial_lon_max']}, "
            f"{attrs['geospatial_lat_max']} {attrs['geospatial_lon_max']}, "
            f"{attrs['geospatial_lat_max']} {attrs['geospatial_lon_min']}, "
            f"{attrs['geospatial_lat_min']} {attrs['geospatial_lon_min']}))"
        )
    attrs.update(extra)
    return attrs


def encoding(
    ds: xr.Dataset, fmt: str = "netcdf", *, complevel: int = 4
) -> dict[str, dict[str, Any]]:
    """Per-variable encoding for :func:`oceaninterp.io.write_dataset`.

    Time (and its bounds) in ``days since 1950-01-01`` (:data:`TIME_UNITS`), standard
    calendar (``units_metadata = "leap_seconds: none"`` is set by
    :func:`cf_grid_coords`); no ``_FillValue`` on coordinates, bounds or the
    ``crs`` variable; NaN fill on floating data variables, none on integer
    ones; zlib compression for NetCDF (Zarr keeps its default compressor).

    Parameters
    ----------
    ds
        The dataset about to be written.
    fmt
        ``"netcdf"`` or ``"zarr"``, as returned by :func:`oceaninterp.io.output_format`.
    complevel
        zlib level for NetCDF data variables.
    """
    enc: dict[str, dict[str, Any]] = {}
    no_fill = set(ds.coords) | {b for b in _BOUNDS_NAMES.values() if b in ds} | {CRS_NAME}
    for key in ds.variables:
        name = str(key)
        if name in ("time", "time_bnds"):
            enc[name] = {"units": TIME_UNITS, "calendar": CALENDAR, "dtype": "float64"}
        if name in no_fill:
            enc.setdefault(name, {})["_FillValue"] = None
        elif name in ds.data_vars:
            entry: dict[str, Any] = {}
            if fmt == "netcdf":
                entry.update(zlib=True, complevel=complevel)
            entry["_FillValue"] = np.nan if ds[name].dtype.kind == "f" else None
            enc[name] = entry
    return enc
