"""The lecture's plain end-to-end baseline: a network from observations to state."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from oceaninterp.variational.operators import masked_observations
from oceaninterp.variational.priors import UNet


class DirectNet(nn.Module):
    """A UNet mapping ``[y with gaps = 0, mask]`` to the state, no variational cost.

    Parameters
    ----------
    channels
        Channels of the state (the input has ``2 * channels``).
    width
        Channels of the UNet's first level.
    spatial_dims
        1 for ``(B, C, N)``, 2 for ``(B, C, H, W)``.
    depth
        Poolings of the UNet.
    """

    def __init__(
        self, channels: int, width: int = 32, spatial_dims: int = 2, depth: int = 2
    ) -> None:
        super().__init__()
        self.net = UNet(2 * channels, width, spatial_dims, depth, out_channels=channels)

    def forward(self, y: Tensor, mask: Tensor) -> Tensor:
        """Estimate the state from observations ``y`` (NaN allowed off ``mask``) and ``mask``."""
        m = mask.to(y.dtype)
        return self.net(torch.cat((masked_observations(y, mask), m), dim=1))
