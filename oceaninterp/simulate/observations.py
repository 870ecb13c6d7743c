"""Satellite observations of a gridded truth, written as real product files.

:func:`simulate_obs` flies the nadir altimeters and SWOT's KaRIn over any
daily gridded SSH truth (the QG truth of :mod:`oceaninterp.simulate.truth`,
or a user's model output or DUACS L4 map, NetCDF or Zarr, read by
:func:`oceaninterp.truth.open_truth`), samples it in space (bilinear) and time
(linear between the days, each day's value being taken at 12:00 UTC), adds
instrument errors and writes

- ``nadir/<mission>/``: CMEMS L3 along-track files at 1 Hz;
- ``swot/``: SWOT L3 LR SSH files holding the lines over the truth box;
- ``sst/``: GHRSST L4 daily SST analyses (when the truth has ``sst``);
- ``mdt.nc``: the MDT the files carry, on the truth's grid (:func:`write_truth_mdt`),
  for ``--mdt`` of ``oceaninterp train`` / ``reconstruct`` and ``[inputs] mdt``.

Every file carries ``mdt`` = the time mean of the truth SSH plus an MDT error
(2 cm, 100 km by default: a real MDT is not the ocean's exact mean; 0 with
``mdt_error=0``), and ``sla = ssh - time mean`` (+ instrument errors), so that
``adt = sla + mdt`` is the truth SSH plus the MDT error, as a real ADT.
SWOT carries the KaRIn systematic errors left after cross-calibration by
default (:class:`~oceaninterp.simulate.errors.SystematicErrors`).
``*_filtered`` variables are low-passed copies of the noisy
``*_unfiltered`` ones (a Gaussian of about 65 km half-power cut-off along
track for nadirs, a 6 km Gaussian over the KaRIn swath); without noise they
are equal. Truth cells that are NaN (land) give no observation.

The files are laid out and named as :mod:`oceaninterp.simulate.layout` says
(``files=``: one per mission and month, or as the agencies distribute them).
"""

from __future__ import annotations

import logging
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from oceaninterp.errors import ConfigError, OutputExistsError
from oceaninterp.io import check_output
from oceaninterp.simulate import errors, layout, swath
from oceaninterp.simulate.orbits import ORBITS, Orbit

log = logging.getLogger(__name__)

DEFAULT_MISSIONS = ("j3", "s3a", "s3b", "alg", "c2", "h2b", "swot")
COARSE_STEP_S = 20.0  # s between coarse ground-track samples when finding box crossings
# Box margins (degrees) of the coarse search: 20 s of flight (< 140 km, 2 deg of
# longitude at 45N) so that no crossing falls between two coarse samples, plus
# the swath half-width (60 km) for SWOT.
NADIR_MARGIN_DEG = 2.0
SWOT_MARGIN_DEG = 3.0
SWATH_REACH_DEG = 1.0  # nadir lines farther than this from the box have no pixel in it
NADIR_FILTER_KM = 12.0  # Gaussian sigma of sla_filtered (half-power cut-off about 65 km)
KARIN_FILTER_KM = 6.0  # Gaussian sigma of ssha_filtered over the swath
MDT_NAME = "mdt.nc"
#: Error of the MDT handed to the users (files, mdt.nc): standard deviation (m) and
#: Gaussian correlation length (km). A few cm at 100 km is the order of the error
#: of the CNES-CLS MDTs in energetic western boundary currents, where drifters
#: and altimetry leave the mean jet's position and strength uncertain.
MDT_ERROR_M = 0.02
MDT_ERROR_KM = 100.0


