"""The QG truth: bounded energy, eddies from a jet, the truth file contract."""

from __future__ import annotations

import numpy as np
import pytest

from oceaninterp.errors import ConfigError
from oceaninterp.simulate.qg import (
    QGParameters,
    TwoLayerQG,
    physics_parameters,
    rossby_radius,
)
from oceaninterp.simulate.truth import simulate_truth, truth_grid, truth_statistics
from oceaninterp.threads import torch_threads


def _eddy_ssh_std(model: TwoLayerQG) -> float:
    ssh, _ = model.snapshot()
    return float((ssh - ssh.mean(axis=1, keepdims=True)).std())


def test_jet_goes_unstable_with_bounded_energy() -> None:
    # A small, coarse domain (1000 km, 15.6 km cells) keeps the test to seconds.
    params = QGParameters(n=64, length=1.0e6)
    model = TwoLayerQG(params, seed=3)
    energy0, eddy0 = model.energy(), _eddy_ssh_std(model)
    energies = []
    with torch_threads(1):
        for _ in model.run_days(90):
            energies.append(model.energy())
    eddy = _eddy_ssh_std(model)
    assert np.all(np.isfinite(energies))
    assert max(energies) < 1.5 * energy0  # relaxation keeps the energy bounded
    assert eddy0 < 0.005 and eddy > 0.05  # metres: meanders and rings developed
    assert model.max_speed() * model.dt / params.dx < 0.5 * 2  # CFL well below 1


