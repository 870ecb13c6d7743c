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
variables present among :data:`VARIABLES` decoded to float32 (metres, m/s);
``err`` is renamed ``err_sla``.

:func:`write` (and :func:`streaming_writer`, day block by day block) writes
maps as a DUACS user reads them (checked attribute by attribute against real
DUACS DT/NRT files): the same names and encodings (int32 x 1e-4, _FillValue
-2147483647 where a map is NaN, i.e. land and unmapped cells; 1 x 50 x 50 HDF5
chunks; float32 ``latitude``/``longitude`` with ``valid_min``/``valid_max``;
``lat_bnds``/``lon_bnds`` over ``nv``; ``crs``; time in days since 1950-01-01),
the DUACS units (``m``, ``m/s``), ``coordinates``, ``comment`` (what the SLA is
referenced to), global ``platform``, ``software_version`` and ``references``,
plus CF-1.11 + ACDD-1.3 metadata from :mod:`oceaninterp.cf`, as NetCDF-4 or
Zarr v3 (by suffix), atomically; a Zarr store's arrays have the CF fill as
their own ``fill_value`` and its metadata is consolidated.

Deliberate differences from DUACS: CF-1.11 (not CF-1.6), ``time`` in float64
with calendar ``standard``, the WGS-84 ellipsoid in ``crs``, and the time
coverage of a daily map is its calendar day ``[00:00, 24:00)`` UTC (what the
cube binned; DUACS DT centres a one-day window on 00:00).

The mapping error ``err_sla`` is written for the OI (its posterior standard
deviation). A 4DVarNet gives one estimate and no error: its maps carry no
``err_sla`` and their ``comment`` says why (:data:`NO_ERROR_NOTE`); no
stand-in is made up.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp import __version__, cf
from oceaninterp.errors import InputError
from oceaninterp.io import (
    ZARR_SUFFIXES,
    atomic_path,
    open_dataset,
    output_format,
    scratch_dir,
    write_dataset,
)
from oceaninterp.products._netcdf import READ_ERRORS, header, text_attr
from oceaninterp.products.format import ProductFormat
from oceaninterp.products.schema import wrap_longitude

NAME = "duacs_l4"
DESCRIPTION = "DUACS/CMEMS L4 gridded sea level"

#: Packing of every data variable: metres (or m s-1) per count.
SCALE = 1e-4
FILL_VALUE = np.int32(-2147483647)
DIMS = ("time", "latitude", "longitude")

_SSH_ERROR_NAME = "sea_surface_height_above_sea_level standard_error"

#: Velocity units as DUACS writes them (pint and UDUNITS both parse "m/s").
VELOCITY_UNITS = "m/s"

#: HDF5 / Zarr chunk edge (cells) of the data variables: DUACS L4 files use 50 x 50
#: one-day chunks; a Zarr chunk is one object in a store, so Zarr gets larger ones.
CHUNK_CELLS = {"netcdf": 50, "zarr": 256}

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
        "units": VELOCITY_UNITS,
    },
    "vgos": {
        "standard_name": "surface_geostrophic_northward_sea_water_velocity",
        "long_name": "Absolute geostrophic velocity: meridian component",
        "units": VELOCITY_UNITS,
    },
    "ugosa": {
        "standard_name": (
            "surface_geostrophic_eastward_sea_water_velocity_assuming_sea_level_for_geoid"
        ),
        "long_name": "Geostrophic velocity anomalies: zonal component",
        "units": VELOCITY_UNITS,
    },
    "vgosa": {
        "standard_name": (
            "surface_geostrophic_northward_sea_water_velocity_assuming_sea_level_for_geoid"
        ),
        "long_name": "Geostrophic velocity anomalies: meridian component",
        "units": VELOCITY_UNITS,
    },
    "err_sla": {
        "standard_name": _SSH_ERROR_NAME,
        "long_name": "Formal mapping error",
        "units": "m",
    },
}
VARIABLES = tuple(VARIABLE_ATTRS)

_VELOCITY_COMMENT = (
    "Geostrophic velocity computed from {ssh} by centred differences on the sphere "
    "(f = 2 Omega sin(latitude)); masked within 5 degrees of the equator and next to "
    "masked cells"
)
_ERROR_COMMENT = (
    "The formal mapping error of the optimal interpolation: the square root of its "
    "posterior error variance under the covariance model of the global attribute "
    "oi_parameters. It reflects the sampling of the constellation and the space-time "
    "scales assumed, not the errors of the observations' corrections."
)
#: Why a 4DVarNet map has no ``err_sla`` (see :func:`to_product`).
NO_ERROR_NOTE = (
    "No err_sla: the 4DVarNet returns one estimate of the sea surface height, not a "
    "posterior distribution; an error map would need an ensemble of trained models or "
    "an error head trained for it, which this checkpoint lacks."
)

