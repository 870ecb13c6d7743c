"""The generic variational core: operators, costs, priors, solvers, losses."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from oceaninterp.variational import (
    BilinearAE,
    BilinearDynamics,
    ConvLSTMModulator,
    ConvOperator,
    DirectNet,
    FixedPointSolver,
    GradientDescentSolver,
    LearnedGradientSolver,
    Lorenz63,
    Lorenz96,
    LossKind,
    LossWeights,
    MaskOperator,
    MultimodalTerm,
    ObservationOperator,
    ODEPrior,
    StandardisedDynamics,
    UNet,
    VariationalCost,
    adjointness_error,
    observations_first_guess,
    rk4_step,
    training_loss,
)
from oceaninterp.variational.losses import sobel_gradient, weighted_mse


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    """Seeded, and one torch thread: tiny ops on a loaded shared CPU thrash with more."""
    torch.manual_seed(20211)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem_2d(dtype: torch.dtype = torch.float32):
    """A (2, 5, 12, 10) truth, 30 % observed, NaN elsewhere."""
    truth = torch.randn(2, 5, 12, 10, dtype=dtype)
    mask = torch.rand(truth.shape) < 0.3
    y = torch.where(mask, truth, torch.nan)
    return truth, y, mask


class _WrongAdjoint(ObservationOperator):
    """A conv whose 'adjoint' is the forward again: must fail the adjointness test."""

    def __init__(self) -> None:
        super().__init__()
        self.op = ConvOperator(3, 3, spatial_dims=1)

    def forward(self, x, mask):
        return self.op(x, mask)

    def adjoint(self, r, mask):
        return self.op(r, mask)


# --- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "shape"),
    [
        (MaskOperator(), (2, 4, 9, 7)),
        (MaskOperator(), (3, 3, 17)),
        (ConvOperator(4, 6, spatial_dims=2), (2, 4, 9, 7)),
        (ConvOperator(3, 2, spatial_dims=1, kernel_size=5), (3, 3, 17)),
        (MultimodalTerm(4, 2, 5, spatial_dims=2).state_features, (2, 4, 9, 7)),
    ],
)
def test_operators_pass_the_adjointness_test(operator: ObservationOperator, shape) -> None:
    x = torch.randn(shape, dtype=torch.float64)
    mask = torch.rand(shape) < 0.4
    assert adjointness_error(operator.double(), x, mask) < 1e-12


def test_adjointness_test_catches_a_wrong_adjoint() -> None:
    x = torch.randn(2, 3, 15, dtype=torch.float64)
    assert adjointness_error(_WrongAdjoint().double(), x, x > 0) > 1e-3


def test_mask_operator_samples_only_the_observed_values() -> None:
    truth, y, mask = _problem_2d()
    hx = MaskOperator()(truth, mask)
    assert torch.equal(hx[mask], truth[mask])
    assert torch.all(hx[~mask] == 0)


def test_conv_operator_refuses_an_even_kernel() -> None:
    with pytest.raises(ValueError, match="odd"):
        ConvOperator(2, 2, kernel_size=4)


# --- costs ---------------------------------------------------------------------------------


def test_cost_gradient_matches_finite_differences_2d() -> None:
    truth = torch.randn(2, 3, 6, 4, dtype=torch.float64)
    mask = torch.rand(truth.shape) < 0.3
    y = torch.where(mask, truth, torch.nan)
    cost = VariationalCost(
        MaskOperator(),
        BilinearAE(3, 4, spatial_dims=2, downsample=2),
        obs_weight=0.7,
        prior_weight=1.3,
        multimodal=MultimodalTerm(3, 2, 3, alpha=0.5),
    ).double()
    aux = torch.randn(2, 2, 6, 4, dtype=torch.float64)
    x = (truth + 0.3 * torch.randn_like(truth)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: cost(v, y, mask, aux), (x,))


def test_cost_gradient_matches_finite_differences_ode_prior() -> None:
    x = torch.randn(2, 3, 11, dtype=torch.float64).mul(5.0).requires_grad_(True)
    mask = torch.zeros(x.shape, dtype=torch.bool)
    mask[:, 0, ::3] = True
    y = torch.where(mask, x.detach() + 1.0, torch.nan)
    cost = VariationalCost(MaskOperator(), ODEPrior(Lorenz63(), 0.01), 1.0, 10.0)
    assert torch.autograd.gradcheck(lambda v: cost(v, y, mask), (x,))


def test_cost_terms_have_their_documented_values() -> None:
    truth, y, mask = _problem_2d()
    x = truth + 2.0  # misfit 2 everywhere
    identity = nn.Identity()
    cost = VariationalCost(MaskOperator(), identity, obs_weight=3.0, prior_weight=5.0)
    assert torch.allclose(cost.observation_cost(x, y, mask), torch.full((2,), 4.0))
    assert torch.allclose(cost.prior_cost(x), torch.zeros(2))
    assert float(cost(x, y, mask)) == pytest.approx(2 * 3.0 * 4.0)  # summed over the batch


def test_cost_gradient_of_a_sample_does_not_depend_on_its_batch_mates() -> None:
    truth, y, mask = _problem_2d()
    cost = VariationalCost(MaskOperator(), BilinearAE(5, 4), 1.0, 1.0)
    x = truth.clone().requires_grad_(True)
    (grad_batch,) = torch.autograd.grad(cost(x, y, mask), x)
    x0 = truth[:1].clone().requires_grad_(True)
    (grad_alone,) = torch.autograd.grad(cost(x0, y[:1], mask[:1]), x0)
    assert torch.allclose(grad_batch[:1], grad_alone, atol=1e-6)


def test_multimodal_cost_needs_the_auxiliary_field() -> None:
    truth, y, mask = _problem_2d()
    cost = VariationalCost(MaskOperator(), nn.Identity(), 1.0, 1.0, MultimodalTerm(5, 1, 2))
    with pytest.raises(ValueError, match="aux"):
        cost(truth, y, mask)


# --- priors, dynamics, baselines -------------------------------------------------------------


@pytest.mark.parametrize(
    "prior", [BilinearAE(5, 8, spatial_dims=2, downsample=2), UNet(5, 4, spatial_dims=2)]
)
def test_2d_priors_keep_odd_shapes(prior: nn.Module) -> None:
    x = torch.randn(2, 5, 13, 11)
    assert prior(x).shape == x.shape


@pytest.mark.parametrize(
    "prior", [BilinearAE(3, 8, spatial_dims=1, downsample=4), UNet(3, 4, 1, depth=3)]
)
def test_1d_priors_keep_shapes(prior: nn.Module) -> None:
    x = torch.randn(2, 3, 37)
    assert prior(x).shape == x.shape


def test_direct_net_maps_observations_to_a_state() -> None:
    _, y, mask = _problem_2d()
    out = DirectNet(5, width=4)(y, mask)
    assert out.shape == y.shape
    assert torch.isfinite(out).all()


def _lorenz63_trajectory(n: int = 60) -> torch.Tensor:
    x = torch.tensor([[1.0, 2.0, 20.0]], dtype=torch.float64)
    for _ in range(300):
        x = rk4_step(Lorenz63(), x, 0.01)
    states = [x]
    for _ in range(n - 1):
        states.append(rk4_step(Lorenz63(), states[-1], 0.01))
    return torch.stack(states, dim=-1)


def test_ode_prior_leaves_a_true_trajectory_unchanged() -> None:
    trajectory = _lorenz63_trajectory()
    prior = ODEPrior(Lorenz63(), dt=0.01)
    assert torch.allclose(prior(trajectory), trajectory, atol=1e-10)
    perturbed = trajectory + 0.1 * torch.randn_like(trajectory)
    assert (perturbed - prior(perturbed)).abs().max() > 0.05


def test_ode_prior_substeps_converge() -> None:
    trajectory = _lorenz63_trajectory(5)
    coarse = ODEPrior(Lorenz63(), dt=0.05, n_substeps=1)(trajectory)
    fine = ODEPrior(Lorenz63(), dt=0.05, n_substeps=10)(trajectory)
    finer = ODEPrior(Lorenz63(), dt=0.05, n_substeps=20)(trajectory)
    assert (fine - finer).abs().max() < (coarse - finer).abs().max()


def test_bilinear_dynamics_can_be_lorenz63() -> None:
    dynamics = BilinearDynamics(3).double()
    with torch.no_grad():
        dynamics.constant.zero_()
        dynamics.linear.copy_(
            torch.tensor([[-10.0, 10.0, 0.0], [28.0, -1.0, 0.0], [0.0, 0.0, -8 / 3]])
        )
        dynamics.quadratic.zero_()
        pairs = list(zip(dynamics.pair_j.tolist(), dynamics.pair_k.tolist(), strict=True))
        dynamics.quadratic[1, pairs.index((0, 2))] = -1.0  # -x1 x3 in dx2/dt
        dynamics.quadratic[2, pairs.index((0, 1))] = 1.0  # x1 x2 in dx3/dt
    x = torch.randn(4, 3, 7, dtype=torch.float64) * 10
    assert torch.allclose(dynamics(x), Lorenz63()(x))


def test_standardised_dynamics_matches_the_physical_model() -> None:
    mean, std = torch.full((40,), 2.3), torch.full((40,), 3.6)
    x = 2.3 + 3.6 * torch.randn(2, 40, 5)
    u = (x - 2.3) / 3.6
    du = StandardisedDynamics(Lorenz96(8.0), mean, std)(u)
    assert torch.allclose(du * 3.6, Lorenz96(8.0)(x), atol=1e-4)


# --- solvers -------------------------------------------------------------------------------


def _smooth_toy():
    """1-D windows of a smooth signal, half observed, with an AE prior fitted to nothing."""
    t = torch.linspace(0, 1, 32)
    truth = torch.stack([torch.sin(6 * t + p) for p in torch.linspace(0, 3, 8)]).view(4, 2, 32)
    mask = torch.rand(truth.shape) < 0.5
    y = torch.where(mask, truth, torch.nan)
    return truth, y, mask


def test_gradient_descent_lowers_the_cost() -> None:
    truth, y, mask = _smooth_toy()
    cost = VariationalCost(MaskOperator(), BilinearAE(2, 4, spatial_dims=1), 1.0, 1.0)
    x0 = truth + torch.randn_like(truth)
    x = GradientDescentSolver(cost, n_step=30, step_size=5.0).eval()(x0, y, mask)
    with torch.no_grad():
        assert float(cost(x, y, mask)) < 0.5 * float(cost(x0, y, mask))


def test_fixed_point_lowers_the_cost_to_zero_with_a_consistent_prior() -> None:
    trajectory = _lorenz63_trajectory(40).float()
    mask = torch.zeros(trajectory.shape, dtype=torch.bool)
    mask[:, :, 0] = True  # the initial state observed: the projection integrates it
    y = torch.where(mask, trajectory, torch.nan)
    prior = ODEPrior(Lorenz63(), dt=0.01)
    cost = VariationalCost(MaskOperator(), prior, 1.0, 1.0)
    x0 = observations_first_guess(y, mask)
    x = FixedPointSolver(prior, n_step=40).eval()(x0, y, mask)
    assert float(cost(x, y, mask)) < 1e-6 * float(cost(x0, y, mask))
    assert torch.allclose(x, trajectory, atol=1e-3)


def _learned_solver(n_step: int = 4, lr_grad: float = 0.5) -> LearnedGradientSolver:
    cost = VariationalCost(MaskOperator(), BilinearAE(2, 4, spatial_dims=1), 1.0, 1.0)
    modulator = ConvLSTMModulator(2, 6, spatial_dims=1, downsample=2, dropout=0.0)
    return LearnedGradientSolver(cost, modulator, n_step=n_step, lr_grad=lr_grad)


def test_learned_solver_with_a_silent_modulator_is_gradient_descent_and_lowers_the_cost() -> None:
    truth, y, mask = _smooth_toy()
    solver = _learned_solver(n_step=10, lr_grad=2.0).eval()
    nn.init.zeros_(solver.modulator.conv_out.weight)
    nn.init.zeros_(solver.modulator.conv_out.bias)
    x0 = truth + torch.randn_like(truth)
    x = solver(x0, y, mask)
    with torch.no_grad():
        assert float(solver.cost(x, y, mask)) < 0.5 * float(solver.cost(x0, y, mask))


def test_learned_solver_trains_on_a_tiny_problem() -> None:
    truth, y, mask = _smooth_toy()
    solver = _learned_solver()
    optimiser = torch.optim.Adam(solver.parameters(), lr=1e-2)
    x0 = observations_first_guess(y, mask)
    weights = LossWeights(state=1.0, gradient=1.0, prior=0.1)
    losses = []
    for _ in range(40):
        loss = training_loss(
            LossKind.SUPERVISED, weights, solver(x0, y, mask), solver.cost, truth=truth
        )
        optimiser.zero_grad()
        loss.total.backward()
        optimiser.step()
        losses.append(float(loss.state.detach()))
    assert losses[-1] < 0.3 * losses[0]


def test_learned_solver_graph_policy() -> None:
    truth, y, mask = _problem_2d()
    cost = VariationalCost(MaskOperator(), BilinearAE(5, 4), 1.0, 1.0)
    solver = LearnedGradientSolver(
        cost, ConvLSTMModulator(5, 3), n_step=3, lr_grad=1.0, final_prior=True
    )
    x0 = observations_first_guess(y, mask)
    out = solver.train()(x0, y, mask)
    out.square().mean().backward()
    assert solver.modulator.gates.weight.grad is not None
    assert cost.prior.conv_in.weight.grad is not None
    assert not solver.eval()(x0, y, mask).requires_grad
    with torch.no_grad():
        assert not solver.train()(x0, y, mask).requires_grad


def test_learned_solver_result_does_not_depend_on_the_batch() -> None:
    truth, y, mask = _problem_2d()
    cost = VariationalCost(MaskOperator(), BilinearAE(5, 4), 1.0, 1.0)
    solver = LearnedGradientSolver(cost, ConvLSTMModulator(5, 3), n_step=3, lr_grad=1.0).eval()
    x0 = observations_first_guess(y, mask)
    assert torch.allclose(solver(x0, y, mask)[1:], solver(x0[1:], y[1:], mask[1:]), atol=1e-5)


def test_conv_lstm_runs_at_reduced_resolution() -> None:
    modulator = ConvLSTMModulator(5, 7, spatial_dims=2, downsample=4)
    grad = torch.randn(2, 5, 16, 12)
    state = modulator.initial_state(grad)
    assert state.hidden.shape == (2, 7, 4, 3)
    increment, state = modulator(grad, state)
    assert increment.shape == grad.shape
    assert state.cell.shape == (2, 7, 4, 3)


# --- losses --------------------------------------------------------------------------------


def test_sobel_gradient_of_ramps() -> None:
    ramp_w = torch.arange(9.0).expand(1, 2, 6, 9)
    grad = sobel_gradient(ramp_w)
    assert grad.shape == (1, 4, 6, 9)
    assert torch.allclose(grad[:, :, :, 1:-1][:, [0, 2]], torch.ones(1, 2, 6, 7))
    assert torch.allclose(grad[:, [1, 3]], torch.zeros(1, 2, 6, 9))
    ramp_1d = 2.0 * torch.arange(10.0).expand(1, 3, 10)
    assert torch.allclose(sobel_gradient(ramp_1d)[..., 1:-1], torch.full((1, 3, 8), 2.0))


def test_weighted_mse_ignores_non_finite_values_and_zero_weights() -> None:
    error = torch.tensor([1.0, 2.0, torch.nan, 3.0])
    assert float(weighted_mse(error)) == pytest.approx((1 + 4 + 9) / 3)
    weight = torch.tensor([1.0, 0.0, 1.0, 1.0])
    assert float(weighted_mse(error, weight)) == pytest.approx((1 + 9) / 2)


def test_losses_by_kind() -> None:
    truth, y, mask = _problem_2d()
    identity = VariationalCost(MaskOperator(), nn.Identity(), 1.0, 1.0)
    weights = LossWeights(state=2.0, gradient=3.0, prior=5.0, observation=7.0)
    perfect = training_loss(LossKind("supervised"), weights, truth, identity, truth=truth)
    assert float(perfect.total) == 0.0
    shifted = training_loss(LossKind.SUPERVISED, weights, truth + 1.0, identity, truth=truth)
    assert float(shifted.state) == pytest.approx(1.0)
    assert float(shifted.gradient) == pytest.approx(0.0, abs=1e-6)
    assert float(shifted.total) == pytest.approx(2.0)
    unsupervised = training_loss(
        LossKind.UNSUPERVISED, weights, truth + 1.0, identity, y=y, mask=mask
    )
    assert float(unsupervised.total) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="truth"):
        training_loss(LossKind.REGULARISED, weights, truth, identity)
    with pytest.raises(ValueError, match="y and mask"):
        training_loss(LossKind.UNSUPERVISED, weights, truth, identity, truth=truth)


def test_regularised_loss_adds_the_prior_cost_of_the_truth() -> None:
    truth, _, _ = _problem_2d()
    halving = VariationalCost(MaskOperator(), _Scale(0.5), 1.0, 1.0)
    weights = LossWeights(state=0.0, gradient=0.0, prior=1.0)
    estimate = torch.zeros_like(truth)
    loss = training_loss(LossKind.REGULARISED, weights, estimate, halving, truth=truth)
    assert float(loss.total) == pytest.approx(float((0.5 * truth).square().mean()), rel=1e-5)


class _Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x


def test_loss_weights_refuse_negative_values() -> None:
    with pytest.raises(ValueError, match="gradient"):
        LossWeights(gradient=-1.0)


@pytest.mark.gpu
def test_learned_solver_gives_the_same_result_on_the_gpu(device: str) -> None:
    if device != "cuda":
        pytest.skip("no CUDA device")
    truth, y, mask = _problem_2d()
    cost = VariationalCost(MaskOperator(), BilinearAE(5, 4), 1.0, 1.0)
    solver = LearnedGradientSolver(cost, ConvLSTMModulator(5, 3, downsample=2), 3, 1.0).eval()
    x0 = observations_first_guess(y, mask)
    on_cpu = solver(x0, y, mask)
    on_gpu = solver.to(device)(x0.to(device), y.to(device), mask.to(device))
    assert torch.allclose(on_gpu.cpu(), on_cpu, atol=1e-4)
