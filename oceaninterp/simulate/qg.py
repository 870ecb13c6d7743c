"""A two-layer quasi-geostrophic ocean: the truth of the OSSE factory.

Pseudo-spectral, doubly periodic, beta-plane (at 37N, or at the latitude of
the box: :func:`physics_parameters`), written in torch so that
it runs on a GPU as well as on the CPU. The potential vorticity (PV) of both
layers is relaxed toward that of a Gulf-Stream-like zonal jet pair, which
goes baroclinically unstable and sheds meanders and rings (REFERENCE.md
section 5). A passive tracer advected by the upper-layer geostrophic flow,
relaxed toward a meridional profile, is the sea surface temperature.

Equations (layer k = 1 upper, 2 lower; x east, y north; SI units)::

    q1 = lap(psi1) + F1 (psi2 - psi1)        F1 = 1 / (Rd^2 (1 + delta))
    q2 = lap(psi2) + F2 (psi1 - psi2)        F2 = delta F1, delta = H1 / H2
    dq_k/dt + J(psi_k, q_k) + beta dpsi_k/dx = -(q_k - qjet_k) / tau
                                               - [k = 2] r lap(psi2)
    dT/dt + J(psi1, T) = -(T - Tref(y)) / tau_sst

time-stepped with third-order Adams-Bashforth and the exponential spectral
filter of pyqg (Arbic & Flierl 2004) applied every step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from oceaninterp.simulate.sst import sst_reference

#: Gravity, m s^-2.
GRAVITY = 9.81
#: Earth's rotation rate, s^-1, and mean radius, m.
OMEGA = 7.2921159e-5
EARTH_RADIUS = 6.371e6
#: Latitudes (absolute, degrees) where the QG truth is valid: beta-plane QG
#: needs |f| well away from 0 and a Rossby radius the grid resolves.
LATITUDE_RANGE = (15.0, 60.0)
#: First baroclinic gravity-wave speed c1(|lat|) = a + b |lat| + c lat^2 (m s^-1,
#: lat in degrees): a quadratic through the zonal-mean Rossby radii of Chelton
#: et al. (1998), 55 km at 20 deg, 30 km at 37 deg and 12.5 km at 60 deg, with
#: Rd = c1 / |f| (c1 = 2.74, 2.63, 1.58 m s^-1 there; Rd 71 km at 15 deg, 23 km
#: at 45 deg).
GRAVITY_WAVE_SPEED_FIT = (2.14533705, 4.95801202e-2, -9.83709682e-4)
#: QG physics versions of the truth (see :func:`physics_parameters`).
PHYSICS_VERSIONS = ("v1", "v2")


@dataclass(frozen=True)
class QGParameters:
    """Parameters of the two-layer QG model (SI units unless stated).

    Attributes
    ----------
    n
        Grid points per side (the grid is ``n x n``; even).
    length
        Domain side, metres (doubly periodic).
    f0, beta
        Coriolis parameter (s^-1, negative in the southern hemisphere) and its
        meridional gradient (m^-1 s^-1); defaults at 37N.
    rossby_radius
        First baroclinic Rossby radius of deformation, metres.
    delta
        Layer thickness ratio H1 / H2.
    jet_speed, jet_width
        Peak upper-layer jet speed U0 (m s^-1) and jet half-width w (m).
    lower_layer_fraction
        psi2 = fraction * psi1 in the relaxation target.
    relaxation_days
        PV relaxation time toward the jet, days.
    relaxation
        What is relaxed toward the jet: ``"full"`` (the whole PV field, eddies
        included: version 1) or ``"zonal"`` (only the zonal-mean PV, the
        ``k_x = 0`` modes; eddies are damped by the bottom drag and the
        spectral filter only).
    bottom_drag
        Linear drag on the lower layer, s^-1.
    sst_mean, sst_front, sst_gradient
        Tracer reference: mean (kelvin), temperature step across the jet
        (kelvin) and amplitude of the broad meridional gradient (kelvin).
    sst_relaxation_days
        Relaxation time of the SST tracer toward its reference, days.
    cfl
        Target ``u_max dt / dx`` (u_max taken as twice the jet speed).
    """

    n: int = 256
    length: float = 2.0e6
    f0: float = 8.78e-5
    beta: float = 1.83e-11
    rossby_radius: float = 30.0e3
    delta: float = 1.0 / 3.0
    jet_speed: float = 1.0
    jet_width: float = 50.0e3
    lower_layer_fraction: float = 0.2
    relaxation_days: float = 30.0
    relaxation: str = "full"
    bottom_drag: float = 1.0e-7
    sst_mean: float = 293.0
    sst_front: float = 6.0
    sst_gradient: float = 6.0
    sst_relaxation_days: float = 20.0
    cfl: float = 0.5

    @property
    def dx(self) -> float:
        """Grid spacing, metres."""
        return self.length / self.n

    def steps_per_day(self) -> int:
        """Whole number of time steps per day keeping ``2 U0 dt / dx <= cfl``."""
        dt_max = self.cfl * self.dx / (2.0 * self.jet_speed)
        return int(math.ceil(86400.0 / dt_max))


def coriolis(lat: float) -> float:
    """Coriolis parameter ``f = 2 Omega sin(lat)``, s^-1 (negative south of the equator)."""
    return 2.0 * OMEGA * math.sin(math.radians(lat))


def beta_parameter(lat: float) -> float:
    """Meridional gradient of ``f``, ``2 Omega cos(lat) / R``, m^-1 s^-1 (positive everywhere)."""
    return 2.0 * OMEGA * math.cos(math.radians(lat)) / EARTH_RADIUS


def rossby_radius(lat: float) -> float:
    """First baroclinic Rossby radius at a latitude (degrees), metres.

    ``Rd = c1(|lat|) / |f|`` with the gravity-wave speed fit
    :data:`GRAVITY_WAVE_SPEED_FIT` to Chelton et al. (1998); valid over
    :data:`LATITUDE_RANGE` (55 km at 20 deg, 30 km at 37 deg, 12.5 km at 60 deg).
    """
    a, b, c = GRAVITY_WAVE_SPEED_FIT
    x = abs(lat)
    return (a + b * x + c * x * x) / abs(coriolis(lat))


def check_latitude(lat: float) -> None:
    """Refuse a latitude (degrees) outside :data:`LATITUDE_RANGE`, north or south.

    Raises
    ------
    ValueError
        With the allowed range in the message.
    """
    lo, hi = LATITUDE_RANGE
    if not lo <= abs(lat) <= hi:
        raise ValueError(
            f"the QG truth works between {lo:g} and {hi:g} degrees north or south (a beta-plane "
            f"with a resolved Rossby radius); the box is centred at {lat:.1f} degrees"
        )


def physics_parameters(version: str, lat: float, **overrides: float | int | str) -> QGParameters:
    """The QG parameters of a physics version for a box centred at ``lat`` (degrees).

    ``"v1"`` (the truth of ``sample_data``, spectrum ``k^-6.6`` over 70-250 km):
    the Gulf Stream set-up at 37N whatever the latitude, the whole PV field
    relaxed toward the jet in 30 days (eddies damped too), bottom drag
    1e-7 s^-1, CFL 0.5.

    ``"v2"`` (the default): ``f0``, ``beta`` and ``Rd`` of the latitude
    (:func:`coriolis`, :func:`beta_parameter`, :func:`rossby_radius`; ``f0 < 0``
    south of the equator), the jet half-width scaled with ``Rd`` (50 km at
    Rd = 30 km) and the mean SST with the latitude (293 K at 37 deg, 0.35 K
    per degree); only the zonal-mean PV relaxed toward the jet, so the eddies
    are free and lose their energy through the bottom drag (1 / 20 days, the
    pyqg default) and the spectral filter; CFL 0.25 (the free eddies reach
    1.7 m s^-1).

    Raises
    ------
    ValueError
        Unknown version, or (v2) a latitude outside :data:`LATITUDE_RANGE`.
    """
    if version == "v1":
        return QGParameters(**overrides)  # type: ignore[arg-type]
    if version != "v2":
        raise ValueError(f"physics: expected one of {PHYSICS_VERSIONS}, got {version!r}")
    check_latitude(lat)
    rd = rossby_radius(lat)
    values: dict[str, float | int | str] = {
        "f0": coriolis(lat),
        "beta": beta_parameter(lat),
        "rossby_radius": rd,
        "jet_width": 50.0e3 * rd / 30.0e3,
        "sst_mean": 293.0 + 0.35 * (37.0 - abs(lat)),
        "relaxation": "zonal",
        "bottom_drag": 1.0 / (20.0 * 86400.0),
        "cfl": 0.25,
    }
    values.update(overrides)
    return QGParameters(**values)  # type: ignore[arg-type]


def jet_streamfunction(y: np.ndarray, p: QGParameters) -> np.ndarray:
    """Upper-layer streamfunction of the periodic jet pair, m^2 s^-1.

    ``U1(y) = U0 [sech^2((y - L/4)/w) - sech^2((y - 3L/4)/w)]`` with
    ``U1 = -dpsi1/dy``: an eastward jet at ``y = L/4`` and a westward return
    jet at ``y = 3L/4``. ``y`` is in metres from the southern edge.
    """
    w, length = p.jet_width, p.length
    return -p.jet_speed * w * (np.tanh((y - length / 4) / w) - np.tanh((y - 3 * length / 4) / w))


def sst_target(y: np.ndarray, p: QGParameters) -> np.ndarray:
    """Reference SST (kelvin) of the tracer: warm on the equator side of the eastward jet.

    ``y`` is in metres from the southern edge (south of the jet warm when
    ``f0 > 0``, north of it when ``f0 < 0``); see
    :func:`~oceaninterp.simulate.sst.sst_reference`.
    """
    side = -jet_streamfunction(y, p) / (p.jet_speed * p.jet_width) - 1.0  # -1 south, +1 north
    pole = 1.0 if p.f0 > 0 else -1.0  # +1 where north is poleward
    return sst_reference(y, p.length, pole * side, p.sst_mean, p.sst_front, pole * p.sst_gradient)


class TwoLayerQG:
    """The model state and its time stepping.

    Parameters
    ----------
    params
        Model parameters.
    seed
        Seed of the small random PV perturbation that starts the instability.
    device, dtype
        Torch device (``"cpu"``, ``"cuda"``) and floating dtype.
    """

    def __init__(
        self,
        params: QGParameters,
        *,
        seed: int = 0,
        device: str = "cpu",
        dtype: str = "float64",
    ) -> None:
        import torch

        self.torch = torch
        self.p = p = params
        if p.n % 2:
            raise ValueError(f"n must be even, got {p.n}")
        if p.relaxation not in ("full", "zonal"):
            raise ValueError(f"relaxation must be 'full' or 'zonal', got {p.relaxation!r}")
        self.device = torch.device(device)
        self.dtype = getattr(torch, dtype)
        n, dx = p.n, p.dx
        self.dt = 86400.0 / p.steps_per_day()
        y = (np.arange(n) + 0.5) * dx
        kx = 2 * np.pi * np.fft.rfftfreq(n, d=dx)
        ky = 2 * np.pi * np.fft.fftfreq(n, d=dx)
        kxx, kyy = np.meshgrid(kx, ky)  # (n, n//2+1), rows = y
        k2 = kxx**2 + kyy**2
        f1 = 1.0 / (p.rossby_radius**2 * (1.0 + p.delta))
        f2 = p.delta * f1
        det = k2 * (k2 + f1 + f2)
        det[0, 0] = 1.0
        # Inversion q -> psi per wavenumber (zero mean streamfunction).
        inv = np.array([[-(k2 + f2), -f1 * np.ones_like(k2)], [-f2 * np.ones_like(k2), -(k2 + f1)]])
        inv /= det
        inv[:, :, 0, 0] = 0.0
        # Exponential filter (pyqg): no damping below 0.65 pi / dx.
        kstar = np.sqrt((kxx * dx) ** 2 + (kyy * dx) ** 2)
        kcut = 0.65 * np.pi
        filt = np.where(kstar > kcut, np.exp(-23.6 * (kstar - kcut) ** 4), 1.0)

        def ct(a: np.ndarray):
            return torch.as_tensor(a, device=self.device, dtype=self.dtype)

        cdt = torch.complex128 if self.dtype == torch.float64 else torch.complex64
        self.ikx = torch.as_tensor(1j * kxx, device=self.device, dtype=cdt)
        self.iky = torch.as_tensor(1j * kyy, device=self.device, dtype=cdt)
        self.k2 = ct(k2)
        self.inv = ct(inv)
        self.filt = ct(filt)
        # Relaxation targets.
        psi1 = np.broadcast_to(jet_streamfunction(y, p)[:, None], (n, n))
        psi_jet = np.stack([psi1, p.lower_layer_fraction * psi1])
        self.qjet_h = self._q_from_psi_h(torch.fft.rfft2(ct(psi_jet)))
        self.sst_ref = ct(np.broadcast_to(sst_target(y, p)[:, None], (n, n)).copy())
        # Initial state: the jet plus a small random PV perturbation; SST at reference.
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((2, n, n)) * 1e-2 * p.f0 * p.jet_width / p.length
        self.qh = self.filt * (self.qjet_h + torch.fft.rfft2(ct(noise)))
        self.sst_ref_h = torch.fft.rfft2(self.sst_ref)
        self.sst_h = self.sst_ref_h.clone()
        self._history: list = []
        self.time = 0.0  # seconds since start

    def _q_from_psi_h(self, psih):
        """PV (spectral) from streamfunction (spectral), both shaped (2, n, n//2+1)."""
        f1 = 1.0 / (self.p.rossby_radius**2 * (1.0 + self.p.delta))
        f2 = self.p.delta * f1
        q1 = -self.k2 * psih[0] + f1 * (psih[1] - psih[0])
        q2 = -self.k2 * psih[1] + f2 * (psih[0] - psih[1])
        return self.torch.stack([q1, q2])

    def psi_h(self, qh=None):
        """Streamfunction (spectral, m^2 s^-1) of PV ``qh`` (default: the current state)."""
        qh = self.qh if qh is None else qh
        return self.torch.stack(
            [
                self.inv[0, 0] * qh[0] + self.inv[0, 1] * qh[1],
                self.inv[1, 0] * qh[0] + self.inv[1, 1] * qh[1],
            ]
        )

    def _tendency(self):
        torch, p = self.torch, self.p
        n = p.n
        psih = self.psi_h()
        uh = -self.iky * psih
        vh = self.ikx * psih
        fields = torch.fft.irfft2(
            torch.cat([uh, vh, self.qh, self.sst_h[None]]), s=(n, n)
        )  # u1 u2 v1 v2 q1 q2 T
        u, v, q, sst = fields[0:2], fields[2:4], fields[4:6], fields[6]
        fluxes = torch.fft.rfft2(torch.cat([u * q, v * q, (u[0] * sst)[None], (v[0] * sst)[None]]))
        adv_q = self.ikx * fluxes[0:2] + self.iky * fluxes[2:4]
        adv_t = self.ikx * fluxes[4] + self.iky * fluxes[5]
        tau = p.relaxation_days * 86400.0
        dq = -adv_q - p.beta * vh
        if p.relaxation == "zonal":  # the jet (k_x = 0) only: eddies are free
            dq[..., 0] -= (self.qh[..., 0] - self.qjet_h[..., 0]) / tau
        else:
            dq -= (self.qh - self.qjet_h) / tau
        dq[1] += p.bottom_drag * self.k2 * psih[1]
        dt_sst = -adv_t - (self.sst_h - self.sst_ref_h) / (p.sst_relaxation_days * 86400.0)
        return dq, dt_sst

    def step(self) -> None:
        """Advance one time step (AB3; Euler then AB2 for the first two)."""
        dq, dsst = self._tendency()
        self._history.insert(0, (dq, dsst))
        del self._history[3:]
        h = self._history
        c: tuple[float, ...]
        if len(h) == 1:
            c = (1.0,)
        elif len(h) == 2:
            c = (1.5, -0.5)
        else:
            c = (23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0)
        incr_q = sum(ci * hi[0] for ci, hi in zip(c, h, strict=True))
        incr_t = sum(ci * hi[1] for ci, hi in zip(c, h, strict=True))
        self.qh = self.filt * (self.qh + self.dt * incr_q)
        self.sst_h = self.filt * (self.sst_h + self.dt * incr_t)
        self.time += self.dt

    def run_days(self, days: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Advance ``days`` days, yielding ``(ssh, sst)`` after each day.

        ``ssh`` is the upper-layer dynamic height ``f0 psi1 / g`` (metres,
        zero domain mean) and ``sst`` the tracer (kelvin), both ``(n, n)``
        float64 arrays with rows along y (south to north) and columns along x.
        """
        steps = self.p.steps_per_day()
        for _ in range(days):
            for _ in range(steps):
                self.step()
            yield self.snapshot()

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(ssh, sst)`` in metres and kelvin (see :meth:`run_days`)."""
        n = self.p.n
        psi1 = self.torch.fft.irfft2(self.psi_h()[0], s=(n, n))
        sst = self.torch.fft.irfft2(self.sst_h, s=(n, n))
        eta = (self.p.f0 / GRAVITY) * psi1
        return eta.cpu().numpy(), sst.cpu().numpy()

    def max_speed(self) -> float:
        """Largest geostrophic speed over both layers, m s^-1."""
        n = self.p.n
        psih = self.psi_h()
        u = self.torch.fft.irfft2(self.torch.cat([-self.iky * psih, self.ikx * psih]), s=(n, n))
        return float(self.torch.sqrt(u[0:2] ** 2 + u[2:4] ** 2).max())

    def energy(self) -> float:
        """Total (kinetic + available potential) energy per unit mass, m^2 s^-2.

        Layer-thickness weighted domain mean, ``H1/H = delta/(1+delta)``.
        """
        n = self.p.n
        psih = self.psi_h()
        grads = self.torch.fft.irfft2(
            self.torch.cat([self.ikx * psih, self.iky * psih, psih]), s=(n, n)
        )
        w1 = self.p.delta / (1.0 + self.p.delta)
        w2 = 1.0 / (1.0 + self.p.delta)
        ke1 = 0.5 * (grads[0] ** 2 + grads[2] ** 2).mean()
        ke2 = 0.5 * (grads[1] ** 2 + grads[3] ** 2).mean()
        f1 = 1.0 / (self.p.rossby_radius**2 * (1.0 + self.p.delta))
        ape = 0.5 * f1 * w1 * ((grads[4] - grads[5]) ** 2).mean()
        return float(w1 * ke1 + w2 * ke2 + ape)
