"""Shared NetCDF plumbing of the product modules: headers, loading, units, times.

Every failure becomes an :class:`~oceaninterp.errors.InputError` naming the file
and, where there is one, the variable and what was expected. Reading is strict:

- a NetCDF-3 (classic) file shorter than its header says is refused
  (:func:`classic_size`; the netCDF library would read the missing bytes as 0);
- times are decoded here, not by xarray (:func:`decoded_times`): only the
  standard (Gregorian) calendar, and no value outside :data:`TIME_RANGE`
  (an undeclared fill value such as 9.96921e36 is refused, not wrapped);
- coordinates must be in degrees (:func:`in_degrees`): ``degrees_west`` and
  ``degrees_south`` are negated, other units are refused, and latitudes
  beyond +-90 degrees are refused.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import struct
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

#: Calendars decoded (the others - noleap, 360_day, julian... - are refused).
CALENDARS = ("standard", "gregorian", "proleptic_gregorian")

#: Accepted observation times (UTC): a value outside is an undeclared fill or a
#: wrong unit, never an observation.
TIME_RANGE = (np.datetime64("1900-01-01", "ns"), np.datetime64("2200-01-01", "ns"))

_TIME_UNITS = re.compile(r"^\s*(?P<unit>[a-zA-Z]+)\s+since\s+(?P<ref>.+?)\s*$")
_UNIT_NS = {
    **dict.fromkeys(("days", "day", "d"), 86_400 * 10**9),
    **dict.fromkeys(("hours", "hour", "hr", "hrs", "h"), 3_600 * 10**9),
    **dict.fromkeys(("minutes", "minute", "min", "mins"), 60 * 10**9),
    **dict.fromkeys(("seconds", "second", "sec", "secs", "s"), 10**9),
    **dict.fromkeys(("milliseconds", "millisecond", "msec", "ms"), 10**6),
    **dict.fromkeys(("microseconds", "microsecond", "usec", "us"), 10**3),
}

#: Units of coordinates, normalised (lower case, no spaces or underscores),
#: with the sign that turns them into degrees_east / degrees_north.
_DEGREES = {
    "longitude": {
        **dict.fromkeys(("", "degrees", "degree", "deg"), 1.0),
        **dict.fromkeys(("degreeseast", "degreeeast", "degreese", "degreee"), 1.0),
        **dict.fromkeys(("degreeswest", "degreewest", "degreesw", "degreew"), -1.0),
    },
    "latitude": {
        **dict.fromkeys(("", "degrees", "degree", "deg"), 1.0),
        **dict.fromkeys(("degreesnorth", "degreenorth", "degreesn", "degreen"), 1.0),
        **dict.fromkeys(("degreessouth", "degreesouth", "degreess"), -1.0),
    },
}
_EXPECTED_DEGREES = {"longitude": "degrees_east", "latitude": "degrees_north"}
_LIMIT_DEGREES = {"longitude": 360.0, "latitude": 90.0}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Header:
    """What a NetCDF file declares, read without loading any data."""

    #: Dimension sizes by name.
    dims: dict[str, int]
    #: Per variable: its dimension names.
    variables: dict[str, tuple[str, ...]]
    #: Per variable: its attributes.
    var_attrs: dict[str, dict[str, Any]]
    #: Global attributes.
    attrs: dict[str, Any]

    def has(self, *names: str) -> bool:
        """True when every variable in ``names`` exists."""
        return all(n in self.variables for n in names)

    def first(self, *names: str) -> str | None:
        """The first of ``names`` that exists, else ``None``."""
        return next((n for n in names if n in self.variables), None)


@functools.lru_cache(maxsize=256)
def _header_cached(path: str, _mtime_ns: int, size: int) -> Header:
    import netCDF4

    try:
        with open(path, "rb") as fh:
            start = fh.read(4)
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if start[:3] == b"CDF":
        expected = classic_size(path)
        if expected is not None and size < expected:
            raise InputError(
                path,
                f"truncated NetCDF-3 file: {size} bytes, its header describes {expected} bytes",
            )
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
        When the file does not exist, is a folder, cannot be opened, is not
        NetCDF, or is truncated (a NetCDF-3 file shorter than its header says).
    """
    path = Path(path)
    if not path.is_file():
        problem = "no such file" if not path.exists() else "not a file"
        if path.is_symlink() and not path.exists():
            problem = "broken symbolic link"
        raise InputError(path, problem)
    stat = path.stat()
    if stat.st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    return _header_cached(str(path), stat.st_mtime_ns, stat.st_size)


