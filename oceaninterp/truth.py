"""Open any gridded sea-surface-height field as a truth: ours, a model's, a DUACS L4 map.

:func:`open_truth` is the one reader of the "truth" a command takes
(``simulate obs``; meant for ``train --truth``, ``score --truth`` and
``reconstruct --tune-truth`` as well): the SSH of a NetCDF or Zarr file as a
float64 :class:`xarray.DataArray` over ``(time, latitude, longitude)`` in
metres, coordinates ascending, longitudes in [-180, 180) unless the grid
crosses the antimeridian (then 0..360, still ascending).

Names understood (first found wins): the SSH variable ``ssh``, ``adt``,
``zos``, ``sossheig``, ``sla`` (or ``variable=``); dimensions ``lat``/``lon``,
``nav_lat``/``nav_lon`` (1-D), ``y``/``x`` with 1-D ``latitude``/``longitude``
variables; units ``m``, ``cm``, ``mm`` (no units: metres). The companion SST,
when there is one, comes from :func:`open_truth_sst`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError

#: SSH variable names tried, in order: total heights first, the anomaly last.
SSH_NAMES = ("ssh", "adt", "zos", "sossheig", "sla")
#: SST variable names tried, in order (kelvin or degrees Celsius).
SST_NAMES = ("sst", "analysed_sst", "tos", "sosstsst", "thetao")
_COORD_NAMES = {
    "latitude": ("latitude", "lat", "nav_lat", "y"),
    "longitude": ("longitude", "lon", "nav_lon", "x"),
    "time": ("time", "time_counter", "t"),
}
_LENGTH = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0}
_LENGTH.update({"cm": 0.01, "centimeters": 0.01, "centimetres": 0.01, "mm": 0.001})


def _standard_dims(ds: xr.Dataset, source: str | Path) -> xr.Dataset:
    """Rename dimensions and coordinates to ``time``, ``latitude``, ``longitude``."""
    renames: dict[str, str] = {}
    for target, names in _COORD_NAMES.items():
        if target in ds.dims:
            continue
        for name in names:
            if name in ds.dims:
                renames[name] = target
                break
    ds = ds.rename(renames)
    for target in ("latitude", "longitude"):
        if target in ds.dims and target not in ds.coords:
            # 1-D latitude/longitude variables over y/x named otherwise
            for name in _COORD_NAMES[target]:
                if name in ds.variables and ds[name].dims == (target,):
                    ds = ds.assign_coords({target: ds[name].values})
                    break
        if target not in ds.coords:
            raise InputError(
                source, f"no 1-D {target} coordinate (tried {list(_COORD_NAMES[target])})"
            )
    return ds


def _ascending_longitudes(lon: np.ndarray) -> np.ndarray:
    """Longitudes in [-180, 180) when they stay one contiguous run there, else in [0, 360)."""
    west = (lon + 180.0) % 360.0 - 180.0
    east = lon % 360.0
    for candidate in (west, east):
        ordered = np.sort(candidate)
        steps = np.diff(ordered)
        if ordered.size < 3 or steps.max() <= 1.5 * np.median(steps) + 1e-9:
            return candidate
    return west


def _to_grid(
    da: xr.DataArray, source: str | Path, kind: str, factor: float, units: str
) -> xr.DataArray:
    """``da`` over ascending (time, latitude, longitude), float64, times ``factor``."""
    if "time" not in da.dims:
        if "time" not in da.coords:
            raise InputError(source, f"{kind} variable {da.name!r} has no time dimension")
        da = da.expand_dims("time")
    extra = [d for d in da.dims if d not in ("time", "latitude", "longitude")]
    for dim in extra:  # a depth or level axis of length 1 (e.g. thetao at the surface)
        if da.sizes[dim] != 1:
            raise InputError(
                source,
                f"{kind} variable {da.name!r} has dims {da.dims}; "
                "expected (time, latitude, longitude)",
            )
        da = da.isel({dim: 0}, drop=True)
    da = da.transpose("time", "latitude", "longitude")
    lon = _ascending_longitudes(np.asarray(da["longitude"].values, dtype=np.float64))
    out = xr.DataArray(
        np.asarray(da.values, dtype=np.float64) * factor,
        dims=("time", "latitude", "longitude"),
        coords={
            "time": np.asarray(da["time"].values).astype("datetime64[ns]"),
            "latitude": np.asarray(da["latitude"].values, dtype=np.float64),
            "longitude": lon,
        },
        name=str(da.name),
        attrs={"units": units, "source": str(source)},
    )
    out = out.sortby(["time", "latitude", "longitude"])
    if min(out.sizes["latitude"], out.sizes["longitude"]) < 2:
        raise InputError(source, f"{kind}: the grid needs at least 2 latitudes and longitudes")
    if not np.isfinite(out.values).any():
        raise InputError(source, f"{kind} variable {da.name!r} has no finite value")
    return out


def find_variable(ds: xr.Dataset, names: tuple[str, ...], variable: str | None) -> str | None:
    """``variable`` if given, else the first of ``names`` in ``ds`` (case-insensitive)."""
    if variable is not None:
        return variable if variable in ds.data_vars else None
    lower = {str(v).lower(): str(v) for v in ds.data_vars}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def truth_ssh(ds: xr.Dataset, variable: str | None = None, source: str | Path = "") -> xr.DataArray:
    """The SSH of an open dataset as :func:`open_truth` returns it."""
    ds = _standard_dims(ds, source)
    name = find_variable(ds, SSH_NAMES, variable)
    if name is None:
        wanted = repr(variable) if variable else f"one of {list(SSH_NAMES)}"
        raise InputError(
            source,
            f"no SSH variable {wanted} (have {sorted(map(str, ds.data_vars))}); "
            "name it with --variable",
        )
    da = ds[name]
    units = str(da.attrs.get("units", "m") or "m").strip()
    factor = _LENGTH.get(units.lower())
    if factor is None:
        raise InputError(
            source, f"variable {name!r} has units {units!r}; expected a length (m, cm or mm)"
        )
    return _to_grid(da, source, "SSH", factor, "m")


def truth_sst(ds: xr.Dataset, source: str | Path = "") -> xr.DataArray | None:
    """The SST (kelvin) of an open dataset, or ``None`` when it has none."""
    ds = _standard_dims(ds, source)
    name = find_variable(ds, SST_NAMES, None)
    if name is None:
        return None
    da = ds[name]
    out = _to_grid(da, source, "SST", 1.0, "K")
    units = str(da.attrs.get("units", "")).strip().lower()
    if units in ("c", "degc", "celsius", "degree_celsius", "degrees_celsius", "deg c") or (
        not units and float(np.nanmean(out.values)) < 100.0
    ):
        out = out + 273.15
        out.attrs.update(units="K", source=str(source))
    return out


def open_truth(path: str | Path, variable: str | None = None) -> xr.DataArray:
    """The SSH of a gridded truth file (NetCDF or Zarr) in metres.

    Parameters
    ----------
    path
        The file: our ``truth.nc``, a DUACS/CMEMS L4 map (``adt`` or ``sla``),
        a NEMO (``sossheig``) or CMIP (``zos``) output.
    variable
        The SSH variable; by default the first of :data:`SSH_NAMES` found.

    Returns
    -------
    xarray.DataArray
        float64 over ``(time, latitude, longitude)``, metres, ascending
        coordinates (degrees_north, degrees_east in [-180, 180) or, across the
        antimeridian, [0, 360)); NaN over land.

    Raises
    ------
    InputError
        Naming the file: no SSH variable, units not a length, no 1-D
        latitude/longitude, other dimensions, or no finite value.
    """
    from oceaninterp.io import open_dataset

    with open_dataset(path) as ds:
        return truth_ssh(ds, variable, path).load()


def open_truth_sst(path: str | Path) -> xr.DataArray | None:
    """The SST of a gridded truth file in kelvin, or ``None`` when it has none."""
    from oceaninterp.io import open_dataset

    with open_dataset(path) as ds:
        sst = truth_sst(ds, path)
        return None if sst is None else sst.load()
