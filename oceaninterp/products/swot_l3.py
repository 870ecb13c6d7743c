"""SWOT L3 LR SSH (AVISO/DUACS, "Basic"/"Expert", v1.0 to v3.x), reader and writer.

One half-orbit pass per file: dimensions ``num_lines`` (along track, ~2 km)
by ``num_pixels`` (across track, 2 km); ``time`` over lines; 2-D
``latitude``/``longitude`` (int32 x 1e-6 degrees, 0..360);
``cross_track_distance`` in km (1-D over pixels since v2, 2-D before);
sea level anomalies ``ssha_filtered``/``ssha_unfiltered`` (v1.0:
``ssha_noiseless``/``ssha``), ``mdt``; ``quality_flag`` (0 = good KaRIn data).
Nadir-altimeter measurements are copied into the KaRIn pixel nearest to them,
listed by ``i_num_line``/``i_num_pixel`` (dimension ``num_nadir``).

Reading turns the swath into points. A pixel is kept when its sea level is
finite and either ``quality_flag == 0`` or it holds a copied nadir measurement
(the KaRIn flag, e.g. ``no_data``, says nothing of the nadir altimeter);
``drop_nadir=True`` removes the copied nadir pixels, so that a nadir file of
the same mission can be used without counting its points twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.io import atomic_path
from oceaninterp.products._netcdf import decoded_times, header, in_degrees, in_metres, load
from oceaninterp.products.format import TRACK_OPTIONS, ProductFormat
from oceaninterp.products.schema import make_tracks

NAME = "swot_l3"
DESCRIPTION = "SWOT L3 LR SSH swath"
VARIABLES = ("sla_filtered", "sla_unfiltered", "adt", "adt_filtered", "adt_unfiltered")

#: Product variable names by selectable variable, newest layout first.
_SSHA = {
    "sla_filtered": ("ssha_filtered", "ssha_noiseless"),
    "sla_unfiltered": ("ssha_unfiltered", "ssha"),
}
_NAME = re.compile(r"SWOT_L3_LR_SSH_\w+?_(?P<cycle>\d{3})_(?P<pass>\d{3})_")
_SSH_SCALE = 1e-4  # m per count
_COORD_SCALE = 1e-6  # degrees per count
_INT32_FILL = np.int32(-2147483647)


def can_open(path: str | Path) -> bool:
    """True for a SWOT L3 swath file (2-D sea level anomaly over lines and pixels)."""
    hdr = header(path)
    if not {"num_lines", "num_pixels"} <= set(hdr.dims):
        return False
    names = [n for names in _SSHA.values() for n in names]
    return any(hdr.variables.get(n) == ("num_lines", "num_pixels") for n in names)


def _resolve(path: Path, variable: str) -> tuple[str, bool]:
    """(product variable, whether to add mdt) for a selectable ``variable``."""
    hdr = header(path)
    base = {
        "adt": "sla_filtered",
        "adt_filtered": "sla_filtered",
        "adt_unfiltered": "sla_unfiltered",
    }.get(variable, variable)
    if base not in _SSHA:
        raise InputError(path, f"unknown variable {variable!r}; expected one of {VARIABLES}")
    name = hdr.first(*_SSHA[base])
    if name is None:
        raise InputError(path, f"missing variable {variable!r} (expected one of {_SSHA[base]})")
    add_mdt = variable.startswith("adt")
    if add_mdt and "mdt" not in hdr.variables:
        raise InputError(path, f"missing variable 'mdt' (needed for {variable!r} = ssha + mdt)")
    return name, add_mdt


def pass_numbers(path: str | Path) -> tuple[int, int] | None:
    """(cycle, pass) from a SWOT file name, if it follows the AVISO pattern."""
    match = _NAME.search(Path(path).name)
    return (int(match["cycle"]), int(match["pass"])) if match else None


def open(  # noqa: A001
    path: str | Path, *, variable: str = "sla_filtered", drop_nadir: bool = False
) -> xr.Dataset:
    """Read a SWOT L3 file, a point per valid pixel (a :class:`~.format.TrackOpener`).

    ``sla_filtered`` reads ``ssha_filtered`` (v1.0 ``ssha_noiseless``),
    ``sla_unfiltered`` reads ``ssha_unfiltered`` (v1.0 ``ssha``) and ``adt``
    reads ``adt_filtered``/``adt_unfiltered``, or that anomaly plus ``mdt``.
    ``drop_nadir`` leaves out the pixels listed by ``i_num_line``/``i_num_pixel``.
    The tracks carry ``cross_track_distance`` (km, signed) and, when the file
    name says them, ``cycle`` and ``pass_number``.
    """
    path = Path(path)
    name, add_mdt = _resolve(path, variable)
    wanted = ["time", "latitude", "longitude", "quality_flag", "cross_track_distance", name]
    wanted += [n for n in ("mdt", "i_num_line", "i_num_pixel") if add_mdt or n != "mdt"]
    ds = load(path, wanted)
    for required in ("time", "latitude", "longitude"):
        if required not in ds:
            raise InputError(path, f"missing variable {required!r} (SWOT L3 geolocation)")
    values = in_metres(path, ds[name])
    if add_mdt:
        values = values + in_metres(path, ds["mdt"])
    shape = values.shape
    nadir = np.zeros(shape, dtype=bool)
    if "i_num_line" in ds and "i_num_pixel" in ds:
        lines = ds["i_num_line"].values.astype(np.int64)
        pixels = ds["i_num_pixel"].values.astype(np.int64)
        ok = (lines >= 0) & (lines < shape[0]) & (pixels >= 0) & (pixels < shape[1])
        nadir[lines[ok], pixels[ok]] = True
    if "quality_flag" in ds:
        good = (ds["quality_flag"].values == 0) | nadir
    else:
        good = np.ones(shape, dtype=bool)
    if drop_nadir:
        good &= ~nadir
    values = np.where(good, values, np.nan)
    times = np.broadcast_to(decoded_times(path, ds["time"])[:, None], shape)
    extra: dict[str, np.ndarray] = {}
    if "cross_track_distance" in ds:
        extra["cross_track_distance"] = np.broadcast_to(
            ds["cross_track_distance"].values.astype(np.float32), shape
        )
    numbers = pass_numbers(path)
    if numbers is not None:
        extra["cycle"] = np.full(shape, numbers[0], dtype=np.int32)
        extra["pass_number"] = np.full(shape, numbers[1], dtype=np.int32)
    return make_tracks(
        times,
        in_degrees(path, ds["latitude"], "latitude"),
        in_degrees(path, ds["longitude"], "longitude"),
        values,
        mission="swot",
        source=path,
        ssh_variable=name if not add_mdt else f"{name}+mdt",
        ssh_kind="adt" if add_mdt else "sla",
        extra=extra,
    )


def file_name(
    cycle: int, pass_number: int, start: np.datetime64, end: np.datetime64, version: str = "2.0.1"
) -> str:
    """The AVISO file name of a pass, e.g.
    ``SWOT_L3_LR_SSH_Expert_026_165_20241229T165806_20241229T174933_v2.0.1.nc``."""

    def stamp(t: np.datetime64) -> str:
        return str(np.asarray(t, dtype="datetime64[s]")).replace("-", "").replace(":", "")

    return (
        f"SWOT_L3_LR_SSH_Expert_{cycle:03d}_{pass_number:03d}_"
        f"{stamp(start)}_{stamp(end)}_v{version}.nc"
    )


def write(swath: xr.Dataset, path: str | Path) -> Path:
    """Write a swath as a SWOT L3 LR SSH Expert v2 file (atomic).

    Parameters
    ----------
    swath
        Dataset over (``num_lines``, ``num_pixels``): ``time`` (num_lines,
        datetime64), ``latitude``/``longitude`` (degrees), ``cross_track_distance``
        (km), ``ssha_filtered``/``ssha_unfiltered``/``mdt`` (metres, NaN where no
        data) and ``quality_flag`` (0 = good; default 0 where the sea level is
        finite, 102 ``no_data`` elsewhere). Optional ``i_num_line``/``i_num_pixel``
        over ``num_nadir``.
    path
        Output file.

    Notes
    -----
    Sea levels are packed int32 x 1e-4 m and positions int32 x 1e-6 degrees with
    longitudes in 0..360; ``cross_track_distance`` is written 1-D over pixels
    when it is the same on every line (the v2 layout), else 2-D.
    """
    path = Path(path)
    dims = ("num_lines", "num_pixels")
    missing = [v for v in ("time", "latitude", "longitude", "ssha_filtered") if v not in swath]
    if missing:
        raise InputError(path, f"swath lacks {missing} to write a SWOT L3 file")
    ssha_f = swath["ssha_filtered"].values
    ssha_u = swath["ssha_unfiltered"].values if "ssha_unfiltered" in swath else ssha_f
    if "quality_flag" in swath:
        flag = swath["quality_flag"].values.astype(np.uint8)
    else:
        flag = np.where(np.isfinite(ssha_f), 0, 102).astype(np.uint8)
    data: dict[str, tuple] = {
        "latitude": (
            dims,
            swath["latitude"].values,
            {
                "standard_name": "latitude",
                "units": "degrees_north",
                "long_name": "latitude (positive N, negative S)",
            },
        ),
        "longitude": (
            dims,
            swath["longitude"].values % 360.0,
            {
                "standard_name": "longitude",
                "units": "degrees_east",
                "long_name": "longitude (degrees East)",
            },
        ),
        "quality_flag": (
            dims,
            flag,
            {
                "long_name": "Quality Flag",
                "standard_name": "valid_flag_for_data",
                "flag_masks": np.array([0, 102], np.uint8),
                "flag_meanings": "good no_data",
                "coordinates": "longitude latitude",
            },
        ),
    }
    encoding: dict[str, dict] = {
        "time": {
            "units": "seconds since 2000-01-01 00:00:00.0",
            "calendar": "gregorian",
            "dtype": "float64",
            "_FillValue": None,
        },
        "latitude": {"dtype": "int32", "scale_factor": _COORD_SCALE, "_FillValue": _INT32_FILL},
        "longitude": {"dtype": "int32", "scale_factor": _COORD_SCALE, "_FillValue": _INT32_FILL},
        "quality_flag": {"_FillValue": None},
    }
    for name, values, long_name in (
        ("ssha_filtered", ssha_f, "sea surface height anomaly calibrated, edited and filtered"),
        ("ssha_unfiltered", ssha_u, "sea surface height anomaly calibrated and edited"),
        ("mdt", swath["mdt"].values if "mdt" in swath else None, "mean dynamic topography"),
    ):
        if values is None:
            continue
        data[name] = (
            dims,
            np.asarray(values, dtype=np.float64),
            {"long_name": long_name, "units": "m", "coordinates": "longitude latitude"},
        )
        encoding[name] = {"dtype": "int32", "scale_factor": _SSH_SCALE, "_FillValue": _INT32_FILL}
    if "cross_track_distance" in swath:
        ctd = np.broadcast_to(swath["cross_track_distance"].values, flag.shape)
        same = bool(np.all(ctd == ctd[:1]))
        data["cross_track_distance"] = (
            ("num_pixels",) if same else dims,
            ctd[0] if same else ctd,
            {
                "long_name": "cross track distance",
                "units": "km",
                "coordinates": "longitude latitude",
            },
        )
        encoding["cross_track_distance"] = {"dtype": "float64", "_FillValue": None}
    for name, dtype in (("i_num_line", np.int16), ("i_num_pixel", np.int8)):
        if name in swath:
            data[name] = (("num_nadir",), swath[name].values.astype(dtype), {"units": "count"})
            encoding[name] = {"_FillValue": None}
    times = swath["time"].values
    ds = xr.Dataset(
        {k: v for k, v in data.items()},
        coords={
            "time": (("num_lines",), times, {"standard_name": "time", "long_name": "time in UTC"})
        },
        attrs={
            "Conventions": "CF-1.7",
            "title": "SWOT KaRIn & nadir Global Ocean swath SSALTO/DUACS Sea Surface Height "
            "L3 product (oceaninterp)",
            "platform": "SWOT",
            "processing_level": "L3",
            "product_version": "2.0.1",
            "history": str(swath.attrs.get("history", "written by oceaninterp")),
            "time_coverage_start": np.datetime_as_string(times.min(), unit="s") + "Z",
            "time_coverage_end": np.datetime_as_string(times.max(), unit="s") + "Z",
        },
    )
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


#: This format in the registry (:mod:`oceaninterp.products`).
FORMAT = ProductFormat(NAME, DESCRIPTION, "tracks", can_open, open, write, TRACK_OPTIONS, VARIABLES)
