"""A layered quasi-geostrophic ocean: the truth of the OSSE factory.

Pseudo-spectral, doubly periodic, beta-plane (at 37N, or at the latitude of
the box: :func:`physics_parameters`), two or more layers, written in torch so
that it runs on a GPU as well as on the CPU. The potential vorticity (PV) is
relaxed toward that of a Gulf-Stream-like zonal jet pair, which goes
baroclinically unstable and sheds meanders and rings (REFERENCE.md section 5).
A passive tracer advected by the upper-layer geostrophic flow, relaxed toward
a meridional profile, is the sea surface temperature.

Equations (layers k = 1 (top) .. N (bottom); x east, y north; SI units)::

    q_k = lap(psi_k) + F_k,up (psi_k-1 - psi_k) + F_k,down (psi_k+1 - psi_k),
          F = f0^2 / (g' H_k)   (two layers: F1 = 1 / (Rd^2 (1 + delta)), F2 = delta F1)
    dq_k/dt + J(psi_k, q_k) + beta dpsi_k/dx = -R(q_k - qjet_k) / tau - [k = N] r lap(psi_N)
    dT/dt + J(psi1, T) = -(T - Tref(y)) / tau_sst

where R is the identity (version 1: the whole PV field relaxed) or the
zonal mean (version 2: only the jet), time-stepped with third-order
Adams-Bashforth and the exponential spectral filter of pyqg (Arbic & Flierl
2004) applied every step. SSH is ``f0 psi_1 / g``.

Why version 1 (the truth of ``sample_data``) is too smooth, and what version
2 changes (measured on the 10 deg Gulf Stream box at 0.1 deg, zonal SSH
spectrum of :mod:`oceaninterp.spectrum`, slope over 70-250 km, 256^2 cells of
7.8 km, after 120-150 days of spin-up):

- not the resolution nor the filter: the v1 spectrum is a power law from
  250 down to 40 km (local slopes -7.0 at 70-150 km, -6.6 at 40-70 km) and
  steepens only below 40 km, where the filter acts;
- the relaxation of the whole PV field (30 days) damps the eddies at every
  scale and, with a weak bottom drag (1e-7 s^-1), leaves a weak, wave-like
  eddy field (eddy SSH std 0.10 m): slope -6.6. Relaxing only the zonal-mean
  PV (the jet) and taking the energy out by a 20-day bottom drag (pyqg's
  default) frees the eddies: eddy std 0.21-0.25 m, slope -5.2 to -5.4, the
  enstrophy cascade of two-layer QG (``k^-5``, read a little steeper on
  880 km rows, see :mod:`oceaninterp.spectrum`). A narrower, faster jet
  (35 km, 1.5 m s^-1), a stronger or weaker drag, a barotropic or stronger
  jet relaxation all stayed at -5.1 to -5.6;
- two layers only: the upper ocean's shear is concentrated above the main
  thermocline, where a second baroclinic mode (Rd2 about 0.45 Rd1) drives an
  instability at 80-100 km that feeds the 70-250 km band directly. Three
  layers (200, 800, 3000 m, equal reduced gravities: Rd2 = 13.2 km at 37N)
  with the jet's shear concentrated at the top (psi = 1, 0.5, 0.1 of the
  surface value): slope -4.6 over days 121-210 (30-day windows -4.3, -5.0,
  -4.5), SSH std 0.41 m (NATL60: 0.40 m), eddy (SLA) std 0.17-0.23 m, eddy
  non-zonal std 0.25 m. With a 250 m top layer (Rd2 = 13.9 km) the slope was
  -5.0 to -5.1, with 150 m (12.0 km) -4.0 to -4.2 and a weaker SLA (0.12 m).
  A cheaper run (192^2 cells of 7.8 km, 8 deg box, 150 + 30 days) gives
  -4.85, SSH std 0.42 m, SLA std 0.19 m (the slow test); the same at 40S
  -4.71 (0.41 m, 0.21 m) and at 25N -5.13 (0.39 m, 0.12 m: Rd = 45 km there,
  the band is nearer the eddies' birth scale). Poleward of about 45 deg the
  second radius (0.44 Rd) falls below two cells of 7.8 km: give more grid
  points there (``--grid-points 384`` or more).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from oceaninterp.errors import OceanInterpError
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
#: Version 2's vertical structure: layer thicknesses (m, top to bottom), relative
#: reduced gravities of the two interfaces, and the jet's streamfunction per layer
#: (a fraction of the top layer's). Second baroclinic radius 0.44 Rd (13.2 km at 37N).
V2_LAYERS = (200.0, 800.0, 3000.0)
V2_STRATIFICATION = (1.0, 1.0)
V2_JET_PROFILE = (1.0, 0.5, 0.1)
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
        psi2 = fraction * psi1 in the relaxation target (two layers).
    layer_thickness
        Thickness of each layer, top to bottom, metres, for three or more
        layers; empty: two layers of ratio ``delta`` (version 1).
    stratification
        Relative reduced gravity of each interface, top to bottom (one fewer
        than the layers), scaled so that the first baroclinic Rossby radius is
        ``rossby_radius``; the higher modes follow.
    jet_profile
        psi_k = profile[k] * psi1 in the relaxation target, one per layer
        (empty: ``(1, lower_layer_fraction)``).
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
    max_cfl
        Largest ``u_max dt / dx`` (u_max measured each day) before a day is cut
        into more steps; ``None``: never (v1, kept step for step so that it
        reproduces ``sample_data/truth.nc``). AB3 with the exponential filter is
        linearly unstable above 0.324 (``benchmarks/pyqg_check.py``).
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
    layer_thickness: tuple[float, ...] = ()
    stratification: tuple[float, ...] = ()
    jet_profile: tuple[float, ...] = ()
    relaxation_days: float = 30.0
    relaxation: str = "full"
    bottom_drag: float = 1.0e-7
    sst_mean: float = 293.0
    sst_front: float = 6.0
    sst_gradient: float = 6.0
    sst_relaxation_days: float = 20.0
    cfl: float = 0.5
    max_cfl: float | None = None

    @property
    def dx(self) -> float:
        """Grid spacing, metres."""
        return self.length / self.n

    def steps_per_day(self) -> int:
        """Whole number of time steps per day keeping ``2 U0 dt / dx <= cfl``."""
        dt_max = self.cfl * self.dx / (2.0 * self.jet_speed)
        return int(math.ceil(86400.0 / dt_max))


class QGBlowUpError(OceanInterpError):
    """The QG state is no longer finite (no truth is written from it)."""


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


def physics_parameters(version: str, lat: float, **overrides: object) -> QGParameters:
    """The QG parameters of a physics version for a box centred at ``lat`` (degrees).

    ``"v1"`` (the truth of ``sample_data``, spectrum ``k^-6.6`` over 70-250 km):
    the Gulf Stream set-up at 37N whatever the latitude, the whole PV field
    relaxed toward the jet in 30 days (eddies damped too), bottom drag
    1e-7 s^-1, CFL 0.5.

    ``"v2"`` (the default): ``f0``, ``beta`` and ``Rd`` of the latitude
    (:func:`coriolis`, :func:`beta_parameter`, :func:`rossby_radius`; ``f0 < 0``
    south of the equator), the jet half-width scaled with ``Rd`` (50 km at
    Rd = 30 km) and the mean SST with the latitude (293 K at 37 deg, 0.35 K
    per degree); three layers (:data:`V2_LAYERS`, second baroclinic radius
    0.44 Rd) with the jet's shear at the top (:data:`V2_JET_PROFILE`); only
    the zonal-mean PV relaxed toward the jet, so the eddies are free and lose
    their energy through the bottom drag (1 / 20 days, the pyqg default) and
    the spectral filter; CFL 0.25 (the free eddies reach 2.9 m s^-1). About
    three times the cost of v1 per model day (three layers, half the time
    step). See the module docstring for why.

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
    values: dict[str, object] = {
        "f0": coriolis(lat),
        "beta": beta_parameter(lat),
        "rossby_radius": rd,
        "jet_width": 50.0e3 * rd / 30.0e3,
        "sst_mean": 293.0 + 0.35 * (37.0 - abs(lat)),
        "layer_thickness": V2_LAYERS,
        "stratification": V2_STRATIFICATION,
        "jet_profile": V2_JET_PROFILE,
        "relaxation": "zonal",
        "bottom_drag": 1.0 / (20.0 * 86400.0),
        "cfl": 0.25,
        "max_cfl": 0.3,
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
        self.stretch = stretching_matrix(p)
        self.layers = nl = self.stretch.shape[0]
        if nl == 2 and not p.layer_thickness:  # version 1: the closed form, bit for bit
            f1 = 1.0 / (p.rossby_radius**2 * (1.0 + p.delta))
            f2 = p.delta * f1
            det = k2 * (k2 + f1 + f2)
            det[0, 0] = 1.0
            # Inversion q -> psi per wavenumber (zero mean streamfunction).
            inv = np.array(
                [[-(k2 + f2), -f1 * np.ones_like(k2)], [-f2 * np.ones_like(k2), -(k2 + f1)]]
            )
            inv /= det
        else:
            matrix = self.stretch[None, None] - k2[..., None, None] * np.eye(nl)
            matrix[0, 0] = np.eye(nl)  # the mean: any value, zeroed below
            inv = np.moveaxis(np.linalg.inv(matrix), (2, 3), (0, 1))
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
        profile = p.jet_profile or (1.0, p.lower_layer_fraction)
        if len(profile) != nl:
            raise ValueError(f"jet_profile has {len(profile)} values for {nl} layers")
        psi_jet = np.stack([psi1] + [f * psi1 for f in profile[1:]])
        self.qjet_h = self._q_from_psi_h(torch.fft.rfft2(ct(psi_jet)))
        self.sst_ref = ct(np.broadcast_to(sst_target(y, p)[:, None], (n, n)).copy())
        # Initial state: the jet plus a small random PV perturbation; SST at reference.
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((nl, n, n)) * 1e-2 * p.f0 * p.jet_width / p.length
        self.qh = self.filt * (self.qjet_h + torch.fft.rfft2(ct(noise)))
        self.sst_ref_h = torch.fft.rfft2(self.sst_ref)
        self.sst_h = self.sst_ref_h.clone()
        self._history: list = []
        self.time = 0.0  # seconds since start

    def _q_from_psi_h(self, psih):
        """PV (spectral) from streamfunction (spectral), both shaped (2, n, n//2+1)."""
        if self.layers == 2 and not self.p.layer_thickness:  # version 1, bit for bit
            f1 = 1.0 / (self.p.rossby_radius**2 * (1.0 + self.p.delta))
            f2 = self.p.delta * f1
            q1 = -self.k2 * psih[0] + f1 * (psih[1] - psih[0])
            q2 = -self.k2 * psih[1] + f2 * (psih[0] - psih[1])
            return self.torch.stack([q1, q2])
        s = self.stretch
        return self.torch.stack(
            [
                -self.k2 * psih[i] + sum(float(s[i, j]) * psih[j] for j in range(self.layers))
                for i in range(self.layers)
            ]
        )

    def psi_h(self, qh=None):
        """Streamfunction (spectral, m^2 s^-1) of PV ``qh`` (default: the current state)."""
        qh = self.qh if qh is None else qh
        nl = self.layers
        return self.torch.stack([self._row(i, qh) for i in range(nl)])

    def _row(self, i: int, qh):
        """Layer ``i`` of the inversion: ``sum_j inv[i, j] q_j``, left to right."""
        out = self.inv[i, 0] * qh[0]
        for j in range(1, self.layers):
            out = out + self.inv[i, j] * qh[j]
        return out

    def _tendency(self):
        torch, p = self.torch, self.p
        n = p.n
        psih = self.psi_h()
        uh = -self.iky * psih
        vh = self.ikx * psih
        fields = torch.fft.irfft2(
            torch.cat([uh, vh, self.qh, self.sst_h[None]]), s=(n, n)
        )  # u1 u2 v1 v2 q1 q2 T
        nl = self.layers
        u, v, q, sst = fields[0:nl], fields[nl : 2 * nl], fields[2 * nl : 3 * nl], fields[3 * nl]
        fluxes = torch.fft.rfft2(torch.cat([u * q, v * q, (u[0] * sst)[None], (v[0] * sst)[None]]))
        adv_q = self.ikx * fluxes[0:nl] + self.iky * fluxes[nl : 2 * nl]
        adv_t = self.ikx * fluxes[2 * nl] + self.iky * fluxes[2 * nl + 1]
        tau = p.relaxation_days * 86400.0
        dq = -adv_q - p.beta * vh
        if p.relaxation == "zonal":  # the jet (k_x = 0) only: eddies are free
            dq[..., 0] -= (self.qh[..., 0] - self.qjet_h[..., 0]) / tau
        else:
            dq -= (self.qh - self.qjet_h) / tau
        dq[-1] += p.bottom_drag * self.k2 * psih[-1]
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
        for _ in range(days):
            for _ in range(self._steps_today()):
                self.step()
            ssh, sst = self.snapshot()
            if not (np.isfinite(ssh).all() and np.isfinite(sst).all()):
                raise QGBlowUpError(f"QG model blew up on model day {self.time / 86400.0:.0f}")
            yield ssh, sst

    def _steps_today(self) -> int:
        """Time steps of the next day: the parameters' number, more when the flow is fast.

        The step of :meth:`QGParameters.steps_per_day` assumes speeds below
        twice the jet's; free eddies can exceed it (a v2 Gulf Stream run reached
        3.1 m s^-1, u dt/dx 0.39, and blew up on model day 499). When the
        largest speed would give ``u_max dt / dx > max_cfl`` the day is cut
        into more steps (and the Adams-Bashforth history restarted, as its
        coefficients assume one step length); never fewer than the parameters'
        steps, so a run that stays slow is unchanged step for step.
        """
        base = self.p.steps_per_day()
        speed = self.max_speed()
        if not math.isfinite(speed):
            raise QGBlowUpError(f"QG model blew up on model day {self.time / 86400.0:.0f}")
        if self.p.max_cfl is None:
            return base
        need = math.ceil(86400.0 * speed / (self.p.max_cfl * self.p.dx))
        steps = max(base, need)
        dt = 86400.0 / steps
        if dt != self.dt:
            self.dt = dt
            self._history.clear()
        return steps

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
        nl = self.layers
        return float(self.torch.sqrt(u[0:nl] ** 2 + u[nl : 2 * nl] ** 2).max())

    def energy(self) -> float:
        """Total (kinetic + available potential) energy per unit mass, m^2 s^-2.

        Layer-thickness weighted domain mean of the kinetic energy plus the
        potential energy of the interface displacements,
        ``sum_i f0^2 / (2 g'_i H) (psi_i - psi_i+1)^2``.
        """
        n, nl = self.p.n, self.layers
        psih = self.psi_h()
        grads = self.torch.fft.irfft2(
            self.torch.cat([self.ikx * psih, self.iky * psih, psih]), s=(n, n)
        )
        weights, interface = layer_weights(self.p)
        total = 0.0
        for i in range(nl):
            total += weights[i] * 0.5 * float((grads[i] ** 2 + grads[nl + i] ** 2).mean())
        for i in range(nl - 1):
            diff = grads[2 * nl + i] - grads[2 * nl + i + 1]
            total += 0.5 * interface[i] * float((diff**2).mean())
        return total


def layer_thicknesses(p: QGParameters) -> np.ndarray:
    """Layer thicknesses (m, top to bottom); two layers of ratio ``delta`` by default."""
    if p.layer_thickness:
        return np.asarray(p.layer_thickness, dtype=np.float64)
    return np.array([p.delta, 1.0]) * 1000.0 / p.delta  # H1 = 1000 m (only ratios matter)


def stretching_matrix(p: QGParameters) -> np.ndarray:
    """The matrix ``S`` of ``q = lap(psi) + S psi`` (m^-2), layers top to bottom.

    Row ``i``: ``F_i,up (psi_i-1 - psi_i) + F_i,down (psi_i+1 - psi_i)`` with
    ``F = f0^2 / (g' H_i)``; the reduced gravities (relative values
    :attr:`QGParameters.stratification`, equal by default) are scaled so
    that the first baroclinic mode's deformation radius is ``rossby_radius``.
    """
    h = layer_thicknesses(p)
    nl = h.size
    relative = np.asarray(p.stratification or (1.0,) * (nl - 1), dtype=np.float64)
    if relative.size != nl - 1:
        raise ValueError(f"stratification needs {nl - 1} values for {nl} layers")

    def matrix(gprime: np.ndarray) -> np.ndarray:
        s = np.zeros((nl, nl))
        for i in range(nl - 1):  # interface i between layers i and i + 1
            s[i, i] -= 1.0 / (gprime[i] * h[i])
            s[i, i + 1] += 1.0 / (gprime[i] * h[i])
            s[i + 1, i + 1] -= 1.0 / (gprime[i] * h[i + 1])
            s[i + 1, i] += 1.0 / (gprime[i] * h[i + 1])
        return s * p.f0**2

    if nl == 2 and not p.layer_thickness:
        f1 = 1.0 / (p.rossby_radius**2 * (1.0 + p.delta))
        return np.array([[-f1, f1], [p.delta * f1, -p.delta * f1]])
    unit = matrix(relative)
    first = np.sort(-np.linalg.eigvals(unit).real)[1]  # 0 (barotropic), then 1 / Rd1^2
    return unit / (first * p.rossby_radius**2)


def deformation_radii(p: QGParameters) -> np.ndarray:
    """Baroclinic deformation radii (m), first mode first."""
    values = np.sort(-np.linalg.eigvals(stretching_matrix(p)).real)[1:]
    return 1.0 / np.sqrt(values)


def layer_weights(p: QGParameters) -> tuple[np.ndarray, np.ndarray]:
    """(``H_i / H`` per layer, ``f0^2 / (g'_i H)`` per interface in m^-2)."""
    h = layer_thicknesses(p)
    s = stretching_matrix(p)
    interface = np.array([s[i, i + 1] * h[i] / h.sum() for i in range(h.size - 1)])
    return h / h.sum(), interface
