"""The cube's contract: land from a real coastline, re-gridding, any box up to the globe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr
from test_reconstruct import Loaded, _meta, make_cube

from oceaninterp.config import OIConfig
from oceaninterp.cube import NO_LAND, is_global, land_cells, regrid, validate
from oceaninterp.errors import InputError
from oceaninterp.landmask import land_mask
from oceaninterp.oi import cube_observations, signal_std_map
from oceaninterp.products import duacs_l4
from oceaninterp.reconstruct import reconstruct
from oceaninterp.tiling import TileSpec

DIMS = ("time", "latitude", "longitude")


def _cell(lat: float, lon: float, res: float = 0.1) -> bool:
    """Whether the cell of ``res`` degrees centred on (lat, lon) is land."""
    lats = lat + res * np.arange(-2, 3)
    lons = lon + res * np.arange(-2, 3)
    return bool(land_mask(lats, lons)[2, 2])


@pytest.mark.parametrize(
    ("lat", "lon", "land"),
    [
        (48.85, 2.35, True),  # Paris
        (-25.0, 134.0, True),  # central Australia
        (30.0, -30.0, False),  # mid-Atlantic
        (40.8, 28.0, False),  # Sea of Marmara
        (0.0, 180.0, False),  # the antimeridian, Pacific
    ],
)
def test_coastline_mask_on_known_points(lat, lon, land) -> None:
    assert _cell(lat, lon) is land


def test_mask_file_is_sampled_and_must_cover_the_grid(tmp_path) -> None:
    lat, lon = np.arange(-10, 10.5, 1.0), np.arange(0, 360, 1.0)
    flag = np.zeros((lat.size, lon.size), np.int8)
    flag[5:8, 350:355] = 1  # land at -5..-3 N, 350..354 E
    xr.Dataset({"land": (("lat", "lon"), flag)}, coords={"lat": lat, "lon": lon}).to_netcdf(
        tmp_path / "m.nc"
    )
    got = land_mask(np.array([-4.0, 0.0]), np.array([-8.0, -5.0, 10.0]), tmp_path / "m.nc")
    np.testing.assert_array_equal(got, [[True, False, False], [False, False, False]])
    with pytest.raises(InputError, match=r"m\.nc: the land mask does not cover .* latitude"):
        land_mask(np.array([20.0]), np.array([0.0]), tmp_path / "m.nc")


@pytest.mark.parametrize("new_res", [0.05, 0.3, 0.25])
def test_regrid_conserves_the_observations_mean_both_ways(rng, new_res) -> None:
    cube = make_cube(rng, shape=(5, 30, 40), coverage=0.3)
    out = regrid(cube, new_res)
    count = cube["count"].values

    def mean(ds: xr.Dataset) -> float:
        c, v = ds["count"].values, ds["ssh"].values
        return float(np.nansum(np.where(c > 0, v, 0.0) * c) / c.sum())

    assert int(out["count"].sum()) == int(count.sum())  # no observation invented or lost
    assert mean(out) == pytest.approx(mean(cube), rel=1e-5)
    assert out.attrs["resolution"] == new_res
    edges = (cube["latitude"].values[0] - 0.05, cube["latitude"].values[-1] + 0.05)
    assert out["latitude"].values[0] - new_res / 2 == pytest.approx(edges[0])
    assert out["latitude"].values[-1] + new_res / 2 >= edges[1] - 1e-9


def test_validate_puts_dims_in_order_and_refuses_gaps(rng) -> None:
    cube = make_cube(rng, shape=(4, 5, 6))
    assert validate(cube.transpose("longitude", "time", "latitude"))["ssh"].dims == DIMS
    with pytest.raises(InputError, match="consecutive days"):
        validate(cube.isel(time=[0, 2, 3]))


def test_mdt_land_is_masked_not_refused(rng, tmp_path) -> None:
    """An MDT NaN where the cube observes (a strait it does not resolve) masks those cells."""
    from oceaninterp.mdt import write_mdt

    cube = make_cube(rng, shape=(7, 12, 16), kind="adt", coverage=0.6)
    mdt = xr.DataArray(
        np.full((12, 16), 0.4),
        dims=("latitude", "longitude"),
        coords=dict(cube[["latitude", "longitude"]].coords),
    )
    mdt[3:5, 4:6] = np.nan
    write_mdt(mdt, tmp_path / "mdt.nc", history="test")
    out = reconstruct(cube, tmp_path / "m.nc", method="oi", mdt=tmp_path / "mdt.nc", land=NO_LAND)
    maps = duacs_l4.open(out)
    assert maps["sla"][:, 3:5, 4:6].isnull().all() and maps["sla"][:, 6:, :].notnull().all()


def _coastal_cube(rng, res: float = 0.1) -> xr.Dataset:
    """Observations everywhere, on land too, over the Gulf of Lion / Provence coast."""
    ds = make_cube(rng, shape=(7, 24, 40), res=res, coverage=0.4)
    return ds.assign_coords(
        latitude=42.0 + res * (np.arange(24) + 0.5), longitude=3.0 + res * (np.arange(40) + 0.5)
    )


def test_no_land_cell_is_ever_written(rng, tmp_path) -> None:
    cube = _coastal_cube(rng)
    land = land_cells(cube)
    assert 50 < land.sum() < land.size - 50  # a real coast crosses the box
    for method, kwargs in (
        ("oi", {}),
        ("4dvarnet", {"checkpoint": Loaded(_Smooth(7), _meta(valid_latitudes=(-90, 90)))}),
    ):
        out = reconstruct(cube, tmp_path / f"{method}.nc", method=method, device="cpu", **kwargs)
        maps = duacs_l4.open(out)
        assert maps["adt"].values[:, land].size and np.isnan(maps["adt"].values[:, land]).all()
        assert np.isfinite(maps["adt"].values[:, ~land]).all()
        raw = xr.open_dataset(out, mask_and_scale=False)
        fill = raw["adt"].attrs["_FillValue"]
        assert (raw["adt"].values[:, land] == fill).all()
        assert maps.attrs["land_mask_source"].startswith("GSHHG")
    off = duacs_l4.open(reconstruct(cube, tmp_path / "off.nc", method="oi", land=NO_LAND))
    assert np.isfinite(off["adt"].values).all()


class _Smooth(torch.nn.Module):
    """Stand-in model with a spatial reach: the Gaussian gap-filling of the observations."""

    def __init__(self, tile_time: int, sigma: float = 3.0) -> None:
        super().__init__()
        self.tile_time = tile_time
        self.sigma = sigma

    def reconstruct(self, obs: torch.Tensor, sst=None, oi=None) -> torch.Tensor:
        from oceaninterp.model.ssh import smoothed_observations

        mask = torch.isfinite(obs).float()
        return smoothed_observations(torch.nan_to_num(obs), mask, 2.0, self.sigma)


def _global_cube(rng, res: float = 2.0, days: int = 7, coverage: float = 0.3) -> xr.Dataset:
    """A global cube with a bump on the antimeridian and a slope across it, sparsely observed."""
    lat = -60.0 + res * (np.arange(int(120 / res)) + 0.5)
    lon = -180.0 + res * (np.arange(int(360 / res)) + 0.5)
    d = lon % 360.0 - 180.0  # signed distance to 180 E, wrapped, degrees
    bump = 0.5 * np.exp(-((d[None, :] / 25.0) ** 2) - (lat[:, None] / 20.0) ** 2)
    field = bump + 0.3 * np.sin(np.deg2rad(lon))[None, :]  # a slope across the dateline
    observed = rng.random((days, lat.size, lon.size)) < coverage
    ssh = np.where(observed, field[None], np.nan).astype(np.float32)
    time = np.datetime64("2021-01-01", "ns") + np.arange(days) * np.timedelta64(1, "D")
    return xr.Dataset(
        {"ssh": (DIMS, ssh), "count": (DIMS, observed.astype(np.int32))},
        coords={"time": time, "latitude": lat, "longitude": lon},
        attrs={"ssh_kind": "sla", "resolution": res},
    )


def test_global_cube_maps_without_a_seam_at_the_antimeridian(rng, tmp_path) -> None:
    cube = _global_cube(rng)
    assert is_global(cube["longitude"].values)
    meta = _meta(tile=(7, 16, 16), resolution=2.0, ssh_kind="sla")
    tiles = TileSpec(latitude=16, longitude=16)
    out = reconstruct(
        cube,
        tmp_path / "g.nc",
        checkpoint=Loaded(_Smooth(7), meta),
        device="cpu",
        land=NO_LAND,
        tiles=tiles,
    )
    sla = duacs_l4.open(out)["sla"].values[3]
    seam = np.abs(sla[:, 0] - sla[:, -1])  # across the dateline
    inside = np.abs(np.diff(sla[:, 1:-1], axis=1)).max(axis=1)  # anywhere else
    assert np.nanmax(seam - inside) <= 1e-6
    assert np.nanmax(sla) > 0.3  # the bump is there


def test_oi_is_periodic_on_a_global_grid(rng) -> None:
    from oceaninterp.oi import oi_map

    cube = _global_cube(rng, res=4.0, coverage=0.05)
    cfg = OIConfig(lx=12.0, ly=12.0, block_deg=60.0, signal_std=0.3)
    ssh = oi_map(cube, cfg)["ssh"].values[3]
    seam = np.abs(ssh[:, 0] - ssh[:, -1])
    inside = np.abs(np.diff(ssh, axis=1)).max(axis=1)
    assert np.all(seam <= inside + 1e-9)


def test_outside_the_checkpoint_latitudes_is_said_and_mapped_by_the_oi(rng, tmp_path) -> None:
    cube = make_cube(rng, shape=(7, 24, 32), coverage=0.3)  # 33.0 .. 35.4 N
    loaded = Loaded(_Smooth(7), _meta(valid_latitudes=(33.0, 34.0)))
    with pytest.raises(InputError, match=r"outside the latitudes .* \(33\.\.34 N\)"):
        reconstruct(cube, tmp_path / "r.nc", checkpoint=loaded, device="cpu", outside="refuse")
    assert not (tmp_path / "r.nc").exists()
    out = reconstruct(cube, tmp_path / "m.nc", checkpoint=loaded, device="cpu", land=NO_LAND)
    maps = duacs_l4.open(out)
    assert "optimal interpolation" in maps.attrs["comment"]
    assert np.isfinite(maps["adt"].values).all()
    model_only = reconstruct(
        cube, tmp_path / "a.nc", checkpoint=loaded, device="cpu", land=NO_LAND, outside="apply"
    )
    rows = cube["latitude"].values > 34.0
    a, b = duacs_l4.open(model_only)["adt"].values, maps["adt"].values
    np.testing.assert_allclose(a[:, ~rows], b[:, ~rows], atol=2e-4)
    assert np.abs(a[:, rows] - b[:, rows]).max() > 1e-3


def test_output_resolution_writes_the_asked_grid(rng, tmp_path) -> None:
    cube = make_cube(rng, shape=(7, 20, 30), coverage=0.5)
    out = reconstruct(cube, tmp_path / "m.nc", method="oi", land=NO_LAND, output_resolution=0.25)
    maps = duacs_l4.open(out)
    assert dict(maps.sizes) == {"time": 7, "latitude": 8, "longitude": 12}
    assert {"adt", "ugos", "vgos", "err_sla"} <= set(maps.data_vars)
    assert np.isfinite(maps["adt"].values).all()


def test_oi_signal_std_is_estimated_from_the_observations() -> None:
    """Two halves of known std (5 cm and 20 cm): the map finds each, noise removed."""
    rng = np.random.default_rng(3)
    shape = (20, 40, 80)
    std = np.where(np.arange(80) < 40, 0.05, 0.20)[None, None, :]
    truth = rng.normal(size=shape) * std
    observed = rng.random(shape) < 0.2
    noise = 0.03 * rng.normal(size=shape)
    cube = xr.Dataset(
        {
            "ssh": (DIMS, np.where(observed, truth + noise, np.nan)),
            "count": (DIMS, observed.astype(int)),
        },
        coords={
            "time": np.arange(20),
            "latitude": 30.0 + 0.25 * np.arange(40),
            "longitude": -60.0 + 0.25 * np.arange(80),
        },
    )
    cfg = OIConfig(noise=0.03, superobs=0)
    _, box_lon, est = signal_std_map(
        cube_observations(cube, cfg), cube["latitude"].values, cube["longitude"].values, cfg
    )
    west, east = est[:, box_lon < -53.0], est[:, box_lon > -47.0]
    assert np.median(west) == pytest.approx(0.05, rel=0.25)
    assert np.median(east) == pytest.approx(0.20, rel=0.2)


def test_a_cube_with_no_ocean_is_one_clear_line(rng, tmp_path) -> None:
    from typer.testing import CliRunner

    from oceaninterp.cli.app import app

    cube = make_cube(rng, shape=(7, 12, 16), coverage=0.3)
    inland = cube.assign_coords(  # central Australia
        latitude=-26.0 + 0.1 * np.arange(12), longitude=133.0 + 0.1 * np.arange(16)
    )
    inland.to_netcdf(tmp_path / "desert.nc")
    result = CliRunner().invoke(
        app,
        [
            "reconstruct",
            str(tmp_path / "desert.nc"),
            "--method",
            "oi",
            "-o",
            str(tmp_path / "m.nc"),
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "desert.nc" in result.output and "no ocean cell" in result.output
    assert not (tmp_path / "m.nc").exists()


class _Broken(torch.nn.Module):
    """Stand-in for a broken checkpoint: NaN, or SSH in centimetres."""

    def __init__(self, tile_time: int, value: float) -> None:
        super().__init__()
        self.tile_time = tile_time
        self.value = value

    def reconstruct(self, obs: torch.Tensor, sst=None, oi=None) -> torch.Tensor:
        return torch.full_like(obs, self.value)


@pytest.mark.parametrize("value", [float("nan"), 250.0])
def test_maps_not_finite_or_not_a_sea_level_are_never_written(rng, tmp_path, value) -> None:
    cube = make_cube(rng, shape=(7, 12, 16), coverage=0.3)
    loaded = Loaded(_Broken(7, value), _meta(valid_latitudes=(-90, 90)))
    with pytest.raises(InputError, match="NaN or beyond 10 m on .* ocean cell"):
        reconstruct(cube, tmp_path / "m.nc", checkpoint=loaded, device="cpu", land=NO_LAND)
    assert not (tmp_path / "m.nc").exists()
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


class _Spiky(_Broken):
    """Stand-in model that diverges on one cell of each tile (as a model far from its data)."""

    def reconstruct(self, obs: torch.Tensor, sst=None, oi=None) -> torch.Tensor:
        out = torch.zeros_like(obs)
        out[:, :, out.shape[2] // 2, out.shape[3] // 2] = self.value
        return out


def test_a_few_implausible_cells_are_masked_and_counted(rng, tmp_path, caplog) -> None:
    cube = make_cube(rng, shape=(7, 40, 48), coverage=0.3)
    loaded = Loaded(_Spiky(7, 1e7), _meta(tile=(7, 40, 48), valid_latitudes=(-90, 90)))
    out = reconstruct(cube, tmp_path / "m.nc", checkpoint=loaded, device="cpu", land=NO_LAND)
    adt = duacs_l4.open(out)["adt"].values
    assert np.isnan(adt).sum() >= 1 and np.nanmax(np.abs(adt)) < 10.0
    assert "masked" in caplog.text and "beyond 10 m" in caplog.text
