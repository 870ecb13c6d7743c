"""Verify the variational core on the Lorenz problems of the lecture (REFERENCE.md s. 6).

    python benchmarks/lorenz.py            # full run (minutes on one CPU thread)
    python benchmarks/lorenz.py --quick    # smoke run used by tests/test_lorenz.py

Set-ups (seeded, CPU):

- Lorenz-63: sigma 10, rho 28, beta 8/3, RK4 with dt 0.01; windows of 200
  steps taken on the attractor; observations every 8 steps with Gaussian
  noise of variance 2.
- Lorenz-96: F = 8, 40 variables, RK4 with dt 0.05; windows of 200 steps;
  the even-numbered half of the variables observed every 4 steps, noise
  variance 2.

States are ``(B, C, N)``: the state variables are the channels, time runs
along N (``spatial_dims=1``). Solvers work on standardised states (per
variable, mean and standard deviation of the training truth).

Scores: ``MSE`` is the mean over windows, variables and times of the squared
error in model units; ``normalised MSE`` is MSE divided by the variance of
the true state, taken per variable over the test windows and averaged over
the variables (so predicting each variable's mean scores about 1).

Methods:

- linear interpolation in time of each observed variable (the mean elsewhere):
  the first guess of every solver below;
- 4DVar (GD): weak-constraint 4DVar, i.e. plain fixed-step gradient descent
  of the variational cost with the true dynamics as prior
  (``GradientDescentSolver`` + ``ODEPrior``);
- 4DVarNet: ``LearnedGradientSolver`` (ConvLSTM modulator) trained end to
  end; on Lorenz-63 its ODE prior is a learnable bilinear tendency trained
  jointly (regularised loss: state MSE + prior cost of estimate and truth);
  on Lorenz-96 the prior is the true ODE and only the solver is trained,
  compared with fixed-step descent on the same cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from oceaninterp.variational import (
    ConvLSTMModulator,
    DirectNet,
    GradientDescentSolver,
    LearnedGradientSolver,
    MaskOperator,
    ODEPrior,
    VariationalCost,
)
from oceaninterp.variational.dynamics import (
    BilinearDynamics,
    Lorenz63,
    Lorenz96,
    StandardisedDynamics,
    rk4_step,
)
from oceaninterp.variational.losses import LossKind, LossWeights, training_loss


@dataclass(frozen=True)
class Problem:
    """A twin experiment: dynamics, sampling of the window and of the observations.

    Attributes
    ----------
    dt
        Time between samples of a window (model time units); RK4 step too.
    window
        Samples per window.
    obs_every
        Observations every this many samples, from the first.
    observed
        Observed variables (0-based channel indices).
    noise_variance
        Variance of the Gaussian observation noise (model units squared).
    spinup
        RK4 steps from the random start (``initial_mean`` per variable, or
        broadcast, plus ``initial_std`` Gaussian noise) before the window.
    """

    name: str
    dynamics: nn.Module
    n_vars: int
    dt: float
    window: int
    obs_every: int
    observed: tuple[int, ...]
    noise_variance: float
    spinup: int
    initial_mean: tuple[float, ...]
    initial_std: float


def lorenz63(observed: tuple[int, ...] = (0, 1, 2)) -> Problem:
    """The lecture's Lorenz-63 set-up with the given observed variables (0-based)."""
    return Problem(
        name="Lorenz-63", dynamics=Lorenz63(), n_vars=3, dt=0.01, window=200, obs_every=8,
        observed=observed, noise_variance=2.0, spinup=1500, initial_mean=(0.0, 0.0, 25.0),
        initial_std=5.0,
    )  # fmt: skip


def lorenz96() -> Problem:
    """The lecture's Lorenz-96 set-up (even-numbered variables observed)."""
    return Problem(
        name="Lorenz-96", dynamics=Lorenz96(8.0), n_vars=40, dt=0.05, window=200, obs_every=4,
        observed=tuple(range(0, 40, 2)), noise_variance=2.0, spinup=400, initial_mean=(8.0,),
        initial_std=1.0,
    )  # fmt: skip


