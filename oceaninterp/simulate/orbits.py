"""Satellite ground tracks from orbital elements: circular orbit plus J2, exact repeat.

A repeat orbit makes ``N`` revolutions in ``D`` nodal days. With the secular
J2 rates (REFERENCE.md section 5)::

    n0 = sqrt(mu / a^3),  k = 1.5 J2 (Re / a)^2
    du/dt     = n0 [1 + k (4 cos^2 i - 1)]        (argument of latitude)
    dOmega/dt = -n0 k cos i                       (node precession)
    N (omega_E - dOmega/dt) = D du/dt              (solved for a)

and, with ``u = du/dt (t - t0)`` counted from an ascending node at time ``t0``
and longitude ``lambda0``::

    phi_c  = asin(sin i sin u)                     (geocentric latitude)
    lambda = lambda0 + atan2(cos i sin u, cos u) - (omega_E - dOmega/dt)(t - t0)
    phi    = atan(tan phi_c / (1 - e^2))           (geodetic latitude, WGS-84)

Passes are half revolutions numbered from 1 in each cycle, odd ascending
(u in [-pi/2, pi/2] modulo 2 pi), as AVISO/NASA number them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

MU = 3.986004418e14  # m^3 s^-2
EARTH_RADIUS = 6378137.0  # m, WGS-84 equatorial
J2 = 1.08263e-3
OMEGA_EARTH = 7.2921151467e-5  # s^-1
E2 = 6.69438e-3  # WGS-84 first eccentricity squared
CYCLE_WRAP = 999


@dataclass(frozen=True)
class Orbit:
    """An exact-repeat circular orbit and the phase that places it on the Earth."""

    #: Mission code (CMEMS style: ``"j3"``, ``"s3a"``, ..., ``"swot"``).
    mission: str
    #: Inclination, degrees.
    inclination: float
    #: Revolutions in one repeat cycle of ``days`` nodal days.
    revolutions: int
    #: Nodal days in one repeat cycle.
    days: int
    #: ISO UTC time of the ascending node that starts pass 1 of cycle ``epoch_cycle``.
    epoch: str
    #: Longitude of that ascending node, degrees_east.
    node_longitude: float
    #: Cycle number of the epoch.
    epoch_cycle: int = 1

    @functools.cached_property
    def semi_major_axis(self) -> float:
        """Semi-major axis (m) of the exact repeat, solved by Brent's method."""
        from scipy.optimize import brentq

        def mismatch(a: float) -> float:
            u_dot, node_rate = _rates(a, math.radians(self.inclination))
            return self.revolutions * (OMEGA_EARTH - node_rate) - self.days * u_dot

        return float(brentq(mismatch, 6.6e6, 8.5e6, xtol=1e-6))

    @property
    def u_rate(self) -> float:
        """Rate of the argument of latitude du/dt, rad s^-1."""
        return _rates(self.semi_major_axis, math.radians(self.inclination))[0]

    @property
    def node_rate(self) -> float:
        """Node precession dOmega/dt, rad s^-1."""
        return _rates(self.semi_major_axis, math.radians(self.inclination))[1]

    @property
    def nodal_period(self) -> float:
        """Time between two ascending nodes, s."""
        return 2 * math.pi / self.u_rate

    @property
    def repeat_period(self) -> float:
        """Repeat cycle, s (``revolutions`` nodal periods)."""
        return self.revolutions * self.nodal_period

    @functools.cached_property
    def ground_speed(self) -> float:
        """Mean speed of the nadir point over the WGS-84 ellipsoid, m s^-1 (one revolution)."""
        from pyproj import Geod

        tau = np.linspace(0.0, self.nodal_period, 2001)
        lat, lon = self.track_at_seconds(tau)
        _, _, dist = Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        return float(np.sum(dist) / self.nodal_period)

    @property
    def passes_per_cycle(self) -> int:
        """Number of passes (half revolutions) in a cycle."""
        return 2 * self.revolutions

    def seconds(self, times: np.ndarray) -> np.ndarray:
        """Seconds (float64) from the epoch to ``times`` (datetime64)."""
        epoch = np.datetime64(self.epoch, "ns")
        return (np.asarray(times).astype("datetime64[ns]") - epoch).astype(np.int64) * 1e-9

    def ground_track(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nadir geodetic latitude and longitude at ``times``.

        Parameters
        ----------
        times
            UTC times, datetime64.

        Returns
        -------
        latitude, longitude
            degrees_north (WGS-84 geodetic) and degrees_east in [-180, 180).
        """
        return self.track_at_seconds(self.seconds(times))

    def track_at_seconds(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`ground_track`, at ``tau`` seconds from the epoch."""
        inc = math.radians(self.inclination)
        u = self.u_rate * np.asarray(tau, dtype=np.float64)
        sin_u, cos_u = np.sin(u), np.cos(u)
        phi_c = np.arcsin(math.sin(inc) * sin_u)
        lon = (
            math.radians(self.node_longitude)
            + np.arctan2(math.cos(inc) * sin_u, cos_u)
            - (OMEGA_EARTH - self.node_rate) * tau
        )
        lat = np.arctan(np.tan(phi_c) / (1.0 - E2))
        lon_deg = (np.degrees(lon) + 180.0) % 360.0 - 180.0
        return np.degrees(lat), lon_deg

    def half_revolutions(self, times: np.ndarray) -> np.ndarray:
        """Index (int64) of the pass flown at ``times``, counted from pass 1 of the epoch cycle."""
        half = (self.u_rate * self.seconds(times) + math.pi / 2) / math.pi
        return np.floor(half).astype(np.int64)

    def pass_index(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cycle and pass numbers (both int32) of the passes flown at ``times``.

        Cycle numbers below 1 (times before the epoch cycle's mission start)
        are wrapped modulo :data:`CYCLE_WRAP` into 1..999, so that file names
        keep three positive digits.
        """
        cycle, within = np.divmod(self.half_revolutions(times), self.passes_per_cycle)
        cycle = cycle + self.epoch_cycle
        cycle = np.where(cycle >= 1, cycle, (cycle - 1) % CYCLE_WRAP + 1)
        return cycle.astype(np.int32), (within + 1).astype(np.int32)

    def pass_start(self, half_revolution: int) -> np.datetime64:
        """UTC start (the southern or northern tip) of the pass of index ``half_revolution``."""
        seconds = (half_revolution * math.pi - math.pi / 2) / self.u_rate
        return np.datetime64(self.epoch, "ns") + np.timedelta64(int(round(seconds * 1e9)), "ns")


def _rates(a: float, inc: float) -> tuple[float, float]:
    """(du/dt, dOmega/dt) in rad s^-1 for semi-major axis ``a`` (m), inclination ``inc`` (rad)."""
    n0 = math.sqrt(MU / a**3)
    k = 1.5 * J2 * (EARTH_RADIUS / a) ** 2
    return n0 * (1.0 + k * (4.0 * math.cos(inc) ** 2 - 1.0)), -n0 * k * math.cos(inc)


def calibrate_phase(
    orbit: Orbit,
    times: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    pass_number: np.ndarray,
    cycle: np.ndarray,
) -> tuple[np.datetime64, float, int]:
    """Fit the epoch and node longitude of ``orbit`` to real ground-track points.

    Each real point of a known pass fixes the argument of latitude ``u`` (from
    its latitude and the pass direction), hence the time and longitude of the
    ascending node that starts pass 1 of its cycle. The epoch is the median of
    these times and the node longitude their circular mean. Points within 10 %
    of the turning latitude, where ``u`` is ill-conditioned, are not used.

    Parameters
    ----------
    orbit
        The orbit whose elements are kept (epoch and node longitude are ignored).
    times
        UTC times of the real points, datetime64.
    latitude, longitude
        Real geodetic positions, degrees.
    pass_number, cycle
        Pass number (odd ascending) and cycle number of each point.

    Returns
    -------
    epoch, node_longitude, epoch_cycle
        UTC time (datetime64[ns]) of the ascending node of pass 1 of the first
        cycle seen, its longitude in degrees_east [-180, 180), and that cycle.
    """
    inc = math.radians(orbit.inclination)
    lat = np.radians(np.asarray(latitude, dtype=np.float64))
    phi_c = np.arctan((1.0 - E2) * np.tan(lat))
    s = np.sin(phi_c) / math.sin(inc)
    keep = np.abs(s) < 0.9
    k = np.asarray(pass_number, dtype=np.int64)[keep] - 1
    cycles = np.asarray(cycle, dtype=np.int64)[keep]
    epoch_cycle = int(cycles.min())
    u = k * math.pi + np.where(k % 2 == 0, 1.0, -1.0) * np.arcsin(s[keep])
    # Seconds after the epoch node on the model's clock (whole repeats keep the geometry).
    tau = u / orbit.u_rate
    tau_total = tau + (cycles - epoch_cycle) * orbit.repeat_period
    t = np.asarray(times).astype("datetime64[ns]")[keep]
    epoch_ns = t - (tau_total * 1e9).round().astype("timedelta64[ns]")
    offsets = (epoch_ns - epoch_ns[0]).astype(np.int64)
    epoch = epoch_ns[0] + np.timedelta64(int(np.median(offsets)), "ns")
    lam0 = (
        np.radians(np.asarray(longitude, dtype=np.float64)[keep])
        - np.arctan2(math.cos(inc) * np.sin(u), np.cos(u))
        + (OMEGA_EARTH - orbit.node_rate) * tau
    )
    node = math.degrees(math.atan2(np.sin(lam0).mean(), np.cos(lam0).mean()))
    return epoch, node, epoch_cycle


def track_distance(
    orbit: Orbit,
    times: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    pass_number: np.ndarray,
) -> np.ndarray:
    """Distance (m) from each point to ``orbit``'s ground track of the same pass number.

    The simulated pass is the one flown nearest in time with that number (the
    ground track repeats every cycle), sampled every 0.1 s; the distance is
    the chord to its nearest sample on a 6371 km sphere.
    """
    from scipy.spatial import cKDTree

    times = np.asarray(times).astype("datetime64[ns]")
    pass_number = np.asarray(pass_number, dtype=np.int64)
    out = np.full(times.shape, np.nan)
    step = np.timedelta64(100, "ms")
    for number in np.unique(pass_number):
        sel = np.flatnonzero(pass_number == number)
        # The pass with this number nearest in time to the first point.
        near = int(orbit.half_revolutions(times[sel[:1]])[0])
        half = near + (number - 1 - near) % orbit.passes_per_cycle
        if half - near > orbit.passes_per_cycle // 2:
            half -= orbit.passes_per_cycle
        start = orbit.pass_start(half)
        dense = np.arange(start, start + np.timedelta64(int(orbit.nodal_period / 2) + 1, "s"), step)
        lat, lon = orbit.ground_track(dense)
        dist, _ = cKDTree(_unit_xyz(lat, lon)).query(_unit_xyz(latitude[sel], longitude[sel]))
        out[sel] = dist * 6371.0e3
    return out


def _unit_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


#: The missions' orbits. Epochs and node longitudes of ``j3`` and ``swot`` were
#: fitted with :func:`calibrate_phase` to real tracks (tests/test_simulate_orbits.py
#: recomputes them): ``j3`` to the NASA-SSH Jason-3 files of 2022-01-01..10
#: (cycles 1079-1080 in NASA-SSH's merged TOPEX/Jason numbering, kept here),
#: ``swot`` to the nadir column of the AVISO SWOT L3 file of cycle 26, pass 165
#: (2024-12-29). The other missions have no real tracks here: their phases are
#: nominal (uncalibrated), chosen only to spread their tracks apart.
ORBITS: dict[str, Orbit] = {
    "j3": Orbit("j3", 66.04, 127, 10, "2021-12-29T05:38:34.037700844", 99.9222210952398, 1079),
    "s3a": Orbit("s3a", 98.65, 385, 27, "2022-01-01T00:00:00", -20.0, 1),
    "s3b": Orbit("s3b", 98.65, 385, 27, "2022-01-01T00:00:00", 150.0, 1),
    "alg": Orbit("alg", 98.55, 501, 35, "2022-01-01T00:00:00", 30.0, 1),
    "c2": Orbit("c2", 92.03, 5344, 369, "2022-01-01T00:00:00", -100.0, 1),
    "h2b": Orbit("h2b", 99.34, 193, 14, "2022-01-01T00:00:00", 60.0, 1),
    "swot": Orbit("swot", 77.6, 292, 21, "2024-12-23T20:46:37.538084716", 0.1731293287970046, 26),
}
