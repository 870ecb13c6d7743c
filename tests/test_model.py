"""The SSH 4DVarNet (contract 5): shapes, units, NaN handling, batch independence."""

from __future__ import annotations

import pytest
import torch

from oceaninterp.config import ModelConfig
from oceaninterp.errors import ConfigError
from oceaninterp.model import SSH4DVarNet, build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = ModelConfig(
    tile_time=5, tile_latitude=12, tile_longitude=16, prior_width=6, lstm_hidden=6, n_step=3
)


def tiny_model(cfg: ModelConfig = TINY, seed: int = 0) -> SSH4DVarNet:
    torch.manual_seed(seed)
    model = build_model(cfg)
    model.set_normalisation(ssh_mean=0.3, ssh_std=0.2, sst_mean=290.0, sst_std=3.0)
    return model


def sparse_obs(shape: tuple[int, ...], seed: int = 1, observed: float = 0.2) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    obs = 0.3 + 0.2 * torch.randn(shape, generator=generator)
    obs[torch.rand(shape, generator=generator) > observed] = float("nan")
    return obs


def test_reconstruct_returns_finite_metres_of_the_input_shape() -> None:
    model = tiny_model()
    obs = sparse_obs((3, 5, 12, 16))
    out = model.reconstruct(obs)
    assert out.shape == obs.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all() and not out.requires_grad
    assert model.training  # the mode of the module is left as it was


def test_reconstruct_any_multiple_of_four() -> None:
    model = tiny_model()
    assert model.reconstruct(sparse_obs((1, 5, 20, 8))).shape == (1, 5, 20, 8)


def test_reconstruct_works_in_metres_through_the_stored_normalisation() -> None:
    """Shifting the observations and the stored mean by 1 m shifts the map by 1 m."""
    model = tiny_model()
    obs = sparse_obs((2, 5, 12, 16))
    base = model.reconstruct(obs)
    model.set_normalisation(ssh_mean=1.3, ssh_std=0.2)
    shifted = model.reconstruct(obs + 1.0)
    torch.testing.assert_close(shifted, base + 1.0, atol=1e-5, rtol=0)
    model.set_normalisation(ssh_mean=0.3, ssh_std=0.4)
    scaled = model.reconstruct(0.3 + 2.0 * (obs - 0.3))
    torch.testing.assert_close(scaled, 0.3 + 2.0 * (base - 0.3), atol=1e-5, rtol=0)


def test_nan_means_unobserved_and_observations_matter() -> None:
    model = tiny_model()
    obs = sparse_obs((1, 5, 12, 16))
    nothing = torch.full_like(obs, float("nan"))
    assert torch.isfinite(model.reconstruct(nothing)).all()
    assert not torch.allclose(model.reconstruct(obs), model.reconstruct(nothing))


def test_a_tile_gives_the_same_map_alone_or_in_a_batch() -> None:
    model = tiny_model()
    obs = sparse_obs((4, 5, 12, 16))
    obs[2] = float("nan")  # a batch mate with no observation at all
    obs[3][torch.isfinite(obs[3])] += 5.0  # and one far off
    batch = model.reconstruct(obs)
    alone = model.reconstruct(obs[:1])
    torch.testing.assert_close(batch[:1], alone, atol=1e-5, rtol=1e-5)


def test_sst_model_needs_and_uses_sst() -> None:
    model = tiny_model(ModelConfig(**{**TINY.__dict__, "use_sst": True}))
    obs = sparse_obs((1, 5, 12, 16))
    with pytest.raises(ValueError, match="sst"):
        model.reconstruct(obs)
    sst = 290.0 + 3.0 * torch.randn(1, 5, 12, 16)
    sst[..., :2] = float("nan")  # missing SST (land, clouds) is allowed
    out = model.reconstruct(obs, sst)
    assert torch.isfinite(out).all()
    assert not torch.allclose(out, model.reconstruct(obs, sst + 5.0))


def test_oi_input_is_a_second_auxiliary_field_normalised_as_the_ssh() -> None:
    both = tiny_model(ModelConfig(**{**TINY.__dict__, "use_sst": True, "oi_input": True}))
    obs = sparse_obs((1, 5, 12, 16))
    sst = 290.0 + 3.0 * torch.randn(1, 5, 12, 16)
    oi = 0.3 + 0.1 * torch.randn(1, 5, 12, 16)
    with pytest.raises(ValueError, match="OI map"):
        both.reconstruct(obs, sst)
    _, _, aux = both.normalise(obs, sst, oi)
    assert aux is not None and aux.shape == (1, 10, 12, 16)  # SST days, then OI days
    expected = (oi - both.ssh_mean) / both.ssh_std
    torch.testing.assert_close(aux[:, 5:], expected)
    out = both.reconstruct(obs, sst, oi)
    assert torch.isfinite(out).all()
    assert not torch.allclose(out, both.reconstruct(obs, sst, oi + 0.2))