class TruthSampler:
    """A daily gridded truth held in memory, interpolated at points.

    Parameters
    ----------
    ssh
        SSH (metres) over ascending (time, latitude, longitude), as
        :func:`oceaninterp.truth.open_truth` returns it.
    sst
        SST (kelvin) on the same grid, or ``None``.
    source
        Path, for error messages.
    """

    def __init__(
        self, ssh: xr.DataArray, sst: xr.DataArray | None = None, source: str | Path | None = None
    ):
        self.source = source
        self.values = np.asarray(ssh.values, dtype=np.float32)
        self.lat = np.asarray(ssh["latitude"].values, dtype=np.float64)
        self.lon = np.asarray(ssh["longitude"].values, dtype=np.float64)
        self.times = np.asarray(ssh["time"].values).astype("datetime64[ns]")
        step = np.median(np.diff(self.times)) if self.times.size > 1 else np.timedelta64(1, "D")
        self.step = np.timedelta64(step, "ns")
        with warnings.catch_warnings():  # all-NaN (land) cells stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mdt = np.nanmean(self.values, axis=0)
        #: MDT handed to the users (in the files and mdt.nc): the true mean + an error.
        self.mdt_carried = self.mdt.copy()
        self.sst = None if sst is None else np.asarray(sst.values)

    def add_mdt_error(self, rng: np.random.Generator, std: float, scale_km: float) -> None:
        """Make the carried MDT the true one plus a Gaussian-correlated error field.

        ``std`` in metres over the sea cells, ``scale_km`` the Gaussian
        correlation length (standard deviation of the smoothing kernel), km
        (:func:`oceaninterp.simulate.errors.mdt_error`).
        """
        if std <= 0:
            self.mdt_carried = self.mdt.copy()
            return
        sea = np.isfinite(self.mdt)
        self.mdt_carried = self.mdt + errors.mdt_error(rng, self.lat, self.lon, sea, std, scale_km)

    @classmethod
    def open(cls, path: str | Path, variable: str | None = None) -> TruthSampler:
        """The truth of a file (see :func:`oceaninterp.truth.open_truth`), with its SST if any."""
        from oceaninterp.io import open_dataset
        from oceaninterp.truth import truth_ssh, truth_sst

        with open_dataset(path) as ds:
            ssh = truth_ssh(ds, variable, path)
            sst = truth_sst(ds, path)
            if sst is not None and sst.shape != ssh.shape:
                sst = None  # SST on another grid: not the truth's own
            return cls(ssh, sst, path)

    @property
    def start(self) -> np.datetime64:
        """Start of the first day covered."""
        return self.times[0]

    @property
    def end(self) -> np.datetime64:
        """End (exclusive) of the last day covered."""
        return self.times[-1] + self.step

    @property
    def region(self) -> tuple[float, float, float, float]:
        """(lon_min, lon_max, lat_min, lat_max) of the cell centres, degrees."""
        return float(self.lon[0]), float(self.lon[-1]), float(self.lat[0]), float(self.lat[-1])

    def inside(self, lat: np.ndarray, lon: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Whether points lie in the box of cell centres grown by ``margin`` degrees."""
        lon_min, lon_max, lat_min, lat_max = self.region
        east = (np.asarray(lon) - (lon_min - margin)) % 360.0
        return (
            (lat >= lat_min - margin)
            & (lat <= lat_max + margin)
            & (east <= lon_max - lon_min + 2 * margin)
        )

    def sample(
        self, times: np.ndarray, lat: np.ndarray, lon: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Truth SSH, true MDT and carried MDT (metres) at points.

        NaN outside the grid or next to NaN cells. Bilinear in space; linear
        in time between day centres (held constant over the first and last
        half days). The carried MDT is the true one plus its error
        (:meth:`add_mdt_error`).
        """
        lon = self.lon[0] + (np.asarray(lon, dtype=np.float64) - self.lon[0]) % 360.0
        i, wi, ok_i = _fraction(self.lat, np.asarray(lat, dtype=np.float64))
        j, wj, ok_j = _fraction(self.lon, lon)
        centre = (self.times + self.step // 2).astype(np.int64).astype(np.float64)
        t = np.asarray(times).astype("datetime64[ns]").astype(np.int64).astype(np.float64)
        ft = np.interp(t, centre, np.arange(self.times.size, dtype=np.float64))
        k = np.minimum(np.floor(ft).astype(np.int64), max(self.times.size - 2, 0))
        wk = ft - k
        out = np.zeros(i.shape, np.float64)
        mdt = np.zeros(i.shape, np.float64)
        carried = np.zeros(i.shape, np.float64)
        for di, fi in ((0, 1 - wi), (1, wi)):
            for dj, fj in ((0, 1 - wj), (1, wj)):
                mdt += fi * fj * self.mdt[i + di, j + dj]
                carried += fi * fj * self.mdt_carried[i + di, j + dj]
                for dk, fk in ((0, 1 - wk), (1, wk)):
                    if self.times.size == 1 and dk:
                        continue
                    out += fi * fj * fk * self.values[k + dk, i + di, j + dj]
        bad = ~(ok_i & ok_j)
        out[bad] = np.nan
        mdt[bad] = np.nan
        carried[bad] = np.nan
        return out, mdt, carried


def _fraction(axis: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower index, weight of the upper neighbour, and in-range mask of ``x`` on ``axis``."""
    f = np.interp(x, axis, np.arange(axis.size, dtype=np.float64))
    i = np.minimum(np.floor(f).astype(np.int64), axis.size - 2)
    return i, f - i, (x >= axis[0]) & (x <= axis[-1])


def _crossings(orbit: Orbit, sampler: TruthSampler, margin: float) -> np.ndarray:
    """Seconds (from ``sampler.start``) of windows ``(n, 2)`` when the track is near the box."""
    total = (sampler.end - sampler.start) / np.timedelta64(1, "s")
    coarse = np.arange(0.0, total + COARSE_STEP_S, COARSE_STEP_S)
    lat, lon = orbit.ground_track(sampler.start + (coarse * 1e9).astype("timedelta64[ns]"))
    near = np.r_[False, sampler.inside(lat, lon, margin), False]
    edges = np.diff(near.astype(np.int8))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return np.stack(
        [
            np.maximum(coarse[first] - COARSE_STEP_S, 0.0),
            np.minimum(coarse[last] + COARSE_STEP_S, total),
        ],
        axis=-1,
    )


def _times_in(windows: np.ndarray, step: float, sampler: TruthSampler) -> np.ndarray:
    """datetime64[ns] every ``step`` seconds from the truth's start, inside the windows.

    Times at or after the end of the truth's last day are left out.
    """
    total = (sampler.end - sampler.start) / np.timedelta64(1, "s")
    parts = [np.arange(np.ceil(a / step), np.floor(b / step) + 1) * step for a, b in windows]
    seconds = np.unique(np.concatenate(parts)) if parts else np.zeros(0)
    seconds = seconds[seconds < total]
    return sampler.start + np.round(seconds * 1e9).astype("timedelta64[ns]")


def _rng(seed: int, *keys: int | str) -> np.random.Generator:
    """A generator seeded by ``seed`` and stable keys (mission names hashed with crc32)."""
    ints = [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng([seed, *ints])


def nadir_tracks(orbit: Orbit, sampler: TruthSampler, *, noise: bool, seed: int) -> xr.Dataset:
    """Tidy 1-Hz tracks of ``orbit`` over the truth box, with ``mdt``/``sla_*`` extras.

    ``ssh`` is the truth ADT plus noise (``ssh_kind = "adt"``); extras are
    ``mdt``, ``sla_unfiltered`` (truth - mdt + white noise), ``sla_filtered``
    (its along-track low-pass when ``noise``), ``cycle`` and ``pass_number``.
    """
    from oceaninterp.products.schema import make_tracks

    times = _times_in(_crossings(orbit, sampler, NADIR_MARGIN_DEG), 1.0, sampler)
    lat, lon = orbit.ground_track(times)
    keep = sampler.inside(lat, lon)
    times, lat, lon = times[keep], lat[keep], lon[keep]
    ssh, true_mdt, mdt = sampler.sample(times, lat, lon)
    sea = np.isfinite(ssh)  # land (NaN truth) gives no observation
    times, lat, lon, ssh = times[sea], lat[sea], lon[sea], ssh[sea]
    true_mdt, mdt = true_mdt[sea], mdt[sea]
    cycle, pass_number = orbit.pass_index(times)
    sla = ssh - true_mdt
    if noise:
        sla = sla + errors.nadir_noise(_rng(seed, orbit.mission), sla.size, orbit.mission)
        gaps = np.r_[0, np.cumsum(np.diff(times) > np.timedelta64(1500, "ms"))]
        spacing_km = orbit.ground_speed / 1e3
        filtered = errors.along_track_lowpass(sla, gaps, NADIR_FILTER_KM / spacing_km)
    else:
        filtered = sla
    return make_tracks(
        times,
        lat,
        lon,
        sla + mdt,
        mission=orbit.mission,
        source="oceaninterp simulate obs",
        ssh_variable="adt_unfiltered",
        ssh_kind="adt",
        extra={
            "mdt": mdt,
            "sla_unfiltered": sla,
            "sla_filtered": filtered,
            "cycle": cycle,
            "pass_number": pass_number,
        },
    )


def swot_passes(
    orbit: Orbit,
    sampler: TruthSampler,
    *,
    noise: bool,
    seed: int,
    systematic: errors.SystematicErrors | None = None,
    pixel_km: float = swath.PIXEL_KM,
) -> Iterable[tuple[int, int, xr.Dataset]]:
    """KaRIn swaths over the truth box: yields ``(cycle, pass, swath)`` per pass.

    ``swath`` is over (``num_lines``, ``num_pixels`` = 69), 2 km lines, in the
    layout :func:`oceaninterp.products.swot_l3.write` takes, trimmed to the
    lines with a KaRIn pixel inside the box. Pixels off the 10-60 km swaths
    or outside the box are NaN. ``pixel_km`` coarser than 2 km makes a
    smaller file with the same swath (lines and pixels ``pixel_km`` apart,
    KaRIn noise scaled as for the average of native pixels).
    """
    xtd = swath.cross_track_distance(pixel_km)
    karin = swath.karin_pixels(xtd)
    step = pixel_km * 1e3 / orbit.ground_speed
    times = _times_in(_crossings(orbit, sampler, SWOT_MARGIN_DEG), step, sampler)
    if times.size == 0:
        return
    cycles, passes = orbit.pass_index(times)
    key = cycles.astype(np.int64) * 10_000 + passes
    bounds = np.flatnonzero(np.diff(key)) + 1
    for part in np.split(np.arange(times.size), bounds):
        if part.size < 2:
            continue
        t = times[part]
        nlat, nlon = orbit.ground_track(t)
        near = np.flatnonzero(sampler.inside(nlat, nlon, SWATH_REACH_DEG))
        if near.size < 2:
            continue
        sl = slice(near[0], near[-1] + 1)
        t, nlat, nlon = t[sl], nlat[sl], nlon[sl]
        lat, lon = swath.swath_positions(nlat, nlon, xtd)
        valid = karin[None, :] & sampler.inside(lat, lon)
        lines = np.flatnonzero(valid.any(axis=1))
        if lines.size == 0:
            continue
        sl = slice(lines[0], lines[-1] + 1)
        t, lat, lon, valid = t[sl], lat[sl], lon[sl], valid[sl]
        shape = lat.shape
        ssh, true_mdt, mdt = sampler.sample(
            np.broadcast_to(t[:, None], shape).ravel(), lat.ravel(), lon.ravel()
        )
        ssh, true_mdt, mdt = ssh.reshape(shape), true_mdt.reshape(shape), mdt.reshape(shape)
        valid &= np.isfinite(ssh)
        if not valid.any():  # a pass over land only
            continue
        sla = np.where(valid, ssh - true_mdt, np.nan)
        cycle, number = int(cycles[part[0]]), int(passes[part[0]])
        rng = _rng(seed, orbit.mission, cycle, number)
        if systematic is not None:
            sla = sla + errors.systematic_errors(rng, shape[0], xtd, pixel_km, systematic)
        if noise:
            unfiltered = sla + errors.karin_noise(rng, shape[0], xtd, pixel_km)
            filtered = errors.swath_lowpass(unfiltered, valid, xtd, KARIN_FILTER_KM / pixel_km)
        else:
            unfiltered = filtered = sla
        dims = ("num_lines", "num_pixels")
        yield (
            cycle,
            number,
            xr.Dataset(
                {
                    "time": (("num_lines",), t),
                    "latitude": (dims, lat),
                    "longitude": (dims, lon),
                    "cross_track_distance": (("num_pixels",), xtd),
                    "ssha_filtered": (dims, np.where(valid, filtered, np.nan)),
                    "ssha_unfiltered": (dims, np.where(valid, unfiltered, np.nan)),
                    "mdt": (dims, np.where(np.isfinite(mdt), mdt, np.nan)),
                    "quality_flag": (dims, np.where(valid, 0, 102).astype(np.uint8)),
                }
            ),
        )


def simulate_obs(
    truth: str | Path,
    output_dir: str | Path,
    *,
    missions: Sequence[str] = DEFAULT_MISSIONS,
    noise: bool = True,
    sst: bool = True,
    seed: int = 0,
    systematic: bool | errors.SystematicErrors = True,
    mdt_error: float = MDT_ERROR_M,
    mdt_error_km: float = MDT_ERROR_KM,
    swot_pixel_km: float = swath.PIXEL_KM,
    variable: str | None = None,
    files: str = "month",
    overwrite: bool = False,
    history: str = "oceaninterp.simulate.observations.simulate_obs",
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Sample a gridded truth along satellite tracks and write product files.

    Parameters
    ----------
    truth
        Gridded SSH truth (NetCDF or Zarr), daily, metres above the geoid.
    output_dir
        Folder receiving ``nadir/``, ``swot/``, ``sst/`` and ``mdt.nc`` (see the
        module docstring); an existing ``mdt.nc`` is replaced only with ``overwrite``.
    missions
        Mission codes among :data:`~oceaninterp.simulate.orbits.ORBITS`.
    noise
        Add the instrument random noise (nadir white noise, KaRIn pixel noise,
        L4 SST analysis error).
    sst
        Write GHRSST L4 SST files from the truth's SST (``sst``,
        ``analysed_sst``, ...); a truth without SST gives none (a note, not an
        error).
    seed
        Seed of every random error (files are reproducible given the seed).
    systematic
        Add the KaRIn systematic errors left after cross-calibration (roll,
        phase, baseline dilation, timing) with the amplitudes of
        :class:`~oceaninterp.simulate.errors.SystematicErrors` (``True``, the
        default), or with the given amplitudes.
    mdt_error, mdt_error_km
        Standard deviation (m) and Gaussian correlation length (km) of the
        error of the MDT the files and ``mdt.nc`` carry (0: the truth's own
        time mean). The SLA stays the truth minus its time mean (plus
        instrument errors), so ``adt = sla + mdt`` carries the MDT error, as a
        real ADT does.
    swot_pixel_km
        SWOT pixel and line spacing, km: 2 (native, 69 pixels) or coarser
        for smaller files.
    variable
        Name of the truth SSH variable (default: the first of ``ssh``,
        ``adt``, ``zos``, ``sossheig``, ``sla``; see :mod:`oceaninterp.truth`).
    files
        File layout: ``"month"`` (one file per mission and month) or
        ``"product"`` (per day, per SWOT pass, as distributed); see
        :mod:`oceaninterp.simulate.layout`. Both give the same observations.
    overwrite
        Replace files of a previous run; otherwise an existing, non-empty
        ``nadir``/``swot``/``sst`` sub-folder is an error.
    history
        The command line, for the files' ``history`` attribute.
    progress
        Called with a short message after each mission and the SST.

    Returns
    -------
    list of Path
        The written product files (``mdt.nc`` is written too, beside them).
    """
    from oceaninterp.products import cmems_l3, sst_l4, swot_l3

    if swot_pixel_km < swath.PIXEL_KM:
        raise ConfigError(f"swot_pixel_km: expected >= {swath.PIXEL_KM} km, got {swot_pixel_km}")

    if files not in layout.FILE_LAYOUTS:
        raise ConfigError(f"files: expected one of {layout.FILE_LAYOUTS}, got {files!r}")
    unknown = sorted(set(missions) - set(ORBITS))
    if unknown:
        raise ConfigError(f"missions: unknown {unknown}; expected some of {sorted(ORBITS)}")
    output_dir = Path(output_dir)
    for sub in ("nadir", "swot", "sst"):
        folder = output_dir / sub
        if not overwrite and folder.is_dir() and any(folder.iterdir()):
            raise OutputExistsError(f"{folder}: output exists (use --overwrite to replace it)")
    check_output(output_dir / MDT_NAME, overwrite)
    sampler = TruthSampler.open(truth, variable)
    sampler.add_mdt_error(_rng(seed, "mdt"), mdt_error, mdt_error_km)
    if sst and sampler.sst is None:
        log.info("%s: no SST in the truth, so no SST files", truth)
        if progress:
            progress("no SST in the truth: no SST files")
        sst = False
    _write_mdt(
        sampler,
        output_dir / MDT_NAME,
        truth=truth,
        history=history,
        overwrite=True,
        error=(mdt_error, mdt_error_km),
    )
    written: list[Path] = []
    for mission in missions:
        orbit = ORBITS[mission]
        if mission == "swot":
            if isinstance(systematic, errors.SystematicErrors):
                amplitudes: errors.SystematicErrors | None = systematic
            else:
                amplitudes = errors.SystematicErrors() if systematic else None
            passes = swot_passes(
                orbit,
                sampler,
                noise=noise,
                seed=seed,
                systematic=amplitudes,
                pixel_km=swot_pixel_km,
            )
            for name, data in layout.swot_files(passes, files):
                data.attrs["history"] = history
                written.append(swot_l3.write(data, output_dir / "swot" / name))
        else:
            tracks = nadir_tracks(orbit, sampler, noise=noise, seed=seed)
            tracks.attrs["history"] = history
            for name, part in layout.nadir_files(tracks, mission, files):
                written.append(cmems_l3.write(part, output_dir / "nadir" / mission / name))
        if progress:
            progress(mission)
    if sst:
        fields = _sst_analyses(sampler, noise=noise, seed=seed)
        for name, da in layout.sst_files(fields, sampler.times, sampler.lat, sampler.lon, files):
            da.attrs["history"] = history
            written.append(sst_l4.write(da, output_dir / "sst" / name))
        if progress:
            progress("sst")
    for path in written:
        layout.deflate(path)
    return written


def write_truth_mdt(
    truth: str | Path,
    output: str | Path,
    *,
    variable: str | None = None,
    mdt_error: float = 0.0,
    mdt_error_km: float = MDT_ERROR_KM,
    seed: int = 0,
    overwrite: bool = False,
    history: str = "oceaninterp.simulate.observations.write_truth_mdt",
) -> Path:
    """Write the MDT that :func:`simulate_obs` puts in its files: the truth's time mean.

    Parameters
    ----------
    truth
        Gridded SSH truth (NetCDF or Zarr), metres, as for :func:`simulate_obs`.
    output
        The MDT file (``.nc`` or ``.zarr``; see :func:`oceaninterp.mdt.write_mdt`):
        ``mdt`` in metres on the truth's grid, NaN where the truth is always NaN.
    variable
        Name of the truth SSH variable (default: the first of ``ssh``,
        ``adt``, ``zos``, ``sossheig``, ``sla``; see :mod:`oceaninterp.truth`).
    mdt_error, mdt_error_km, seed
        MDT error as in :func:`simulate_obs` (default none: the exact time
        mean); the same values and seed give the same MDT as ``simulate_obs``.
    overwrite
        Replace an existing output.
    history
        The command line, for the file's ``history`` attribute.
    """
    check_output(output, overwrite)
    sampler = TruthSampler.open(truth, variable)
    sampler.add_mdt_error(_rng(seed, "mdt"), mdt_error, mdt_error_km)
    return _write_mdt(
        sampler,
        Path(output),
        truth=truth,
        history=history,
        overwrite=overwrite,
        error=(mdt_error, mdt_error_km),
    )


def _write_mdt(
    sampler: TruthSampler,
    output: Path,
    *,
    truth: str | Path,
    history: str,
    overwrite: bool,
    error: tuple[float, float] = (0.0, MDT_ERROR_KM),
) -> Path:
    from oceaninterp.mdt import write_mdt

    mdt = xr.DataArray(
        sampler.mdt_carried,
        dims=("latitude", "longitude"),
        coords={"latitude": sampler.lat, "longitude": sampler.lon},
    )
    return write_mdt(
        mdt,
        output,
        history=history,
        source_files=[truth],
        summary=(
            "Mean dynamic topography of an OSSE: the time mean of the truth SSH"
            + (
                f" plus a Gaussian-correlated error (std {error[0]:g} m, {error[1]:g} km)"
                if error[0] > 0
                else ""
            )
            + ", the mdt carried by the simulated along-track and swath files."
        ),
        overwrite=overwrite,
        time_coverage_start=str(sampler.start.astype("datetime64[s]")) + "Z",
        time_coverage_end=str(sampler.end.astype("datetime64[s]")) + "Z",
    )


def _sst_analyses(sampler: TruthSampler, *, noise: bool, seed: int) -> list[np.ndarray]:
    """The daily L4 SST fields of the truth SST, in its units (``(lat, lon)`` per day).

    Each day is :func:`oceaninterp.simulate.sst.l4_analysis` of the truth SST
    with noise, the truth SST itself without (same random draws whatever the
    file layout).
    """
    from oceaninterp.simulate.sst import l4_analysis

    if sampler.sst is None:
        return []
    rng = _rng(seed, "sst")
    return [
        l4_analysis(rng, sampler.sst[k]) if noise else np.asarray(sampler.sst[k], dtype=np.float64)
        for k in range(sampler.times.size)
    ]
