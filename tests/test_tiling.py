"""Tiles by named dims, taper weights and the weighted merge (oceaninterp.tiling)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oceaninterp.errors import ConfigError
from oceaninterp.tiling import (
    Merger,
    TileGrid,
    TileSpec,
    extract,
    flat_indices,
    tile_starts,
    weight_profile,
)

DIMS = ("time", "latitude", "longitude")


def _grid(shape, size, stride, border=(0, 2, 2)) -> TileGrid:
    """A TileGrid over (time, latitude, longitude) from per-dimension tuples."""
    shape_, size_, stride_, border_ = (
        dict(zip(DIMS, v, strict=True)) for v in (shape, size, stride, border)
    )
    return TileGrid(shape_, size_, stride_, border=border_)


def _merge_identity(field: np.ndarray, grid: TileGrid, batch: int) -> np.ndarray:
    """Tile ``field`` (padded to the grid), merge the tiles back, crop."""
    padded = np.full(tuple(grid.padded.values()), np.nan, dtype=np.float32)
    padded[tuple(slice(0, n) for n in field.shape)] = field
    x = torch.from_numpy(padded)
    merger = Merger(padded.shape)
    for lo in range(0, len(grid), batch):
        starts = grid.starts[lo : lo + batch]
        index = flat_indices(torch.from_numpy(starts), grid.tile_shape(), padded.shape)
        tiles = extract(x, index)
        merger.add(index, tiles, torch.from_numpy(grid.weights(starts)))
    merged = merger.result().numpy()
    return merged[tuple(slice(0, n) for n in field.shape)]


def test_tile_starts_cover_and_shift_the_last_tile_inward() -> None:
    assert tile_starts(37, 15, 5).tolist() == [0, 5, 10, 15, 20, 22]
    assert tile_starts(35, 15, 5).tolist() == [0, 5, 10, 15, 20]
    assert tile_starts(9, 15, 5).tolist() == [0]  # shorter than a tile: padded
    with pytest.raises(ValueError):
        tile_starts(37, 15, 16)


def test_weight_profiles() -> None:
    tri = weight_profile(15, 0, 100, "triangle")
    assert tri[7] == 1.0 and tri.min() == pytest.approx(1 / 8) and np.all(tri > 0)
    assert np.allclose(tri, tri[::-1])
    inner = weight_profile(12, 10, 40, "crop", border=2)
    assert inner.tolist() == [0, 0] + [1] * 8 + [0, 0]
    first = weight_profile(12, 0, 40, "crop", border=2)  # domain edge keeps its weight
    last = weight_profile(12, 28, 40, "crop", border=2)
    assert first[:2].tolist() == [1, 1] and first[-2:].tolist() == [0, 0]
    assert last[:2].tolist() == [0, 0] and last[-2:].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("shape", "size", "stride", "border", "batch"),
    [
        ((37, 31, 29), (15, 12, 8), (5, 8, 4), (0, 2, 2), 4),
        ((37, 31, 29), (15, 12, 8), (1, 4, 4), (0, 4, 2), 7),  # the reference's daily stride
        ((9, 7, 5), (15, 8, 8), (5, 4, 4), (0, 2, 2), 3),  # every dim shorter than a tile
    ],
)
def test_tiling_then_merging_returns_the_field_exactly(shape, size, stride, border, batch, rng):
    grid = _grid(shape, size, stride, border)
    # Integer values and dyadic weights (triangle of 15: multiples of 1/8):
    # every product and sum is exact in float32, so the merge must be exact.
    field = rng.integers(-500, 500, size=shape).astype(np.float32)
    merged = _merge_identity(field, grid, batch)
    np.testing.assert_array_equal(merged, field)


def test_merge_of_real_valued_field_is_within_float_rounding(rng) -> None:
    grid = _grid((23, 41, 37), (10, 16, 16), (3, 12, 12))
    field = rng.normal(size=(23, 41, 37)).astype(np.float32)
    np.testing.assert_allclose(_merge_identity(field, grid, 5), field, rtol=1e-6, atol=1e-6)


def test_merge_is_a_weighted_mean_of_overlapping_predictions() -> None:
    # Two 1-D tiles of length 3 on 4 cells, triangle weights (0.5, 1, 0.5):
    # cell 1 gets (1*a + 0.5*b) / 1.5 and cell 2 gets (0.5*a + 1*b) / 1.5.
    grid = TileGrid({"time": 4}, {"time": 3}, {"time": 1})
    merger = Merger((4,))
    starts = torch.from_numpy(grid.starts)
    index = flat_indices(starts, (3,), (4,))
    preds = torch.tensor([[1.0, 1.0, 1.0], [4.0, 4.0, 4.0]])
    merger.add(index, preds, torch.from_numpy(grid.weights(grid.starts)))
    expected = [1.0, (1 + 0.5 * 4) / 1.5, (0.5 + 4) / 1.5, 4.0]
    np.testing.assert_allclose(merger.result().numpy(), expected, rtol=1e-6)


def test_streaming_pop_matches_the_whole_merge(rng) -> None:
    """Merging time windows and popping finished days equals one global merge."""
    grid = _grid((40, 9, 9), (15, 8, 8), (5, 4, 4))
    preds = torch.from_numpy(rng.normal(size=(len(grid), 15, 8, 8)).astype(np.float32))
    weights = torch.from_numpy(grid.weights(grid.starts))
    whole = Merger((40, 9, 9))
    whole.add(flat_indices(torch.from_numpy(grid.starts), (15, 8, 8), (40, 9, 9)), preds, weights)

    rolling, origin, popped = Merger((0, 9, 9)), 0, []
    time_starts = grid.axis_starts["time"]
    for k, t0 in enumerate(time_starts):
        rows = np.flatnonzero(grid.starts[:, 0] == t0)
        rolling.extend(0, int(t0 + 15 - origin - rolling.shape[0]))
        local = grid.starts[rows] - np.array([origin, 0, 0])
        index = flat_indices(torch.from_numpy(local), (15, 8, 8), rolling.shape)
        rolling.add(index, preds[rows], weights[rows])
        done = (time_starts[k + 1] if k + 1 < len(time_starts) else 40) - origin
        popped.append(rolling.pop(0, int(done)))
        origin += int(done)
    np.testing.assert_allclose(torch.cat(popped).numpy(), whole.result().numpy(), rtol=1e-6)


def test_crop_border_must_leave_no_gap() -> None:
    with pytest.raises(ValueError, match="uncovered"):
        TileGrid({"latitude": 50}, {"latitude": 12}, {"latitude": 10}, border={"latitude": 2})


def test_tilespec_resolves_from_the_checkpoint_tile() -> None:
    reference = {"time": 15, "latitude": 240, "longitude": 240}
    size, stride, border, margin = TileSpec(time_stride=1).resolve(reference)
    assert size == {"time": 15, "latitude": 240, "longitude": 240}
    assert border == {"time": 0, "latitude": 20, "longitude": 20}  # the reference's 20 of 240
    assert stride == {"time": 1, "latitude": 200, "longitude": 200}  # the reference's 200 px
    # automatic spatial tile: the whole domain rounded up to a multiple of 4 ...
    small = {"time": 15, "latitude": 48, "longitude": 48}
    size, _, border, margin = TileSpec().resolve(
        small, {"time": 365, "latitude": 101, "longitude": 30}
    )
    # the whole domain and a margin of one border each side, in a multiple of 4 ...
    assert size == {"time": 15, "latitude": 124, "longitude": 48}  # ... never below training
    assert border == margin == {"time": 0, "latitude": 10, "longitude": 4}
    assert size["latitude"] >= 101 + 2 * margin["latitude"]
    # ... up to max_space_tile
    size, *_ = TileSpec().resolve(small, {"time": 365, "latitude": 3600, "longitude": 7200})
    assert size["latitude"] == size["longitude"] == 256
    assert (
        TileSpec(margin=0).resolve(small, {"time": 9, "latitude": 100, "longitude": 100})[0][
            "latitude"
        ]
        == 100
    )
    with pytest.raises(ConfigError, match="time_stride"):
        TileSpec(time_stride=16).resolve({"time": 15, "latitude": 48, "longitude": 48})
    with pytest.raises(ConfigError, match="space_stride"):
        TileSpec(space_stride=45).resolve({"time": 15, "latitude": 48, "longitude": 48})
    with pytest.raises(ConfigError, match="multiple of 4"):
        TileSpec(latitude=50)
    # streaming window: 60 days, fewer on big grids, never fewer than a tile
    assert TileSpec().window_days(15, 100 * 100) == 60
    assert TileSpec().window_days(15, 3600 * 7200) == 15
    assert TileSpec(time_window=20).window_days(15, 3600 * 7200) == 20