@dataclass(frozen=True)
class Windows:
    """Simulated windows: truth, noisy observations (NaN off the mask) and mask, ``(B, C, N)``."""

    truth: Tensor
    y: Tensor
    mask: Tensor


def simulate(problem: Problem, n_windows: int, seed: int) -> Windows:
    """Independent windows on the attractor, each from its own random start after spin-up."""
    gen = torch.Generator().manual_seed(seed)
    mean = torch.tensor(problem.initial_mean, dtype=torch.float64)
    x = mean + problem.initial_std * torch.randn(
        n_windows, problem.n_vars, generator=gen, dtype=torch.float64
    )
    with torch.no_grad():
        for _ in range(problem.spinup):
            x = rk4_step(problem.dynamics, x, problem.dt)
        states = [x]
        for _ in range(problem.window - 1):
            states.append(rk4_step(problem.dynamics, states[-1], problem.dt))
    truth = torch.stack(states, dim=-1)
    mask = torch.zeros(truth.shape, dtype=torch.bool)
    mask[:, list(problem.observed), :: problem.obs_every] = True
    noise = problem.noise_variance**0.5 * torch.randn(truth.shape, generator=gen, dtype=truth.dtype)
    y = torch.where(mask, truth + noise, torch.nan)
    return Windows(truth.float(), y.float(), mask)


def interpolate_in_time(y: Tensor, mask: Tensor) -> Tensor:
    """Linear interpolation along the last axis of each observed series; 0 where none.

    Before the first (after the last) observation the first (last) value is held.
    """
    n = y.shape[-1]
    index = torch.arange(n).expand_as(y)
    prev = torch.where(mask, index, -1).cummax(dim=-1).values
    nxt = torch.where(mask, index, n).flip(-1).cummin(dim=-1).values.flip(-1)
    has_prev, has_next = prev >= 0, nxt < n
    filled = torch.nan_to_num(y)
    y_prev = filled.gather(-1, prev.clamp(0, n - 1))
    y_next = filled.gather(-1, nxt.clamp(0, n - 1))
    span = (nxt - prev).clamp_min(1).to(y.dtype)
    w = ((index - prev).to(y.dtype) / span).clamp(0.0, 1.0)
    both = y_prev + w * (y_next - y_prev)
    out = torch.where(has_prev & has_next, both, torch.where(has_prev, y_prev, y_next))
    return torch.where(has_prev | has_next, out, torch.zeros((), dtype=y.dtype))


@dataclass(frozen=True)
class Standardiser:
    """Per-variable affine map between model units and standardised units."""

    mean: Tensor
    std: Tensor

    @classmethod
    def fit(cls, truth: Tensor) -> Standardiser:
        return cls(truth.mean(dim=(0, 2)), truth.std(dim=(0, 2)))

    def __call__(self, x: Tensor) -> Tensor:
        return (x - self.mean.view(1, -1, 1)) / self.std.view(1, -1, 1)

    def inverse(self, u: Tensor) -> Tensor:
        return self.mean.view(1, -1, 1) + self.std.view(1, -1, 1) * u


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    system: str
    method: str
    observed: str
    mse: float
    normalised_mse: float
    lecture: str


def score(estimate: Tensor, truth: Tensor) -> tuple[float, float]:
    """(MSE, normalised MSE) in model units; see the module docstring."""
    mse = float((estimate - truth).square().mean())
    variance = float(truth.var(dim=(0, 2)).mean())
    return mse, mse / variance


