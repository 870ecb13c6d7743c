"""Which files the simulated observations go to: names and grouping per layout.

File layout (``files=``):

- ``"month"`` (the default): one file per mission and calendar month, named by
  the span of its data: ``dt_global_<mission>_phy_l3_1hz_<first>-<last>_<production>.nc``,
  ``SWOT_L3_LR_SSH_Expert_<start>_<end>_v2.0.1.nc`` (the passes of the month
  one after the other along ``num_lines``) and
  ``<first>-<last>-OCEANINTERP-L4_GHRSST-SSTfnd-QG_OSSE-GLOB-v02.0-fv01.0.nc``
  (the days of the month along ``time``), like a ``copernicusmarine subset``
  of a period. A year is a few dozen files instead of some 2 000 (each NetCDF-4
  file costs about 25 kB of HDF5 overhead);
- ``"product"``: as the agencies distribute them, one nadir file per mission
  and day (``..._<day>_<production>.nc``), one SWOT file per pass
  (``..._<cycle>_<pass>_<start>_<end>_v2.0.1.nc``), one SST file per day
  (``<day>000000-...nc``).

Either way the files are deflated (zlib, shuffle), as the distributed
products are; the stored (packed) values are those the product writers make,
so both layouts grid to identical cubes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import xarray as xr

#: Production date in the CMEMS file names: fixed so that re-runs give the same names.
PRODUCTION_DATE = "2025-01-01"
SST_NAME = "{day}000000-OCEANINTERP-L4_GHRSST-SSTfnd-QG_OSSE-GLOB-v02.0-fv01.0.nc"
SST_SPAN_NAME = "{first}-{last}-OCEANINTERP-L4_GHRSST-SSTfnd-QG_OSSE-GLOB-v02.0-fv01.0.nc"
SWOT_SPAN_NAME = "SWOT_L3_LR_SSH_Expert_{start}_{end}_v2.0.1.nc"
#: File layouts (see the module docstring).
FILE_LAYOUTS = ("month", "product")
DEFLATE_LEVEL = 4  # zlib level of the written files


def nadir_file_name(mission: str, day: np.datetime64, last: np.datetime64 | None = None) -> str:
    """CMEMS 1-Hz L3 name, e.g. ``dt_global_j3_phy_l3_1hz_20220101_20250101.nc``.

    With ``last``, the name of a file spanning ``day`` .. ``last``:
    ``dt_global_j3_phy_l3_1hz_20220101-20220131_20250101.nc`` (not read as a
    one-day CMEMS name by :func:`oceaninterp.products.cmems_l3.production_key`).
    """
    production = _day(np.datetime64(PRODUCTION_DATE))
    days = _day(day) if last is None else f"{_day(day)}-{_day(last)}"
    return f"dt_global_{mission}_phy_l3_1hz_{days}_{production}.nc"


def month(t: np.ndarray) -> np.ndarray:
    """Calendar month (datetime64[M]) of times."""
    return np.asarray(t).astype("datetime64[M]")


def deflate(path: Path) -> Path:
    """Re-write a NetCDF file with every variable zlib-deflated (shuffle), in place, atomically.

    The stored values (packed integers, fill values, attributes) are copied
    undecoded, so a reader gets exactly what it got from the original.
    """
    from oceaninterp.io import atomic_path

    with xr.open_dataset(path, decode_cf=False, mask_and_scale=False, decode_times=False) as ds:
        ds = ds.load()
    encoding = {
        name: {"zlib": True, "complevel": DEFLATE_LEVEL, "shuffle": True}
        for name in ds.variables
        if ds[name].ndim
    }
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


def _stamp(t: np.datetime64) -> str:
    """``YYYYMMDDTHHMMSS`` of a time, as in SWOT file names."""
    return str(np.asarray(t).astype("datetime64[s]")).replace("-", "").replace(":", "")


def _day(t: np.datetime64) -> str:
    return str(np.asarray(t).astype("datetime64[D]")).replace("-", "")


def nadir_files(tracks: xr.Dataset, mission: str, files: str) -> Iterable[tuple[str, xr.Dataset]]:
    """(file name, tracks) of a mission's tidy tracks: one per day, or per month (``files``)."""
    times = tracks["time"].values
    groups = month(times) if files == "month" else times.astype("datetime64[D]")
    for group in np.unique(groups):
        part = tracks.isel(obs=groups == group)
        days = part["time"].values.astype("datetime64[D]")
        last = days.max() if files == "month" else None
        yield nadir_file_name(mission, days.min(), last), part


def swot_files(
    passes: Iterable[tuple[int, int, xr.Dataset]], files: str
) -> Iterable[tuple[str, xr.Dataset]]:
    """(file name, swath) of SWOT passes: one per pass, or the passes of a month joined.

    ``passes`` are ``(cycle, pass number, swath)`` in time order, ``files`` a
    layout of :data:`FILE_LAYOUTS`.
    """
    from oceaninterp.products import swot_l3

    def joined(group: list[xr.Dataset]) -> tuple[str, xr.Dataset]:
        data = xr.concat(
            group, dim="num_lines", data_vars="minimal", coords="minimal", compat="override"
        )
        times = data["time"].values
        return SWOT_SPAN_NAME.format(start=_stamp(times[0]), end=_stamp(times[-1])), data

    group: list[xr.Dataset] = []
    for cycle, number, data in passes:
        times = data["time"].values
        if files == "product":
            yield swot_l3.file_name(cycle, number, times[0], times[-1]), data
            continue
        if group and month(group[0]["time"].values[0]) != month(times[0]):
            yield joined(group)
            group = []
        group.append(data)
    if group:
        yield joined(group)


def sst_files(
    fields: list[np.ndarray],
    times: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    files: str,
) -> Iterable[tuple[str, xr.DataArray]]:
    """(file name, ``analysed_sst``) of daily SST fields: one per day, or per month (``files``).

    ``fields`` are the ``(lat, lon)`` analyses of the days ``times`` on the
    grid ``lat`` (degrees_north), ``lon`` (degrees_east).
    """
    groups = month(times) if files == "month" else times
    for group in np.unique(groups):
        index = np.flatnonzero(groups == group)
        days = times[index]
        da = xr.DataArray(
            np.stack([fields[k] for k in index]),
            dims=("time", "lat", "lon"),
            coords={"time": days, "lat": lat, "lon": lon},
            name="analysed_sst",
        )
        if files == "month":
            name = SST_SPAN_NAME.format(first=_day(days[0]), last=_day(days[-1]))
        else:
            name = SST_NAME.format(day=_day(days[0]))
        yield name, da