#: Geostrophic velocity names for each sea-level variable (DUACS convention).
VELOCITY_NAMES = {"adt": ("ugos", "vgos"), "sla": ("ugosa", "vgosa")}

_NV_ATTRS = {"long_name": "Number of cell vertices", "comment": "Vertex", "units": "1"}
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


#: Literature behind each mapping method, for the ``references`` attribute.
METHOD_REFERENCES = {
    "4dvarnet": (
        "Fablet R. et al. (2021), Learning variational data assimilation models and solvers, "
        "JAMES 13, e2021MS002572, doi:10.1029/2021MS002572"
    ),
    "oi": (
        "Bretherton F. P. et al. (1976), Deep-Sea Res. 23, 559-582; Le Traon P.-Y. et al. "
        "(1998), An improved mapping method of multisatellite altimeter data, "
        "J. Atmos. Oceanic Technol. 15, 522-534"
    ),
}


def platform_names(codes: str) -> str:
    """Mission codes (``"alg, c2, j3"``) as the platform names DUACS writes.

    Unknown codes are kept as given; names already spelled out pass through.
    """
    from oceaninterp.products.cmems_l3 import MISSIONS

    parts = [c.strip() for c in str(codes).split(",") if c.strip()]
    return ", ".join(MISSIONS.get(c.lower(), c) for c in parts)


def variable_comments(mdt: str = "") -> dict[str, str]:
    """The ``comment`` of each variable, saying what the SLA is referenced to.

    Parameters
    ----------
    mdt
        File name of the mean dynamic topography used (global attribute ``mdt``),
        or ``""`` when the maps were made without one.
    """
    if mdt:
        sla = (
            "The sea level anomaly is the sea surface height above the mean dynamic "
            f"topography of {mdt} (global attribute mdt): sla = adt - mdt. It is referenced "
            "to the period over which that MDT is a mean (not to DUACS's [1993, 2012] "
            "period unless the MDT is)"
        )
        adt = (
            "The absolute dynamic topography is the sea surface height above geoid; the adt "
            f"is obtained as follows: adt = sla + mdt where mdt is the mean dynamic topography "
            f"of {mdt}"
        )
    else:
        sla = (
            "The sea level anomaly is the sea surface height above the mean sea surface of the "
            "input along-track products (source_files); it keeps their reference period (the "
            "[1993, 2012] period for CMEMS/DUACS L3 inputs)"
        )
        adt = (
            "The absolute dynamic topography is the sea surface height above geoid, mapped "
            "from the absolute dynamic topography of the input observations (source_files)"
        )
    comments = {"sla": sla, "adt": adt, "err_sla": _ERROR_COMMENT}
    for ssh, (u, v) in VELOCITY_NAMES.items():
        comments[u] = comments[v] = _VELOCITY_COMMENT.format(ssh=ssh)
    return comments


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

    Variables get the DUACS attributes (units ``m`` and ``m/s``, ``comment``,
    ``coordinates``, ``grid_mapping``, ``ancillary_variables``); latitude and
    longitude get ``valid_min``/``valid_max`` (written as float32, as DUACS);
    bounds get ``units`` and ``comment``; an ``nv`` vertex coordinate is added.
    Global attributes add ``platform`` (mission names, from ``extra`` or
    ``maps.attrs``), ``software_version`` and ``references`` (the method's
    literature). Maps of a method other than OI carry no ``err_sla``; the
    ``comment`` says why (:data:`NO_ERROR_NOTE`).

    Parameters
    ----------
    maps
        Dims ``(time, latitude, longitude)``; variables named as in
        :data:`VARIABLES` (floats, metres or m/s, NaN where masked: land cells
        become the ``_FillValue`` when written).
    history
        The command that made the maps (stamped with the UTC time).
    parent_history
        The inputs' ``history``, kept before this step's line.
    source_files
        Input files (their names go to ``source_files``).
    title, summary
        ACDD title and summary.
    extra
        Further global attributes (e.g. ``method``, ``ssh_kind``, ``mdt``,
        ``platform`` as mission codes).

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
    comments = variable_comments(str(extra.get("mdt", maps.attrs.get("mdt", ""))))
    for name in ds.data_vars:
        attrs = dict(VARIABLE_ATTRS[str(name)])
        attrs["comment"] = comments[str(name)]
        attrs["cell_methods"] = "time: mean (interval: 1 day)"
        attrs["coverage_content_type"] = (
            "qualityInformation" if name == "err_sla" else "modelResult"
        )
        if name in ("sla", "adt") and "err_sla" in ds:
            attrs["ancillary_variables"] = "err_sla"
        attrs["coordinates"] = "longitude latitude"
        ds[name].attrs = attrs
        ds[name].encoding = {}
    ds = cf.cf_grid_coords(ds)
    for dim, bounds, edge in (
        ("latitude", "lat_bnds", "north and south"),
        ("longitude", "lon_bnds", "west and east"),
    ):
        values = ds[dim].values.astype(np.float32)
        ds[dim].attrs.update(valid_min=values.min(), valid_max=values.max())
        # (xarray drops a bounds variable's units equal to its coordinate's, as CF allows)
        ds[bounds].attrs = {"comment": f"{dim} values at the {edge} bounds of each pixel."}
    ds = ds.assign_coords(nv=(cf.BOUNDS_DIM, np.arange(2, dtype=np.int32), _NV_ATTRS))
    ds[cf.CRS_NAME].attrs["comment"] = (
        "This is a container variable that describes the grid_mapping used by the data in "
        "this file. This variable does not contain any data; only information about the "
        "geographic coordinate system."
    )
    method = str(extra.get("method", maps.attrs.get("method", "")))
    attrs = dict(extra)
    platform = attrs.pop("platform", maps.attrs.get("platform", ""))
    if platform:
        attrs["platform"] = platform_names(platform)
    if method in METHOD_REFERENCES:
        attrs.setdefault("references", f"{METHOD_REFERENCES[method]}; {cf.PROJECT_URL}")
    if method and method != "oi" and "err_sla" not in ds:
        before = str(attrs.get("comment", f"Made by oceaninterp {__version__}.")).rstrip()
        attrs["comment"] = f"{before} {NO_ERROR_NOTE}"
    ds.attrs = cf.global_attributes(
        ds, title=title, summary=summary, history=history, source_files=source_files, **attrs
    )
    if parent_history:
        ds.attrs["history"] = f"{parent_history.rstrip()}\n{ds.attrs['history']}"
    return ds


