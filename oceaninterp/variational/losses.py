"""Training losses of 4DVarNet: supervised, unsupervised and regularised.

- ``SUPERVISED`` (the reference code's loss)::

      state * mse(x, x_true) + gradient * mse(D x, D x_true) + prior * mse(x, Phi(x))

- ``UNSUPERVISED`` (no truth needed: the variational cost of the estimate)::

      observation * ||x - y||^2_Omega / n_obs + prior * mse(x, Phi(x))

  (per-sample means, averaged over the batch)

- ``REGULARISED`` (the lecture's regularisation loss, added to the
  supervised state and gradient terms; set ``state = gradient = 0`` for the
  regulariser alone)::

      state * mse(x, x_true) + gradient * mse(D x, D x_true)
      + prior * (mse(x, Phi(x)) + mse(x_true, Phi(x_true)))

  (NaN in the truth are set to 0 before ``Phi(x_true)``)

``D`` is the Sobel gradient (2-D states: both components of the normalised
3x3 Sobel filter per channel; 1-D states: the centred difference), with
replicated edges. ``mse`` terms against the truth are weighted means with an
optional ``weight`` broadcastable to the state (e.g. the tile window), and
leave out values where the truth is not finite (e.g. land).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import torch
from torch import Tensor
from torch.nn import functional as F

from oceaninterp.variational.costs import VariationalCost


class LossKind(StrEnum):
    """Which training loss (see the module docstring); ``LossKind("supervised")`` works."""

    SUPERVISED = "supervised"
    UNSUPERVISED = "unsupervised"
    REGULARISED = "regularised"


@dataclass(frozen=True)
class LossWeights:
    """Named weights of the loss terms (defaults: the reference code's).

    Attributes
    ----------
    state
        Weight of the state MSE against the truth (reference: 50).
    gradient
        Weight of the Sobel-gradient MSE against the truth (reference: 1000).
    prior
        Weight of the prior cost ``mse(x, Phi(x))`` (reference: 1).
    observation
        Weight of the observation misfit (unsupervised loss only).
    """

    state: float = 50.0
    gradient: float = 1000.0
    prior: float = 1.0
    observation: float = 1.0

    def __post_init__(self) -> None:
        for name in ("state", "gradient", "prior", "observation"):
            if getattr(self, name) < 0:
                raise ValueError(f"LossWeights.{name}: expected >= 0, got {getattr(self, name)}")


class LossTerms(NamedTuple):
    """The loss and its unweighted terms (0-d tensors; 0 when unused), for logging."""

    total: Tensor
    state: Tensor
    gradient: Tensor
    prior: Tensor
    observation: Tensor


def sobel_gradient(x: Tensor) -> Tensor:
    """Spatial gradient of every channel of ``x``.

    Parameters
    ----------
    x
        ``(B, C, N)`` or ``(B, C, H, W)``.

    Returns
    -------
    Tensor
        ``(B, C, N)`` centred differences ``(x[i+1] - x[i-1]) / 2``, or
        ``(B, 2C, H, W)``: d/dW then d/dH of each channel, Sobel kernels
        divided by 8 (so a unit ramp gives 1 per pixel).
    """
    channels = x.shape[1]
    if x.ndim == 3:
        kernel = x.new_tensor([-0.5, 0.0, 0.5]).view(1, 1, 3).repeat(channels, 1, 1)
        return F.conv1d(F.pad(x, (1, 1), mode="replicate"), kernel, groups=channels)
    if x.ndim != 4:
        raise ValueError(
            f"sobel_gradient: expected (B, C, N) or (B, C, H, W), got {tuple(x.shape)}"
        )
    d_w = x.new_tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
    kernel = torch.stack((d_w, d_w.T)).unsqueeze(1).repeat(channels, 1, 1, 1)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)


def weighted_mse(error: Tensor, weight: Tensor | None = None) -> Tensor:
    """``sum(w e^2) / sum(w)`` over the finite values of ``error`` (w = 1 by default)."""
    finite = torch.isfinite(error)
    w = finite.to(error.dtype) if weight is None else finite * weight.to(error.dtype)
    w = w.expand_as(error)
    e = torch.where(finite, error, torch.zeros((), dtype=error.dtype, device=error.device))
    return (w * e.square()).sum() / w.sum().clamp_min(torch.finfo(error.dtype).tiny)


def _weighted_gradient_weight(weight: Tensor | None, estimate: Tensor) -> Tensor | None:
    if weight is None or estimate.ndim == 3:
        return weight
    w = weight.expand_as(estimate)
    return torch.cat((w, w), dim=1)


def training_loss(
    kind: LossKind,
    weights: LossWeights,
    estimate: Tensor,
    cost: VariationalCost,
    *,
    truth: Tensor | None = None,
    y: Tensor | None = None,
    mask: Tensor | None = None,
    weight: Tensor | None = None,
) -> LossTerms:
    """Evaluate a training loss of the solver output.

    Parameters
    ----------
    kind
        Which loss.
    weights
        Term weights.
    estimate
        Solver output ``(B, C, *space)``.
    cost
        The variational cost; its prior is Phi and its observation term
        serves the unsupervised loss.
    truth
        True state, shape of ``estimate`` (NaN allowed, left out); needed by
        the supervised and regularised losses.
    y, mask
        Observations and mask; needed by the unsupervised loss.
    weight
        Optional weights broadcastable to the state for the terms against the
        truth (e.g. a tile window; 0 = ignored).
    """
    zero = estimate.new_zeros(())
    prior_term = cost.prior_cost(estimate).mean()
    if kind is LossKind.UNSUPERVISED:
        if y is None or mask is None:
            raise ValueError("training_loss: the unsupervised loss needs y and mask")
        obs_term = cost.observation_cost(estimate, y, mask).mean()
        total = weights.observation * obs_term + weights.prior * prior_term
        return LossTerms(total, zero, zero, prior_term, obs_term)
    if truth is None:
        raise ValueError(f"training_loss: the {kind.value} loss needs the truth")
    state_term = weighted_mse(estimate - truth, weight)
    gradient_term = weighted_mse(
        sobel_gradient(estimate) - sobel_gradient(truth),
        _weighted_gradient_weight(weight, estimate),
    )
    if kind is LossKind.REGULARISED:
        finite_truth = torch.nan_to_num(truth)
        prior_term = prior_term + cost.prior_cost(finite_truth).mean()
    total = (
        weights.state * state_term + weights.gradient * gradient_term + weights.prior * prior_term
    )
    return LossTerms(total, state_term, gradient_term, prior_term, zero)
