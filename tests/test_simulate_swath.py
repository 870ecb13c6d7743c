"""SWOT KaRIn swath geometry and the instrument error models."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from oceaninterp.simulate import errors, swath
from oceaninterp.simulate.orbits import ORBITS

GEOD = Geod(ellps="WGS84")


def _nadir(lines: int = 300) -> tuple[np.ndarray, np.ndarray]:
    orbit = ORBITS["swot"]
    step = swath.PIXEL_KM * 1e3 / orbit.ground_speed
    t = np.datetime64("2023-05-01T03:00") + (np.arange(lines) * step * 1e9).astype(
        "timedelta64[ns]"
    )
    return orbit.ground_track(t)


def test_layout_is_the_l3_one() -> None:
    xtd = swath.cross_track_distance()
    assert xtd.size == 69 and xtd[0] == -68.0 and xtd[34] == 0.0 and xtd[-1] == 68.0
    assert swath.karin_pixels(xtd).sum() == 52  # 26 pixels of 2 km on each side
    assert swath.cross_track_distance(8.0).tolist() == list(np.arange(-64.0, 65.0, 8.0))


def test_karin_pixels_lie_10_to_60_km_from_nadir_across_the_track() -> None:
    nlat, nlon = _nadir()
    xtd = swath.cross_track_distance()
    lat, lon = swath.swath_positions(nlat, nlon, xtd)
    karin = swath.karin_pixels(xtd)
    shape = lat.shape
    az, _, dist = GEOD.inv(
        np.broadcast_to(nlon[:, None], shape), np.broadcast_to(nlat[:, None], shape), lon, lat
    )
    d = dist[:, karin] / 1e3
    assert d.min() >= 10.0 - 1e-6 and d.max() <= 60.0 + 1e-6
    np.testing.assert_allclose(d, np.abs(xtd[karin])[None, :].repeat(shape[0], 0), atol=1e-6)
    # Perpendicular to the track, right side positive.
    track_az, _, _ = GEOD.inv(nlon[:-2], nlat[:-2], nlon[2:], nlat[2:])
    right = (az[1:-1, 60] - track_az + 360.0) % 360.0
    left = (az[1:-1, 8] - track_az + 360.0) % 360.0
    np.testing.assert_allclose(right, 90.0, atol=1.0)
    np.testing.assert_allclose(left, 270.0, atol=1.0)
    # Neighbouring lines are 2 km apart along track.
    _, _, step = GEOD.inv(nlon[:-1], nlat[:-1], nlon[1:], nlat[1:])
    assert np.median(step) == pytest.approx(2000.0, rel=0.02)


@pytest.mark.parametrize("mission", sorted(errors.NADIR_NOISE))
def test_nadir_noise_has_the_mission_std(mission: str, rng) -> None:
    noise = errors.nadir_noise(rng, 200_000, mission)
    assert noise.std() == pytest.approx(errors.NADIR_NOISE[mission], rel=0.01)
    assert abs(noise.mean()) < 0.01 * errors.NADIR_NOISE[mission]


def test_karin_noise_follows_the_cross_track_profile(rng) -> None:
    xtd = swath.cross_track_distance()
    noise = errors.karin_noise(rng, 20_000, xtd)
    std = noise.std(axis=0)
    for x, expected in zip(errors.KARIN_NOISE_DISTANCE, errors.KARIN_NOISE_STD, strict=True):
        for side in (-1, 1):
            assert std[np.flatnonzero(xtd == side * x)[0]] == pytest.approx(expected, rel=0.03)
    assert np.isnan(noise[:, np.abs(xtd) < 10]).all() and np.isnan(noise[:, np.abs(xtd) > 60]).all()
    coarse = errors.karin_noise_std(np.array([30.0]), pixel_km=8.0)
    assert coarse[0] == pytest.approx(0.0089 / 4)


def test_red_noise_has_its_std_and_correlation(rng) -> None:
    series = np.stack([errors.red_noise(rng, 400, 2.0, 100.0, 0.01) for _ in range(300)])
    assert series.std() == pytest.approx(0.01, rel=0.05)
    lag = 50  # samples = 100 km = one Gaussian sigma: correlation exp(-1/4)
    corr = np.mean(series[:, :-lag] * series[:, lag:]) / series.var()
    assert corr == pytest.approx(np.exp(-0.25), abs=0.05)


def test_systematic_errors_have_their_cross_track_shapes(rng) -> None:
    xtd = swath.cross_track_distance()
    only_roll = errors.SystematicErrors(roll=0.01, phase=0.0, dilation=0.0, timing=0.0)
    err = errors.systematic_errors(rng, 500, xtd, 2.0, only_roll)
    np.testing.assert_allclose(err, -err[:, ::-1], atol=1e-12)  # a ramp through nadir
    np.testing.assert_allclose(err[:, 64] / err[:, 49], 60.0 / 30.0)
    only_timing = errors.SystematicErrors(roll=0.0, phase=0.0, dilation=0.0, timing=0.01)
    err = errors.systematic_errors(rng, 500, xtd, 2.0, only_timing)
    assert np.ptp(err[:, 35:], axis=1).max() == 0.0 and np.ptp(err[:, :34], axis=1).max() == 0.0
    assert not np.allclose(err[:, 0], err[:, -1])  # independent sides