def encoding(ds: xr.Dataset, fmt: str) -> dict[str, dict[str, Any]]:
    """Encoding of a :func:`to_product` dataset for ``fmt`` (``"netcdf"`` or ``"zarr"``).

    As DUACS: data variables int32 x 1e-4 with ``_FillValue`` -2147483647 (NaN,
    i.e. land and unmapped cells, become that fill), chunked one day at a time
    in blocks of at most :data:`CHUNK_CELLS` cells a side (50 for NetCDF, as
    DUACS; 256 for Zarr); latitude, longitude and their bounds float32. For Zarr
    the array's own ``fill_value`` is the same -2147483647, so chunks never
    written read as masked, not as 0 m. Time and the rest as
    :func:`oceaninterp.cf.encoding`.
    """
    enc = cf.encoding(ds, fmt)
    edge = CHUNK_CELLS[fmt]
    for coord in ("latitude", "longitude", "lat_bnds", "lon_bnds"):
        if coord in ds.variables:
            enc.setdefault(coord, {})["dtype"] = "float32"
    if cf.BOUNDS_DIM in ds.variables:
        enc[cf.BOUNDS_DIM] = {"dtype": "int32", "_FillValue": None}
    for name in ds.data_vars:
        if name not in VARIABLE_ATTRS:
            continue
        entry = enc.setdefault(str(name), {})
        entry.update(dtype="int32", scale_factor=SCALE, _FillValue=FILL_VALUE)
        chunks = (1, min(ds.sizes["latitude"], edge), min(ds.sizes["longitude"], edge))
        if fmt == "netcdf":
            entry.update(chunksizes=chunks, shuffle=True)
        else:
            entry.update(chunks=chunks, fill_value=FILL_VALUE)
    return enc


def consolidate(store: str | Path) -> None:
    """Consolidate a Zarr v3 store's metadata, so xarray opens it without a warning.

    Zarr-python warns that consolidated metadata is not yet part of the v3
    specification; xarray reads it all the same, so that warning is silenced.
    """
    import warnings

    import zarr

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        zarr.consolidate_metadata(str(store), zarr_format=3)