def train(
    model: nn.Module,
    batch_loss: Callable[[Tensor], tuple[Tensor, Tensor]],
    n_samples: int,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    label: str,
    verbose: bool,
) -> list[float]:
    """Adam with cosine annealing and clipping; returns the mean state MSE of each epoch.

    ``batch_loss(indices)`` returns (loss to minimise, state MSE) for those
    training samples. With ``verbose`` each epoch's state MSE goes to stderr,
    prefixed by ``label``.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=lr)
    n_batches = -(-n_samples // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs * n_batches)
    history: list[float] = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n_samples)
        total = 0.0
        for start in range(0, n_samples, batch_size):
            idx = order[start : start + batch_size]
            loss, state_mse = batch_loss(idx)
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            total += float(state_mse.detach()) * len(idx)
        history.append(total / n_samples)
        if verbose:
            print(f"{label} epoch {len(history)}/{epochs}: state MSE {history[-1]:.4f}",
                  file=sys.stderr, flush=True)  # fmt: skip
    model.eval()
    return history


@dataclass(frozen=True)
class Recipe:
    """A learned solver with a ConvLSTM gradient modulator and how it is trained."""

    #: The modulator's hidden channels.
    hidden: int
    #: The modulator's time downsampling factor.
    downsample: int
    #: Solver iterations.
    n_step: int
    #: The scale of each learned step.
    lr_grad: float
    #: Training epochs (batches of 32 windows, Adam 3e-3).
    epochs: int
    #: The loss weights.
    weights: LossWeights


def train_learned_solver(
    cost: VariationalCost,
    windows: Windows,
    norm: Standardiser,
    recipe: Recipe,
    label: str,
    verbose: bool,
) -> tuple[LearnedGradientSolver, list[float]]:
    """A learned solver of ``cost`` trained end to end (regularised loss) from the
    interpolation first guess (``label`` and ``verbose`` as for :func:`train`).

    Returns the solver and its loss history.
    """
    modulator = ConvLSTMModulator(
        windows.y.shape[1], recipe.hidden, spatial_dims=1, downsample=recipe.downsample,
        kernel_size=5, dropout=0.0,
    )  # fmt: skip
    solver = LearnedGradientSolver(cost, modulator, n_step=recipe.n_step, lr_grad=recipe.lr_grad)
    y, truth = norm(windows.y), norm(windows.truth)
    first_guess = interpolate_in_time(y, windows.mask)

    def batch_loss(idx: Tensor) -> tuple[Tensor, Tensor]:
        estimate = solver(first_guess[idx], y[idx], windows.mask[idx])
        terms = training_loss(
            LossKind.REGULARISED, recipe.weights, estimate, solver.cost, truth=truth[idx]
        )
        return terms.total, terms.state

    history = train(solver, batch_loss, len(truth), epochs=recipe.epochs, batch_size=32, lr=3e-3,
                    label=label, verbose=verbose)  # fmt: skip
    return solver, history


def solve_in_batches(
    solver: nn.Module, x0: Tensor, y: Tensor, mask: Tensor, size: int = 256
) -> Tensor:
    """Run a solver over windows in batches (results do not depend on ``size``)."""
    parts = [
        solver(x0[i : i + size], y[i : i + size], mask[i : i + size])
        for i in range(0, len(x0), size)
    ]
    return torch.cat(parts)


@dataclass(frozen=True)
class Budget:
    """Sizes of one run (quick or full)."""

    gd_windows: int
    gd_steps: int
    train_windows: int
    test_windows: int
    epochs63: int
    epochs96: int
    n_step63: int
    n_step96: int


QUICK = Budget(gd_windows=8, gd_steps=1000, train_windows=96, test_windows=32,
               epochs63=2, epochs96=2, n_step63=5, n_step96=5)  # fmt: skip
FULL = Budget(gd_windows=256, gd_steps=4000, train_windows=2048, test_windows=512,
              epochs63=30, epochs96=10, n_step63=10, n_step96=10)  # fmt: skip


def observed_label(problem: Problem) -> str:
    if len(problem.observed) == problem.n_vars:
        return "all"
    if len(problem.observed) <= 3:
        return ", ".join(f"x{i + 1}" for i in problem.observed)
    return f"{len(problem.observed)}/{problem.n_vars}"


def experiment_data(
    problem: Problem, budget: Budget, seed: int, n_test: int
) -> tuple[Windows, Windows, Standardiser]:
    """Training windows (seed), ``n_test`` test windows (seed + 1), training-truth standardiser."""
    train = simulate(problem, budget.train_windows, seed)
    test = simulate(problem, n_test, seed + 1)
    return train, test, Standardiser.fit(train.truth)


def fourdvar_rows(problem: Problem, budget: Budget, seed: int, lecture: str) -> list[Row]:
    """Interpolation and weak-constraint 4DVar (GD with the true dynamics)."""
    _, test, norm = experiment_data(problem, budget, seed, budget.gd_windows)
    y, x0 = norm(test.y), interpolate_in_time(norm(test.y), test.mask)
    prior = ODEPrior(StandardisedDynamics(problem.dynamics, norm.mean, norm.std), problem.dt)
    # A stiff model-error weight (the model is perfect); step half the stable limit.
    cost = VariationalCost(MaskOperator(), prior, obs_weight=1.0, prior_weight=1e3)
    solver = GradientDescentSolver(cost, n_step=budget.gd_steps, step_size=0.05).eval()
    estimate = norm.inverse(solver(x0, y, test.mask))
    label = observed_label(problem)
    return [
        Row(problem.name, "linear interpolation", label, *score(norm.inverse(x0), test.truth), "-"),
        Row(
            problem.name,
            f"4DVar (GD, true ODE, {budget.gd_steps} steps)",
            label,
            *score(estimate, test.truth),
            lecture,
        ),  # fmt: skip
    ]


def fourdvarnet63_rows(budget: Budget, seed: int, verbose: bool) -> tuple[list[Row], list[float]]:
    """4DVarNet with a learnable bilinear ODE prior, only x1 observed."""
    problem = lorenz63(observed=(0,))
    train, test, norm = experiment_data(problem, budget, seed, budget.test_windows)
    torch.manual_seed(seed)
    prior = ODEPrior(BilinearDynamics(problem.n_vars), problem.dt)
    cost = VariationalCost(MaskOperator(), prior, obs_weight=1.0, prior_weight=1.0)
    weights = LossWeights(state=1.0, gradient=0.0, prior=1.0)
    recipe = Recipe(32, 4, budget.n_step63, 0.01, budget.epochs63, weights)
    solver, history = train_learned_solver(cost, train, norm, recipe, "Lorenz-63 4DVarNet", verbose)
    y = norm(test.y)
    estimate = norm.inverse(
        solve_in_batches(solver, interpolate_in_time(y, test.mask), y, test.mask)
    )
    rows = [
        Row(problem.name, "linear interpolation", "x1",
            *score(norm.inverse(interpolate_in_time(y, test.mask)), test.truth), "-"),
        Row(problem.name, f"4DVarNet (learned ODE + ConvLSTM, {budget.n_step63} steps)", "x1",
            *score(estimate, test.truth), "1.65 / 0.023"),
    ]  # fmt: skip
    return rows, history


def direct63_rows(budget: Budget, seed: int, verbose: bool) -> tuple[list[Row], list[float]]:
    """The lecture's plain end-to-end baseline on the data of :func:`fourdvarnet63_rows`."""
    problem = lorenz63(observed=(0,))
    train_windows, test, norm = experiment_data(problem, budget, seed, budget.test_windows)
    torch.manual_seed(seed)
    net = DirectNet(problem.n_vars, width=16, spatial_dims=1, depth=3)
    y, truth = norm(train_windows.y), norm(train_windows.truth)

    def batch_loss(idx: Tensor) -> tuple[Tensor, Tensor]:
        mse = (net(y[idx], train_windows.mask[idx]) - truth[idx]).square().mean()
        return mse, mse

    history = train(net, batch_loss, len(truth), epochs=budget.epochs63, batch_size=32, lr=3e-3,
                    label="Lorenz-63 direct", verbose=verbose)  # fmt: skip
    with torch.no_grad():
        estimate = norm.inverse(net(norm(test.y), test.mask))
    row = Row(problem.name, "direct UNet (observations + mask -> state)", "x1",
              *score(estimate, test.truth), "-")  # fmt: skip
    return [row], history


