"""Overlapping tiles over named dimensions, taper weights, and a weighted merge.

A domain (e.g. ``{"time": 365, "latitude": 200, "longitude": 200}`` cells) is
covered by tiles of fixed size (e.g. ``{"time": 15, "latitude": 240,
"longitude": 240}``) placed every ``stride`` cells along each dimension. The
last tile of a dimension is shifted inward so that it ends on the domain's edge
(every cell is covered, no tile sticks out); a dimension shorter than the tile
is padded at its end (:attr:`TileGrid.padded`).

Each tile carries a separable weight: a triangle along ``time`` (1 on the
centre day, ``1 / (c + 1)`` on the first and last day, never zero) and, along
the spatial dimensions, zero weight on ``border`` cells at each tile side that
is inside the domain (the reference's crop; a side lying on the domain's edge
keeps full weight, since no other tile covers those cells). The merged field is
``sum(w * pred) / sum(w)``, accumulated on the device with one
``index_add_`` per batch of tiles: no loop over pixels.

Tiles are extracted with the same flat indices (a gather), so tiling then
merging a field returns it unchanged (see ``tests/test_tiling.py``).

:class:`TileSpec` holds the tile rules of ``oceaninterp reconstruct`` (tile
sizes, strides, borders, margins and the streaming window, resolved against a
checkpoint's training tile and the domain).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import numpy as np

from oceaninterp.config import Count, Index, Rule, check_fields
from oceaninterp.errors import ConfigError

#: A tile side in pixels: a positive multiple of 4 (pooling by 2, twice, in the network).
Pixels = Annotated[int, Rule(minimum=1, multiple_of=4)]

TRIANGLE = "triangle"
CROP = "crop"
TAPERS = (TRIANGLE, CROP)


def tile_starts(n: int, size: int, stride: int) -> np.ndarray:
    """Start indices of tiles of ``size`` cells every ``stride`` cells along ``n`` cells.

    The last start is moved so that the last tile ends on cell ``n`` (shifted
    inward). When ``n <= size`` there is a single tile at 0 (the dimension is
    padded to ``size`` by :class:`TileGrid`).

    Parameters
    ----------
    n
        Number of cells along the dimension.
    size
        Tile size along the dimension, cells.
    stride
        Distance between consecutive tile starts, cells (``1 <= stride <= size``).
    """
    if size < 1 or not 1 <= stride <= size:
        raise ValueError(f"expected size >= 1 and 1 <= stride <= size, got {size=}, {stride=}")
    if n <= size:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n - size + 1, stride, dtype=np.int64)
    if starts[-1] + size < n:
        starts = np.append(starts, n - size)
    return starts


def weight_profile(size: int, start: int, n: int, taper: str, border: int = 0) -> np.ndarray:
    """One tile's 1-D merge weights along one dimension.

    Parameters
    ----------
    size
        Tile size, cells.
    start
        The tile's first cell in the (padded) domain.
    n
        The (padded) domain size along the dimension, cells.
    taper
        ``"triangle"``: ``1 - |k - c| / (c + 1)`` with ``c = (size - 1) / 2``
        (1 at the centre, positive everywhere). ``"crop"``: 1, except ``border``
        cells of zero weight at each tile side that does not lie on the
        domain's edge.
    border
        Width of the zero-weight border for ``"crop"``, cells.
    """
    if taper == TRIANGLE:
        centre = (size - 1) / 2.0
        return 1.0 - np.abs(np.arange(size) - centre) / (centre + 1.0)
    if taper == CROP:
        w = np.ones(size)
        if border > 0 and start > 0:
            w[:border] = 0.0
        if border > 0 and start + size < n:
            w[size - border :] = 0.0
        return w
    raise ValueError(f"unknown taper {taper!r}; expected one of {TAPERS}")


class TileGrid:
    """Overlapping tiles covering a domain, by named dimensions.

    Parameters
    ----------
    shape
        Domain size per dimension, e.g. ``{"time": 365, "latitude": 200,
        "longitude": 200}``; the order of the keys is the array order.
    size
        Tile size per dimension (same keys).
    stride
        Distance between tile starts per dimension (same keys).
    taper
        Taper kind per dimension (``"triangle"`` or ``"crop"``); default
        triangle for ``time`` and crop for the others.
    border
        Zero-weight border per dimension for ``"crop"`` (missing keys: 0). The
        crops of neighbouring tiles must still overlap: ``stride <= size - 2 *
        border``.

    Attributes
    ----------
    dims
        Dimension names in array order.
    padded
        Domain size after padding short dimensions up to the tile size.
    starts
        ``int64`` array ``(n_tiles, n_dims)`` of tile starts, ordered with the
        first dimension varying slowest (time-major for time-first domains).
    """

    def __init__(
        self,
        shape: Mapping[str, int],
        size: Mapping[str, int],
        stride: Mapping[str, int],
        *,
        taper: Mapping[str, str] | None = None,
        border: Mapping[str, int] | None = None,
    ) -> None:
        self.dims = tuple(shape)
        for name, table in (("size", size), ("stride", stride)):
            if set(table) != set(self.dims):
                raise ValueError(f"{name} has dims {sorted(table)}, expected {sorted(self.dims)}")
        self.shape = {d: int(shape[d]) for d in self.dims}
        self.size = {d: int(size[d]) for d in self.dims}
        self.stride = {d: int(stride[d]) for d in self.dims}
        self.taper = {d: (taper or {}).get(d, TRIANGLE if d == "time" else CROP) for d in self.dims}
        self.border = {d: int((border or {}).get(d, 0)) for d in self.dims}
        for d in self.dims:
            if self.taper[d] == CROP and self.stride[d] > self.size[d] - 2 * self.border[d]:
                raise ValueError(
                    f"{d}: stride {self.stride[d]} leaves cells uncovered with tile size "
                    f"{self.size[d]} and border {self.border[d]} (need stride <= size - 2*border)"
                )
        self.padded = {d: max(self.shape[d], self.size[d]) for d in self.dims}
        self.axis_starts = {
            d: tile_starts(self.shape[d], self.size[d], self.stride[d]) for d in self.dims
        }
        self.starts = np.array(
            list(itertools.product(*(self.axis_starts[d] for d in self.dims))), dtype=np.int64
        ).reshape(-1, len(self.dims))

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def tile_shape(self) -> tuple[int, ...]:
        """The tile size in array order."""
        return tuple(self.size[d] for d in self.dims)

    def profiles(self, starts: np.ndarray) -> list[np.ndarray]:
        """The 1-D merge weights (:func:`weight_profile`) of tiles, one array per dimension.

        Parameters
        ----------
        starts
            ``(B, n_dims)`` tile starts in this grid's (padded) domain.

        Returns
        -------
        list of numpy.ndarray
            For each dimension in array order, a float32 ``(B, size)`` array.
        """
        starts = np.asarray(starts, dtype=np.int64).reshape(-1, len(self.dims))
        out = []
        for axis, d in enumerate(self.dims):
            table = {
                int(s): weight_profile(
                    self.size[d], int(s), self.padded[d], self.taper[d], self.border[d]
                )
                for s in np.unique(starts[:, axis])
            }
            out.append(np.stack([table[int(s)] for s in starts[:, axis]]).astype(np.float32))
        return out

    def weights(self, starts: np.ndarray) -> np.ndarray:
        """Merge weights ``(B, *tile_shape)`` (float32) of the tiles starting at ``starts``."""
        return separable(self.profiles(starts))


def separable(profiles):
    """The outer product ``(B, n_1, ..., n_k)`` of per-dimension weights ``(B, n_i)``.

    Works on numpy arrays and torch tensors alike (broadcast products only).
    """
    out = None
    for axis, p in enumerate(profiles):
        view = [p.shape[0]] + [1] * len(profiles)
        view[axis + 1] = p.shape[1]
        factor = p.reshape(view)
        out = factor if out is None else out * factor
    return out


def flat_indices(starts, tile_shape: tuple[int, ...], domain_shape: tuple[int, ...]):
    """Flat indices into a C-ordered domain array of every cell of each tile.

    Parameters
    ----------
    starts
        ``torch.Tensor`` ``(B, n_dims)`` of int64 tile starts (on the device).
    tile_shape, domain_shape
        Tile and domain sizes in array order, cells.

    Returns
    -------
    torch.Tensor
        ``(B, *tile_shape)`` on the device of ``starts``: the index of each
        tile's first cell plus the (shared) offsets of a tile's cells; int32
        when the domain has fewer than 2**31 cells (half the memory traffic),
        else int64.
    """
    import torch

    strides = np.cumprod((1, *domain_shape[:0:-1]))[::-1].tolist()
    dev = starts.device
    dtype = torch.int32 if int(np.prod(domain_shape)) < 2**31 else torch.int64
    relative = torch.zeros((), dtype=dtype, device=dev)
    for axis, (n, step) in enumerate(zip(tile_shape, strides, strict=True)):
        view = [1] * len(tile_shape)
        view[axis] = n
        relative = relative + (torch.arange(n, device=dev, dtype=dtype) * step).reshape(view)
    first = (starts * torch.tensor(strides, dtype=torch.int64, device=dev)).sum(dim=1)
    return first.to(dtype).reshape(-1, *[1] * len(tile_shape)) + relative


def extract(field, index):
    """Gather tiles from ``field`` (a device tensor) at flat ``index`` (:func:`flat_indices`)."""
    return field.reshape(-1)[index]


class Merger:
    """Weighted-mean accumulator ``sum(w * pred) / sum(w)`` on a device.

    Parameters
    ----------
    shape
        Shape of the accumulated domain (array order), cells.
    device
        A torch device (``"cpu"``, ``"cuda"``...).
    """

    def __init__(self, shape: tuple[int, ...], device="cpu") -> None:
        import torch

        self.shape = tuple(int(n) for n in shape)
        self.numerator = torch.zeros(self.shape, dtype=torch.float32, device=device)
        self.denominator = torch.zeros(self.shape, dtype=torch.float32, device=device)

    def add(self, index, values, weights) -> None:
        """Add a batch of tiles.

        Parameters
        ----------
        index
            Flat indices ``(B, *tile)`` into the accumulated domain (:func:`flat_indices`).
        values, weights
            float tensors ``(B, *tile)`` (predictions and their merge weights).
        """
        flat = index.reshape(-1)
        w = weights.reshape(-1).to(self.numerator.dtype)
        self.numerator.view(-1).index_add_(0, flat, values.reshape(-1).to(w.dtype) * w)
        self.denominator.view(-1).index_add_(0, flat, w)

    def extend(self, axis: int, n: int) -> None:
        """Append ``n`` zero cells along ``axis`` (to stream along that dimension)."""
        import torch

        if n <= 0:
            return
        pad_shape = list(self.shape)
        pad_shape[axis] = n
        zeros = torch.zeros(pad_shape, dtype=torch.float32, device=self.numerator.device)
        self.numerator = torch.cat([self.numerator, zeros], dim=axis)
        self.denominator = torch.cat([self.denominator, zeros.clone()], dim=axis)
        self.shape = tuple(self.numerator.shape)

    def pop(self, axis: int, n: int):
        """Remove the first ``n`` cells along ``axis`` and return their merged values.

        Cells with zero total weight come out as NaN.
        """
        import torch

        head = torch.narrow(self.numerator, axis, 0, n) / torch.narrow(self.denominator, axis, 0, n)
        keep = self.shape[axis] - n
        self.numerator = torch.narrow(self.numerator, axis, n, keep).contiguous()
        self.denominator = torch.narrow(self.denominator, axis, n, keep).contiguous()
        self.shape = tuple(self.numerator.shape)
        return head

    def result(self):
        """The merged field ``sum(w * pred) / sum(w)`` (NaN where no weight)."""
        return self.numerator / self.denominator


@dataclass(frozen=True)
class TileSpec:
    """How ``oceaninterp reconstruct`` covers a cube with overlapping tiles.

    The tile length in time is the checkpoint's (days are the channels of the
    network). The network is convolutional, so its spatial tile at inference
    may be larger than the training tile: by default it is the whole domain
    (rounded up to a multiple of 4), up to ``max_space_tile`` pixels, and never
    smaller than the training tile. Tiles are merged by ``sum(w * pred) /
    sum(w)`` with a triangle weight in time (1 on the centre day) and zero
    weight on ``border`` pixels of each tile side inside the domain
    (:func:`weight_profile`).

    Attributes
    ----------
    time_stride
        Days between consecutive tile starts. The reference runs one tile per
        output day (1); each output day is then computed ``tile_time`` times.
        Default 3: a third of the tiles.
    latitude, longitude
        Spatial tile size in pixels (multiples of 4); ``None``: automatic (see
        above).
    max_space_tile
        Largest automatic spatial tile, pixels (a multiple of 4). Default 256.
    space_stride
        Pixels between tile starts in latitude and longitude; ``None``: tile
        size minus twice the border (the crops just meet).
    border
        Pixels of zero merge weight at tile sides inside the domain; ``None``:
        a twelfth of the tile size (the reference's 20 of 240).
    margin
        Unobserved pixels added around the domain in latitude and longitude,
        so that no map edge lies on a tile edge, where the network's
        convolutions see zero padding; ``None``: the border.
    time_window
        Days of observations held in memory at once (tiles are streamed over
        time and merged days are written as soon as no later tile touches
        them); at least the tile length. ``None``: 60 days, fewer on large
        grids so that one window of the grid is at most 2**28 cells (1 GiB of
        float32; memory is about three such windows: observations, weighted
        sum, weights), never fewer than the tile length.
    """

    time_stride: Count = 3
    latitude: Pixels | None = None
    longitude: Pixels | None = None
    max_space_tile: Pixels = 256
    space_stride: Count | None = None
    border: Index | None = None
    margin: Index | None = None
    time_window: Count | None = None

    def __post_init__(self) -> None:
        check_fields(self)

    def resolve(
        self, tile: dict[str, int], shape: dict[str, int] | None = None
    ) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
        """Tile sizes, strides, borders and domain margins by dimension.

        Parameters
        ----------
        tile
            The checkpoint's training tile, ``{"time": T, "latitude": H, "longitude": W}``.
        shape
            The domain's sizes by dimension (cells), for the automatic spatial
            tile; ``None``: the training tile is used.

        Returns
        -------
        (size, stride, border, margin)
            Dicts keyed by ``time``, ``latitude``, ``longitude`` (cells); the
            margin is 0 in time.
        """
        if self.time_window is not None and self.time_window < int(tile["time"]):
            raise ConfigError(
                f"time_window: expected at least the tile length {tile['time']} days, "
                f"got {self.time_window}"
            )
        if self.time_stride > int(tile["time"]):
            raise ConfigError(
                f"time_stride: {self.time_stride} days would skip days between "
                f"{tile['time']}-day tiles"
            )
        size, stride = {"time": int(tile["time"])}, {"time": self.time_stride}
        border, margin = {"time": 0}, {"time": 0}
        for dim in ("latitude", "longitude"):
            explicit = getattr(self, dim)
            if explicit is not None:
                size[dim] = explicit
            elif shape is None:
                size[dim] = int(tile[dim])
            else:  # the smallest multiple of 4 holding the domain and its margins
                size[dim] = max(int(tile[dim]), -(-int(shape[dim]) // 4) * 4)
                while size[dim] < self.max_space_tile and size[dim] < int(shape[dim]) + 2 * (
                    self._border(size[dim]) if self.margin is None else self.margin
                ):
                    size[dim] += 4
                size[dim] = min(size[dim], max(self.max_space_tile, int(tile[dim])))
            border[dim] = self._border(size[dim])
            margin[dim] = border[dim] if self.margin is None else self.margin
            core = size[dim] - 2 * border[dim]
            if core < 1:
                raise ConfigError(
                    f"border: {border[dim]} pixels leave nothing of a {size[dim]}-pixel tile"
                )
            stride[dim] = core if self.space_stride is None else self.space_stride
            if stride[dim] > core:
                raise ConfigError(
                    f"space_stride: {stride[dim]} pixels leave gaps between tiles of "
                    f"{size[dim]} pixels with a {border[dim]}-pixel border (at most {core})"
                )
        return size, stride, border, margin

    def window_days(self, tile_time: int, cells_per_day: int) -> int:
        """Days held in memory at once for a grid of ``cells_per_day`` cells (``time_window``)."""
        if self.time_window is not None:
            return self.time_window
        return max(tile_time, min(60, 2**28 // max(1, cells_per_day)))

    def _border(self, size: int) -> int:
        return size // 12 if self.border is None else self.border
