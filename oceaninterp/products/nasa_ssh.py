"""NASA-SSH "Standardized Along-Track Sea Surface Height" (PO.DAAC), reader and writer.

One file per day, dimension ``time``; ``ssh`` is the sea surface height
relative to the DTU21 mean sea surface, i.e. a sea level anomaly (metres);
``ssh_smoothed`` is a 19-point along-track smoothing of it; ``nasa_flag == 0``
marks the points to keep for ``ssh`` (the smoothed field is already edited and
must not be flagged again); longitudes in 0..360.

Variables (``variable=``): ``sla_unfiltered`` or ``ssh`` -> ``ssh`` with
``nasa_flag == 0``; ``sla_filtered`` -> ``ssh_smoothed``. There is no MDT in
these files, so ``adt`` is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.io import atomic_path
from oceaninterp.products._netcdf import header, in_metres, load, text_attr, track_positions
from oceaninterp.products.format import TRACK_OPTIONS, ProductFormat
from oceaninterp.products.schema import TRACK_DIM, make_tracks, track_numbers

NAME = "nasa_ssh"
DESCRIPTION = "NASA-SSH standardized along-track sea surface height"
VARIABLES = ("sla_filtered", "sla_unfiltered", "ssh")
_SOURCE_VARIABLE = {"sla_filtered": "ssh_smoothed", "sla_unfiltered": "ssh", "ssh": "ssh"}

#: Mission names as they appear in ``source_files``, with their CMEMS codes.
_MISSION_PATTERNS = (
    (re.compile(r"Sentinel-6", re.I), "s6a"),
    (re.compile(r"Jason-3", re.I), "j3"),
    (re.compile(r"OSTM|Jason-2", re.I), "j2"),
    (re.compile(r"Jason(-1)?(?![-A-Za-z0-9])", re.I), "j1"),
    (re.compile(r"TOPEX", re.I), "tp"),
)
_PLATFORM_NAMES = {
    "s6a": "Sentinel-6",
    "j3": "Jason-3",
    "j2": "OSTM/Jason-2",
    "j1": "Jason-1",
    "tp": "TOPEX",
}
_SMOOTHING_POINTS = 19


def can_open(path: str | Path) -> bool:
    """True for a NASA-SSH file (``ssh`` and ``nasa_flag`` along ``time``)."""
    hdr = header(path)
    return hdr.has("ssh", "nasa_flag", "latitude", "longitude") and hdr.variables["ssh"] == (
        "time",
    )


def mission_code(attrs: dict) -> str:
    """The CMEMS code of the mission that flew last in ``source_files``.

    NASA-SSH files name their source as a merged record, e.g.
    ``Merged_TOPEX_Jason_OSTM_Jason-3_Cycle_1079``: the last mission named is
    the one that measured.
    """
    text = text_attr(attrs, "source_files") + " " + text_attr(attrs, "platform")
    best, best_end = "nasa_ssh", -1
    for pattern, code in _MISSION_PATTERNS:
        for match in pattern.finditer(text):
            if match.end() > best_end:
                best, best_end = code, match.end()
    return best


def open(  # noqa: A001
    path: str | Path, *, variable: str = "sla_filtered", drop_nadir: bool = False
) -> xr.Dataset:
    """Read a NASA-SSH file: a :class:`~oceaninterp.products.format.TrackOpener`.

    The anomaly is relative to DTU21 (metres): ``sla_filtered`` reads
    ``ssh_smoothed``, ``sla_unfiltered`` and ``ssh`` read ``ssh``; points with
    ``nasa_flag != 0`` are left out. The files hold no MDT, so no ``adt``.
    """
    path = Path(path)
    if variable not in _SOURCE_VARIABLE:
        raise InputError(
            path,
            f"missing variable {variable!r}: NASA-SSH files hold a sea level anomaly "
            f"relative to DTU21 and no MDT; choose one of {VARIABLES}",
        )
    name = _SOURCE_VARIABLE[variable]
    hdr = header(path)
    if name not in hdr.variables:
        raise InputError(path, f"missing variable {name!r} (NASA-SSH {variable})")
    extra_names = [n for n in ("cycle", "pass") if n in hdr.variables]
    ds = load(path, ["time", "latitude", "longitude", "nasa_flag", name, *extra_names])
    values = in_metres(path, ds[name])
    if name == "ssh":
        values = np.where(ds["nasa_flag"].values == 0, values, np.nan)
    extra = track_numbers(ds, "pass")
    return make_tracks(
        *track_positions(path, ds),
        values,
        mission=mission_code(hdr.attrs),
        source=path,
        ssh_variable=name,
        ssh_kind="sla",
        extra=extra,
    )


def _running_mean(values: np.ndarray, points: int) -> np.ndarray:
    """NaN-aware centred running mean over ``points`` samples."""
    ok = np.isfinite(values)
    kernel = np.ones(points)
    sums = np.convolve(np.where(ok, values, 0.0), kernel, mode="same")
    counts = np.convolve(ok.astype(np.float64), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, sums / counts, np.nan)


def file_name(day: str | np.datetime64) -> str:
    """The NASA-SSH daily file name, e.g. ``GSFC-alt_ssh20220101.nc``."""
    return "GSFC-alt_ssh" + str(np.asarray(day, dtype="datetime64[D]")).replace("-", "") + ".nc"


def write(tracks: xr.Dataset, path: str | Path) -> Path:
    """Write tidy tracks (a sea level anomaly, metres) as a NASA-SSH file (atomic).

    ``ssh`` is the tracks' ``ssh``, ``ssh_smoothed`` its 19-point running mean,
    ``nasa_flag`` 0 everywhere (the tracks are already edited); ``source_files``
    names the mission so that :func:`mission_code` reads it back.
    """
    path = Path(path)
    if tracks.attrs.get("ssh_kind", "sla") != "sla":
        raise InputError(path, "NASA-SSH files hold a sea level anomaly: tracks must be 'sla'")
    order = np.argsort(tracks["time"].values, kind="stable")
    tracks = tracks.isel({TRACK_DIM: order})
    ssh = tracks["ssh"].values.astype(np.float64)
    mission = str(tracks.attrs.get("mission", ""))
    n = ssh.size
    level = {"units": "m", "coordinates": "latitude longitude", "mean_sea_surface": "DTU21"}
    data = {
        "ssh": (ssh, {"long_name": "sea surface height relative to mean_sea_surface", **level}),
        "ssh_smoothed": (
            _running_mean(ssh, _SMOOTHING_POINTS),
            {"long_name": "smoothed sea surface height relative to mean_sea_surface", **level},
        ),
        "latitude": (
            tracks["latitude"].values.astype(np.float32),
            {"standard_name": "latitude", "units": "degrees_north"},
        ),
        "longitude": (
            (tracks["longitude"].values % 360.0).astype(np.float32),
            {"standard_name": "longitude", "units": "degrees_east"},
        ),
        "nasa_flag": (
            np.zeros(n, np.int8),
            {
                "long_name": "nasa ssh quality flag",
                "flag_meanings": "good bad",
                "coordinates": "latitude longitude",
            },
        ),
    }
    for src, dst in (("cycle", "cycle"), ("pass_number", "pass")):
        if src in tracks:
            data[dst] = (tracks[src].values.astype(np.int32), {"coordinates": "latitude longitude"})
    ds = xr.Dataset(
        {k: (("time",), v, a) for k, (v, a) in data.items()},
        coords={"time": (("time",), tracks["time"].values, {"standard_name": "time"})},
        attrs={
            "Conventions": "CF-1.7",
            "title": "Standardized Along-Track Sea Surface Height",
            "project": "NASA-SSH",
            "mean_sea_surface": "DTU21",
            "source_files": f"oceaninterp_{_PLATFORM_NAMES.get(mission, mission)}",
            "history": "written by oceaninterp",
        },
    )
    encoding: dict[str, dict[str, Any]] = {
        "time": {"units": "seconds since 1990-01-01", "calendar": "proleptic_gregorian"},
        "nasa_flag": {"_FillValue": np.int8(127)},
    }
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


#: This format in the registry (:mod:`oceaninterp.products`).
FORMAT = ProductFormat(NAME, DESCRIPTION, "tracks", can_open, open, write, TRACK_OPTIONS, VARIABLES)