def fourdvarnet96_rows(budget: Budget, seed: int, verbose: bool) -> tuple[list[Row], list[float]]:
    """Fixed-step descent vs the learned solver, both with the true ODE prior."""
    problem = lorenz96()
    train, test, norm = experiment_data(problem, budget, seed, budget.test_windows)
    prior = ODEPrior(StandardisedDynamics(problem.dynamics, norm.mean, norm.std), problem.dt)
    cost = VariationalCost(MaskOperator(), prior, obs_weight=10.0, prior_weight=1e2)
    y = norm(test.y)
    x0 = interpolate_in_time(y, test.mask)
    label = observed_label(problem)
    rows = [
        Row(problem.name, "linear interpolation", label, *score(norm.inverse(x0), test.truth), "-")
    ]
    for n_step in (budget.n_step96, 10 * budget.n_step96):
        descent = GradientDescentSolver(cost, n_step=n_step, step_size=10.0).eval()
        rows.append(
            Row(problem.name, f"fixed-step GD (true ODE, {n_step} steps)", label,
                *score(norm.inverse(solve_in_batches(descent, x0, y, test.mask)), test.truth),
                "0.168 (normalised)" if n_step == budget.n_step96 else "-")
        )  # fmt: skip
    torch.manual_seed(seed)
    weights = LossWeights(state=1.0, gradient=0.0, prior=0.0)
    recipe = Recipe(64, 2, budget.n_step96, 0.1, budget.epochs96, weights)
    solver, history = train_learned_solver(cost, train, norm, recipe, "Lorenz-96 4DVarNet", verbose)
    estimate = norm.inverse(solve_in_batches(solver, x0, y, test.mask))
    rows.append(
        Row(problem.name, f"4DVarNet solver (true ODE + ConvLSTM, {budget.n_step96} steps)", label,
            *score(estimate, test.truth), "0.042 (normalised)")
    )  # fmt: skip
    return rows, history