def test_first_guess_oi_starts_the_solver_from_the_oi_map() -> None:
    with pytest.raises(ConfigError, match="oi_input"):
        ModelConfig(**{**TINY.__dict__, "first_guess": "oi"})
    model = tiny_model(
        ModelConfig(**{**TINY.__dict__, "use_sst": True, "oi_input": True, "first_guess": "oi"})
    )
    obs = sparse_obs((1, 5, 12, 16))
    sst, oi = 290.0 + torch.randn(1, 5, 12, 16), 0.3 + 0.1 * torch.randn(1, 5, 12, 16)
    y, mask, aux = model.normalise(obs, sst, oi)
    torch.testing.assert_close(model.first_guess(y, mask, aux), (oi - 0.3) / 0.2)


def test_reconstruct_refuses_wrong_shapes() -> None:
    model = tiny_model()
    with pytest.raises(ValueError, match="expected"):
        model.reconstruct(sparse_obs((1, 4, 12, 16)))
    with pytest.raises(ValueError, match="multiples of 4"):
        model.reconstruct(sparse_obs((1, 5, 10, 16)))


def test_training_mode_keeps_the_graph_for_the_loss() -> None:
    model = tiny_model()
    y, mask, _ = model.normalise(sparse_obs((2, 5, 12, 16)))
    model(y, mask).square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert any(float(p.grad.abs().sum()) > 0 for p in model.cost.prior.parameters())


def test_reference_base_model_is_expressible() -> None:
    """The reference's base model, as benchmarks/train_bench.py times it."""
    from benchscript import load_benchmark

    model = build_model(load_benchmark("train_bench").CONFIGS["reference"])
    assert model.solver.n_step == 10
    assert model.solver.modulator.hidden == 48 and model.solver.modulator.downsample == 1
    assert (
        model.cost.prior.conv_in.out_channels == 32 and model.cost.prior.conv_in.in_channels == 15
    )


@pytest.mark.parametrize(
    "bad",
    [{"tile_latitude": 30}, {"tile_time": 0}, {"modulator_downsample": 3}, {"use_sst": "yes"}],
)
def test_model_config_refuses_bad_values(bad: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        ModelConfig(**bad)


def test_smooth_first_guess_fills_gaps_and_keeps_constants() -> None:
    from oceaninterp.model.ssh import smoothed_observations

    mask = torch.zeros(1, 5, 24, 24)
    mask[0, 2, 3, 4] = mask[0, 0, 20, 18] = 1.0
    y = torch.where(mask.bool(), torch.tensor(0.7), torch.tensor(float("nan")))
    filled = smoothed_observations(y, mask, sigma_days=2.0, sigma_pixels=3.0)
    reached = filled != 0
    assert torch.allclose(filled[reached], torch.tensor(0.7))  # a weighted mean of 0.7s
    assert reached[0, :, 3, 4].all() and not reached[0, :, 23, 0].any()  # 0 beyond 4 sigma
    two = mask.clone()
    two[0, 2, 3, 6] = 1.0
    y2 = torch.where(two.bool(), torch.tensor(0.0), y)
    y2[0, 2, 3, 6] = 1.0
    between = smoothed_observations(y2, two, 2.0, 3.0)[0, 2, 3, 5]
    assert float(between) == pytest.approx(0.5, abs=1e-4)  # halfway between 0 and 1
    assert torch.isfinite(
        smoothed_observations(torch.zeros(1, 5, 8, 8), torch.zeros(1, 5, 8, 8), 2, 3)
    ).all()


@pytest.mark.parametrize("start", ["zeros", "smooth"])
def test_both_first_guesses_map(start: str) -> None:
    model = tiny_model(ModelConfig(**{**TINY.__dict__, "first_guess": start}))
    assert torch.isfinite(model.reconstruct(sparse_obs((1, 5, 12, 16)))).all()
    with pytest.raises(ConfigError, match="first_guess"):
        ModelConfig(first_guess="mean")
