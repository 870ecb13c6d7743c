"""Cross-check of our QG truth (v2 physics) against pyqg, a well-kept QG library.

pyqg (PyPI ``pyqg`` 0.7.2, Abernathey et al.) solves the same layered QG
equations as :mod:`oceaninterp.simulate.qg`: pseudo-spectral, doubly
periodic, beta-plane, AB3 time stepping, the Arbic & Flierl exponential
filter, a linear drag on the bottom layer. This script runs pyqg's
``LayeredModel`` with the physical set-up of our v2 truth for a box (f0,
beta, three layers 200/800/3000 m with the reduced gravities that give our
Rossby radii, 2000 km domain, 256^2 cells, bottom drag 1/20 days, the same
time step), samples its surface SSH ``f0 psi_1 / g`` onto the box exactly as
``oceaninterp simulate truth`` does, and computes the same statistics with
our diagnostics (:func:`oceaninterp.simulate.truth.truth_statistics`: SSH
std, eddy and SLA std, the zonal spectrum slope over 70-250 km of
:mod:`oceaninterp.spectrum`). Two pyqg set-ups:

- ``jet``: our forcing, through pyqg's ``q_parameterization`` hook: the
  zonal-mean PV relaxed in 30 days toward that of our jet pair (pyqg's own
  stretching matrix turns the jet's streamfunction into PV), no imposed
  background flow. Same equations as ours, solved by independent code: the
  statistics should agree within the scatter of the eddies.
- ``shear``: pyqg's textbook configuration, a uniform background shear
  ``U_k = U profile_k`` (our jet's vertical profile 1, 0.5, 0.1; ``U`` the
  domain rms of our jet's surface speed by default) with no jet: how a
  homogeneous baroclinic turbulence of the same stratification compares.

pyqg pins nothing exotic but builds from source only with Cython < 3 and
numpy < 2, so it lives in its own environment, outside the repository::

    python3 -m venv /tmp/venv-pyqg
    /tmp/venv-pyqg/bin/pip install "cython<3" "numpy<2" setuptools setuptools_scm wheel pyfftw
    SETUPTOOLS_SCM_PRETEND_VERSION=0.7.2 /tmp/venv-pyqg/bin/pip install \\
        --no-build-isolation "pyqg==0.7.2"

(pyfftw installed before pyqg: pyqg compiles its FFT choice in, and numpy's
FFT makes it twice as slow.) Run with the project's Python; it calls itself
under ``--pyqg-python`` once per set-up (``--pyqg-run``), which imports only
pyqg and numpy::

    .venv/bin/python benchmarks/pyqg_check.py [--truth runs/v2/gs/truth.nc] \\
        [--setups jet,shear] [--days 30] [--window-days 30] [--spinup-days 180] \\
        [--grid-points 256] \\
        [-o benchmarks/results/pyqg_check.md] [--figure benchmarks/results/pyqg_check.png]

Without ``--truth`` our model is run too (``simulate_truth`` with the same
box, days, spin-up, grid points and seed). The Markdown table puts both side
by side, with the set-up and the run times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: pyqg's environment (see the module docstring).
PYQG_PYTHON = "/tmp/venv-pyqg/bin/python"
SETUPS = ("jet", "shear")
#: Reference density of the top layer, kg m^-3 (pyqg takes reduced gravities as densities).
RHO_TOP = 1025.0
#: Gravity, m s^-2 (:data:`oceaninterp.simulate.qg.GRAVITY`; the pyqg side imports no oceaninterp).
GRAVITY = 9.81


def run_pyqg(config: dict, output: str) -> None:
    """Run pyqg's LayeredModel for one set-up (in the pyqg environment) and save its SSH.

    Parameters
    ----------
    config
        The set-up (SI units): ``n``, ``length`` (m), ``dt`` (s),
        ``steps_per_day``, ``f0`` (s^-1), ``beta`` (m^-1 s^-1), ``thickness``
        (m per layer), ``gprime`` (m s^-2 per interface), ``drag`` (s^-1),
        ``setup`` (``jet`` or ``shear``), ``psi_jet`` (m^2 s^-1, per layer
        and row: the jet's streamfunction), ``relaxation_s`` (s),
        ``shear`` (m s^-1 per layer, background flow of ``shear``),
        ``noise`` (s^-1, std of the initial PV noise), ``seed``,
        ``spinup_days``, ``days``.
    output
        The ``.npz`` written: ``ssh`` (days, n, n) in metres (rows along y),
        ``energy`` (daily upper-layer eddy kinetic energy, m^2 s^-2, spin-up
        included), ``max_speed`` (daily, m s^-1), ``stretching`` (m^-2),
        ``radii`` (m) and ``wall_s``.
    """
    import pyqg

    h = np.asarray(config["thickness"], dtype=np.float64)
    nz = h.size
    rho = RHO_TOP * np.cumprod(np.r_[1.0, 1.0 + np.asarray(config["gprime"]) / GRAVITY])
    background = np.asarray(config["shear"] if config["setup"] == "shear" else np.zeros(nz))
    n, tau = config["n"], config.get("relaxation_s", 1.0)
    qjet = np.zeros((nz, n, n))  # the jet's PV, filled once pyqg's stretching matrix exists

    def relax_zonal_mean(m: pyqg.LayeredModel) -> np.ndarray:
        """``-(zonal mean q - q_jet) / tau``: only the jet is relaxed, the eddies are free."""
        forcing = -(np.asarray(m.q).mean(axis=2, keepdims=True) - qjet[:, :, :1]) / tau
        return np.ascontiguousarray(np.broadcast_to(forcing, (nz, n, n)))

    model = pyqg.LayeredModel(
        nz=nz,
        nx=n,
        L=config["length"],
        dt=config["dt"],
        f=config["f0"],
        beta=config["beta"],
        H=h,
        rho=rho,
        U=background,
        V=np.zeros(nz),
        rek=config["drag"],
        g=GRAVITY,
        tmax=1e12,
        tavestart=1e12,
        log_level=0,
        q_parameterization=relax_zonal_mean if config["setup"] == "jet" else None,
    )
    if config["setup"] == "jet":  # PV of the jet, by pyqg's own stretching matrix
        psi = np.repeat(np.asarray(config["psi_jet"])[:, :, None], n, axis=2)
        ph = model.fft(psi)
        qjet[:] = model.ifft(np.einsum("ij,jkl->ikl", model.S, ph) - model.wv2 * ph)
    rng = np.random.default_rng(config["seed"])
    q0 = qjet + config["noise"] * rng.standard_normal((nz, n, n))
    model.set_q(model.ifft(model.filtr * model.fft(q0)))
    total = config["spinup_days"] + config["days"]
    ssh = np.empty((config["days"], n, n), np.float32)
    energy, speed = np.empty(total), np.empty(total)
    start = time.perf_counter()
    for day in range(total):
        for _ in range(config["steps_per_day"]):
            model._step_forward()
        u, v = np.asarray(model.u), np.asarray(model.v)
        energy[day] = 0.5 * float((u[0] ** 2 + v[0] ** 2).mean())
        speed[day] = float(np.sqrt((u + background[:, None, None]) ** 2 + v**2).max())
        if day >= config["spinup_days"]:
            psi1 = model.ifft(model.ph[:1])[0]
            ssh[day - config["spinup_days"]] = config["f0"] / GRAVITY * psi1
    np.savez(
        output,
        ssh=ssh,
        energy=energy,
        max_speed=speed,
        stretching=model.S,
        radii=np.asarray(model.radii),
        wall_s=time.perf_counter() - start,
    )


def pyqg_config(setup: str, args: argparse.Namespace) -> dict:
    """The pyqg set-up equal to our v2 truth for the box of ``args`` (see :func:`run_pyqg`)."""
    from oceaninterp.simulate.qg import jet_streamfunction, layer_thicknesses, stretching_matrix

    params = _params(args)
    s = stretching_matrix(params)
    h = layer_thicknesses(params)
    profile = np.asarray(params.jet_profile)
    y = (np.arange(params.n) + 0.5) * params.dx
    psi1 = jet_streamfunction(y, params)
    surface_speed = np.gradient(-psi1, params.dx)
    shear = args.shear_speed or float(np.sqrt(np.mean(surface_speed**2)))
    return {
        "setup": setup,
        "n": params.n,
        "length": params.length,
        "dt": 86400.0 / params.steps_per_day(),
        "steps_per_day": params.steps_per_day(),
        "f0": params.f0,
        "beta": params.beta,
        "thickness": h.tolist(),
        "gprime": [float(params.f0**2 / (s[i, i + 1] * h[i])) for i in range(h.size - 1)],
        "drag": params.bottom_drag,
        "psi_jet": (profile[:, None] * psi1[None, :]).tolist(),
        "relaxation_s": params.relaxation_days * 86400.0,
        "shear": (shear * profile).tolist(),
        "noise": 1e-2 * abs(params.f0) * params.jet_width / params.length,
        "seed": args.seed,
        "spinup_days": args.spinup_days,
        "days": args.days,
    }


def _params(args: argparse.Namespace):
    """Our v2 QG parameters for the box of ``args`` (as ``simulate truth`` derives them)."""
    from oceaninterp.simulate.qg import physics_parameters

    lat = 0.5 * (args.region[2] + args.region[3])
    return physics_parameters("v2", lat, n=args.grid_points, length=args.domain_km * 1e3)


def _pyqg_in_subprocess(args: argparse.Namespace, setup: str, work: Path) -> dict:
    """Run (or reuse) one pyqg set-up under ``--pyqg-python``; its arrays and wall time.

    A run of ``work`` whose saved set-up equals this one is reused, so that a
    report can be redrawn without running pyqg again.
    """
    config = pyqg_config(setup, args)
    config_path, npz = work / f"{setup}.json", work / f"{setup}.npz"
    text = json.dumps(config)
    if not (npz.exists() and config_path.exists() and config_path.read_text() == text):
        config_path.write_text(text)
        npz.unlink(missing_ok=True)
        done = subprocess.run(
            [args.pyqg_python, __file__, "--pyqg-run", str(config_path), str(npz)],
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"pyqg run {setup} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    with np.load(npz) as data:
        return {key: data[key] for key in data.files}


def _ours(args: argparse.Namespace, work: Path) -> dict:
    """Our v2 truth's SSH over the box: read from ``--truth`` or simulated; with its wall time."""
    import xarray as xr

    from oceaninterp.simulate.truth import simulate_truth

    wall = float("nan")
    path = args.truth
    if path is None:
        start = time.perf_counter()
        path = simulate_truth(
            work / "ours",
            days=args.days,
            spinup_days=args.spinup_days,
            resolution=args.resolution,
            seed=args.seed,
            region=tuple(args.region),
            grid_points=args.grid_points,
            domain_km=args.domain_km,
            overwrite=True,
        )
        wall = time.perf_counter() - start
    with xr.open_dataset(path) as ds:
        f0 = float(ds.attrs.get("qg_f0", "nan"))
        if not np.isclose(f0, _params(args).f0, rtol=1e-6):
            sys.exit(f"{path}: its f0 {f0:.4e} s-1 is not that of the box {args.region}")
        ssh = ds["ssh"].values.astype(np.float64)
        blank = np.flatnonzero(np.isnan(ssh).all(axis=(1, 2)))  # a blown-up model writes NaN
        return {
            "ssh": ssh[: blank[0]] if blank.size else ssh,
            "days": len(ssh),
            "first_blank_day": int(blank[0]) if blank.size else None,
            "lat": ds["latitude"].values,
            "lon": ds["longitude"].values,
            "spinup_days": int(ds.attrs.get("spinup_days", -1)),
            "seed": int(ds.attrs.get("seed", -1)),
            "wall_s": wall,
        }


def on_box(ssh: np.ndarray, lat: np.ndarray, lon: np.ndarray, args: argparse.Namespace):
    """Model-grid SSH (days, n, n) sampled onto the box as ``simulate truth`` samples it."""
    from scipy.ndimage import map_coordinates

    from oceaninterp.simulate.truth import model_coordinates

    rows, cols = model_coordinates(lat, lon, _params(args))
    return np.stack([map_coordinates(d, [rows, cols], order=3, mode="grid-wrap") for d in ssh])


def statistics(
    ssh: np.ndarray, lat: np.ndarray, resolution: float, days: int, window: int
) -> dict[str, Any]:
    """Our truth statistics of the first ``days`` days, and the slope of each ``window`` days.

    A run shorter than ``window`` days gives one window, the whole run.
    """
    from oceaninterp.simulate.truth import truth_statistics
    from oceaninterp.spectrum import zonal_spacing_km, zonal_spectrum

    stats: dict[str, Any] = dict(truth_statistics(ssh[:days], None, lat, resolution))
    dx_km = zonal_spacing_km(lat, resolution)
    window = min(window, len(ssh))
    stats["window_slopes"] = [
        zonal_spectrum(ssh[i : i + window], dx_km).slope()
        for i in range(0, len(ssh) - window + 1, window)
    ]
    spectrum = zonal_spectrum(ssh[:days], dx_km)
    stats["spectrum"] = (spectrum.wavenumber, spectrum.psd)
    return stats


def ab3_courant_limit(tolerance: float = 1e-4) -> float:
    """Largest ``u dt / dx`` at which AB3 with pyqg's filter keeps every advected wave bounded.

    Linear analysis of ``q' = -i u k q`` stepped as both models step it,
    ``q_n+1 = F(k) (q_n + dt (23 f_n - 16 f_n-1 + 5 f_n-2) / 12)``: the
    largest root modulus of ``z^3 = F (z^2 + i c t (23 z^2 - 16 z + 5) / 12)``
    over ``t = k dx`` in ``(0, pi sqrt 2]`` (the grid's corner), ``F`` the
    exponential filter (1 below ``0.65 pi``), found by bisection on
    ``c = u dt / dx``. Below the filter's cut AB3's own slight growth at small
    ``c t`` (about ``(c t)^4``) stays under ``tolerance``.
    """
    theta = np.linspace(0.3 * np.pi, np.sqrt(2) * np.pi, 2000)
    cut = 0.65 * np.pi
    filt = np.where(theta > cut, np.exp(-23.6 * (theta - cut) ** 4), 1.0)

    def growth(c: float) -> float:
        worst = 0.0
        for t, f in zip(theta, filt, strict=True):
            a = 1j * c * t
            roots = np.roots([1.0, -f * (1 + 23 / 12 * a), f * 16 / 12 * a, -f * 5 / 12 * a])
            worst = max(worst, float(np.abs(roots).max()))
        return worst

    low, high = 0.1, 1.0
    while high - low > 1e-3:
        mid = 0.5 * (low + high)
        low, high = (mid, high) if growth(mid) <= 1.0 + tolerance else (low, mid)
    return low


def report(args: argparse.Namespace, ours: dict, runs: dict[str, dict]) -> str:
    """The Markdown report: the set-up of both models, then the statistics side by side."""
    from oceaninterp.simulate.qg import deformation_radii, stretching_matrix
    from oceaninterp.spectrum import zonal_spectrum

    params = _params(args)
    config = pyqg_config(next(iter(runs), "jet"), args)
    lat, lon = ours["lat"], ours["lon"]
    days = (args.resolution, args.days, args.window_days)
    rows = {"ours (oceaninterp v2)": statistics(ours["ssh"], lat, *days)}
    extra = {"ours (oceaninterp v2)": ("n/a", "n/a", "n/a", _minutes(ours["wall_s"]))}
    dt = 86400.0 / params.steps_per_day()
    for setup, run in runs.items():
        name = f"pyqg {setup}"
        rows[name] = statistics(on_box(run["ssh"], lat, lon, args), lat, *days)
        full = zonal_spectrum(run["ssh"], params.dx / 1e3).slope()
        spin = run["energy"][: args.spinup_days]
        kept = run["energy"][args.spinup_days :]
        drift = (
            float(kept.mean() / spin[-min(30, spin.size) :].mean()) if spin.size else float("nan")
        )
        fastest = float(run["max_speed"].max())
        extra[name] = (
            f"{full:.2f}",
            f"{drift:.2f}",
            f"{fastest:.2f} ({fastest * dt / params.dx:.2f})",
            _minutes(float(run["wall_s"])),
        )
    radii = deformation_radii(params) / 1e3
    limit = ab3_courant_limit()
    first = next(iter(runs.values()), None)
    s_ours = stretching_matrix(params)
    lines = [
        "# Our v2 QG truth against pyqg",
        "",
        f"`{' '.join(['benchmarks/pyqg_check.py', *sys.argv[1:]])}`",
        "",
        "## Set-up (the same in both models)",
        "",
        f"- box {tuple(args.region)} at {args.resolution} deg; model domain "
        f"{params.length / 1e3:.0f} km, {params.n}^2 cells of {params.dx / 1e3:.2f} km, "
        f"doubly periodic",
        f"- f0 {params.f0:.4e} s-1, beta {params.beta:.4e} m-1 s-1, layers "
        f"{config['thickness']} m, reduced gravities {[round(g, 5) for g in config['gprime']]} "
        f"m s-2 (pyqg: densities {RHO_TOP:g} kg m-3 times 1 + g'/g)",
        f"- deformation radii: ours {', '.join(f'{r:.2f}' for r in radii)} km"
        + (
            f"; pyqg {', '.join(f'{r / 1e3:.2f}' for r in first['radii'][1:])} km; "
            f"stretching matrices differ by at most "
            f"{np.abs(first['stretching'] - s_ours).max() / np.abs(s_ours).max():.1e} (relative)"
            if first is not None
            else ""
        ),
        f"- time step {config['dt']:.1f} s ({config['steps_per_day']} per day, AB3 in both), "
        f"pyqg's exponential filter in both, bottom drag {params.bottom_drag:.3e} s-1 "
        f"(1/{1 / params.bottom_drag / 86400:.0f} days)",
        f"- ours and pyqg jet: zonal-mean PV relaxed in {params.relaxation_days:g} days toward "
        f"a jet pair (surface {params.jet_speed:g} m s-1, half-width "
        f"{params.jet_width / 1e3:.1f} km, layer profile {params.jet_profile}); pyqg through "
        f"its q_parameterization hook, no background flow",
        *(
            [
                f"- pyqg shear: uniform background flow "
                f"{[round(u, 3) for u in config['shear']]} m s-1 (no jet, no relaxation)"
            ]
            if "shear" in runs
            else []
        ),
        f"- spin-up {args.spinup_days} days (ours: {ours['spinup_days']}), statistics over the "
        f"next {args.days} days; seeds: pyqg {args.seed}, ours {ours['seed']}; slope per "
        f"window: each {args.window_days}-day window of the run ({len(ours['ssh'])} days of ours)",
        f"- time step: AB3 with the filter is linearly unstable above u dt/dx = {limit:.3f} "
        f"(`ab3_courant_limit`), u = {limit * params.dx / dt:.2f} m s-1 here",
        *(
            [
                f"- **our truth holds NaN from its day {ours['first_blank_day']} of "
                f"{ours['days']} (model day {ours['first_blank_day'] + ours['spinup_days']}): "
                f"the model blew up; only the days before are used**"
            ]
            if ours["first_blank_day"] is not None
            else []
        ),
        "",
        "## Statistics over the box (our diagnostics: `truth_statistics`, `oceaninterp.spectrum`)",
        "",
        "| run | slope 70-250 km | slope per window | SSH std (m) | non-zonal std (m) "
        "| SLA std (m) | SLA variance (cm2) | dominant wavelength (km) "
        "| slope, 2000 km model rows | eddy KE kept / last 30 spin-up days "
        "| max speed, m s-1 (u dt/dx) | wall time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, st in rows.items():
        windows = st["window_slopes"]
        lines.append(
            f"| {name} | {st['spectral_slope']:.2f} | "
            f"{min(windows):.2f} .. {max(windows):.2f} ({len(windows)}) | "
            f"{st['ssh_std_m']:.3f} | {st['eddy_std_m']:.3f} | {st['sla_std_m']:.3f} | "
            f"{1e4 * st['sla_std_m'] ** 2:.0f} | {st['dominant_wavelength_km']:.0f} | "
            + " | ".join(extra[name])
            + " |"
        )
    if args.figure:
        figure(rows, args.figure)
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return "n/a" if not np.isfinite(seconds) else f"{seconds / 60:.1f} min"


def figure(rows: dict[str, dict], path: Path) -> None:
    """Zonal SSH spectra of the runs over the box, with k^-4 and k^-5 and the fit band."""
    import matplotlib.pyplot as plt

    from oceaninterp.spectrum import SLOPE_BAND_KM

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, st in rows.items():
        k, psd = st["spectrum"]
        ax.loglog(k, psd, label=f"{name}: {st['spectral_slope']:.2f}")
    k0 = 1.0 / 150.0
    reference = np.interp(k0, *next(iter(rows.values()))["spectrum"])
    kk = np.array([1.0 / SLOPE_BAND_KM[1], 1.0 / SLOPE_BAND_KM[0]])
    for slope, style in ((-4, ":"), (-5, "--")):
        ax.loglog(kk, reference * (kk / k0) ** slope, "k" + style, label=f"k^{slope}")
    ax.axvspan(*kk, color="0.9")
    ax.set_xlabel("zonal wavenumber (cycles/km)")
    ax.set_ylabel("SSH PSD (m2 / (cycle/km))")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyqg-python", default=PYQG_PYTHON, help="pyqg's environment's Python")
    parser.add_argument(
        "--truth", type=Path, help="our v2 truth of the same box (default: run our model too)"
    )
    parser.add_argument(
        "--setups", default=",".join(SETUPS), help=f"pyqg set-ups, comma-separated: {SETUPS}"
    )
    parser.add_argument("--days", type=int, default=30, help="days kept after the spin-up")
    parser.add_argument(
        "--window-days",
        type=int,
        default=30,
        help="length of the windows whose slopes show the scatter (default 30 days)",
    )
    parser.add_argument("--spinup-days", type=int, default=180, help="model days discarded")
    parser.add_argument("--grid-points", type=int, default=256, help="model cells per side")
    parser.add_argument("--domain-km", type=float, default=2000.0, help="model domain side, km")
    parser.add_argument(
        "--region",
        type=float,
        nargs=4,
        metavar=("LON0", "LON1", "LAT0", "LAT1"),
        help="the box, degrees (default: the Gulf Stream box)",
    )
    parser.add_argument("--resolution", type=float, default=0.1, help="box grid, degrees")
    parser.add_argument(
        "--shear-speed",
        type=float,
        help="surface background speed of the 'shear' set-up, m s^-1 "
        "(default: the domain rms of our jet's surface speed)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial PV noise")
    parser.add_argument("--work", type=Path, help="folder of the pyqg runs (default: temporary)")
    parser.add_argument("-o", "--output", type=Path, help="also write the report (Markdown)")
    parser.add_argument("--figure", type=Path, help="also draw the spectra (PNG)")
    parser.add_argument("--pyqg-run", nargs=2, metavar=("CONFIG", "NPZ"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.pyqg_run:
        config, output = args.pyqg_run
        run_pyqg(json.loads(Path(config).read_text()), output)
        return
    if not Path(args.pyqg_python).exists():
        sys.exit(f"no pyqg environment at {args.pyqg_python} (see the docstring)")
    if args.region is None:
        from oceaninterp.simulate.truth import GULF_STREAM_BOX

        args.region = GULF_STREAM_BOX
    setups = [s for s in args.setups.split(",") if s]
    unknown = set(setups) - set(SETUPS)
    if unknown:
        sys.exit(f"--setups: unknown {sorted(unknown)}, expected some of {SETUPS}")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        runs = {setup: _pyqg_in_subprocess(args, setup, work) for setup in setups}
        ours = _ours(args, work)
        text = report(args, ours, runs)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
