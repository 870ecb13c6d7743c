"""The blockwise OI against a dense direct solve, and its tuning."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from oceaninterp.config import OIConfig
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.oi import cube_observations, oi_map, prior_std, tune_oi

DIMS = ("time", "latitude", "longitude")


def make_cube(ssh: np.ndarray, count: np.ndarray, res: float = 0.25) -> xr.Dataset:
    nt, ny, nx = ssh.shape
    time = np.datetime64("2020-01-01", "ns") + np.arange(nt) * np.timedelta64(1, "D")
    return xr.Dataset(
        {"ssh": (DIMS, ssh.astype(np.float32)), "count": (DIMS, count.astype(np.int32))},
        coords={
            "time": time,
            "latitude": 35.0 + res * np.arange(ny),
            "longitude": -60.0 + res * np.arange(nx),
        },
        attrs={"ssh_kind": "adt"},
    )


def random_cube(rng: np.random.Generator, shape=(7, 9, 11), fraction=0.15) -> xr.Dataset:
    seen = rng.random(shape) < fraction
    ssh = np.where(seen, rng.normal(0.3, 0.2, shape), np.nan)
    count = np.where(seen, rng.integers(1, 5, shape), 0)
    return make_cube(ssh, count)


def smooth_field(
    rng: np.random.Generator, shape: tuple[int, int, int], length: float, days: float
) -> np.ndarray:
    """A field of std 0.1 m with covariance close to exp(-(d/length)^2 - (dt/days)^2).

    White noise smoothed by Gaussian kernels of width length/sqrt(2) (0.25 deg
    cells) and days/sqrt(2), on a padded grid.
    """
    from scipy.ndimage import gaussian_filter

    pad = 12
    noise = rng.normal(size=tuple(n + 2 * pad for n in shape))
    sigma = (days / np.sqrt(2), length / np.sqrt(2) / 0.25, length / np.sqrt(2) / 0.25)
    field = gaussian_filter(noise, sigma)[pad:-pad, pad:-pad, pad:-pad]
    return field * 0.1 / field.std()


def dense_oi(cube: xr.Dataset, cfg: OIConfig) -> tuple[np.ndarray, np.ndarray]:
    """The textbook OI with every observation and a numpy dense inverse."""
    ssh = cube["ssh"].values.astype(np.float64)
    it, iy, ix = np.nonzero(np.isfinite(ssh))
    lat, lon = cube["latitude"].values, cube["longitude"].values
    obs = np.stack([it.astype(float), lat[iy], lon[ix]], axis=1)
    values, count = ssh[it, iy, ix], cube["count"].values[it, iy, ix]
    mean = np.sum(count * values) / np.sum(count)
    scale = np.array([cfg.lt, cfg.ly, cfg.lx])
    obs_std, grid_std = prior_std(cube_observations(cube, cfg), lat, lon, cfg)
    grid_std = np.broadcast_to(grid_std, ssh.shape).ravel()

    def cov(a: np.ndarray, b: np.ndarray, sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
        d = (a[:, None, :] - b[None, :, :]) / scale
        return sa[:, None] * sb[None, :] * np.exp(-(d**2).sum(axis=-1))

    grid = np.stack(
        [g.ravel() for g in np.meshgrid(np.arange(ssh.shape[0]), lat, lon, indexing="ij")], axis=1
    )
    inverse = np.linalg.inv(cov(obs, obs, obs_std, obs_std) + np.diag(cfg.noise**2 / count))
    gain = cov(grid, obs, grid_std, obs_std) @ inverse
    analysis = mean + gain @ (values - mean)
    variance = grid_std**2 - np.einsum("ij,ij->i", gain, cov(grid, obs, grid_std, obs_std))
    return analysis.reshape(ssh.shape), np.sqrt(variance).reshape(ssh.shape)


def test_blockwise_oi_reproduces_dense_solve(rng: np.random.Generator) -> None:
    cube = random_cube(rng)
    # Several time and space blocks, cut-offs that still reach every observation.
    cfg = OIConfig(superobs=0, error_step=0, block_days=3, block_deg=1.0, signal_std=0.7)
    out = oi_map(cube, cfg)
    expected_ssh, expected_err = dense_oi(cube, cfg)
    assert out["ssh"].dims == DIMS and out["ssh"].attrs["units"] == "m"
    np.testing.assert_allclose(out["ssh"].values, expected_ssh, atol=1e-5)
    np.testing.assert_allclose(out["err"].values, expected_err, atol=1e-5)
    assert out.attrs["ssh_kind"] == "adt"


def test_error_is_exact_on_its_lattice(rng: np.random.Generator) -> None:
    cube = random_cube(rng)
    cfg = OIConfig(superobs=0, error_step=0.5, block_days=3, block_deg=1.0)
    out = oi_map(cube, cfg)
    _, expected = dense_oi(cube, cfg)
    # Lattice: every 2 cells in space (0.5 deg / 0.25 deg), 4 days in time, plus the ends.
    lattice = np.ix_([0, 4, 6], [0, 2, 4, 6, 8], [0, 2, 4, 6, 8, 10])
    np.testing.assert_allclose(out["err"].values[lattice], expected[lattice], atol=1e-5)
    _, grid_std = prior_std(
        cube_observations(cube, cfg), cube["latitude"].values, cube["longitude"].values, cfg
    )
    assert np.all(out["err"].values <= grid_std[None] + 1e-6)
    assert np.all(out["err"].values >= 0)


def test_float32_close_to_float64(rng: np.random.Generator) -> None:
    cube = random_cube(rng)
    ref = oi_map(cube, OIConfig(superobs=0, error_step=1e9))
    single = oi_map(cube, OIConfig(superobs=0, error_step=1e9, dtype="float32"))
    np.testing.assert_allclose(single["ssh"].values, ref["ssh"].values, atol=2e-3)


def test_cutoffs_only_truncate_far_observations() -> None:
    """On a domain wider than the cut-offs, blocks stay close to the full solve."""
    rng = np.random.default_rng(5)
    field = smooth_field(rng, (30, 11, 33), length=1.0, days=7.0)
    seen = rng.random(field.shape) < 0.05
    cube = make_cube(np.where(seen, field, np.nan), seen.astype(int))
    cfg = OIConfig(superobs=0, error_step=1e9, block_days=5)
    out = oi_map(cube, cfg)
    expected, _ = dense_oi(cube, cfg)
    assert np.abs(out["ssh"].values - expected).max() < 0.005


def test_superobs_merge_cells_by_count(rng: np.random.Generator) -> None:
    ssh = np.full((2, 4, 4), np.nan)
    count = np.zeros((2, 4, 4), dtype=int)
    ssh[0, 0, 0], count[0, 0, 0] = 1.0, 1
    ssh[0, 1, 1], count[0, 1, 1] = 2.0, 3
    ssh[1, 0, 0], count[1, 0, 0] = 5.0, 2
    cube = make_cube(ssh, count, res=0.1)
    obs = cube_observations(cube, OIConfig(superobs=0.2, lx=1.0, ly=1.0))
    assert obs.size == 2
    np.testing.assert_allclose(obs.value, [1.75, 5.0])
    np.testing.assert_allclose(obs.count, [4, 2])
    np.testing.assert_allclose(obs.lat, [35.0 + 0.075, 35.0])
    assert cube_observations(cube, OIConfig(superobs=0)).size == 3


def test_empty_cube_is_refused() -> None:
    cube = make_cube(np.full((3, 4, 5), np.nan), np.zeros((3, 4, 5)))
    with pytest.raises(InputError, match="no observation"):
        oi_map(cube)


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="lx"):
        OIConfig(lx=0)
    with pytest.raises(ConfigError, match="dtype"):
        OIConfig(dtype="float16")


def test_tuning_finds_the_true_correlation_length() -> None:
    """Observations drawn from the OI prior itself: CV prefers the true Lx.

    The base Lx (3 deg) is a wrong candidate, so the true one can only come
    from the cross-validation.
    """
    rng = np.random.default_rng(3)
    shape = (24, 21, 21)
    true_l, true_lt = 1.0, 4.0
    field = smooth_field(rng, shape, true_l, true_lt)
    seen = rng.random(shape) < 0.06
    ssh = np.where(seen, field + rng.normal(0, 0.01, shape), np.nan)
    cube = make_cube(ssh, seen.astype(int))
    base = OIConfig(
        lx=3.0, ly=3.0, lt=true_lt, noise=0.1, signal_std=1.0, error_step=1e9, superobs=0
    )
    best = tune_oi(cube, {"lx": [0.3, true_l, 3.0]}, base=base, every=3, seed=1)
    assert best.lx == true_l and best.ly == true_l and best.lt == true_lt


def test_tuning_against_a_truth_finds_the_true_scales() -> None:
    """OSSE tuning: RMSE against the full field, every observation used.

    The base (Lx 3 deg, Lt 7 days) is wrong in both: the true scales can only
    come from the tuning.
    """
    rng = np.random.default_rng(5)
    shape = (24, 21, 21)
    field = smooth_field(rng, shape, 1.0, 4.0)
    seen = rng.random(shape) < 0.06
    cube = make_cube(np.where(seen, field, np.nan), seen.astype(int))
    truth = xr.DataArray(field, dims=DIMS)
    base = OIConfig(lx=3.0, ly=3.0, noise=0.01, signal_std=1.0, error_step=1e9, superobs=0)
    best = tune_oi(cube, {"lx": [0.3, 1.0, 3.0], "lt": [1.0, 4.0, 16.0]}, base=base, truth=truth)
    assert (best.lx, best.lt) == (1.0, 4.0)
    with pytest.raises(ConfigError, match="not on the cube's grid"):
        tune_oi(cube, {"lx": [1.0]}, base=base, truth=truth.isel(time=slice(1, None)))


def test_tuning_rejects_unknown_parameters(rng: np.random.Generator) -> None:
    with pytest.raises(ConfigError, match="unknown"):
        tune_oi(random_cube(rng), {"wavelength": [1.0]})


def test_batched_padded_blocks_equal_one_by_one(rng: np.random.Generator) -> None:
    cube = random_cube(rng, shape=(9, 11, 13), fraction=0.1)
    cfg = OIConfig(superobs=0, error_step=0, block_days=3, block_deg=1.0)
    batched = oi_map(cube, cfg)
    alone = oi_map(cube, OIConfig(**{**cfg.__dict__, "batch_bytes": 1}))
    np.testing.assert_allclose(batched["ssh"].values, alone["ssh"].values, atol=1e-7)
    np.testing.assert_allclose(batched["err"].values, alone["err"].values, atol=1e-7)


@pytest.mark.gpu
def test_gpu_matches_cpu(rng: np.random.Generator) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    cube = random_cube(rng)
    cfg = OIConfig(superobs=0, error_step=0, block_days=3, block_deg=1.0)
    cpu, gpu = oi_map(cube, cfg), oi_map(cube, cfg, device="cuda")
    np.testing.assert_allclose(gpu["ssh"].values, cpu["ssh"].values, atol=1e-6)
    np.testing.assert_allclose(gpu["err"].values, cpu["err"].values, atol=1e-6)


def test_tiled_factor_equals_one_tile(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks factorised in many small tiles and solved in small chunks: the same maps."""
    from oceaninterp import oi_solver

    cube = random_cube(rng, shape=(9, 11, 13), fraction=0.2)
    cfg = OIConfig(superobs=0, error_step=0, block_days=3, block_deg=1.5)
    whole = oi_map(cube, cfg)
    monkeypatch.setattr(oi_solver, "TILE", 16)
    monkeypatch.setattr(oi_solver, "CHUNK_BYTES", 1)
    tiled = oi_map(cube, cfg)
    np.testing.assert_allclose(tiled["ssh"].values, whole["ssh"].values, atol=1e-7)
    np.testing.assert_allclose(tiled["err"].values, whole["err"].values, atol=1e-7)
    expected_ssh, expected_err = dense_oi(cube, OIConfig(superobs=0))
    one_block = oi_map(cube, OIConfig(superobs=0, error_step=0, block_days=9, block_deg=9.0))
    np.testing.assert_allclose(one_block["ssh"].values, expected_ssh, atol=1e-5)
    np.testing.assert_allclose(one_block["err"].values, expected_err, atol=1e-5)


def test_factor_memory_is_half_a_matrix_and_batches_keep_the_budget() -> None:
    from oceaninterp.oi_solver import TILE, _batches, _Block, _factor_bytes

    n = 20 * TILE
    assert _factor_bytes(n, 8) < 0.56 * n * n * 8
    assert _factor_bytes(10, 8) == 8 * 2 * 100  # one full tile and a working one
    sizes = [5, 40, 41, 300, 2000, 3 * TILE]
    blocks = [_Block(slice(0), slice(0), slice(0), np.arange(k)) for k in sizes]
    budget = 2 * _factor_bytes(300, 8)
    batches = list(_batches(blocks, 8, budget))
    assert [b.obs.size for batch in batches for b in batch] == sorted(sizes)
    for batch in batches:
        if len(batch) > 1:
            assert len(batch) * _factor_bytes(batch[-1].obs.size, 8) <= budget