def write(maps: xr.Dataset, path: str | Path, *, overwrite: bool = False, **attrs: Any) -> Path:
    """Write maps as a DUACS-L4-like NetCDF-4 file or Zarr v3 store (atomic).

    A Zarr store's metadata is consolidated once it is in place.

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
    fmt = output_format(path)
    out = write_dataset(product, path, overwrite=overwrite, encoding=encoding(product, fmt))
    if fmt == "zarr":
        consolidate(out)
    return out


def template(
    days: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    kinds: Iterable[str],
    with_error: bool = False,
) -> xr.Dataset:
    """All-NaN lazy maps of every day, to lay out a store before the days are mapped.

    Parameters
    ----------
    days
        ``time`` of the maps (datetime64).
    latitude, longitude
        Cell centres, degrees_north / degrees_east.
    kinds
        Sea-level variables (``"sla"``, ``"adt"``), each with its velocities
        (:data:`VELOCITY_NAMES`).
    with_error
        Add ``err_sla``.
    """
    import dask.array as da

    shape = (days.size, latitude.size, longitude.size)
    chunks = (1, min(shape[1], 1024), min(shape[2], 1024))
    names = [n for k in kinds for n in (k, *VELOCITY_NAMES[k])]
    names += ["err_sla"] if with_error else []
    return xr.Dataset(
        {n: (DIMS, da.full(shape, np.nan, dtype=np.float32, chunks=chunks)) for n in names},
        coords={"time": days, "latitude": latitude, "longitude": longitude},
    )


class RegionWriter:
    """A DUACS-L4 Zarr v3 store laid out for every day of a :func:`template`, filled by days.

    Parameters
    ----------
    store
        The Zarr store to create.
    template
        The layout (:func:`template`): names, days and grid of the maps.
    attrs
        Keyword arguments of :func:`to_product` (``history``, ``method``...).
    """

    def __init__(self, store: Path, template: xr.Dataset, attrs: Mapping[str, Any]) -> None:
        self.store = store
        self.attrs = dict(attrs)
        product = to_product(template, **self.attrs)
        product.to_zarr(
            store,
            mode="w",
            compute=False,
            encoding=encoding(product, "zarr"),
            zarr_format=3,
            consolidated=False,
        )

    def write(self, maps: xr.Dataset, start: int) -> None:
        """Write ``maps`` (days of the template's variables) from day index ``start`` on."""
        product = to_product(maps, **self.attrs)
        untimed = [v for v in product.variables if "time" not in product[v].dims]
        region = {"time": slice(start, start + maps.sizes["time"])}
        product.drop_vars(untimed).drop_encoding().to_zarr(
            self.store, mode="r+", region=region, zarr_format=3, consolidated=False
        )


@contextlib.contextmanager
def streaming_writer(
    path: str | Path, template: xr.Dataset, *, overwrite: bool = False, **attrs: Any
) -> Iterator[RegionWriter]:
    """Write maps day block by day block, atomically, as :func:`write` would write them whole.

    A ``.zarr`` output is a Zarr v3 store written region by region, then
    consolidated; a ``.nc`` output is first written the same way to a
    temporary Zarr store beside it, then converted chunk by chunk to NetCDF-4.
    Either way the final name appears only when the body ends without an
    exception, so memory does not grow with the number of days.

    Parameters
    ----------
    path
        ``.nc`` or ``.zarr``.
    template
        The layout of the whole maps (:func:`template`).
    overwrite
        Replace an existing output.
    attrs
        Keyword arguments of :func:`to_product` (``history``, ``source_files``...).

    Yields
    ------
    RegionWriter
        ``write(maps, start)`` for each block of days.
    """
    path = Path(path)
    fmt = output_format(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        store = tmp if fmt == "zarr" else scratch_dir(path.parent)
        try:
            yield RegionWriter(store, template, attrs)
            if fmt == "zarr":
                consolidate(store)
            else:
                written = open_dataset(store).drop_encoding()
                write_dataset(written, tmp, overwrite=True, encoding=encoding(written, fmt))
        finally:
            if fmt == "netcdf":
                shutil.rmtree(store, ignore_errors=True)


#: This format in the registry (:mod:`oceaninterp.products`).
FORMAT = ProductFormat(
    NAME, DESCRIPTION, "gridded", can_open, open, write, frozenset({"variables"}), VARIABLES
)
