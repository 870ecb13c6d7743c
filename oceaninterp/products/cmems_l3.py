"""CMEMS / DUACS L3 along-track sea level (SEALEVEL_*_PHY_L3_*), reader and writer.

Layouts read
------------
- global and regional (Med, Black Sea) DT and NRT files since 2018: dimension
  ``time``; ``latitude``/``longitude`` int32 x 1e-6 degrees (0..360);
  ``sla_filtered``, ``sla_unfiltered``, ``mdt``, ``adt_filtered``,
  ``adt_unfiltered`` (int16 x 0.001 m or float32 m), ``cycle``, ``track``, ``flag``;
- the older AVISO layout with ``SLA`` or ``ADT`` (int16 x 0.001 m).

Variables (``variable=``): ``sla_filtered``, ``sla_unfiltered``, ``adt``
(``adt_filtered``/``ADT`` when present, else ``sla_filtered + mdt``, else the
unfiltered equivalents), ``adt_filtered`` and ``adt_unfiltered``.

File names follow ``{dt|nrt}_{area}_{mission}_phy_..._{day}_{production}.nc``;
the mission code is the name's token among :data:`MISSIONS`, else it comes from
the ``platform`` attribute. NRT archives hold several production dates of one
day: :func:`latest_production` keeps the latest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.io import atomic_path
from oceaninterp.products._netcdf import header, in_metres, load, text_attr, track_positions
from oceaninterp.products.format import TRACK_OPTIONS, ProductFormat
from oceaninterp.products.schema import TRACK_DIM, make_tracks, track_numbers

NAME = "cmems_l3"
DESCRIPTION = "CMEMS/DUACS L3 along-track sea level"

#: CMEMS mission codes and the ``platform`` attribute DUACS writes for each.
MISSIONS: dict[str, str] = {
    "al": "AltiKa",
    "alg": "Altika Drifting Phase",
    "c2": "Cryosat-2",
    "c2n": "Cryosat-2 New Orbit",
    "e1": "ERS-1",
    "e1g": "ERS-1 Geodetic Phase",
    "e2": "ERS-2",
    "en": "Envisat",
    "enn": "Envisat New Orbit",
    "g2": "Geosat Follow On",
    "h2a": "HaiYang-2A",
    "h2ag": "HaiYang-2A Geodetic Phase",
    "h2b": "HaiYang-2B",
    "h2c": "HaiYang-2C",
    "j1": "Jason-1",
    "j1g": "Jason-1 Geodetic Phase",
    "j1n": "Jason-1 Interleaved",
    "j2": "OSTM/Jason-2",
    "j2g": "OSTM/Jason-2 Geodetic Phase",
    "j2n": "OSTM/Jason-2 Interleaved",
    "j3": "Jason-3",
    "j3n": "Jason-3 Interleaved",
    "s3a": "Sentinel-3A",
    "s3b": "Sentinel-3B",
    "s6a": "Sentinel-6A",
    "swon": "SWOT nadir",
    "tp": "Topex/Poseidon",
    "tpn": "Topex/Poseidon Interleaved",
}
_PLATFORM_CODES = {name.lower(): code for code, name in MISSIONS.items()}

#: Candidate product variables for each selectable variable, in order of preference.
_DIRECT = {
    "sla_filtered": ("sla_filtered", "SLA"),
    "sla_unfiltered": ("sla_unfiltered",),
    "adt_filtered": ("adt_filtered", "ADT"),
    "adt_unfiltered": ("adt_unfiltered",),
}
VARIABLES = ("sla_filtered", "sla_unfiltered", "adt", "adt_filtered", "adt_unfiltered")
_ALL_NAMES = {n for names in _DIRECT.values() for n in names}

_NAME_DATES = re.compile(r"^(?P<key>.+?)_(?P<day>\d{8})_(?P<production>\d{8})$")

_SCALE = 0.001  # m per count of the int16 sea-level variables
_INT16_FILL = np.int16(32767)
_INT32_FILL = np.int32(-2147483647)
_COORD_SCALE = 1e-6  # degrees per count of latitude/longitude


def can_open(path: str | Path) -> bool:
    """True for a 1-D along-track file with a CMEMS/AVISO sea-level variable."""
    hdr = header(path)
    if "nasa_flag" in hdr.variables or "num_pixels" in hdr.dims:
        return False
    coords_ok = hdr.variables.get("latitude") == ("time",) and hdr.variables.get("longitude") == (
        "time",
    )
    return coords_ok and any(n in hdr.variables for n in _ALL_NAMES)


def mission_code(path: str | Path, attrs: dict | None = None) -> str:
    """The CMEMS mission code of a file: from its name, else its ``platform`` attribute."""
    for token in Path(path).name.split(".")[0].lower().split("_"):
        if token in MISSIONS:
            return token
    platform = text_attr(attrs or {}, "platform").strip()
    code = _PLATFORM_CODES.get(platform.lower())
    if code is not None:
        return code
    return platform.lower().replace(" ", "-") or "unknown"


def _resolve(path: Path, variable: str) -> tuple[str, bool]:
    """(product variable to read, whether mdt must be added) for ``variable``."""
    hdr = header(path)
    if variable in _DIRECT:
        found = hdr.first(*_DIRECT[variable])
        if found is not None:
            return found, False
        if variable.startswith("adt_"):
            sla = hdr.first(*_DIRECT["sla_" + variable[4:]])
            if sla is not None and "mdt" in hdr.variables:
                return sla, True
    elif variable == "adt":
        for candidate in ("adt_filtered", "adt_unfiltered"):
            try:
                return _resolve(path, candidate)
            except InputError:
                continue
    else:
        raise InputError(path, f"unknown variable {variable!r}; expected one of {VARIABLES}")
    present = sorted(n for n in hdr.variables if n in _ALL_NAMES or n == "mdt")
    hint = "; adt needs adt_* or sla_* with mdt" if variable.startswith("adt") else ""
    raise InputError(path, f"missing variable {variable!r} (the file holds {present}{hint})")


def open(  # noqa: A001
    path: str | Path, *, variable: str = "sla_filtered", drop_nadir: bool = False
) -> xr.Dataset:
    """Read a CMEMS L3 file as tidy tracks: a :class:`~oceaninterp.products.format.TrackOpener`.

    ``variable`` is one of :data:`VARIABLES`: ``adt`` reads the file's ADT, or
    its anomaly plus ``mdt``; the ``sla_*`` read ``sla_filtered`` /
    ``sla_unfiltered``. A nadir file has no pixels for ``drop_nadir`` to leave out.
    """
    path = Path(path)
    name, add_mdt = _resolve(path, variable)
    extra_names = [n for n in ("cycle", "track", "mdt") if n in header(path).variables]
    ds = load(path, ["time", "latitude", "longitude", name, *extra_names])
    values = in_metres(path, ds[name])
    if add_mdt:
        values = values + in_metres(path, ds["mdt"])
    extra = track_numbers(ds, "track")
    if "mdt" in ds:
        extra["mdt"] = in_metres(path, ds["mdt"]).astype(np.float32)
    kind = "adt" if (variable.startswith("adt") or name == "ADT") else "sla"
    return make_tracks(
        *track_positions(path, ds),
        values,
        mission=mission_code(path, header(path).attrs),
        source=path,
        ssh_variable=name if not add_mdt else f"{name}+mdt",
        ssh_kind=kind,
        extra=extra,
    )


def production_key(path: str | Path) -> tuple[str, str, str] | None:
    """(name without dates, data day, production day) of a CMEMS file name, if dated."""
    match = _NAME_DATES.match(Path(path).name.split(".")[0])
    if match is None:
        return None
    return match["key"], match["day"], match["production"]


def latest_production(paths: Iterable[str | Path]) -> tuple[list[Path], dict[Path, Path]]:
    """Keep, for each product and day, the file with the latest production date.

    Returns
    -------
    kept, superseded
        The files to read (input order kept) and, for each dropped file, the file
        that supersedes it.
    """
    files = [Path(p) for p in paths]
    best: dict[tuple[str, str], tuple[str, Path]] = {}  # (name, day) -> (production, file)
    for p in files:
        key = production_key(p)
        if key is None:
            continue
        group = (key[0], key[1])
        if group not in best or best[group][0] < key[2]:
            best[group] = (key[2], p)
    superseded: dict[Path, Path] = {}
    for p in files:
        key = production_key(p)
        if key is not None and best[(key[0], key[1])][1] != p:
            superseded[p] = best[(key[0], key[1])][1]
    return [p for p in files if p not in superseded], superseded


def file_name(
    mission: str,
    day: str | np.datetime64,
    *,
    production: str | np.datetime64 | None = None,
    timeliness: str = "dt",
    area: str = "global",
) -> str:
    """A CMEMS-style file name, e.g. ``dt_global_j3_phy_l3_20220101_20220101.nc``."""
    d = str(np.asarray(day, dtype="datetime64[D]")).replace("-", "")
    p = str(np.asarray(production or day, dtype="datetime64[D]")).replace("-", "")
    return f"{timeliness}_{area}_{mission}_phy_l3_{d}_{p}.nc"


def write(tracks: xr.Dataset, path: str | Path) -> Path:
    """Write tidy tracks of one mission as a CMEMS L3 along-track file (atomic).

    ``sla_filtered`` and ``sla_unfiltered`` are the tracks' ``ssh`` as an anomaly
    (``ssh - mdt`` when ``ssh_kind`` is ``"adt"``), unless the tracks carry their
    own ``sla_filtered``/``sla_unfiltered`` variables; ``mdt`` is the tracks'
    ``mdt`` (metres) or 0. Sea levels are packed int16 x 0.001 m, positions
    int32 x 1e-6 degrees with longitudes in 0..360, time in days since
    1950-01-01, as DUACS writes them.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    order = np.argsort(tracks["time"].values, kind="stable")
    tracks = tracks.isel({TRACK_DIM: order})
    n = tracks.sizes[TRACK_DIM]
    ssh = tracks["ssh"].values.astype(np.float64)
    mdt = tracks["mdt"].values.astype(np.float64) if "mdt" in tracks else np.zeros(n)
    sla = ssh - mdt if tracks.attrs.get("ssh_kind") == "adt" else ssh
    mission = str(tracks.attrs.get("mission", "unknown"))
    platform = MISSIONS.get(mission, mission)
    level_vars = {
        "sla_filtered": (
            tracks["sla_filtered"].values if "sla_filtered" in tracks else sla,
            "Sea level anomaly filtered not-subsampled",
            "sea_surface_height_above_sea_level",
        ),
        "sla_unfiltered": (
            tracks["sla_unfiltered"].values if "sla_unfiltered" in tracks else sla,
            "Sea level anomaly not-filtered not-subsampled",
            "sea_surface_height_above_sea_level",
        ),
        "mdt": (mdt, "Mean dynamic topography", "sea_surface_height_above_geoid"),
    }
    data: dict[str, tuple] = {
        "time": (
            tracks["time"].values,
            {"standard_name": "time", "long_name": "Time of measurement", "axis": "T"},
        ),
        "longitude": (
            tracks["longitude"].values % 360.0,
            {
                "standard_name": "longitude",
                "long_name": "Longitude of measurement",
                "units": "degrees_east",
            },
        ),
        "latitude": (
            tracks["latitude"].values,
            {
                "standard_name": "latitude",
                "long_name": "Latitude of measurement",
                "units": "degrees_north",
            },
        ),
    }
    encoding: dict[str, dict] = {
        "time": {
            "units": "days since 1950-01-01 00:00:00",
            "calendar": "gregorian",
            "dtype": "float64",
            "_FillValue": None,
        },
        "longitude": {
            "dtype": "int32",
            "scale_factor": _COORD_SCALE,
            "add_offset": 0.0,
            "_FillValue": _INT32_FILL,
        },
        "latitude": {
            "dtype": "int32",
            "scale_factor": _COORD_SCALE,
            "add_offset": 0.0,
            "_FillValue": _INT32_FILL,
        },
    }
    for name, (values, long_name, std) in level_vars.items():
        data[name] = (
            np.asarray(values, dtype=np.float64),
            {
                "standard_name": std,
                "long_name": long_name,
                "units": "m",
                "coordinates": "longitude latitude",
            },
        )
        encoding[name] = {
            "dtype": "int16",
            "scale_factor": _SCALE,
            "add_offset": 0.0,
            "_FillValue": _INT16_FILL,
        }
    for src, dst, long_name in (
        ("cycle", "cycle", "Cycle the measurement belongs to"),
        ("pass_number", "track", "Track in cycle the measurement belongs to"),
    ):
        if src in tracks:
            data[dst] = (
                tracks[src].values.astype(np.int16),
                {"long_name": long_name, "units": "1", "coordinates": "longitude latitude"},
            )
            encoding[dst] = {"_FillValue": None}
    times = tracks["time"].values
    attrs = {
        "Conventions": "CF-1.6",
        "cdm_data_type": "Swath",
        "title": f"DT {platform} Global Ocean Along track SSALTO/DUACS Sea Surface Height "
        "L3 product (oceaninterp)",
        "platform": platform,
        "source": f"{platform} measurements",
        "processing_level": "L3",
        "institution": "oceaninterp",
        "history": str(tracks.attrs.get("history", "written by oceaninterp")),
    }
    if n:
        attrs.update(
            time_coverage_start=np.datetime_as_string(times.min(), unit="s") + "Z",
            time_coverage_end=np.datetime_as_string(times.max(), unit="s") + "Z",
        )
    ds = xr.Dataset(
        {k: (("time",), v, a) for k, (v, a) in data.items() if k != "time"},
        coords={"time": ("time", times, data["time"][1])},
        attrs=attrs,
    )
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return path


#: This format in the registry (:mod:`oceaninterp.products`).
FORMAT = ProductFormat(NAME, DESCRIPTION, "tracks", can_open, open, write, TRACK_OPTIONS, VARIABLES)