@dataclass(frozen=True)
class Results:
    """Everything a run measured."""

    rows: list[Row]
    history63: list[float]
    history96: list[float]
    seconds: float


EXPERIMENTS = ("4dvar63", "4dvarnet63", "direct63", "lorenz96")


def run(
    quick: bool, seed: int = 2021, experiments: Sequence[str] = EXPERIMENTS, verbose: bool = False
) -> Results:
    """Run the experiments; ``quick`` uses tiny sizes (seconds), else the full budget."""
    budget = QUICK if quick else FULL
    start = time.perf_counter()
    rows: list[Row] = []
    history63: list[float] = []
    history96: list[float] = []
    if "4dvar63" in experiments:
        rows += fourdvar_rows(lorenz63(), budget, seed, "1.998 / 0.024")
    if "4dvarnet63" in experiments:
        rows63, history63 = fourdvarnet63_rows(budget, seed, verbose)
        rows += rows63
    if "direct63" in experiments:
        rows += direct63_rows(budget, seed, verbose)[0]
    if "lorenz96" in experiments:
        rows96, history96 = fourdvarnet96_rows(budget, seed, verbose)
        rows += rows96
    return Results(rows, history63, history96, time.perf_counter() - start)


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table like the lecture's."""
    header = ("system", "method", "observed", "MSE", "normalised MSE", "lecture (MSE / norm.)")
    lines = [
        (r.system, r.method, r.observed, f"{r.mse:.3f}", f"{r.normalised_mse:.4f}", r.lecture)
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=True)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), "-+-".join("-" * w for w in widths)]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the tests")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--experiment", choices=EXPERIMENTS, action="append", help="run only these (repeatable)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = run(args.quick, args.seed, args.experiment or EXPERIMENTS, verbose=True)
    print(format_table(results.rows))
    print(
        "normalised MSE = MSE / variance of the true state (per variable over the test windows, "
        "averaged over variables)"
    )
    for name, history in (("Lorenz-63", results.history63), ("Lorenz-96", results.history96)):
        if history:
            losses = ", ".join(f"{v:.4f}" for v in history)
            print(f"{name}: training state MSE per epoch (standardised units): {losses}")
    print(f"mode: {'quick' if args.quick else 'full'}, seed {args.seed}, {args.threads} thread(s), "
          f"{results.seconds:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
