"""Mapping scores of the SSH data challenges, as pure functions (no plotting).

Against a gridded truth (OSSE, 2020a challenge, ``src/mod_eval.py``):

- ``mu = 1 - RMSE / RMS(ref)`` over all of space and time (one ratio);
- ``sigma``: standard deviation over days of ``1 - RMSE_t / RMS_t(ref)``;
- ``lambda_x`` (degrees of longitude, and km) and ``lambda_t`` (days): the
  power spectral densities in (time, longitude) of the error and of the
  reference (plane detrend, Hann window in both dimensions, averaged over
  latitude, positive frequencies only) give ``score(f, k) = 1 - PSD_err /
  PSD_ref``; the challenge draws its 0.5 contour in (wavelength, period) and
  takes the smallest wavelength and the smallest period on it. We compute the
  same contour vertices without a plotting library: the 0.5 crossings along
  every edge of the (period, wavelength) grid, linearly interpolated in
  wavelength / period (what marching squares does), and take their minima
  (over every contour line: the challenge took the first line matplotlib
  returned, the same thing when the contour is one line). The marginal curves
  (score after summing the PSDs over the other dimension) are returned for
  plots.

Against withheld along-track data (OSE, 2021a challenge, ``mod_stats.py`` /
``mod_spectral.py``): daily ``1 - RMSE/RMS`` on days with at least 10
points, ``mu`` and ``sigma`` the mean and standard deviation of that series;
``lambda_x`` (km) where ``1 - PSD_err/PSD_ref`` of Welch spectra of 1000 km
along-track segments (cut at gaps over 4 s, 25 % overlap, Hann window) crosses
0.5, going from long to short wavelengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

#: Mean Earth radius, km (degrees to km: pi R / 180 per degree of latitude).
EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = np.pi * EARTH_RADIUS_KM / 180.0
LEVEL = 0.5


# --------------------------------------------------------------------------- crossings


def crossing(x: np.ndarray, y: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """Positions where the polyline ``(x, y)`` crosses ``level``, by linear interpolation.

    Parameters
    ----------
    x, y
        Coordinates and values along one axis (in the order given).

    Returns
    -------
    numpy.ndarray
        The interpolated ``x`` of each crossing (segments touching the level
        count once), in the order met along ``x``.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64) - level
    a, b = y[:-1], y[1:]
    hit = ((a < 0) & (b >= 0)) | ((a >= 0) & (b < 0))
    hit |= (a == 0) & (b == 0)
    frac = np.divide(-a, b - a, out=np.zeros_like(a), where=(b != a))
    return (x[:-1] + frac * (x[1:] - x[:-1]))[hit]


def first_drop(scale: np.ndarray, score: np.ndarray, level: float = LEVEL) -> float:
    """The scale where ``score`` first falls below ``level`` from large to small scales.

    Parameters
    ----------
    scale
        Wavelengths or periods (any order); ``score`` is sorted along with them.

    Returns
    -------
    float
        The interpolated scale; the smallest scale when the score never falls
        below ``level``; NaN when it is below ``level`` at the largest scale.
    """
    order = np.argsort(scale)[::-1]
    s, v = np.asarray(scale, dtype=np.float64)[order], np.asarray(score, dtype=np.float64)[order]
    ok = np.isfinite(v)
    s, v = s[ok], v[ok]
    if v.size == 0 or v[0] < level:
        return float("nan")
    below = np.flatnonzero(v < level)
    if below.size == 0:
        return float(s[-1])
    i = below[0]
    return float(crossing(s[i - 1 : i + 1], v[i - 1 : i + 1], level)[0])


