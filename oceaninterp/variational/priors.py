"""Priors: trainable projections Phi whose fixed points are the plausible states.

Each prior is an ``nn.Module`` mapping a state ``(B, C, *space)`` to a state
of the same shape; the variational cost penalises ``||x - Phi(x)||^2``.
State conventions are those of :mod:`oceaninterp.variational.operators`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from oceaninterp.variational.dynamics import rk4_step
from oceaninterp.variational.layers import avg_pool, conv_class, pool_factor, resize


class BilinearAE(nn.Module):
    """The bilinear auto-encoder prior of the 4DVarNet reference code.

    ``Phi(x) = up(conv_out([lin(h), lin_a(h) * lin_b(h)]))`` with
    ``h = conv_hidden(relu(conv_in(avgpool(x))))``; all convolutions 3 wide
    (3x3 in 2-D), padding keeps shapes; ``up`` is (bi)linear back to the input
    size, so any spatial size works (multiples of ``downsample`` avoid edge
    effects).

    Parameters
    ----------
    channels
        Channels of the state (e.g. the T days of a tile).
    width
        Hidden channels (reference: 32 base, 64 bigger).
    spatial_dims
        1 for ``(B, C, N)``, 2 for ``(B, C, H, W)``.
    downsample
        Average-pooling factor before the encoder (reference: 2; 1 = none).
    """

    def __init__(
        self, channels: int, width: int, spatial_dims: int = 2, downsample: int = 2
    ) -> None:
        super().__init__()
        self.downsample = pool_factor(downsample)
        conv = conv_class(spatial_dims)
        self.conv_in = conv(channels, width, 3, padding=1)
        self.conv_hidden = conv(width, width, 3, padding=1)
        self.lin = conv(width, width, 3, padding=1)
        self.lin_a = conv(width, width, 3, padding=1)
        self.lin_b = conv(width, width, 3, padding=1)
        self.conv_out = conv(2 * width, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv_hidden(F.relu(self.conv_in(avg_pool(x, self.downsample))))
        h = self.conv_out(torch.cat((self.lin(h), self.lin_a(h) * self.lin_b(h)), dim=1))
        return resize(h, tuple(x.shape[2:]))


class _DoubleConv(nn.Sequential):
    def __init__(self, conv: type[nn.Module], c_in: int, c_out: int) -> None:
        super().__init__(
            conv(c_in, c_out, 3, padding=1), nn.ReLU(), conv(c_out, c_out, 3, padding=1), nn.ReLU()
        )


class UNet(nn.Module):
    """A small UNet: ``depth`` poolings by 2, skip connections, width doubling.

    Used as a prior (``in_channels == out_channels``) or, with more input
    channels, as the direct baseline network. Any spatial size works:
    decoder features are resampled to their skip's size.

    Parameters
    ----------
    in_channels
        Input channels.
    width
        Channels of the first level (doubled at each level down).
    spatial_dims
        1 for ``(B, C, N)``, 2 for ``(B, C, H, W)``.
    depth
        Number of poolings by 2.
    out_channels
        Output channels; defaults to ``in_channels``.
    """

    def __init__(
        self,
        in_channels: int,
        width: int = 32,
        spatial_dims: int = 2,
        depth: int = 2,
        out_channels: int | None = None,
    ) -> None:
        super().__init__()
        conv = conv_class(spatial_dims)
        widths = [width * 2**level for level in range(depth + 1)]
        self.encoders = nn.ModuleList(
            [
                _DoubleConv(conv, c_in, c_out)
                for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=True)
            ]
        )
        self.decoders = nn.ModuleList(
            [_DoubleConv(conv, widths[lvl + 1] + widths[lvl], widths[lvl]) for lvl in range(depth)]
        )
        self.head = conv(width, out_channels or in_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        h = x
        for level, encoder in enumerate(self.encoders):
            h = encoder(h if level == 0 else avg_pool(h, 2))
            skips.append(h)
        h = skips.pop()
        for decoder in reversed(self.decoders):
            skip = skips.pop()
            h = decoder(torch.cat((resize(h, tuple(skip.shape[2:])), skip), dim=1))
        return self.head(h)


class ODEPrior(nn.Module):
    """Known- or learned-dynamics prior: ``Phi(x)(t) = x(t - dt) + int M``.

    For a state ``(B, C, N)`` with the C state variables as channels and N
    times ``dt`` apart, ``Phi(x)[..., t]`` is ``x[..., t-1]`` integrated over
    one ``dt`` by ``n_substeps`` RK4 steps of ``dynamics`` (a residual network
    whose blocks are the RK4 stages); the first time is left unchanged. With
    the true ``dynamics``, ``||x - Phi(x)||^2`` is the model-error term of
    weak-constraint 4DVar.

    Parameters
    ----------
    dynamics
        Tendency module ``M`` (channels = state variables), fixed or
        learnable, e.g. :class:`~oceaninterp.variational.dynamics.Lorenz63`
        or :class:`~oceaninterp.variational.dynamics.BilinearDynamics`.
    dt
        Time between consecutive samples of the window, model time units.
    n_substeps
        RK4 steps per ``dt``.
    """

    def __init__(self, dynamics: nn.Module, dt: float, n_substeps: int = 1) -> None:
        super().__init__()
        self.dynamics = dynamics
        self.dt = dt
        self.n_substeps = n_substeps

    def step(self, x: Tensor) -> Tensor:
        """Integrate states ``(B, C, ...)`` forward by ``dt``."""
        h = self.dt / self.n_substeps
        for _ in range(self.n_substeps):
            x = rk4_step(self.dynamics, x, h)
        return x

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3:
            raise ValueError(f"ODEPrior: expected a state (B, C, N), got shape {tuple(x.shape)}")
        return torch.cat((x[:, :, :1], self.step(x[:, :, :-1])), dim=2)
