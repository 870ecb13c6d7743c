"""The variational cost ``U(x, y, Omega)`` minimised by the solvers.

    U = obs_weight   * ||H x - H y||^2_Omega / n_obs
      + prior_weight * ||x - Phi(x)||^2 / n_state
      [+ alpha * ||G x - F z||^2 / n_features]   (optional multimodal term)

Squared norms are *means* over one sample (over its observed values, over
all its values), as in the 4DVarNet reference code, so the weights do not
depend on the tile size; the cost of a batch is the *sum* over its samples
(the reference takes one mean over the batch), so a sample's gradient does
not depend on the batch size. With a fixed, known Phi this is the
weak-constraint 4DVar cost: ``obs_weight`` plays ``1 / sigma_obs^2`` and
``prior_weight`` plays ``1 / sigma_model^2`` (up to the ratio of counts).
"""

from __future__ import annotations

from torch import Tensor, nn

from oceaninterp.variational.operators import (
    MultimodalTerm,
    ObservationOperator,
    masked_observations,
)


class VariationalCost(nn.Module):
    """``U(x, y, mask[, z])``: a scalar for the whole batch, differentiable in ``x``.

    Parameters
    ----------
    obs_operator
        H, e.g. :class:`~oceaninterp.variational.operators.MaskOperator`.
        Observations ``y`` are given on the state's grid (shape of ``x``).
    prior
        Phi, a module mapping a state to a state of the same shape.
    obs_weight
        Weight of the mean squared observation misfit (units of 1 / y^2 when
        the state is not normalised).
    prior_weight
        Weight of the mean squared prior misfit ``x - Phi(x)``.
    multimodal
        Optional ``alpha * ||G x - F z||^2`` term with an auxiliary field
        ``z``; when set, every call must pass ``aux``.
    """

    def __init__(
        self,
        obs_operator: ObservationOperator,
        prior: nn.Module,
        obs_weight: float,
        prior_weight: float,
        multimodal: MultimodalTerm | None = None,
    ) -> None:
        super().__init__()
        self.obs_operator = obs_operator
        self.prior = prior
        self.obs_weight = obs_weight
        self.prior_weight = prior_weight
        self.multimodal = multimodal

    def observation_cost(self, x: Tensor, y: Tensor, mask: Tensor) -> Tensor:
        """Per-sample mean squared misfit over the observed values, shape ``(B,)``.

        ``||H x - H y||^2 / n_obs`` for each sample (0 for a sample without
        observations).
        """
        residual = self.obs_operator(x, mask) - self.obs_operator(
            masked_observations(y, mask), mask
        )
        dims = tuple(range(1, x.ndim))
        n_obs = mask.to(x.dtype).sum(dim=dims).clamp_min(1.0)
        return residual.square().sum(dim=dims) / n_obs

    def prior_cost(self, x: Tensor) -> Tensor:
        """Per-sample mean squared prior misfit ``mean((x - Phi(x))^2)``, shape ``(B,)``."""
        return (x - self.prior(x)).square().mean(dim=tuple(range(1, x.ndim)))

    def per_sample(self, x: Tensor, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        """U of each sample, shape ``(B,)``; arguments as in :meth:`forward`."""
        cost = self.obs_weight * self.observation_cost(x, y, mask)
        cost = cost + self.prior_weight * self.prior_cost(x)
        if self.multimodal is not None:
            if aux is None:
                raise ValueError("VariationalCost: this cost has a multimodal term; pass aux")
            cost = cost + self.multimodal(x, aux)
        return cost

    def forward(self, x: Tensor, y: Tensor, mask: Tensor, aux: Tensor | None = None) -> Tensor:
        """Evaluate U, summed over the samples of the batch.

        The sum (not the mean) over samples makes the gradient with respect
        to one sample's state independent of the batch size and of its batch
        mates, so solver steps mean the same at training and inference.

        Parameters
        ----------
        x
            State ``(B, C, *space)``.
        y
            Observations, shape of ``x``; values where ``mask`` is off are ignored
            (NaN allowed there).
        mask
            Observed values, bool or 0/1, shape of ``x``.
        aux
            Auxiliary field ``z`` ``(B, C_aux, *space)`` for the multimodal term.

        Returns
        -------
        Tensor
            A scalar (0-d) tensor: ``sum_b U(x_b, y_b, mask_b)``.
        """
        return self.per_sample(x, y, mask, aux).sum()
