"""The Lorenz verification of the variational core (benchmarks/lorenz.py)."""

from __future__ import annotations

from types import ModuleType

import pytest
import torch
from benchscript import load_benchmark

from oceaninterp.threads import torch_threads


@pytest.fixture(scope="module")
def lorenz() -> ModuleType:
    return load_benchmark("lorenz")


@pytest.fixture(scope="module")
def one_thread():
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def quick(lorenz: ModuleType, one_thread):
    """The quick run, without the direct-network row (a baseline, not a claim)."""
    return lorenz.run(quick=True, seed=2021, experiments=("4dvar63", "4dvarnet63", "lorenz96"))


def _row(results, system: str, method_start: str, observed: str):
    (row,) = [
        r
        for r in results.rows
        if r.system == system and r.method.startswith(method_start) and r.observed == observed
    ]
    return row


def test_interpolation_in_time(lorenz: ModuleType) -> None:
    y = torch.tensor([[[float("nan"), 2.0, float("nan"), float("nan"), 8.0, float("nan")]]])
    mask = torch.isfinite(y)
    out = lorenz.interpolate_in_time(y, mask)
    assert torch.allclose(out, torch.tensor([[[2.0, 2.0, 4.0, 6.0, 8.0, 8.0]]]))
    assert torch.equal(lorenz.interpolate_in_time(y, torch.zeros_like(mask)), torch.zeros_like(y))


def test_simulated_windows_follow_the_dynamics(lorenz: ModuleType) -> None:
    from oceaninterp.variational import ODEPrior

    for problem in (lorenz.lorenz63(), lorenz.lorenz96()):
        windows = lorenz.simulate(problem, 3, seed=1)
        assert windows.truth.shape == (3, problem.n_vars, problem.window)
        prior = ODEPrior(problem.dynamics, problem.dt)
        rel = (windows.truth - prior(windows.truth)).norm() / windows.truth.norm()
        assert rel < 1e-5
        observed = windows.mask[0, :, :: problem.obs_every]
        assert observed[list(problem.observed)].all()
        assert int(windows.mask.sum()) == 3 * len(problem.observed) * len(
            range(0, problem.window, problem.obs_every)
        )
        noise = (windows.y - windows.truth)[windows.mask]
        assert 1.0 < float(noise.var()) < 3.5  # variance 2
        assert torch.isnan(windows.y[~windows.mask]).all()


def test_quick_weak_constraint_4dvar_meets_the_lecture(quick) -> None:
    interpolation = _row(quick, "Lorenz-63", "linear interpolation", "all")
    fourdvar = _row(quick, "Lorenz-63", "4DVar (GD", "all")
    assert fourdvar.normalised_mse <= 0.03
    assert fourdvar.normalised_mse < 0.5 * interpolation.normalised_mse


def test_quick_4dvarnet_trains(quick) -> None:
    assert quick.history63[-1] < quick.history63[0]
    assert quick.history96[-1] < quick.history96[0]
    interpolation = _row(quick, "Lorenz-63", "linear interpolation", "x1")
    learned = _row(quick, "Lorenz-63", "4DVarNet", "x1")
    assert learned.normalised_mse < interpolation.normalised_mse


def test_quick_learned_solver_beats_fixed_step_descent_lorenz96(quick, lorenz: ModuleType) -> None:
    n_step = lorenz.QUICK.n_step96
    descent = _row(quick, "Lorenz-96", f"fixed-step GD (true ODE, {n_step} steps)", "20/40")
    learned = _row(quick, "Lorenz-96", "4DVarNet solver", "20/40")
    assert learned.normalised_mse < descent.normalised_mse


def test_table_lists_every_row(quick, lorenz: ModuleType) -> None:
    table = lorenz.format_table(quick.rows)
    assert "normalised MSE" in table
    assert len(table.splitlines()) == 2 + len(quick.rows)


@pytest.mark.slow
def test_full_run_reaches_the_lecture_numbers(lorenz: ModuleType, one_thread) -> None:
    results = lorenz.run(quick=False, seed=2021)
    assert _row(results, "Lorenz-63", "4DVar (GD", "all").normalised_mse <= 0.03
    assert _row(results, "Lorenz-63", "4DVarNet", "x1").normalised_mse <= 0.025
    n_step = lorenz.FULL.n_step96
    descent = _row(results, "Lorenz-96", f"fixed-step GD (true ODE, {n_step} steps)", "20/40")
    learned = _row(results, "Lorenz-96", "4DVarNet solver", "20/40")
    assert learned.normalised_mse < descent.normalised_mse
