"""Shared NetCDF plumbing of the product modules: headers, loading, units.

Every failure becomes an :class:`~oceaninterp.errors.InputError` naming the file
and, where there is one, the variable and what was expected.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError

#: Units accepted for a sea-level variable, with their factor to metres.
LENGTH_UNITS = {
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "cm": 0.01,
    "centimeters": 0.01,
    "centimetres": 0.01,
    "mm": 0.001,
    "millimeters": 0.001,
    "millimetres": 0.001,
}

#: HDF5 (under netCDF4) is not thread-safe: every product open and read in this
#: process goes through this lock, so threads can read product files at once
#: without crashing (processes, e.g. dask.distributed workers, stay parallel).
#: Writers use xarray's own lock: never read under this one while writing NetCDF
#: from another thread (grid_files writes its cube with one thread for that).
HDF5_LOCK = threading.RLock()

#: Errors raised by netCDF4/h5py/xarray on unreadable or truncated files.
READ_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError)


@dataclass(frozen=True)
class Header:
    """What a NetCDF file declares, read without loading any data.

    Attributes
    ----------
    dims
        Dimension sizes by name.
    variables
        Per variable: its dimension names.
    var_attrs
        Per variable: its attributes.
    attrs
        Global attributes.
    """

    dims: dict[str, int]
    variables: dict[str, tuple[str, ...]]
    var_attrs: dict[str, dict[str, Any]]
    attrs: dict[str, Any]

    def has(self, *names: str) -> bool:
        """True when every variable in ``names`` exists."""
        return all(n in self.variables for n in names)

    def first(self, *names: str) -> str | None:
        """The first of ``names`` that exists, else ``None``."""
        return next((n for n in names if n in self.variables), None)


@functools.lru_cache(maxsize=256)
def _header_cached(path: str, _mtime_ns: int, _size: int) -> Header:
    import netCDF4

    try:
        with HDF5_LOCK, netCDF4.Dataset(path) as nc:
            nc.set_auto_mask(False)
            return Header(
                dims={k: len(v) for k, v in nc.dimensions.items()},
                variables={k: tuple(v.dimensions) for k, v in nc.variables.items()},
                var_attrs={
                    k: {a: v.getncattr(a) for a in v.ncattrs()} for k, v in nc.variables.items()
                },
                attrs={a: nc.getncattr(a) for a in nc.ncattrs()},
            )
    except READ_ERRORS as exc:
        raise InputError(path, f"not a readable NetCDF file ({exc})") from exc


def header(path: str | Path) -> Header:
    """Read the header of a NetCDF file (cached while the file is unchanged).

    Raises
    ------
    InputError
        When the file does not exist, is a folder, or is not NetCDF (or is truncated).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a file")
    stat = path.stat()
    if stat.st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    return _header_cached(str(path), stat.st_mtime_ns, stat.st_size)


def load(path: str | Path, variables: list[str] | None = None) -> xr.Dataset:
    """Load ``variables`` (all when ``None``) of a NetCDF file into memory, decoded.

    Raises
    ------
    InputError
        When the file cannot be read (truncated data, bad time units...).
    """
    path = Path(path)
    hdr = header(path)
    try:
        with HDF5_LOCK, xr.open_dataset(path, engine="netcdf4", decode_timedelta=False) as ds:
            if variables is not None:
                keep = [v for v in variables if v in hdr.variables]
                ds = ds[keep]
            return ds.load()
    except READ_ERRORS as exc:
        raise InputError(path, f"cannot be read ({type(exc).__name__}: {exc})") from exc


def require(path: str | Path, hdr: Header, name: str, expected: str) -> None:
    """Raise an :class:`InputError` when variable ``name`` is absent."""
    if name not in hdr.variables:
        raise InputError(path, f"missing variable {name!r} ({expected})")


def in_metres(path: str | Path, da: xr.DataArray) -> np.ndarray:
    """The values of a sea-level variable in metres (float64), from its ``units``.

    Raises
    ------
    InputError
        When the units are absent or not a length (the message names the variable).
    """
    units = str(da.attrs.get("units", da.encoding.get("units", ""))).strip()
    factor = LENGTH_UNITS.get(units.lower())
    if factor is None:
        raise InputError(
            path,
            f"variable {da.name!r} has units {units!r}; expected a length (m, cm or mm)",
        )
    return np.asarray(da.values, dtype=np.float64) * factor


def text_attr(attrs: dict[str, Any], name: str) -> str:
    """A global attribute as text ('' when absent)."""
    value = attrs.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def decoded_times(path: str | Path, da: xr.DataArray) -> np.ndarray:
    """The values of a time variable as ``datetime64[ns]`` (UTC).

    Raises
    ------
    InputError
        When xarray could not decode it (unknown units or calendar).
    """
    values = np.asarray(da.values)
    if values.dtype.kind != "M":
        units = da.attrs.get("units", da.encoding.get("units", ""))
        raise InputError(
            path,
            f"variable {da.name!r} has time units {units!r}; expected '<unit> since <date>'",
        )
    return values.astype("datetime64[ns]")
