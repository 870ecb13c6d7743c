"""Solvers of ``min_x U(x, y, Omega)``, composed from injected parts.

Every solver is an ``nn.Module`` called as ``solver(x0, y, mask, aux=None)``
and returns the estimated state, shape of ``x0`` (conventions of
:mod:`oceaninterp.variational.operators`). Gradients of the cost come from
autograd (no adjoint code).

Graph policy: in training mode, when autograd is enabled by the caller, the
whole unrolled solver stays differentiable (``create_graph=True``) so the
training loss back-propagates into the prior and the modulator. Otherwise
(``eval()`` or under ``torch.no_grad()``) the graph is dropped after every
iteration, so memory does not grow with the number of steps, and the
result is detached.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from oceaninterp.variational.costs import VariationalCost
from oceaninterp.variational.modulators import ConvLSTMModulator
from oceaninterp.variational.operators import masked_observations


def observations_first_guess(y: Tensor, mask: Tensor) -> Tensor:
    """The reference code's initial state: observations, 0 in the gaps."""
    return masked_observations(y, mask)


def _keeps_graph(module: nn.Module) -> bool:
    return module.training and torch.is_grad_enabled()


def _start(solver: nn.Module, x0: Tensor) -> tuple[bool, Tensor]:
    """Whether ``solver`` keeps the graph (module docstring), and its first state."""
    keep_graph = _keeps_graph(solver)
    if keep_graph and x0.requires_grad:
        return keep_graph, x0
    return keep_graph, x0.detach().clone().requires_grad_(True)


def cost_gradient(
    cost: VariationalCost,
    x: Tensor,
    y: Tensor,
    mask: Tensor,
    aux: Tensor | None,
    keep_graph: bool,
) -> Tensor:
    """``dU/dx`` by autograd; differentiable itself when ``keep_graph``.

    ``x`` must require grad.
    """
    with torch.enable_grad():
        value = cost(x, y, mask, aux)
        (grad,) = torch.autograd.grad(value, x, create_graph=keep_graph)
    return grad


class GradientDescentSolver(nn.Module):
    """Plain fixed-step gradient descent on U: weak-constraint 4DVar when Phi is known.

    ``x_{k+1} = x_k - step_size * grad U(x_k)``, ``n_step`` times.

    Parameters
    ----------
    cost
        The variational cost.
    n_step
        Number of iterations.
    step_size
        Step in state units per unit of gradient.
    """

    def __init__(self, cost: VariationalCost, n_step: int, step_size: float) -> None:
        super().__init__()
        self.cost = cost
        self.n_step = n_step
        self.step_size = step_size

    def forward(self, x0: Tensor, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        keep_graph, x = _start(self, x0)
        for _ in range(self.n_step):
            grad = cost_gradient(self.cost, x, y, mask, aux, keep_graph)
            x = x - self.step_size * grad
            if not keep_graph:
                x = x.detach().requires_grad_(True)
        return x if keep_graph else x.detach()


class FixedPointSolver(nn.Module):
    """The projection scheme: ``x <- Phi(x)``, then observed values re-imposed.

    Parameters
    ----------
    prior
        Phi.
    n_step
        Number of iterations.
    """

    def __init__(self, prior: nn.Module, n_step: int) -> None:
        super().__init__()
        self.prior = prior
        self.n_step = n_step

    def forward(self, x0: Tensor, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        """``aux`` is accepted for a uniform solver signature and unused."""
        observed = mask.bool()
        with torch.set_grad_enabled(_keeps_graph(self)):
            x = torch.where(observed, y, x0)
            for _ in range(self.n_step):
                x = torch.where(observed, y, self.prior(x))
        return x


class LearnedGradientSolver(nn.Module):
    """The 4DVarNet solver: unrolled gradient descent modulated by a ConvLSTM.

    At iteration ``k = 0 .. n_step-1``, with ``g = grad U(x_k)`` and ``s`` the
    root mean square of the *first* gradient of each sample::

        m, h = modulator(g / s, h)
        x_{k+1} = x_k - m / (k + 1) - lr_grad * (k + 1) / n_step * g

    as in the reference code (note the raw ``g``, not ``g / s``, in the
    second term). ``s`` is per sample (the reference uses one value per
    batch), so a sample's result does not depend on its batch mates.

    Parameters
    ----------
    cost
        The variational cost; its prior is trained with the solver.
    modulator
        The ConvLSTM gradient modulator.
    n_step
        Number of unrolled iterations (reference: 10 base, 15 bigger).
    lr_grad
        Weight of the plain gradient step, in state units per unit of the
        raw gradient of the per-sample cost (reference: 1e3 with one mean over
        a batch of 4 tiles of 15 x 240 x 240, i.e. about 250 with this
        package's per-sample means).
    final_prior
        Pass the final state once more through Phi (the reference does it at
        inference); here it is done in training and inference alike.
    """

    def __init__(
        self,
        cost: VariationalCost,
        modulator: ConvLSTMModulator,
        n_step: int,
        lr_grad: float,
        final_prior: bool = False,
    ) -> None:
        super().__init__()
        self.cost = cost
        self.modulator = modulator
        self.n_step = n_step
        self.lr_grad = lr_grad
        self.final_prior = final_prior

    def forward(self, x0: Tensor, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        """Run the solver from ``x0`` (e.g. :func:`observations_first_guess`)."""
        keep_graph, x = _start(self, x0)
        memory = self.modulator.initial_state(x)
        reduce_dims = tuple(range(1, x.ndim))
        scale = x.new_ones(())
        for k in range(self.n_step):
            grad = cost_gradient(self.cost, x, y, mask, aux, keep_graph)
            with torch.set_grad_enabled(keep_graph):
                if k == 0:
                    rms = grad.square().mean(dim=reduce_dims, keepdim=True).sqrt()
                    scale = rms.clamp_min(torch.finfo(grad.dtype).tiny)
                increment, memory = self.modulator(grad / scale, memory)
                x = x - increment / (k + 1) - self.lr_grad * (k + 1) / self.n_step * grad
            if not keep_graph:
                x = x.detach().requires_grad_(True)
        with torch.set_grad_enabled(keep_graph):
            if self.final_prior:
                x = self.cost.prior(x)
        return x if keep_graph else x.detach()
