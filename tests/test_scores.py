"""Scores on analytic cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from oceaninterp.scores import (
    KM_PER_DEGREE,
    alongtrack_scores,
    contour_minima,
    crossing,
    first_drop,
    interpolate_to_points,
    paired_mse_gain,
    psd_scores,
    rmse_scores,
    track_passes,
)

DIMS = ("time", "latitude", "longitude")


def gridded(values: np.ndarray, dlon: float = 0.1, lat0: float = 33.0) -> xr.DataArray:
    nt, ny, nx = values.shape
    return xr.DataArray(
        values,
        dims=DIMS,
        coords={
            "time": np.datetime64("2012-10-01", "ns") + np.arange(nt) * np.timedelta64(1, "D"),
            "latitude": lat0 + 0.1 * np.arange(ny),
            "longitude": -65.0 + dlon * np.arange(nx),
        },
    )


def white_truth(rng: np.random.Generator, shape=(48, 7, 128)) -> np.ndarray:
    """Periodic field, white in longitude, smooth in time (metres)."""
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(rng.normal(0, 0.3, shape), 2.0, axis=0, mode="wrap")


def test_crossing_is_exact_on_a_linear_case() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(crossing(x, 1.0 - 0.2 * x), [2.5])
    np.testing.assert_allclose(crossing(x, 0.2 * x, level=0.3), [1.5])
    assert first_drop(x, 0.2 * x) == pytest.approx(2.5)  # from large to small scales
    assert np.isnan(first_drop(x, 0.1 * x))  # never resolved
    assert first_drop(x, 0.6 + 0 * x) == 0.0  # resolved down to the smallest scale


def test_contour_minima_of_a_plane() -> None:
    period = np.array([2.0, 4.0, 8.0])
    wavelength = np.array([0.5, 1.0, 2.0, 4.0])
    # score = (wavelength + period) / 8: the 0.5 contour is wavelength + period = 4.
    score = (wavelength[None, :] + period[:, None]) / 8.0
    lx, lt = contour_minima(period, wavelength, score)
    assert lx == pytest.approx(0.5) and lt == pytest.approx(2.0)
    lx, lt = contour_minima(period, wavelength, score / 10)
    assert np.isnan(lx) and np.isnan(lt)


def test_white_noise_of_known_variance_gives_expected_mu(rng: np.random.Generator) -> None:
    truth = gridded(white_truth(rng))
    noise = 0.05
    estimate = truth + rng.normal(0, noise, truth.shape)
    scores = rmse_scores(estimate, truth)
    rms = float(np.sqrt((truth**2).mean()))
    assert scores.rmse_m == pytest.approx(noise, rel=0.02)
    assert scores.mu == pytest.approx(1 - noise / rms, abs=0.003)
    assert scores.daily.sizes["time"] == truth.sizes["time"]


def test_sigma_is_zero_for_a_constant_daily_score(rng: np.random.Generator) -> None:
    truth = gridded(white_truth(rng))
    scores = rmse_scores(truth * 1.2, truth)
    assert scores.sigma == pytest.approx(0.0, abs=1e-12)
    assert scores.mu == pytest.approx(0.8)
    np.testing.assert_allclose(scores.daily.values, 0.8)


def test_nan_points_are_left_out(rng: np.random.Generator) -> None:
    truth = gridded(white_truth(rng, (5, 4, 6)))
    estimate = truth * 1.1
    estimate[:, 0, 0] = np.nan
    assert rmse_scores(estimate, truth).mu == pytest.approx(0.9)


def test_lowpass_truth_gives_lambda_x_near_the_cutoff(rng: np.random.Generator) -> None:
    """A truth cut sharply at 1 deg wavelength: lambda_x within 10 % of 1 deg."""
    values = white_truth(rng)
    k = np.fft.fftfreq(values.shape[2], d=0.1)
    spectrum = np.fft.fft(values, axis=2)
    spectrum[:, :, np.abs(k) > 1.0] = 0.0
    lowpass = np.fft.ifft(spectrum, axis=2).real
    scores = psd_scores(gridded(lowpass), gridded(values))
    assert scores.lambda_x_deg == pytest.approx(1.0, rel=0.1)
    coslat = np.cos(np.deg2rad(33.0 + 0.1 * np.arange(7))).mean()
    assert scores.lambda_x_km == pytest.approx(scores.lambda_x_deg * KM_PER_DEGREE * coslat)
    # The marginal wavenumber score says the same; time is not filtered.
    assert first_drop(scores.score_x["wavelength"].values, scores.score_x.values) == pytest.approx(
        1.0, rel=0.1
    )
    assert scores.lambda_t_days == pytest.approx(float(scores.score["period"].min()))
    assert scores.score.dims == ("period", "wavelength")


def test_time_smoothed_truth_gives_lambda_t_near_the_cutoff(rng: np.random.Generator) -> None:
    values = rng.normal(0, 0.3, (96, 5, 64))
    f = np.fft.fftfreq(96, d=1.0)
    spectrum = np.fft.fft(values, axis=0)
    spectrum[np.abs(f) > 1 / 12.0] = 0.0
    lowpass = np.fft.ifft(spectrum, axis=0).real
    scores = psd_scores(gridded(lowpass), gridded(values))
    assert scores.lambda_t_days == pytest.approx(12.0, rel=0.1)


def test_perfect_map_resolves_everything(rng: np.random.Generator) -> None:
    truth = gridded(white_truth(rng, (16, 3, 32)))
    scores = psd_scores(truth, truth)
    # The smallest positive-frequency wavelength and period (32 x 0.1 deg / 15, 16 days / 7).
    assert scores.lambda_x_deg == pytest.approx(3.2 / 15)
    assert scores.lambda_t_days == pytest.approx(16 / 7)


def test_interpolation_is_trilinear_and_wraps_longitude() -> None:
    t, y, x = np.meshgrid(np.arange(3.0), np.arange(4.0), np.arange(5.0), indexing="ij")
    field = gridded(2.0 * t + 3.0 * y - x, dlon=1.0)
    field = field.assign_coords(latitude=np.arange(4.0), longitude=np.arange(5.0) + 355.0)
    time = np.datetime64("2012-10-01T12", "ns") + np.array([0, 24], "timedelta64[h]")
    out = interpolate_to_points(field, time, np.array([1.25, 2.5]), np.array([-3.5, 356.0]))
    # longitude -3.5 is 356.5 in the map's convention: x = 1.5.
    np.testing.assert_allclose(out, [2 * 0.5 + 3 * 1.25 - 1.5, 2 * 1.5 + 3 * 2.5 - 1.0])
    outside = interpolate_to_points(field, time[:1] + np.timedelta64(5, "D"), [1.0], [356.0])
    assert np.isnan(outside[0])


def synthetic_track(rng: np.random.Generator, days: int = 3, passes_per_day: int = 2):
    """Straight 1 Hz passes of 2400 km (6.4 km spacing) with a red random SSH."""
    from scipy.ndimage import gaussian_filter1d

    n = 375
    times, lats, lons, ssh = [], [], [], []
    for d in range(days):
        for p in range(passes_per_day):
            start = np.datetime64("2017-01-01", "ns") + np.timedelta64(d * 86400 + p * 20000, "s")
            times.append(start + np.arange(n) * np.timedelta64(1, "s"))
            lats.append(20.0 + np.arange(n) * 6.4 / KM_PER_DEGREE)
            lons.append(np.full(n, -40.0))
            ssh.append(gaussian_filter1d(rng.normal(0, 1.0, n), 3.0))
    return (np.concatenate(a) for a in (times, lats, lons, ssh))


def test_alongtrack_scores_find_the_lowpass_cutoff(rng: np.random.Generator) -> None:
    time, lat, lon, ref = synthetic_track(rng, days=6)
    # Remove wavelengths below 150 km from each pass (FFT, per 375-point pass).
    passes = ref.reshape(-1, 375)
    k = np.fft.rfftfreq(375, d=6.4)
    spectrum = np.fft.rfft(passes, axis=1)
    spectrum[:, k > 1 / 150.0] = 0.0
    estimate = np.fft.irfft(spectrum, n=375, axis=1).ravel()
    scores = alongtrack_scores(ref, estimate, time, lat, lon)
    assert scores.n_segments > 0
    assert scores.lambda_x_km == pytest.approx(150.0, rel=0.15)


def test_alongtrack_daily_scores_and_minimum_points(rng: np.random.Generator) -> None:
    time, lat, lon, ref = synthetic_track(rng, days=4)
    ref = ref + 1.0  # a mean level, so RMS is known: about sqrt(1 + var)
    estimate = ref * 0.9
    # Day 4 keeps only 5 points: it is dropped from the daily series.
    last_day = time >= np.datetime64("2017-01-04", "ns")
    keep = ~last_day | (np.cumsum(last_day) <= 5)
    scores = alongtrack_scores(ref[keep], estimate[keep], time[keep], lat[keep], lon[keep])
    assert scores.daily.sizes["time"] == 3
    np.testing.assert_allclose(scores.daily.values, 0.9)
    assert scores.mu == pytest.approx(0.9) and scores.sigma == pytest.approx(0.0, abs=1e-12)


def test_alongtrack_gaps_cut_segments(rng: np.random.Generator) -> None:
    time, lat, lon, ref = synthetic_track(rng, days=1, passes_per_day=1)
    whole = alongtrack_scores(ref, ref * 0.5, time, lat, lon)
    gapped_time = time.copy()
    # 10 s gaps cut the pass into runs shorter than 1000 km (156 points).
    gapped_time[150:] += np.timedelta64(10, "s")
    gapped_time[300:] += np.timedelta64(10, "s")
    gapped = alongtrack_scores(ref, ref * 0.5, gapped_time, lat, lon)
    assert whole.n_segments > 0 and gapped.n_segments == 0


def test_lambdas_are_vertices_of_the_contour() -> None:
    """lambda_x and lambda_t are each the coordinate of one vertex of the 0.5 contour."""
    from oceaninterp.scores import contour_vertices

    period = np.geomspace(2.0, 60.0, 23)
    wavelength = np.geomspace(0.1, 10.0, 29)
    t, x = np.meshgrid(np.log(period), np.log(wavelength), indexing="ij")
    score = 1.0 / (1.0 + np.exp(-(2.0 * x + 1.5 * t - 4.0)))  # a skew 0.5 line
    xs, ts = contour_vertices(period, wavelength, score)
    lx, lt = contour_minima(period, wavelength, score)
    assert xs.size > 10 and lx == xs.min() and lt == ts.min()
    for i in (np.argmin(xs), np.argmin(ts)):  # the points the figure marks lie on the contour
        value = 1.0 / (1.0 + np.exp(-(2.0 * np.log(xs[i]) + 1.5 * np.log(ts[i]) - 4.0)))
        assert value == pytest.approx(0.5, abs=0.05)


def test_track_passes_split_at_long_gaps_and_file_changes() -> None:
    t0 = np.datetime64("2022-01-01T00:00", "ns")
    seconds = np.array([0, 1, 2, 3000, 3001, 0, 1])
    time = t0 + seconds * np.timedelta64(1, "s")
    track = np.array([0, 0, 0, 0, 0, 1, 1])
    order = np.array([4, 0, 6, 2, 1, 3, 5])  # shuffled points keep their labels
    labels = track_passes(time[order], track[order])
    np.testing.assert_array_equal(labels, np.array([1, 0, 2, 0, 0, 1, 2]))


def test_paired_mse_gain_of_known_errors(rng: np.random.Generator) -> None:
    ref = rng.normal(0, 0.2, 4000)
    groups = np.repeat(np.arange(40), 100)
    base = ref + rng.normal(0, 0.10, ref.size)
    better = ref + rng.normal(0, 0.05, ref.size)  # a quarter of the MSE: gain 0.75
    result = paired_mse_gain(ref, better, base, groups)
    assert result.n_groups == 40
    assert result.gain == pytest.approx(0.75, abs=0.03)
    assert result.low < result.gain < result.high
    assert 0.6 < result.low and result.high < 0.85
    same = paired_mse_gain(ref, base, base, groups)
    assert same.gain == same.low == same.high == 0.0
    # The same seed, the same interval; NaN points are left out.
    assert paired_mse_gain(ref, better, base, groups) == result
    ref_nan = ref.copy()
    ref_nan[:100] = np.nan
    assert paired_mse_gain(ref_nan, better, base, groups).n_groups == 39


def test_paired_mse_gain_interval_follows_the_passes(rng: np.random.Generator) -> None:
    """Errors shared along a pass widen the interval: passes, not points, are resampled."""
    ref = np.zeros(4000)
    base = rng.normal(0, 0.1, ref.size)
    groups = np.repeat(np.arange(20), 200)
    offsets = rng.normal(0, 0.1, 20)[groups]  # one error per pass
    points = paired_mse_gain(ref, base + rng.normal(0, 0.01, ref.size), base, np.arange(4000))
    passes = paired_mse_gain(ref, base + offsets, base, groups)
    assert points.high - points.low < 0.05
    assert passes.high - passes.low > 4 * (points.high - points.low)
    assert passes.low < passes.gain < passes.high
    one = paired_mse_gain(ref, base + offsets, base, np.zeros(4000, dtype=int))
    assert np.isnan(one.low) and np.isnan(one.high) and one.n_groups == 1