#: Bytes per value of the NetCDF-3 external types (NC_BYTE .. NC_UINT64).
_CLASSIC_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}
_STREAMING = 0xFFFFFFFF


def classic_size(path: str | Path) -> int | None:
    """The smallest size (bytes) a NetCDF-3 file must have to hold what its header declares.

    Parses the classic header (CDF-1, CDF-2 and CDF-5 layouts): every
    fixed-size variable must end before the end of the file, and every record
    variable must have its ``numrecs`` records.

    Returns
    -------
    int or None
        The size, or ``None`` when the file is not NetCDF-3, its header cannot
        be parsed (left to the netCDF library to report) or it is streaming.
    """
    try:
        with Path(path).open("rb") as fh:
            return _classic_size(fh)
    except (OSError, ValueError, struct.error, KeyError, IndexError):
        return None


def _classic_size(fh: Any) -> int | None:
    magic = fh.read(4)
    if magic[:3] != b"CDF" or magic[3] not in (1, 2, 5):
        return None
    version = magic[3]
    count_fmt = ">Q" if version == 5 else ">I"  # NON_NEG counts
    offset_fmt = ">I" if version == 1 else ">Q"

    def read(fmt: str) -> int:
        size = struct.calcsize(fmt)
        data = fh.read(size)
        if len(data) != size:
            raise ValueError("header truncated")
        return int(struct.unpack(fmt, data)[0])

    size = os.fstat(fh.fileno()).st_size

    def name() -> str:
        n = read(count_fmt)
        if n > size:  # a corrupt count: never allocate it
            raise ValueError("header corrupt")
        raw = fh.read(n + (-n % 4))
        return raw[:n].decode("utf-8", "replace")

    def skip_attributes() -> None:
        read(">I")  # NC_ATTRIBUTE tag or ZERO
        for _ in range(read(count_fmt)):
            name()
            nc_type = read(">I")
            nbytes = read(count_fmt) * _CLASSIC_TYPE_SIZE[nc_type]
            fh.seek(nbytes + (-nbytes % 4), 1)

    numrecs = read(count_fmt)
    if numrecs in (_STREAMING, 2**64 - 1):
        return None
    read(">I")  # NC_DIMENSION tag or ZERO
    dims = []
    for _ in range(read(count_fmt)):
        name()
        dims.append(read(count_fmt))
    skip_attributes()
    read(">I")  # NC_VARIABLE tag or ZERO
    fixed_end = 0
    records: list[tuple[int, int, int]] = []  # (begin, vsize, bytes of one record)
    for _ in range(read(count_fmt)):
        name()
        dimids = [read(count_fmt) for _ in range(read(count_fmt))]
        skip_attributes()
        nc_type = read(">I")
        vsize = read(count_fmt if version == 5 else ">I")
        begin = read(offset_fmt)
        shape = [dims[d] for d in dimids]
        is_record = bool(shape) and shape[0] == 0
        one = math.prod(shape[1:] if is_record else shape)
        one *= _CLASSIC_TYPE_SIZE[nc_type]
        if is_record:
            records.append((begin, vsize, one))
        else:
            fixed_end = max(fixed_end, begin + one)
    end = max(fixed_end, fh.tell())
    if records and numrecs:
        # one record holds every record variable (one alone is not padded)
        recsize = records[0][2] if len(records) == 1 else sum(r[1] for r in records)
        end = max(end, *(b + (numrecs - 1) * recsize + one for b, _, one in records))
    return end


