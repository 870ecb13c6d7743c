"""Tendencies ``dx/dt = M(x)`` of ordinary differential equations, and an RK4 step.

A dynamics module maps a state ``(B, C, *rest)`` whose *channels are the
state variables* to its time derivative, same shape: every position of
``rest`` (e.g. every time of a window) is an independent state vector. They
feed :class:`~oceaninterp.variational.priors.ODEPrior` and the Lorenz
benchmark's simulations. Time is in the model's own (dimensionless) units.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn


def rk4_step(dynamics: nn.Module, x: Tensor, dt: float) -> Tensor:
    """One fourth-order Runge-Kutta step of ``dx/dt = dynamics(x)`` over ``dt``."""
    k1 = dynamics(x)
    k2 = dynamics(x + 0.5 * dt * k1)
    k3 = dynamics(x + 0.5 * dt * k2)
    k4 = dynamics(x + dt * k3)
    return x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


class Lorenz63(nn.Module):
    """The Lorenz-63 tendency; channels are (x1, x2, x3).

    Parameters
    ----------
    sigma, rho, beta
        The classic parameters (10, 28, 8/3 give the chaotic attractor).
    """

    def __init__(self, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> None:
        super().__init__()
        self.sigma, self.rho, self.beta = sigma, rho, beta

    def forward(self, x: Tensor) -> Tensor:
        x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
        return torch.stack(
            (
                self.sigma * (x2 - x1),
                x1 * (self.rho - x3) - x2,
                x1 * x2 - self.beta * x3,
            ),
            dim=1,
        )


class Lorenz96(nn.Module):
    """The Lorenz-96 tendency ``(x_{i+1} - x_{i-2}) x_{i-1} - x_i + F`` on a ring.

    Channels are the ring's variables (any number >= 4).

    Parameters
    ----------
    forcing
        The constant forcing F (8 gives chaos with 40 variables).
    """

    def __init__(self, forcing: float = 8.0) -> None:
        super().__init__()
        self.forcing = forcing

    def forward(self, x: Tensor) -> Tensor:
        plus1 = torch.roll(x, -1, dims=1)
        minus1 = torch.roll(x, 1, dims=1)
        minus2 = torch.roll(x, 2, dims=1)
        return (plus1 - minus2) * minus1 - x + self.forcing


class BilinearDynamics(nn.Module):
    """A learnable tendency with every constant, linear and quadratic term.

    ``dx_i/dt = b_i + sum_j A_ij x_j + sum_{j<=k} Q_ijk x_j x_k``: the family of
    Lorenz-63 (and the learnable ODE prior of the lecture). Parameters start
    small and random.

    Parameters
    ----------
    n_vars
        Number of state variables (channels).
    init_scale
        Standard deviation of the initial coefficients.
    """

    pair_j: Tensor
    pair_k: Tensor

    def __init__(self, n_vars: int, init_scale: float = 0.01) -> None:
        super().__init__()
        pairs = list(itertools.combinations_with_replacement(range(n_vars), 2))
        self.register_buffer("pair_j", torch.tensor([j for j, _ in pairs]), persistent=False)
        self.register_buffer("pair_k", torch.tensor([k for _, k in pairs]), persistent=False)
        self.constant = nn.Parameter(init_scale * torch.randn(n_vars))
        self.linear = nn.Parameter(init_scale * torch.randn(n_vars, n_vars))
        self.quadratic = nn.Parameter(init_scale * torch.randn(n_vars, len(pairs)))

    def forward(self, x: Tensor) -> Tensor:
        products = x[:, self.pair_j] * x[:, self.pair_k]
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (
            self.constant.view(shape)
            + torch.einsum("ij,bj...->bi...", self.linear, x)
            + torch.einsum("ip,bp...->bi...", self.quadratic, products)
        )


class StandardisedDynamics(nn.Module):
    """A tendency expressed in standardised variables ``u = (x - mean) / std``.

    ``du/dt = M(mean + std * u) / std``, so a known model can serve as the
    prior of a solver working on normalised states.

    Parameters
    ----------
    dynamics
        Tendency ``M`` in physical variables.
    mean, std
        Per-variable mean and standard deviation, shape ``(C,)``.
    """

    mean: Tensor
    std: Tensor

    def __init__(self, dynamics: nn.Module, mean: Tensor, std: Tensor) -> None:
        super().__init__()
        self.dynamics = dynamics
        self.register_buffer("mean", mean.detach().clone().reshape(-1))
        self.register_buffer("std", std.detach().clone().reshape(-1))

    def forward(self, u: Tensor) -> Tensor:
        shape = (1, -1) + (1,) * (u.ndim - 2)
        mean, std = self.mean.view(shape), self.std.view(shape)
        return self.dynamics(mean + std * u) / std
