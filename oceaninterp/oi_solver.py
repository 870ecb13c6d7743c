"""The blockwise solve of the optimal interpolation (:mod:`oceaninterp.oi`).

Instead of one solve per output day with every observation within
``+/- 2 lt`` (the challenge's code, with an explicit inverse), the output grid
is cut into blocks of ``block_days`` days x a spatial block; each block uses the
observations within ``time_window * lt`` of its days and ``space_cutoff * L``
of its cells, so a block's map equals the exact OI with those observations.
The covariances of a batch of blocks are built at once (``torch.cdist``), padded
to a common size and factorised by one batched Cholesky; the map is the
separable product ``sum_o w_o Ct Cy Cx``; the formal error
``sqrt(signal_std**2 - b^T (HBH^T+R)^-1 b)`` comes from triangular solves on a
sub-lattice of the grid (``error_step``) and is linearly interpolated.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.config import OIConfig
from oceaninterp.cube import is_global
from oceaninterp.errors import ConfigError
from oceaninterp.products.schema import wrap_longitude
from oceaninterp.threads import torch_threads

#: ``progress(done, total)`` is called after each batch of blocks.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Observations:
    """Point observations taken from a cube (sorted by time).

    Attributes
    ----------
    t
        Days since the cube's first day.
    lat, lon
        Positions, degrees_north / degrees_east (the cube's convention).
    value
        SSH, metres.
    count
        Number of raw observations averaged into each value (>= 1).
    """

    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    value: np.ndarray
    count: np.ndarray

    @property
    def size(self) -> int:
        return int(self.value.size)

    def subset(self, keep: np.ndarray) -> Observations:
        """The observations where boolean ``keep`` is true."""
        return Observations(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))


@dataclass(frozen=True)
class _Block:
    """One output block: index ranges on the grid and its observations."""

    t: slice
    y: slice
    x: slice
    obs: np.ndarray  # indices into the Observations


def spacing(coord: np.ndarray) -> float:
    """The step of a regular axis (its units), 1 for an axis of one value."""
    return abs(float(coord[1] - coord[0])) if coord.size > 1 else 1.0


def _axis_chunks(coord: np.ndarray, block: float | None, cutoff: float) -> list[slice]:
    """Split a regular axis into contiguous output chunks.

    With ``block`` None, the chunk count minimises ``sum(len**3)`` where
    ``len`` is a chunk's extent plus ``cutoff`` either side, clipped to the
    axis: the factorisation cost of separable blocks, per axis.
    """
    n = coord.size
    step = spacing(coord)
    lo, hi = float(coord.min()) - step / 2, float(coord.max()) + step / 2

    def chunks(count: int) -> list[slice]:
        edges = np.linspace(0, n, count + 1).round().astype(int)
        return [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]

    if block is not None:
        return chunks(max(1, math.ceil((hi - lo) / block)))

    def cost(parts: list[slice]) -> float:
        total = 0.0
        for s in parts:
            a = max(float(coord[s.start]) - step / 2 - cutoff, lo)
            b = min(float(coord[s.stop - 1]) + step / 2 + cutoff, hi)
            total += (b - a) ** 3
        return total

    return min((chunks(c) for c in range(1, min(n, 400) + 1)), key=cost)


def _blocks(
    obs: Observations, days: np.ndarray, lat: np.ndarray, lon: np.ndarray, cfg: OIConfig
) -> list[_Block]:
    """The output blocks with the indices of the observations each one uses."""
    window = cfg.time_window * cfg.lt
    ylim, xlim = cfg.space_cutoff * cfg.ly, cfg.space_cutoff * cfg.lx
    periodic = is_global(lon)
    ychunks = _axis_chunks(lat, cfg.block_deg, ylim)
    xchunks = _axis_chunks(lon, cfg.block_deg, xlim)
    out = []
    for t0 in range(0, days.size, cfg.block_days):
        tsl = slice(t0, min(t0 + cfg.block_days, days.size))
        first = np.searchsorted(obs.t, days[tsl.start] - window, side="right")
        last = np.searchsorted(obs.t, days[tsl.stop - 1] + window, side="left")
        olat = obs.lat[first:last]
        for ysl in ychunks:  # a latitude band first, then longitude within it
            band = first + np.flatnonzero(
                (olat >= lat[ysl].min() - ylim) & (olat <= lat[ysl].max() + ylim)
            )
            blon = obs.lon[band]
            for xsl in xchunks:
                if periodic:  # distance to the chunk's centre, modulo 360
                    centre = 0.5 * (lon[xsl].min() + lon[xsl].max())
                    half = 0.5 * (lon[xsl].max() - lon[xsl].min()) + xlim
                    near = np.abs(wrap_longitude(blon - centre)) <= half
                else:
                    near = (blon >= lon[xsl].min() - xlim) & (blon <= lon[xsl].max() + xlim)
                out.append(_Block(tsl, ysl, xsl, band[near]))
    return out


#: Edge, in observations, of the square tiles the covariance matrices are
#: built, factorised and kept in: only the tiles on and below the diagonal are
#: ever held, so a block of ``n`` observations needs about ``n (n + TILE) / 2``
#: numbers (half a dense matrix) and never a second copy of it.
TILE = 1024
#: Largest temporary, bytes, of the map and error products of one block (rows
#: of covariances with the grid, solved against the factor a chunk at a time).
CHUNK_BYTES = 64 * 2**20


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``).

    Torch's CPU tensors of a few MiB come from the C heap; once freed, glibc
    keeps them for later allocations, so the temporaries of one stage (map
    products, error rows, a previous block's factor, an earlier step of the
    pipeline) would add to the peak of the next. A no-op without glibc.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _tile_edges(n: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the tiles along ``n`` rows."""
    return [(a, min(a + TILE, n)) for a in range(0, n, TILE)]


def _factor_bytes(n: int, itemsize: int) -> int:
    """Bytes of the tiled lower factor of ``n`` observations, plus one working tile."""
    sizes = [b - a for a, b in _tile_edges(n)]
    lower = (sum(sizes) ** 2 + sum(k * k for k in sizes)) // 2
    return itemsize * (lower + max(sizes, default=0) ** 2)


def _batches(blocks: list[_Block], itemsize: int, budget: int) -> Iterator[list[_Block]]:
    """Group blocks of similar observation counts under a memory budget.

    A batch's blocks are padded to its largest (the last, in increasing
    order) and factorised together: ``budget`` bounds the bytes of their
    tiled factors (:func:`_factor_bytes`); a block larger than it goes alone.
    """
    ordered = sorted(blocks, key=lambda b: b.obs.size)
    batch: list[_Block] = []
    for block in ordered:
        n = block.obs.size
        if batch and (len(batch) + 1) * _factor_bytes(n, itemsize) > budget:
            yield batch
            batch = []
        batch.append(block)
    if batch:
        yield batch


class _Factor:
    """Lower Cholesky factors ``L`` (``L L^T = HBH^T+R``) of a batch, in tiles.

    ``tiles[i][j]`` (``j <= i``) is the ``(batch, rows i, columns j)`` tile of
    ``L`` (:func:`_tile_edges`); the tiles above the diagonal are zero and
    not stored. Triangular solves go tile by tile: a triangular solve with the
    diagonal tile and matrix products with the others (the same arithmetic as
    a blocked LAPACK solve, in another order: equal to round-off).
    """

    def __init__(self, tiles: list[list[Any]], edges: list[tuple[int, int]]) -> None:
        self.tiles = tiles
        self.edges = edges

    def item(self, i: int, n: int) -> _Factor:
        """The factor of batch item ``i``'s first ``n`` observations (its block
        without padding: the leading part of a Cholesky factor is the factor of
        the leading part of the matrix)."""
        edges = [(a, min(b, n)) for a, b in self.edges if a < n]
        tiles = [
            [
                self.tiles[r][c][i : i + 1, : b - a, : d - e]
                for c, (e, d) in enumerate(edges[: r + 1])
            ]
            for r, (a, b) in enumerate(edges)
        ]
        return _Factor(tiles, edges)

    def solve_rows(self, rows):
        """``rows L^-T`` (each row ``r`` becomes ``(L^-1 r^T)^T``), rows ``(batch, m, n)``.

        ``rows`` is overwritten and returned. The diagonal tiles are solved in
        their transposed, row-major form ``U = L^T`` (``Z U = R``): the fast
        path of CPU triangular solves.
        """
        import torch

        for k, (a, b) in enumerate(self.edges):
            part = rows[..., a:b]
            for j, (c, d) in enumerate(self.edges[:k]):
                part.baddbmm_(rows[..., c:d], self.tiles[k][j].mT, alpha=-1.0)
            rows[..., a:b] = torch.linalg.solve_triangular(
                self.tiles[k][k].mT, part, upper=True, left=False
            )
        return rows

    def solve_upper(self, z):
        """``L^-T z`` for columns ``z`` ``(batch, n, r)``; ``z`` is overwritten and returned."""
        import torch

        for k in reversed(range(len(self.edges))):
            a, b = self.edges[k]
            part = z[:, a:b]
            for j in range(k + 1, len(self.edges)):
                c, d = self.edges[j]
                part.baddbmm_(self.tiles[j][k].mT, z[:, c:d], alpha=-1.0)
            z[:, a:b] = torch.linalg.solve_triangular(self.tiles[k][k].mT, part, upper=True)
        return z


#: Below this many observations a block's factorisation runs on one thread:
#: threaded LAPACK on small matrices mostly waits on synchronisation, badly so
#: on a shared CPU.
THREADED_MIN_OBS = 2000


def _linalg_threads(n: int) -> int | None:
    """Torch threads for the factorisation of ``n`` observations (``None``: unchanged)."""
    return 1 if n < THREADED_MIN_OBS else None


def _lattice(n: int, step: float) -> np.ndarray:
    """Indices ``0, s, 2s, ..., n-1`` of a sub-lattice with spacing ``step`` cells."""
    s = max(1, int(round(step)))
    return np.unique(np.r_[np.arange(0, n, s), n - 1])


class BlockwiseAnalysis:
    """The blockwise OI of one set of observations on one output grid.

    ``obs_std`` and ``grid_std`` are the prior standard deviation (metres) at
    the observations ``(n_obs,)`` and on the grid ``(latitude, longitude)``
    (:func:`oceaninterp.oi.prior_std`).
    """

    def __init__(
        self,
        obs: Observations,
        days: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        cfg: OIConfig,
        obs_std: np.ndarray,
        grid_std: np.ndarray,
        device: str = "cpu",
        land: np.ndarray | None = None,
    ) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.cfg = cfg
        self.dtype = torch.float64 if cfg.dtype == "float64" else torch.float32
        self.obs = obs
        self.days, self.lat, self.lon = days, lat, lon
        self.periodic = is_global(lon)
        self.sea = np.ones((lat.size, lon.size), dtype=bool) if land is None else ~land
        self.mean = float(np.sum(obs.count * obs.value) / np.sum(obs.count))
        self.obs_std, self.grid_std = obs_std, grid_std

    @property
    def typical_std(self) -> float:
        """The median prior standard deviation over the grid, metres."""
        return float(np.median(self.grid_std))

    def _tensor(self, values: np.ndarray):
        return self.torch.as_tensor(values, dtype=self.dtype, device=self.device)

    def _factorise(self, batch: list[_Block]):
        """Batched tiled Cholesky factors (:class:`_Factor`) of ``HBH^T+R`` and
        the weights ``(HBH^T+R)^-1 (y-m)``, padded to the batch's largest block.

        The covariances are built tile by tile into the lower tiles and
        factorised in place there: half a dense matrix per block, no copy.
        """
        torch, cfg, obs = self.torch, self.cfg, self.obs
        nmax = max(b.obs.size for b in batch)
        # Padding entries sit 100 correlation lengths from everything (their
        # covariances underflow to exactly 0) with unit noise and zero data.
        feats = np.zeros((len(batch), nmax, 3))
        feats[:, :, 0] = 100.0 * (1 + np.arange(nmax))
        y = np.zeros((len(batch), nmax, 1))
        noise = np.ones((len(batch), nmax))
        scale = np.zeros((len(batch), nmax))
        for i, b in enumerate(batch):
            n, o = b.obs.size, b.obs
            olon = obs.lon[o]
            if self.periodic:  # unwrapped around the block's centre
                centre = 0.5 * (self.lon[b.x].min() + self.lon[b.x].max())
                olon = centre + wrap_longitude(olon - centre)
            # Scaled coordinates, centred per block for precision.
            f = np.stack([obs.t[o] / cfg.lt, obs.lat[o] / cfg.ly, olon / cfg.lx], axis=1)
            feats[i, :n] = f - f.mean(axis=0)
            y[i, :n, 0] = obs.value[o] - self.mean
            noise[i, :n] = cfg.noise**2 / obs.count[o]
            scale[i, :n] = self.obs_std[o]
        f = self._tensor(feats)
        s = self._tensor(scale)
        noise_t = self._tensor(noise)
        edges = _tile_edges(nmax)

        def covariance(i: int, j: int):
            (a, b), (c, d) = edges[i], edges[j]
            tile = torch.cdist(f[:, a:b], f[:, c:d]).square_().neg_().exp_()
            tile.mul_(s[:, a:b, None]).mul_(s[:, None, c:d])
            if i == j:
                tile.diagonal(dim1=1, dim2=2).add_(noise_t[:, a:b])
            return tile

        # Right-looking tiled Cholesky on the lower tiles only: factor the
        # diagonal tile, solve the tiles below it, update the trailing tiles.
        tiles = [[covariance(i, j) for j in range(i + 1)] for i in range(len(edges))]
        with torch_threads(_linalg_threads(nmax)):
            for k in range(len(edges)):
                chol, info = torch.linalg.cholesky_ex(tiles[k][k])
                if bool((info != 0).any()):
                    raise ConfigError(
                        f"oi: the observation covariance is not positive definite in "
                        f"{cfg.dtype}; use dtype = 'float64' or a larger noise"
                    )
                tiles[k][k] = chol
                for i in range(k + 1, len(edges)):  # L_ik = A_ik L_kk^-T
                    tiles[i][k] = torch.linalg.solve_triangular(
                        chol.mT, tiles[i][k], upper=True, left=False
                    )
                for j in range(k + 1, len(edges)):
                    for i in range(j, len(edges)):
                        tiles[i][j].baddbmm_(tiles[i][k], tiles[j][k].mT, alpha=-1.0)
        factor = _Factor(tiles, edges)
        # One right-hand side is memory-bound: a single thread avoids the
        # synchronisation stalls of threaded trsv (100x slower on a busy CPU).
        with torch_threads(1):
            zt = factor.solve_rows(self._tensor(y).mT.contiguous())
            weights = factor.solve_upper(zt.mT.contiguous())[..., 0]
        return factor, weights * s

    def _gaussians(self, o: np.ndarray, t: np.ndarray, y: np.ndarray, x: np.ndarray):
        """Factors ``exp(-(d/L)^2)`` between observations ``o`` and output axes."""
        cfg, obs = self.cfg, self.obs

        def g(a: np.ndarray, b: np.ndarray, scale: float):
            return self._tensor(np.exp(-(((a[:, None] - b[None, :]) / scale) ** 2)))

        dx = obs.lon[o][:, None] - x[None, :]
        if self.periodic:
            dx = wrap_longitude(dx)
        cx = self._tensor(np.exp(-((dx / cfg.lx) ** 2)))
        return g(obs.t[o], t, cfg.lt), g(obs.lat[o], y, cfg.ly), cx

    def run(
        self,
        *,
        with_error: bool,
        progress: ProgressCallback | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The map and (optionally) the formal error std on the output grid, metres."""
        torch, cfg = self.torch, self.cfg
        shape = (self.days.size, self.lat.size, self.lon.size)
        ssh = np.full(shape, self.mean)
        lattice = (
            _lattice(shape[0], cfg.error_step * cfg.lt / spacing(self.days)),
            _lattice(shape[1], cfg.error_step * cfg.ly / spacing(self.lat)),
            _lattice(shape[2], cfg.error_step * cfg.lx / spacing(self.lon)),
        )
        err_lattice = np.broadcast_to(
            self.grid_std[np.ix_(lattice[1], lattice[2])][None], tuple(a.size for a in lattice)
        ).copy()
        blocks = _blocks(self.obs, self.days, self.lat, self.lon, cfg)
        itemsize = 8 if self.dtype == torch.float64 else 4
        done = 0
        if progress is not None:
            progress(0, len(blocks))
        for batch in _batches(blocks, itemsize, cfg.batch_bytes):
            busy = [b for b in batch if b.obs.size and self.sea[b.y, b.x].any()]
            if busy:
                factor, weights = self._factorise(busy)
                for i, b in enumerate(busy):
                    n = b.obs.size
                    ct, cy, cx = self._gaussians(
                        b.obs, self.days[b.t], self.lat[b.y], self.lon[b.x]
                    )
                    w = weights[i, :n]
                    # sum_o w_o Ct[o,t] Cy[o,y] Cx[o,x], contracted factor by
                    # factor, a few days at a time (the (n, days * lat) product
                    # is the large temporary).
                    block_map = np.empty((ct.shape[1], cy.shape[1], cx.shape[1]))
                    step = max(1, CHUNK_BYTES // (n * cy.shape[1] * itemsize))
                    for d in range(0, ct.shape[1], step):
                        days = slice(d, d + step)
                        ty = (w[:, None, None] * ct[:, days, None] * cy[:, None, :]).reshape(n, -1)
                        block_map[days] = (
                            (ty.T @ cx).reshape(-1, cy.shape[1], cx.shape[1]).double().cpu().numpy()
                        )
                        del ty
                    cell_std = self.grid_std[b.y, b.x][None]
                    ssh[b.t, b.y, b.x] += cell_std * block_map
                    release_freed_memory()
                    if with_error:
                        self._error(b, factor.item(i, n), lattice, err_lattice)
                        release_freed_memory()
                # Free this batch's factors before the next batch builds its own.
                del factor, weights
                release_freed_memory()
            done += len(batch)
            if progress is not None:
                progress(done, len(blocks))
        if not with_error:
            return ssh, None
        if all(a.size == n for a, n in zip(lattice, shape, strict=True)):
            return ssh, err_lattice
        err = xr.DataArray(
            err_lattice, dims=("t", "y", "x"), coords=dict(zip("tyx", lattice, strict=True))
        )
        return ssh, err.interp(
            t=np.arange(shape[0]), y=np.arange(shape[1]), x=np.arange(shape[2])
        ).values

    def _error(
        self, b: _Block, factor: _Factor, lattice: tuple[np.ndarray, ...], err: np.ndarray
    ) -> None:
        """Exact formal error on the lattice points inside block ``b``.

        ``err**2 = s**2 (1 - |L^-1 c|**2)`` for each point's (prior std ``s``)
        covariance column ``s c`` with the observations (``c`` the correlations
        times the observations' std), solved as ``Z L^T = C^T`` (``factor``:
        the block's own, unpadded) for at most :data:`CHUNK_BYTES` of rows at a time.
        """
        torch = self.torch
        picks = [
            np.flatnonzero((idx >= s.start) & (idx < s.stop))
            for idx, s in zip(lattice, (b.t, b.y, b.x), strict=True)
        ]
        if any(p.size == 0 for p in picks):
            return
        it, iy, ix = (lattice[k][picks[k]] for k in range(3))
        ct, cy, cx = self._gaussians(b.obs, self.days[it], self.lat[iy], self.lon[ix])
        n = b.obs.size
        s_obs = self._tensor(self.obs_std[b.obs])
        ctT, cyT, cxT = ct.T, cy.T, cx.T
        # Rows are the (time, latitude) pairs times every longitude: a chunk
        # holds ``step`` pairs, ``step * ix.size`` rows of ``n``.
        pairs = it.size * iy.size
        step = max(1, CHUNK_BYTES // (ix.size * n * ct.element_size()))
        var = torch.empty(pairs * ix.size, dtype=ct.dtype, device=ct.device)
        with torch_threads(_linalg_threads(n)):
            for start in range(0, pairs, step):
                q = torch.arange(start, min(start + step, pairs), device=ct.device)
                ty = ctT[q // iy.size] * cyT[q % iy.size] * s_obs
                rows = (ty[:, None, :] * cxT[None, :, :]).reshape(1, -1, n)
                del ty
                zt = factor.solve_rows(rows)
                var[start * ix.size : start * ix.size + zt.shape[1]] = zt[0].square().sum(dim=1)
                del rows, zt
        var = (1.0 - var).clamp_(min=0.0).sqrt_()
        ratio = var.double().cpu().numpy().reshape(it.size, iy.size, ix.size)
        values = ratio * self.grid_std[np.ix_(iy, ix)][None]
        err[np.ix_(picks[0], picks[1], picks[2])] = values