def contour_vertices(
    period: np.ndarray, wavelength: np.ndarray, score: np.ndarray, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the ``level`` contour of a 2-D score (what marching squares finds).

    Parameters
    ----------
    period
        Periods (rows of ``score``), days.
    wavelength
        Wavelengths (columns of ``score``), degrees.
    score
        2-D score, shape ``(period.size, wavelength.size)``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Wavelengths (degrees) and periods (days) of the crossings of ``level``
        along every edge of the grid, linearly interpolated.
    """
    score = np.asarray(score, dtype=np.float64)
    xs, ts = [], []
    for i in range(score.shape[0]):  # edges along wavelength, at fixed period
        hits = crossing(wavelength, score[i], level)
        xs.append(hits)
        ts.append(np.full(hits.size, period[i]))
    for j in range(score.shape[1]):  # edges along period, at fixed wavelength
        hits = crossing(period, score[:, j], level)
        ts.append(hits)
        xs.append(np.full(hits.size, wavelength[j]))
    return np.concatenate(xs), np.concatenate(ts)


def contour_minima(
    period: np.ndarray, wavelength: np.ndarray, score: np.ndarray, level: float = LEVEL
) -> tuple[float, float]:
    """Smallest wavelength and period on the ``level`` contour of a 2-D score.

    Parameters
    ----------
    period, wavelength, score
        As for :func:`contour_vertices` (days, degrees, dimensionless).

    Returns
    -------
    (float, float)
        ``(lambda_x, lambda_t)``: the minima over the contour's vertices
        (:func:`contour_vertices`; in general two different vertices); the
        smallest wavelength and period of the grid when the whole score is at
        or above ``level``; NaN when it is everywhere below, or when the score
        has fewer than two periods or wavelengths (a period of a few days: no
        contour to draw).
    """
    if min(np.shape(score)) < 2:
        return float("nan"), float("nan")
    x, t = contour_vertices(period, wavelength, score, level)
    if x.size:
        return float(x.min()), float(t.min())
    if np.nanmin(np.asarray(score, dtype=np.float64)) >= level:
        return float(np.min(wavelength)), float(np.min(period))
    return float("nan"), float("nan")


# ------------------------------------------------------------------- gridded truth (OSSE)


@dataclass(frozen=True)
class RmseScores:
    """RMSE-based scores against a gridded reference.

    Attributes
    ----------
    mu
        ``1 - RMSE / RMS(ref)`` over all valid points.
    sigma
        Standard deviation over days of :attr:`daily`.
    rmse_m
        RMSE over all valid points, metres.
    daily
        Daily ``1 - RMSE_t / RMS_t(ref)`` over ``time``.
    """

    mu: float
    sigma: float
    rmse_m: float
    daily: xr.DataArray


def rmse_scores(estimate: xr.DataArray, reference: xr.DataArray) -> RmseScores:
    """RMSE-based scores of ``estimate`` against ``reference`` (same grid, metres).

    Points where either is NaN are left out (land, outside a map).
    """
    valid = np.isfinite(estimate) & np.isfinite(reference)
    err2 = ((estimate - reference) ** 2).where(valid)
    ref2 = (reference**2).where(valid)
    space = [d for d in reference.dims if d != "time"]
    daily: xr.DataArray = 1.0 - (err2.mean(space) / ref2.mean(space)) ** 0.5
    rmse = float(np.sqrt(err2.mean()))
    return RmseScores(
        mu=1.0 - rmse / float(np.sqrt(ref2.mean())),
        sigma=float(daily.std()),
        rmse_m=rmse,
        daily=daily.rename("daily_score"),
    )


@dataclass(frozen=True)
class SpectralScores:
    """Spectral scores in (time, longitude) against a gridded reference.

    Attributes
    ----------
    score
        ``1 - PSD_err / PSD_ref`` over (period, wavelength), days / degrees.
    score_x, score_t
        Marginal scores over wavelength (PSDs summed over frequency) and over
        period (PSDs summed over wavenumber).
    lambda_x_deg, lambda_x_km, lambda_t_days
        The smallest resolved wavelength (degrees of longitude; km at the
        mean latitude) and period (days): minima on the 0.5 contour of
        :attr:`score`.
    """

    score: xr.DataArray
    score_x: xr.DataArray
    score_t: xr.DataArray
    lambda_x_deg: float
    lambda_x_km: float
    lambda_t_days: float


def _detrended(field: np.ndarray, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Remove a least-squares plane ``a + b t + c x`` per latitude; NaN become 0.

    ``field`` has shape (time, latitude, longitude); the plane is fitted on the
    finite points of each latitude.
    """
    valid = np.isfinite(field)
    m = valid.astype(np.float64)
    v = np.where(valid, field, 0.0)
    basis = (
        np.ones((t.size, x.size)),
        np.broadcast_to(t[:, None], (t.size, x.size)),
        np.broadcast_to(x[None, :], (t.size, x.size)),
    )
    normal = np.empty((field.shape[1], 3, 3))
    rhs = np.empty((field.shape[1], 3))
    for i, bi in enumerate(basis):
        rhs[:, i] = np.einsum("tx,tyx->y", bi, v)
        for j, bj in enumerate(basis):
            normal[:, i, j] = np.einsum("tx,tyx->y", bi * bj, m)
    singular = np.linalg.matrix_rank(normal) < 3
    normal[singular] = np.eye(3)
    rhs[singular] = 0.0
    coef = np.linalg.solve(normal, rhs[..., None])[..., 0]  # (latitude, 3)
    trend = sum(bi[:, None, :] * coef[None, :, i, None] for i, bi in enumerate(basis))
    return np.where(valid, v - trend, 0.0)


def _psd_time_lon(field: np.ndarray, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Latitude-mean power of the Hann-windowed 2-D FFT over (time, longitude)."""
    from scipy.signal.windows import hann

    window = hann(t.size, sym=False)[:, None, None] * hann(x.size, sym=False)[None, None, :]
    spectrum = np.fft.fft2(_detrended(field, t, x) * window, axes=(0, 2))
    return (np.abs(spectrum) ** 2).mean(axis=1)


def psd_scores(estimate: xr.DataArray, reference: xr.DataArray) -> SpectralScores:
    """Spectral scores of ``estimate`` against ``reference`` on a regular daily grid.

    Parameters
    ----------
    estimate, reference
        Metres on (time, latitude, longitude), same coordinates; NaN points
        are set to zero after the detrending (none in the challenge's box).
    """
    dims = ("time", "latitude", "longitude")
    ref = reference.transpose(*dims)
    est = estimate.transpose(*dims)
    time = ref["time"].values
    t = (
        (time - time[0]) / np.timedelta64(1, "D")
        if np.issubdtype(time.dtype, np.datetime64)
        else time
    )
    t = np.asarray(t, dtype=np.float64)
    lon = ref["longitude"].values.astype(np.float64)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    dx = float(np.median(np.diff(lon))) if lon.size > 1 else 1.0
    mask = np.isfinite(ref.values) & np.isfinite(est.values)
    err = np.where(mask, est.values - ref.values, np.nan)
    psd_err = _psd_time_lon(err, t, lon)
    psd_ref = _psd_time_lon(np.where(mask, ref.values, np.nan), t, lon)
    f = np.fft.fftfreq(t.size, d=dt)
    k = np.fft.fftfreq(lon.size, d=dx)
    fi, ki = np.flatnonzero(f > 0), np.flatnonzero(k > 0)
    fi, ki = fi[np.argsort(f[fi])], ki[np.argsort(k[ki])]
    pe, pr = psd_err[np.ix_(fi, ki)], psd_ref[np.ix_(fi, ki)]
    period, wavelength = 1.0 / f[fi], 1.0 / k[ki]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - pe / pr
        score_x = 1.0 - pe.sum(axis=0) / pr.sum(axis=0)
        score_t = 1.0 - pe.sum(axis=1) / pr.sum(axis=1)
    lambda_x, lambda_t = contour_minima(period, wavelength, score)
    coslat = float(np.cos(np.deg2rad(ref["latitude"].values.astype(np.float64))).mean())
    p_attrs = {"units": "days", "long_name": "period"}
    w_attrs = {"units": "degrees", "long_name": "wavelength in longitude"}
    return SpectralScores(
        score=xr.DataArray(
            score,
            dims=("period", "wavelength"),
            coords={
                "period": ("period", period, p_attrs),
                "wavelength": ("wavelength", wavelength, w_attrs),
            },
            name="psd_score",
        ),
        score_x=xr.DataArray(
            score_x, dims="wavelength", coords={"wavelength": ("wavelength", wavelength, w_attrs)}
        ),
        score_t=xr.DataArray(
            score_t, dims="period", coords={"period": ("period", period, p_attrs)}
        ),
        lambda_x_deg=lambda_x,
        lambda_x_km=lambda_x * KM_PER_DEGREE * coslat,
        lambda_t_days=lambda_t,
    )


# ------------------------------------------------------------- withheld tracks (OSE)


def interpolate_to_points(
    field: xr.DataArray, time: np.ndarray, latitude: np.ndarray, longitude: np.ndarray
) -> np.ndarray:
    """A (time, latitude, longitude) map at scattered points: bilinear in space, linear in time.

    Parameters
    ----------
    field
        Metres on a regular grid; ascending coordinates.
    time, latitude, longitude
        The points (datetime64, degrees_north, degrees_east in any convention:
        wrapped into the map's longitude range).

    Returns
    -------
    numpy.ndarray
        The values, NaN outside the map (in space or time) or next to a NaN cell.
    """
    field = field.transpose("time", "latitude", "longitude")
    grid_t = field["time"].values
    lon0 = float(field["longitude"].values[0])
    lon = lon0 + np.mod(np.asarray(longitude, dtype=np.float64) - lon0, 360.0)
    axes = (
        (
            (grid_t - grid_t[0]) / np.timedelta64(1, "s"),
            (np.asarray(time) - grid_t[0]) / np.timedelta64(1, "s"),
        ),
        (field["latitude"].values, np.asarray(latitude, dtype=np.float64)),
        (field["longitude"].values, lon),
    )
    corners, weights = [], []
    for grid, points in axes:
        grid = np.asarray(grid, dtype=np.float64)
        if grid.size == 1:
            inside = np.isclose(points, grid[0])
            corners.append((np.zeros(points.size, int), np.zeros(points.size, int)))
            weights.append((np.where(inside, 1.0, np.nan), np.zeros(points.size)))
            continue
        i = np.clip(np.searchsorted(grid, points, side="right") - 1, 0, grid.size - 2)
        w = (points - grid[i]) / (grid[i + 1] - grid[i])
        w = np.where((w >= 0) & (w <= 1), w, np.nan)
        corners.append((i, i + 1))
        weights.append((1 - w, w))
    values = np.asarray(field.values, dtype=np.float64)
    out = np.zeros(np.asarray(time).size)
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                weight = weights[0][a] * weights[1][b] * weights[2][c]
                value = values[corners[0][a], corners[1][b], corners[2][c]]
                # A zero weight next to a NaN cell does not spoil the point.
                out += np.where(weight == 0, 0.0, weight * value)
    return out


@dataclass(frozen=True)
class AlongTrackScores:
    """Scores against withheld along-track data (2021a OSE).

    Attributes
    ----------
    mu, sigma
        Mean and standard deviation of :attr:`daily`.
    rmse_m
        RMSE over every compared point, metres.
    daily
        Daily ``1 - RMSE/RMS`` over ``time`` (days with >= ``min_points``).
    score
        ``1 - PSD_err / PSD_ref`` over ``wavelength`` (km).
    lambda_x_km
        Where :attr:`score` first crosses 0.5 from long to short wavelengths.
    n_points, n_segments
        Points compared and 1000 km segments in the spectra.
    """

    mu: float
    sigma: float
    rmse_m: float
    daily: xr.DataArray
    score: xr.DataArray
    lambda_x_km: float
    n_points: int
    n_segments: int


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dlat, dlon = p2 - p1, np.deg2rad(lon2 - lon1)
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def alongtrack_scores(
    reference: np.ndarray,
    estimate: np.ndarray,
    time: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    *,
    track: np.ndarray | None = None,
    segment_km: float = 1000.0,
    max_gap_s: float = 4.0,
    min_points: int = 10,
) -> AlongTrackScores:
    """Scores of a map interpolated to withheld tracks (2021a definitions).

    Parameters
    ----------
    reference
        Withheld along-track SSH, metres.
    estimate
        The map at the same points (:func:`interpolate_to_points`), NaN where
        unavailable (those points are left out and cut the tracks).
    time, latitude, longitude
        The points (datetime64, degrees).
    track
        An integer per point naming its track (e.g. its file): tracks are
        never joined.
    segment_km, max_gap_s, min_points
        The challenge's 1000 km segments, 4 s gaps, 10 points per day.
    """
    from scipy.signal import welch

    time = np.asarray(time).astype("datetime64[ns]")
    track = np.zeros(time.size, dtype=np.int64) if track is None else np.asarray(track)
    order = np.lexsort((time, track))
    ref, est = np.asarray(reference, float)[order], np.asarray(estimate, float)[order]
    time, track = time[order], track[order]
    lat, lon = np.asarray(latitude, float)[order], np.asarray(longitude, float)[order]
    ok = np.isfinite(ref) & np.isfinite(est)
    if not ok.any():
        nan = float("nan")
        empty = xr.DataArray(
            np.array([]), dims="time", coords={"time": np.array([], "datetime64[ns]")}
        )
        return AlongTrackScores(
            nan, nan, nan, empty, xr.DataArray(np.array([]), dims="wavelength"), nan, 0, 0
        )
    # Daily statistics.
    day = time[ok].astype("datetime64[D]")
    days, inverse, counts = np.unique(day, return_inverse=True, return_counts=True)
    err2 = np.bincount(inverse, (est[ok] - ref[ok]) ** 2) / counts
    ref2 = np.bincount(inverse, ref[ok] ** 2) / counts
    keep = counts >= min_points
    daily = xr.DataArray(
        (1.0 - np.sqrt(err2 / ref2))[keep],
        dims="time",
        coords={"time": days[keep].astype("datetime64[ns]")},
        name="daily_score",
    )
    # Runs of consecutive valid points: cut at gaps, track changes and invalid points.
    step_s = np.diff(time) / np.timedelta64(1, "s")
    joined = (step_s <= max_gap_s) & (np.diff(track) == 0) & ok[1:] & ok[:-1]
    spacing = _haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])[joined]
    segments_ref, segments_est = [], []
    dx = float(np.median(spacing)) if spacing.size else float("nan")
    npt = int(segment_km / dx) if spacing.size else 0
    if npt >= 2:
        starts = np.flatnonzero(np.r_[True, ~joined])
        stops = np.r_[starts[1:], time.size]
        for a, b in zip(starts, stops, strict=True):
            if not ok[a] or b - a < npt:
                continue
            for s in range(a, b - npt + 1, max(1, int(npt * 0.25))):
                segments_ref.append(ref[s : s + npt])
                segments_est.append(est[s : s + npt])
    if segments_ref:
        r, e = np.array(segments_ref), np.array(segments_est)
        k, psd_ref = welch(r, fs=1.0 / dx, nperseg=npt, noverlap=0, axis=-1)
        _, psd_err = welch(e - r, fs=1.0 / dx, nperseg=npt, noverlap=0, axis=-1)
        psd_ref, psd_err = psd_ref.mean(axis=0)[k > 0], psd_err.mean(axis=0)[k > 0]
        wavelength = 1.0 / k[k > 0]
        score_values = 1.0 - psd_err / psd_ref
        lambda_x = first_drop(wavelength, score_values)
    else:
        wavelength, score_values, lambda_x = np.array([]), np.array([]), float("nan")
    score = xr.DataArray(
        score_values,
        dims="wavelength",
        coords={"wavelength": ("wavelength", wavelength, {"units": "km"})},
        name="psd_score",
    )
    return AlongTrackScores(
        mu=float(daily.mean()) if daily.size else float("nan"),
        sigma=float(daily.std()) if daily.size else float("nan"),
        rmse_m=float(np.sqrt(np.mean((est[ok] - ref[ok]) ** 2))),
        daily=daily,
        score=score,
        lambda_x_km=lambda_x,
        n_points=int(ok.sum()),
        n_segments=len(segments_ref),
    )


# ------------------------------------------------------------- paired comparison


def mse_gain(rmse: float, rmse_baseline: float) -> float:
    """``1 - MSE / MSE_baseline`` from two RMSEs of the same cells and days (any unit).

    NaN when the baseline's RMSE is zero or undefined.
    """
    if not rmse_baseline > 0:
        return float("nan")
    return 1.0 - (rmse / rmse_baseline) ** 2


@dataclass(frozen=True)
class MseGain:
    """``1 - MSE(estimate) / MSE(baseline)`` on the same points, with a bootstrap interval.

    Attributes
    ----------
    gain
        The gain over every point (positive: the estimate is better).
    low, high
        The central bootstrap interval of the gain (``level``, e.g. 95 %),
        resampling whole groups (passes) with replacement; NaN with fewer than
        two groups.
    n_groups
        Groups (passes) the points came from.
    """

    gain: float
    low: float
    high: float
    n_groups: int


def track_passes(time: np.ndarray, track: np.ndarray, max_gap_s: float = 600.0) -> np.ndarray:
    """An integer label per point: one per run of points of one track without a long gap.

    Points of one file ``track`` closer than ``max_gap_s`` seconds in time
    belong to one pass (a satellite crosses a regional box in minutes and
    comes back after more than ``max_gap_s``). Labels follow the points'
    order; points need not be sorted.
    """
    time = np.asarray(time).astype("datetime64[ns]")
    track = np.asarray(track)
    order = np.lexsort((time, track))
    step_s = np.diff(time[order]) / np.timedelta64(1, "s")
    new = np.r_[True, (step_s > max_gap_s) | (np.diff(track[order]) != 0)]
    labels = np.empty(time.size, dtype=np.int64)
    labels[order] = np.cumsum(new) - 1
    return labels


def paired_mse_gain(
    reference: np.ndarray,
    estimate: np.ndarray,
    baseline: np.ndarray,
    groups: np.ndarray,
    *,
    level: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
) -> MseGain:
    """How much better ``estimate`` fits ``reference`` than ``baseline`` does, and how surely.

    A paired percentile bootstrap over ``groups`` (:func:`scipy.stats.bootstrap`
    of the passes' summed squared errors): passes are resampled with
    replacement, both maps' squared errors summed over the same resampled
    points, so errors shared by the two maps cancel and points of one pass
    (correlated along track) move together.

    Parameters
    ----------
    reference, estimate, baseline
        Values at the same points (metres); points where any is NaN are left out.
    groups
        An integer per point naming its pass (:func:`track_passes`).
    level
        Coverage of the central interval.
    draws
        Bootstrap resamples.
    seed
        Seed of the resampling (the interval is reproducible).
    """
    reference, estimate, baseline = (
        np.asarray(a, dtype=np.float64) for a in (reference, estimate, baseline)
    )
    ok = np.isfinite(reference) & np.isfinite(estimate) & np.isfinite(baseline)
    if not ok.any():
        nan = float("nan")
        return MseGain(nan, nan, nan, 0)
    _, group = np.unique(np.asarray(groups)[ok], return_inverse=True)
    n = int(group.max()) + 1
    se_est = np.bincount(group, (estimate[ok] - reference[ok]) ** 2, minlength=n)
    se_base = np.bincount(group, (baseline[ok] - reference[ok]) ** 2, minlength=n)
    gain = 1.0 - se_est.sum() / se_base.sum()
    if n < 2:
        return MseGain(float(gain), float("nan"), float("nan"), n)
    from scipy.stats import bootstrap

    def gains(est: np.ndarray, base: np.ndarray, axis: int) -> np.ndarray:
        return 1.0 - est.sum(axis=axis) / base.sum(axis=axis)

    interval = bootstrap(
        (se_est, se_base),
        gains,
        paired=True,
        vectorized=True,
        n_resamples=draws,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    ).confidence_interval
    return MseGain(float(gain), float(interval.low), float(interval.high), n)
