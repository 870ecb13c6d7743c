"""Dimension-generic layer helpers: one code path for 1-D and 2-D states."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F


def conv_class(spatial_dims: int) -> type[nn.Conv1d] | type[nn.Conv2d]:
    """``nn.Conv1d`` for ``spatial_dims=1``, ``nn.Conv2d`` for 2."""
    if spatial_dims == 1:
        return nn.Conv1d
    if spatial_dims == 2:
        return nn.Conv2d
    raise ValueError(f"spatial_dims: expected 1 or 2, got {spatial_dims}")


def pool_factor(downsample: int) -> int:
    """``downsample``, checked as a factor of :func:`avg_pool` (>= 1)."""
    if downsample < 1:
        raise ValueError(f"downsample: expected >= 1, got {downsample}")
    return downsample


def avg_pool(x: Tensor, factor: int) -> Tensor:
    """Average-pool the spatial dims of ``(B, C, *space)`` by ``factor`` (1 = no-op)."""
    if factor == 1:
        return x
    pool = F.avg_pool1d if x.ndim == 3 else F.avg_pool2d
    return pool(x, factor)


def resize(x: Tensor, size: tuple[int, ...]) -> Tensor:
    """(Bi)linear resampling of the spatial dims to ``size`` (no-op when already there)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    mode = "linear" if x.ndim == 3 else "bilinear"
    return F.interpolate(x, size=size, mode=mode, align_corners=False)
