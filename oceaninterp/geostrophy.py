"""Surface geostrophic velocities from a sea surface height map.

``u = -(g / f) * d(eta)/dy`` and ``v = (g / f) * d(eta)/dx`` with
``f = 2 * Omega * sin(latitude)``, derivatives taken on the sphere
(``dy = R * dphi``, ``dx = R * cos(phi) * dlambda``) by centred differences
(one-sided on the domain's edges, periodic in longitude on a global grid); a
cell whose difference needs a NaN neighbour (coast, no-data) gets NaN. Within
``EQUATORIAL_BAND_DEG`` of the equator, where ``f`` vanishes and the f-plane
balance fails, velocities are masked (NaN), as noted in the variables'
``comment``; f is never divided by near zero.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from oceaninterp.cube import is_global

#: Gravity, m s-2.
GRAVITY = 9.81
#: Earth's rotation rate, rad s-1.
OMEGA = 7.2921159e-5
#: Mean Earth radius, m (IUGG).
EARTH_RADIUS = 6371008.8
#: Velocities are masked within this many degrees of the equator.
EQUATORIAL_BAND_DEG = 5.0


def geostrophic_velocity(
    ssh: np.ndarray, latitude: np.ndarray, longitude: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Eastward and northward surface geostrophic velocity of an SSH field.

    Parameters
    ----------
    ssh
        Sea surface height, metres, array ``(..., latitude, longitude)``; NaN
        where masked.
    latitude
        Cell-centre latitudes, degrees_north, ascending, 1-D.
    longitude
        Cell-centre longitudes, degrees_east, monotonic (no wrap jump), 1-D.

    Returns
    -------
    (u, v)
        float32 arrays like ``ssh``, m s-1: eastward (``u``) and northward
        (``v``) velocity; NaN near the equator (``|lat| < 5``), where ``ssh``
        is NaN and where a centred difference needs a NaN neighbour.
    """
    eta = np.asarray(ssh, dtype=np.float64)
    phi = np.deg2rad(np.asarray(latitude, dtype=np.float64))
    lam = np.deg2rad(np.asarray(longitude, dtype=np.float64))
    if eta.shape[-2:] != (phi.size, lam.size):
        raise ValueError(
            f"ssh's last two dims {eta.shape[-2:]} do not match latitude/longitude "
            f"({phi.size}, {lam.size})"
        )
    if phi.size < 2 or lam.size < 2:
        nan = np.full(eta.shape, np.nan, dtype=np.float32)
        return nan, nan.copy()
    deta_dphi = np.gradient(eta, phi, axis=-2)
    if is_global(longitude):  # centred differences across the dateline too
        step = float(np.median(np.diff(lam)))
        deta_dlam = (np.roll(eta, -1, axis=-1) - np.roll(eta, 1, axis=-1)) / (2.0 * step)
    else:
        deta_dlam = np.gradient(eta, lam, axis=-1)
    coriolis = 2.0 * OMEGA * np.sin(phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_over_f = np.where(np.abs(latitude) >= EQUATORIAL_BAND_DEG, GRAVITY / coriolis, np.nan)
        u = -g_over_f[:, None] * deta_dphi / EARTH_RADIUS
        v = g_over_f[:, None] * deta_dlam / (EARTH_RADIUS * np.cos(phi)[:, None])
    return u.astype(np.float32), v.astype(np.float32)


def add_geostrophic_velocity(
    maps: xr.Dataset, ssh_name: str, u_name: str, v_name: str
) -> xr.Dataset:
    """Return ``maps`` with geostrophic velocities of ``maps[ssh_name]`` added.

    Parameters
    ----------
    maps
        Gridded dataset with dims ``(time, latitude, longitude)``; the SSH in metres.
    ssh_name
        Name of the SSH variable (``"sla"`` or ``"adt"``).
    u_name, v_name
        Names of the eastward / northward velocity variables to add (m s-1),
        e.g. ``"ugos"``/``"vgos"`` for ADT, ``"ugosa"``/``"vgosa"`` for SLA.
    """
    ssh = maps[ssh_name].transpose(..., "latitude", "longitude")
    u, v = geostrophic_velocity(ssh.values, maps["latitude"].values, maps["longitude"].values)
    return maps.assign({u_name: (ssh.dims, u), v_name: (ssh.dims, v)})
