"""The tidy-track schema: what every along-track or swath reader returns.

A tidy track set is an :class:`xarray.Dataset` with a single dimension ``obs``
and these variables (all 1-D over ``obs``):

``time``
    ``datetime64[ns]``, UTC.
``latitude``
    float64, degrees_north (WGS-84, geodetic).
``longitude``
    float64, degrees_east, wrapped to [-180, 180).
``ssh``
    float32, metres: the selected sea-level variable (SLA or ADT).

Optional variables (same dimension): ``cross_track_distance`` (km, swaths
only, signed, NaN for nadir), ``pass_number`` (int32), ``cycle`` (int32).

Global attributes: ``mission`` (CMEMS mission code, e.g. ``"j3"``, ``"swot"``),
``source`` (the file path read), ``ssh_variable`` (the product variable read,
e.g. ``"sla_filtered"``), ``ssh_kind`` (``"sla"`` or ``"adt"``) and
``implausible`` (how many values were dropped as physically implausible).
Invalid points (flagged, fill values, NaN) are already removed.

Physical range
--------------
A sea level outside :data:`PLAUSIBLE_SSH` is no observation: an undeclared fill
value (32767 x 0.001 = 32.767 m, -9999, 1e30), a packing overflow or a wrong
unit. The strongest mesoscale anomalies (western boundary currents, large
eddies) stay within about +-1.5 m, so an SLA is kept within +-3 m; the global
mean dynamic topography spans about -2 .. +1.6 m, so an ADT is kept within
+-4 m. Points outside are dropped and counted (``implausible``); when more than
:data:`MAX_IMPLAUSIBLE` of a file's values are outside, the file is refused
(its units are wrong, e.g. centimetres labelled "m").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.kinds import SSH_KINDS

TRACK_DIM = "obs"
REQUIRED_VARIABLES = ("time", "latitude", "longitude", "ssh")

#: Largest plausible ``|ssh|`` in metres, by kind (see "Physical range").
PLAUSIBLE_SSH = {"sla": 3.0, "adt": 4.0}
#: Fraction of a file's values outside the range above which the file is refused.
MAX_IMPLAUSIBLE = 0.5


def implausible(source: str | Path, values: np.ndarray, ssh_kind: str, variable: str) -> np.ndarray:
    """Where sea levels (metres) are outside the physical range of ``ssh_kind``.

    Parameters
    ----------
    source
        The file (for messages).
    values
        Sea levels in metres (NaN allowed, ignored).
    ssh_kind
        ``"sla"`` or ``"adt"``, selecting the bound of :data:`PLAUSIBLE_SSH`.
    variable
        The product variable, for messages.

    Returns
    -------
    numpy.ndarray
        bool, True where the value is finite and implausible (or infinite).

    Raises
    ------
    InputError
        When more than :data:`MAX_IMPLAUSIBLE` of the non-NaN values are
        implausible: the file's units are wrong (or it is mostly fill).
    """
    bound = PLAUSIBLE_SSH[ssh_kind]
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > bound
    valid = int(np.count_nonzero(~np.isnan(values)))
    n_bad = int(np.count_nonzero(bad))
    if valid and n_bad > MAX_IMPLAUSIBLE * valid:
        typical = float(np.nanmedian(np.abs(values)))
        raise InputError(
            source,
            f"{n_bad} of {valid} values of {variable!r} are outside +-{bound:g} m "
            f"(median |value| {typical:.4g} m): wrong units (e.g. cm labelled 'm') "
            "or undeclared fill values",
        )
    return bad


def wrap_longitude(lon: np.ndarray) -> np.ndarray:
    """Wrap longitudes (degrees_east, any range) to [-180, 180)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


def track_numbers(ds: xr.Dataset, pass_variable: str) -> dict[str, np.ndarray]:
    """The tidy-track extras ``cycle`` and ``pass_number`` of an along-track product.

    From its ``cycle`` and ``pass_variable`` variables, those present: int32,
    -1 where missing.
    """
    names = {"cycle": "cycle", "pass_number": pass_variable}
    return {
        extra: ds[name].fillna(-1).values.astype(np.int32)
        for extra, name in names.items()
        if name in ds
    }


def make_tracks(
    time: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    ssh: np.ndarray,
    *,
    mission: str,
    source: str | Path,
    ssh_variable: str,
    ssh_kind: str = "sla",
    extra: dict[str, np.ndarray] | None = None,
) -> xr.Dataset:
    """Build a tidy track set, dropping non-finite and implausible points.

    Parameters
    ----------
    time
        Observation times, anything ``numpy.datetime64`` accepts (UTC).
    latitude, longitude
        Positions in degrees_north / degrees_east (any longitude convention).
    ssh
        Sea level in metres.
    mission, source, ssh_variable, ssh_kind
        Provenance attributes (see the module docstring).
    extra
        Further per-point variables (e.g. ``cross_track_distance``).

    Raises
    ------
    InputError
        When the sizes differ, or most sea levels are implausible
        (:func:`implausible`).
    """
    if ssh_kind not in SSH_KINDS:
        raise ValueError(f"ssh_kind must be one of {SSH_KINDS}, got {ssh_kind!r}")
    time = np.asarray(time).astype("datetime64[ns]").ravel()
    lat = np.asarray(latitude, dtype=np.float64).ravel()
    lon = wrap_longitude(np.asarray(longitude).ravel())
    val = np.asarray(ssh, dtype=np.float32).ravel()
    if not (time.size == lat.size == lon.size == val.size):
        raise InputError(source, "time, latitude, longitude and ssh have different sizes")
    bad = implausible(source, val, ssh_kind, ssh_variable)
    keep = np.isfinite(val) & ~bad & np.isfinite(lat) & np.isfinite(lon) & ~np.isnat(time)
    data = {
        "ssh": (TRACK_DIM, val[keep], {"units": "m", "long_name": ssh_variable}),
        "latitude": (TRACK_DIM, lat[keep], {"units": "degrees_north"}),
        "longitude": (TRACK_DIM, lon[keep], {"units": "degrees_east"}),
        "time": (TRACK_DIM, time[keep]),
    }
    for name, values in (extra or {}).items():
        data[name] = (TRACK_DIM, np.asarray(values).ravel()[keep])
    return xr.Dataset(
        data,
        attrs={
            "mission": mission,
            "source": str(source),
            "ssh_variable": ssh_variable,
            "ssh_kind": ssh_kind,
            "implausible": int(np.count_nonzero(bad)),
        },
    )


def validate_tracks(ds: xr.Dataset) -> xr.Dataset:
    """Check that ``ds`` follows the tidy-track schema; return it unchanged."""
    source = ds.attrs.get("source")
    missing = [v for v in REQUIRED_VARIABLES if v not in ds.variables]
    if missing:
        raise InputError(source, f"tidy tracks lack {missing}")
    if tuple(ds["ssh"].dims) != (TRACK_DIM,):
        raise InputError(source, f"tidy tracks must have the single dimension {TRACK_DIM!r}")
    return ds
