"""Ground tracks: exact repeat, the published elements, the real Jason-3 and SWOT tracks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
from pyproj import Geod

from oceaninterp.simulate.orbits import ORBITS, calibrate_phase, track_distance

GEOD = Geod(ellps="WGS84")

#: REFERENCE.md section 5: repeat period (days) and 1-Hz spacing (km).
PUBLISHED = {
    "j3": (9.9156, 5.75),
    "s3a": (27.0004, 6.68),
    "alg": (35.0003, 6.71),
    "c2": (368.24, 6.75),
    "h2b": (14.0001, 6.47),
    "swot": (20.8644, 6.39),
}


@pytest.mark.parametrize("mission", sorted(PUBLISHED))
def test_repeat_period_and_spacing_match_the_published_orbits(mission: str) -> None:
    orbit = ORBITS[mission]
    repeat_days, spacing_km = PUBLISHED[mission]
    assert orbit.repeat_period / 86400 == pytest.approx(repeat_days, abs=2e-3)
    assert orbit.ground_speed / 1e3 == pytest.approx(spacing_km, abs=0.02)


@pytest.mark.parametrize("mission", ["j3", "s3a", "swot", "c2"])
def test_track_returns_onto_itself_after_a_repeat(mission: str) -> None:
    orbit = ORBITS[mission]
    times = np.datetime64("2022-03-01") + np.arange(0, 86400, 7).astype("timedelta64[s]")
    later = times + np.timedelta64(int(round(orbit.repeat_period * 1e9)), "ns")
    lat0, lon0 = orbit.ground_track(times)
    lat1, lon1 = orbit.ground_track(later)
    _, _, dist = GEOD.inv(lon0, lat0, lon1, lat1)
    assert dist.max() < 1000.0
    # A cycle later, the same pass numbers fly over the same line.
    _, passes = orbit.pass_index(times)
    assert np.nanmax(track_distance(orbit, later, lat0, lon0, passes)) < 1000.0


def test_odd_passes_ascend_and_passes_alternate() -> None:
    orbit = ORBITS["j3"]
    times = np.datetime64("2022-01-05") + np.arange(0, 86400, 10).astype("timedelta64[s]")
    lat, _ = orbit.ground_track(times)
    _, passes = orbit.pass_index(times)
    rising = np.diff(lat) > 0
    same = passes[1:] == passes[:-1]
    assert np.all(rising[same] == (passes[1:][same] % 2 == 1))
    assert set(np.unique(np.diff(passes))) <= {0, 1, 1 - orbit.passes_per_cycle}


def _jason3(real_data):
    files = sorted((real_data / "nadir" / "nasa_ssh_jason3").glob("*.nc"))
    parts = []
    for path in files:
        with xr.open_dataset(path) as day:
            parts.append(day[["pass", "cycle", "nasa_flag"]].load())
    ds = xr.concat(parts, dim="time")
    good = ds["nasa_flag"].values == 0
    return (
        ds["time"].values[good],
        ds["latitude"].values[good].astype(float),
        ds["longitude"].values[good].astype(float),
        ds["pass"].values[good].astype(int),
        ds["cycle"].values[good].astype(int),
    )


def _swot_nadir(real_data):
    path = next((real_data / "swot_l3").glob("SWOT_L3_LR_SSH_*_026_165_*.nc"))
    with xr.open_dataset(path) as ds:
        nadir = int(np.argmin(np.abs(ds["cross_track_distance"].values)))
        return (
            ds["time"].values,
            ds["latitude"].values[:, nadir],
            ds["longitude"].values[:, nadir],
            np.full(ds.sizes["num_lines"], 165),
            np.full(ds.sizes["num_lines"], 26),
        )


def test_jason3_falls_on_the_real_cycle(real_data) -> None:
    times, lat, lon, passes, _ = _jason3(real_data)
    orbit = ORBITS["j3"]
    _, sim_passes = orbit.pass_index(times)
    assert np.mean(sim_passes == passes) > 0.99
    dist = track_distance(orbit, times, lat, lon, passes)
    assert np.median(dist) < 5000.0
    assert np.percentile(dist, 95) < 10000.0


def test_swot_falls_on_the_real_pass(real_data) -> None:
    times, lat, lon, passes, _ = _swot_nadir(real_data)
    dist = track_distance(ORBITS["swot"], times, lat, lon, passes)
    assert np.median(dist) < 5000.0


@pytest.mark.parametrize(("mission", "loader"), [("j3", _jason3), ("swot", _swot_nadir)])
def test_calibration_recomputes_the_stored_phases(real_data, mission, loader) -> None:
    times, lat, lon, passes, cycles = loader(real_data)
    stored = ORBITS[mission]
    blank = dataclasses.replace(stored, epoch="2000-01-01", node_longitude=0.0, epoch_cycle=1)
    epoch, node, cycle = calibrate_phase(blank, times, lat, lon, passes, cycles)
    assert cycle == stored.epoch_cycle
    assert abs((epoch - np.datetime64(stored.epoch, "ns")) / np.timedelta64(1, "s")) < 1.0
    assert node == pytest.approx(stored.node_longitude, abs=1e-3)