def test_sst_tracer_follows_the_front() -> None:
    model = TwoLayerQG(QGParameters(n=64), seed=1)
    _, sst = model.snapshot()
    rows = sst.mean(axis=1)
    n = rows.size
    assert rows[n // 8] > rows[3 * n // 8] + 4.0  # warm south of the jet at L/4, cold north


def test_truth_file_contract(tmp_path) -> None:
    from oceaninterp.io import open_dataset

    path = simulate_truth(tmp_path, days=3, resolution=0.5, grid_points=64, spinup_days=2, seed=5)
    with open_dataset(path) as ds:
        assert dict(ds["ssh"].sizes) == {"time": 3, "latitude": 20, "longitude": 20}
        assert ds["ssh"].dtype == np.float32 and ds["sst"].dtype == np.float32
        assert ds["ssh"].attrs["units"] == "m" and ds["sst"].attrs["units"] == "K"
        assert ds["ssh"].attrs["standard_name"] == "sea_surface_height_above_geoid"
        assert (
            ds["time"].values == np.arange("2022-01-01", "2022-01-04", dtype="datetime64[D]")
        ).all()
        assert np.all(np.diff(ds["latitude"].values) > 0)
        assert ds.attrs["ssh_kind"] == "adt"
        assert 280 < float(ds["sst"].mean()) < 300
        assert np.isfinite(ds["ssh"].values).all()
    from cfcheck import compliance_failures

    assert compliance_failures(path) == []


def _one_coarse_day(folder, region: tuple[float, float, float, float]):  # noqa: ANN202
    """A one-day truth of a 32^2 QG model at 1 deg over ``region``, without spin-up."""
    return simulate_truth(
        folder, days=1, resolution=1.0, grid_points=32, spinup_days=0, region=region
    )


def test_truth_refuses_a_box_larger_than_the_domain(tmp_path) -> None:
    with pytest.raises(ConfigError, match="region"):
        _one_coarse_day(tmp_path, (-80.0, -50.0, 20.0, 50.0))


def test_statistics_find_the_wavelength_of_a_wave() -> None:
    lat, lon = truth_grid((-65.0, -55.0, 33.0, 43.0), 0.05)
    dx = 6371.0 * np.cos(np.radians(lat.mean())) * np.radians(0.05)
    x = np.arange(lon.size) * dx
    wavelength = lon.size * dx / 4  # km, a resolved wavenumber of the box
    days = np.arange(6)[:, None, None]
    ssh = 0.1 * np.sin(2 * np.pi * (x[None, None, :] / wavelength - days / 4))
    ssh = ssh + np.zeros((1, lat.size, 1))
    stats = truth_statistics(ssh, None, lat, 0.05)
    assert stats["dominant_wavelength_km"] == pytest.approx(wavelength, rel=0.01)
    assert stats["eddy_std_m"] == pytest.approx(0.1 / np.sqrt(2), rel=0.05)


@pytest.mark.gpu
def test_gpu_run_matches_the_cpu_run() -> None:
    params = QGParameters(n=128)
    cpu = TwoLayerQG(params, seed=2)
    gpu = TwoLayerQG(params, seed=2, device="cuda")
    with torch_threads(1):
        for (ssh_c, sst_c), (ssh_g, sst_g) in zip(cpu.run_days(3), gpu.run_days(3), strict=True):
            np.testing.assert_allclose(ssh_g, ssh_c, atol=1e-9)
            np.testing.assert_allclose(sst_g, sst_c, atol=1e-7)


def test_same_seed_same_ocean() -> None:
    params = QGParameters(n=32, length=1.0e6)
    runs = []
    for seed in (7, 7, 8):
        model = TwoLayerQG(params, seed=seed)
        with torch_threads(1):
            runs.append(list(model.run_days(2))[-1][0])
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize(("lat", "km"), [(20.0, 55.0), (37.0, 30.0), (60.0, 12.5), (-37.0, 30.0)])
def test_rossby_radius_follows_chelton(lat: float, km: float) -> None:
    assert rossby_radius(lat) / 1e3 == pytest.approx(km, rel=0.01)


def test_rossby_radius_shrinks_poleward_in_both_hemispheres() -> None:
    lats = np.arange(15.0, 60.5, 2.5)
    radii = np.array([rossby_radius(x) for x in lats])
    assert np.all(np.diff(radii) < 0)
    np.testing.assert_allclose(radii, [rossby_radius(-x) for x in lats])
    assert 60e3 < radii[0] < 80e3 and 10e3 < radii[-1] < 15e3


@pytest.mark.parametrize("lat", [40.0, -40.0, 15.0, -60.0])
def test_f0_beta_rd_and_jet_follow_the_latitude(lat: float) -> None:
    p = physics_parameters("v2", lat)
    assert np.sign(p.f0) == np.sign(lat)  # f0 < 0 in the southern hemisphere
    assert p.f0 == pytest.approx(2 * 7.2921159e-5 * np.sin(np.radians(lat)))
    assert p.beta == pytest.approx(2 * 7.2921159e-5 * np.cos(np.radians(lat)) / 6.371e6)
    assert p.beta > 0
    assert p.rossby_radius == pytest.approx(rossby_radius(lat))
    assert p.jet_width == pytest.approx(50e3 * p.rossby_radius / 30e3)
    assert p.relaxation == "zonal"
    north = physics_parameters("v2", abs(lat))
    assert (p.beta, p.rossby_radius) == pytest.approx((north.beta, north.rossby_radius))
    assert QGParameters().f0 == physics_parameters("v1", lat).f0 == 8.78e-5  # v1: always 37N


@pytest.mark.parametrize("lat", [10.0, -12.0, 65.0, -70.0, 0.0])
def test_latitudes_outside_15_60_are_refused(lat: float, tmp_path) -> None:
    with pytest.raises(ValueError, match="between 15 and 60 degrees north or south"):
        physics_parameters("v2", lat)
    with pytest.raises(ConfigError, match="15 and 60"):
        _one_coarse_day(tmp_path, (0.0, 4.0, lat - 2.0, lat + 2.0))


@pytest.mark.parametrize("hemisphere", [1.0, -1.0])
def test_truth_in_both_hemispheres_has_geostrophic_ssh_and_warm_equator_side(
    hemisphere: float, tmp_path
) -> None:
    """An eastward jet: SSH high on its equator side, f0 of the box's sign, SST warm equatorward."""
    from oceaninterp.io import open_dataset

    lats = sorted((hemisphere * 35.0, hemisphere * 45.0))
    path = simulate_truth(
        tmp_path,
        days=1,
        resolution=0.5,
        grid_points=64,
        spinup_days=1,
        seed=1,
        region=(10.0, 20.0, lats[0], lats[1]),
    )
    with open_dataset(path) as ds:
        assert np.sign(ds.attrs["qg_f0"]) == hemisphere
        assert ds.attrs["qg_rossby_radius_km"] == pytest.approx(rossby_radius(40.0) / 1e3)
        ssh = ds["ssh"].mean(("time", "longitude")).values
        sst = ds["sst"].mean(("time", "longitude")).values
    n = ssh.size
    south, north = slice(0, n // 4), slice(3 * n // 4, n)
    equatorward = south if hemisphere > 0 else north
    poleward = north if hemisphere > 0 else south
    assert ssh[equatorward].mean() > ssh[poleward].mean() + 0.3  # metres across the jet
    assert sst[equatorward].mean() > sst[poleward].mean() + 3.0  # kelvin


def test_layered_inversion_matches_the_two_layer_closed_form() -> None:
    from oceaninterp.simulate.qg import deformation_radii, stretching_matrix

    general = QGParameters(n=32, length=1.0e6, layer_thickness=(1000.0, 3000.0))
    np.testing.assert_allclose(stretching_matrix(general), stretching_matrix(QGParameters()))
    assert deformation_radii(general) == pytest.approx([30e3])
    runs = []
    for params in (QGParameters(n=32, length=1.0e6), general):
        with torch_threads(1):
            runs.append(list(TwoLayerQG(params, seed=2).run_days(2))[-1][0])
    np.testing.assert_allclose(runs[1], runs[0], atol=1e-9)


def test_three_layers_keep_the_first_radius_and_a_smaller_second() -> None:
    from oceaninterp.simulate.qg import deformation_radii

    p = physics_parameters("v2", 37.0, n=32, length=1.0e6)
    radii = deformation_radii(p)
    assert radii[0] == pytest.approx(p.rossby_radius) and 0.3 < radii[1] / radii[0] < 0.6
    model = TwoLayerQG(p, seed=1)
    with torch_threads(1):
        ssh, sst = list(model.run_days(2))[-1]
    assert np.isfinite(ssh).all() and np.isfinite(model.energy())


@pytest.mark.slow
def test_v2_truth_spectrum_falls_between_k4_and_k5(tmp_path) -> None:
    """A cheap v2 truth (192^2 cells of 7.8 km, 8 deg box): small scales, Gulf Stream variances.

    About 3-6 min on one CPU core (150 spin-up days, 30 written, float32):
    slope -4.85 measured; the v1 truth of sample_data falls as -6.6 (issue 16).
    """
    from oceaninterp.io import open_dataset

    path = simulate_truth(
        tmp_path,
        days=30,
        resolution=0.1,
        grid_points=192,
        domain_km=1500.0,
        spinup_days=150,
        region=(-64.0, -56.0, 34.0, 42.0),
        dtype="float32",
        seed=0,
    )
    with open_dataset(path) as ds:
        stats = {k[5:]: float(v) for k, v in ds.attrs.items() if k.startswith("stat_")}
    assert -5.0 <= stats["spectral_slope"] <= -4.0
    assert 0.3 < stats["ssh_std_m"] < 0.5  # metres (NATL60 Gulf Stream box: 0.40)
    assert 0.1 < stats["sla_std_m"] < 0.3  # metres: the eddies an altimeter sees
