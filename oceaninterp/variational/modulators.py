"""Gradient modulators: the learned part of the 4DVarNet solver.

A modulator maps the (normalised) gradient of the variational cost to a state
increment, carrying a recurrent memory across solver iterations, passed
explicitly (no hidden mutable state in the module).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from oceaninterp.variational.layers import avg_pool, conv_class, pool_factor, resize


class ConvLSTMState(NamedTuple):
    """Recurrent memory of :class:`ConvLSTMModulator`, ``(B, hidden, *space / downsample)``."""

    hidden: Tensor
    cell: Tensor


class ConvLSTMModulator(nn.Module):
    """A convolutional LSTM cell fed with the cost gradient (4DVarNet's ``G``).

    One gate convolution over ``[gradient, hidden]`` gives the input, forget,
    output and candidate gates; the hidden state is mapped back to the state's
    channels by a 3-wide convolution.

    Parameters
    ----------
    channels
        Channels of the state (and of its gradient).
    hidden
        Channels of the LSTM memory (reference: 48 base, 96 bigger).
    spatial_dims
        1 for ``(B, C, N)``, 2 for ``(B, C, H, W)``.
    downsample
        Run the LSTM on the gradient average-pooled by this factor and
        upsample its output (bi)linearly. The gate convolution is most of the
        reference model's FLOPs, so a factor 2 makes it about 4x cheaper in
        2-D. 1 = full resolution, like the reference.
    kernel_size
        Odd kernel of the gate and output convolutions.
    dropout
        Dropout on the input gradient during training (reference: 0.1).
    """

    def __init__(
        self,
        channels: int,
        hidden: int,
        spatial_dims: int = 2,
        downsample: int = 1,
        kernel_size: int = 3,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.downsample = pool_factor(downsample)
        conv = conv_class(spatial_dims)
        self.hidden = hidden
        self.gates = conv(channels + hidden, 4 * hidden, kernel_size, padding=kernel_size // 2)
        self.conv_out = conv(hidden, channels, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout)

    def initial_state(self, x: Tensor) -> ConvLSTMState:
        """Zero memory sized for states like ``x`` ``(B, C, *space)``."""
        pooled = avg_pool(x[:, :1], self.downsample)
        zeros = torch.zeros(
            (x.shape[0], self.hidden, *pooled.shape[2:]), dtype=x.dtype, device=x.device
        )
        return ConvLSTMState(zeros, zeros)

    def forward(self, grad: Tensor, state: ConvLSTMState) -> tuple[Tensor, ConvLSTMState]:
        """One LSTM step.

        Parameters
        ----------
        grad
            Normalised cost gradient, shape of the state.
        state
            Memory from :meth:`initial_state` or the previous call.

        Returns
        -------
        increment, state
            The modulated gradient (shape of the state) and the new memory.
        """
        g = avg_pool(self.dropout(grad), self.downsample)
        gates = self.gates(torch.cat((g, state.hidden), dim=1))
        in_gate, forget_gate, out_gate, candidate = gates.chunk(4, dim=1)
        cell = torch.sigmoid(forget_gate) * state.cell + torch.sigmoid(in_gate) * torch.tanh(
            candidate
        )
        hidden = torch.sigmoid(out_gate) * torch.tanh(cell)
        increment = resize(self.conv_out(hidden), tuple(grad.shape[2:]))
        return increment, ConvLSTMState(hidden, cell)
