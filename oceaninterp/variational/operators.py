"""Observation operators: linear maps with an explicit ``forward`` and ``adjoint``.

Conventions shared by the whole :mod:`oceaninterp.variational` package
-----------------------------------------------------------------------
A *state* is a float tensor ``(B, C, *space)`` with ``len(space) ==
spatial_dims``:

- ``spatial_dims=2``: ``(B, C, H, W)``, e.g. SSH tiles with the days of the
  tile stacked as channels (``C = T``) as in the 4DVarNet reference code;
- ``spatial_dims=1``: ``(B, C, N)``, e.g. the Lorenz systems with the state
  variables as channels and time along ``N``.

A *mask* has the shape of the state; it is ``True`` (or 1.0) where a value is
observed. Observations ``y`` have the shape of the state too and may hold NaN
(or anything) where the mask is off: those values are never read.

Every operator here is linear in the state, so that the shared
:func:`adjointness_error` checks ``<A x, r> == <x, A* r>``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from oceaninterp.variational.layers import conv_class


def masked_observations(y: Tensor, mask: Tensor) -> Tensor:
    """Observations with every unobserved value (and any NaN there) set to 0.

    Parameters
    ----------
    y
        Observations, shape of the state, any value where ``mask`` is off.
    mask
        Boolean or 0/1 float mask, shape of the state.
    """
    return torch.where(mask.bool(), y, torch.zeros((), dtype=y.dtype, device=y.device))


class ObservationOperator(nn.Module, ABC):
    """A linear map H from the state to observation space, with its adjoint.

    Both methods take the observation ``mask`` of the batch, since which values
    are observed changes from one sample to the next; an operator that does
    not depend on it ignores it.
    """

    @abstractmethod
    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Apply H to a state ``x`` ``(B, C, *space)``."""

    @abstractmethod
    def adjoint(self, r: Tensor, mask: Tensor) -> Tensor:
        """Apply the adjoint H* to a residual ``r`` in observation space."""


class MaskOperator(ObservationOperator):
    """Pointwise sampling of the state where ``mask`` is on: ``H x = mask * x``.

    Observation space is the state's shape with zeros where nothing is
    observed; H is an orthogonal projection, hence self-adjoint.
    """

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return x * mask.to(x.dtype)

    def adjoint(self, r: Tensor, mask: Tensor) -> Tensor:
        return r * mask.to(r.dtype)


class ConvOperator(ObservationOperator):
    """A trainable convolution without bias (so linear): ``H x = G * x``.

    Parameters
    ----------
    in_channels, out_channels
        Channels of the state and of the features.
    spatial_dims
        1 for states ``(B, C, N)``, 2 for ``(B, C, H, W)``.
    kernel_size
        Odd kernel size; padding keeps the spatial shape.

    The adjoint is the transposed convolution with the same weights.
    """

    def __init__(
        self, in_channels: int, out_channels: int, spatial_dims: int = 2, kernel_size: int = 3
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size: expected an odd size, got {kernel_size}")
        self.spatial_dims = spatial_dims
        self.padding = kernel_size // 2
        self.conv = conv_class(spatial_dims)(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.conv(x)

    def adjoint(self, r: Tensor, mask: Tensor | None = None) -> Tensor:
        transpose = F.conv_transpose1d if self.spatial_dims == 1 else F.conv_transpose2d
        return transpose(r, self.conv.weight, padding=self.padding)


class MultimodalTerm(nn.Module):
    """The multimodal cost ``alpha * ||G * x - F * z||^2`` of 4DVarNet-SST.

    ``G`` (linear, :class:`ConvOperator`) maps the state and ``F`` (a
    convolution with bias) maps an auxiliary field ``z`` observed everywhere
    (e.g. SST) into a shared feature space; both are trained with the rest of
    the model, so the term learns which features of ``z`` tell about ``x``.

    Parameters
    ----------
    channels
        Channels of the state ``x``.
    aux_channels
        Channels of the auxiliary field ``z`` (same spatial shape as ``x``).
    features
        Channels of the shared feature space.
    alpha
        Weight of the term in the variational cost (dimensionless, applied to
        the mean squared feature mismatch).
    spatial_dims
        1 or 2, see the module docstring.
    kernel_size
        Odd kernel size of G and F.
    """

    def __init__(
        self,
        channels: int,
        aux_channels: int,
        features: int,
        alpha: float = 1.0,
        spatial_dims: int = 2,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        self.alpha = alpha
        self.state_features = ConvOperator(channels, features, spatial_dims, kernel_size)
        self.aux_features = conv_class(spatial_dims)(
            aux_channels, features, kernel_size, padding=kernel_size // 2
        )

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        """The weighted cost of each sample, ``alpha * mean((G x - F z)^2)``, shape ``(B,)``."""
        mismatch = self.state_features(x) - self.aux_features(z)
        return self.alpha * mismatch.square().mean(dim=tuple(range(1, x.ndim)))


def adjointness_error(
    operator: ObservationOperator, x: Tensor, mask: Tensor, *, seed: int = 0
) -> float:
    """Relative mismatch ``|<H x, r> - <x, H* r>| / (|H x| |r|)`` for a random ``r``.

    The shared test of every operator (in the spirit of deepinv's
    ``adjointness_test``): it is at rounding level (about 1e-7 in float32,
    1e-15 in float64) for a correct adjoint.

    Parameters
    ----------
    operator
        The operator under test.
    x
        A state ``(B, C, *space)``.
    mask
        The observation mask given to both ``forward`` and ``adjoint``.
    seed
        Seed of the random residual ``r``.
    """
    with torch.no_grad():
        hx = operator.forward(x, mask)
        generator = torch.Generator(device=x.device).manual_seed(seed)
        r = torch.randn(hx.shape, generator=generator, dtype=hx.dtype, device=hx.device)
        lhs = (hx * r).sum()
        rhs = (x * operator.adjoint(r, mask)).sum()
        scale = hx.norm() * r.norm()
        return float((lhs - rhs).abs() / scale.clamp_min(torch.finfo(x.dtype).tiny))