def load(path: str | Path, variables: list[str] | None = None) -> xr.Dataset:
    """Load ``variables`` (all when ``None``) of a NetCDF file into memory.

    Values are unpacked (scale, offset, declared fill -> NaN); times are left
    as numbers, for :func:`decoded_times`.

    Raises
    ------
    InputError
        When the file cannot be read (truncated data, bad time units...).
    """
    path = Path(path)
    hdr = header(path)
    try:
        with (
            HDF5_LOCK,
            xr.open_dataset(
                path, engine="netcdf4", decode_times=False, decode_timedelta=False
            ) as ds,
        ):
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
    """The values of a time variable as ``datetime64[ns]`` (UTC), decoded strictly.

    Parameters
    ----------
    path
        The file (for messages).
    da
        The variable as loaded by :func:`load` (numbers with ``units`` and
        ``calendar`` attributes; a declared fill value is NaN and gives NaT).

    Raises
    ------
    InputError
        When the units are not ``<unit> since <date>``, the calendar is not the
        standard one (:data:`CALENDARS`), or a value lies outside
        :data:`TIME_RANGE` (e.g. an undeclared fill value 9.96921e36).
    """
    values = np.asarray(da.values)
    if values.dtype.kind == "M":
        return values.astype("datetime64[ns]")
    attrs = {**da.encoding, **da.attrs}
    units = text_attr(attrs, "units").strip()
    calendar = text_attr(attrs, "calendar").strip().lower() or "standard"
    match = _TIME_UNITS.match(units)
    if match is None or match["unit"].lower() not in _UNIT_NS:
        raise InputError(
            path,
            f"variable {da.name!r} has time units {units!r}; expected '<unit> since <date>' "
            "(unit days, hours, minutes or seconds)",
        )
    if calendar not in CALENDARS:
        raise InputError(
            path,
            f"variable {da.name!r} uses the calendar {calendar!r}; only the standard "
            "(Gregorian) calendar is read, as observation times are real dates",
        )
    if values.dtype.kind not in "iuf":
        raise InputError(path, f"variable {da.name!r} is not numeric ({values.dtype})")
    numbers = values.astype(np.float64)
    try:
        reference = np.datetime64(_reference_date(match["ref"]), "ns")
    except ValueError as exc:
        raise InputError(path, f"variable {da.name!r}: bad reference date in {units!r}") from exc
    step = _UNIT_NS[match["unit"].lower()]
    lo, hi = ((t - reference).astype(np.int64) / step for t in TIME_RANGE)
    finite = np.isfinite(numbers)
    bad = (~finite & ~np.isnan(numbers)) | (finite & ((numbers < lo) | (numbers > hi)))
    if bad.any():
        example = numbers[bad][0]
        raise InputError(
            path,
            f"variable {da.name!r} holds {int(bad.sum())} value(s) outside "
            f"{str(TIME_RANGE[0])[:4]}..{str(TIME_RANGE[1])[:4]} (e.g. {example:g} {units}): "
            "an undeclared fill value or wrong units",
        )
    out = np.full(numbers.shape, np.datetime64("NaT", "ns"))
    whole = np.round(numbers[finite] * step)
    out[finite] = reference + whole.astype(np.int64).astype("m8[ns]")
    return out


def _reference_date(text: str) -> Any:
    """The reference date of CF time units as a naive UTC timestamp (pandas parser)."""
    import pandas as pd

    text = text.strip().replace("UTC", "").replace("utc", "").strip()
    stamp = pd.Timestamp(text.rstrip("Z"))
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_datetime64()


def in_degrees(path: str | Path, da: xr.DataArray, axis: str) -> np.ndarray:
    """Coordinate values in degrees_east (``axis="longitude"``) or degrees_north.

    ``degrees_west``/``degrees_south`` are negated (with a note in the log); no
    ``units`` is taken as degrees east/north; any other unit is refused, as are
    latitudes beyond +-90 and longitudes beyond +-360 degrees.

    Raises
    ------
    InputError
        Naming the variable, its units or the values out of range.
    """
    units = text_attr({**da.encoding, **da.attrs}, "units").strip()
    key = units.lower().replace(" ", "").replace("_", "")
    sign = _DEGREES[axis].get(key)
    expected = _EXPECTED_DEGREES[axis]
    if sign is None:
        raise InputError(path, f"variable {da.name!r} has units {units!r}; expected {expected}")
    values = np.asarray(da.values, dtype=np.float64)
    if sign < 0:
        log.info("%s: %s in %s, converted to %s", path, da.name, units, expected)
        values = -values
    limit = _LIMIT_DEGREES[axis]
    with np.errstate(invalid="ignore"):
        outside = np.abs(values) > limit + 1e-6
    if outside.any():
        worst = float(values[outside][np.argmax(np.abs(values[outside]))])
        raise InputError(
            path,
            f"variable {da.name!r} ({axis}) holds {int(outside.sum())} value(s) beyond "
            f"+-{limit:g} degrees (e.g. {worst:g} {units or expected})",
        )
    return values


def track_positions(path: str | Path, ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (``datetime64[ns]``, UTC), latitudes and longitudes (degrees) of an
    along-track product's ``time``, ``latitude`` and ``longitude`` variables."""
    return (
        decoded_times(path, ds["time"]),
        in_degrees(path, ds["latitude"], "latitude"),
        in_degrees(path, ds["longitude"], "longitude"),
    )
