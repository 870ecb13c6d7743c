"""Product readers and writers: synthetic round trips, real samples, bad files."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.products import (
    FORMATS,
    GRIDDED_PRODUCTS,
    PRODUCTS,
    TRACK_PRODUCTS,
    cmems_l3,
    describe,
    detect,
    nasa_ssh,
    open_product,
    product_format,
    sst_l4,
    swot_l3,
)
from oceaninterp.products.schema import make_tracks, validate_tracks

DAY = np.datetime64("2022-03-04T00:00:00", "ns")


def tracks(
    rng: np.random.Generator,
    n: int = 37,
    *,
    mission: str = "j3",
    kind: str = "sla",
    mdt: bool = True,
) -> xr.Dataset:
    """Odd-sized synthetic tidy tracks over the antimeridian (lon 170..190)."""
    extra = {"cycle": np.full(n, 12, np.int32), "pass_number": np.arange(n, dtype=np.int32)}
    if mdt:
        extra["mdt"] = rng.uniform(-0.5, 1.0, n).astype(np.float32)
    return make_tracks(
        DAY + np.sort(rng.integers(0, 86_399, n)).astype("timedelta64[s]"),
        rng.uniform(-60, 60, n),
        rng.uniform(170, 190, n),
        rng.normal(0, 0.2, n),
        mission=mission,
        source="synthetic",
        ssh_variable="ssh",
        ssh_kind=kind,
        extra=extra,
    )


# --------------------------------------------------------------------- CMEMS L3


def test_cmems_round_trip_every_variable(tmp_path: Path, rng: np.random.Generator) -> None:
    t = tracks(rng)
    path = cmems_l3.write(t, tmp_path / cmems_l3.file_name("s3a", "2022-03-04"))
    assert path.name == "dt_global_s3a_phy_l3_20220304_20220304.nc"
    assert detect(path) == "cmems_l3"
    sla = open_product(path, variable="sla_filtered")
    validate_tracks(sla)
    assert sla.attrs["mission"] == "s3a"  # from the file name, not the tracks
    np.testing.assert_allclose(sla["ssh"], t["ssh"], atol=5e-4)  # int16 x 1 mm
    np.testing.assert_allclose(sla["latitude"], t["latitude"], atol=1e-6)
    np.testing.assert_allclose(sla["longitude"], t["longitude"], atol=1e-6)
    assert sla["longitude"].min() >= -180 and sla["longitude"].max() < 180
    assert np.abs(sla["time"].values - t["time"].values).max() < np.timedelta64(1, "ms")
    np.testing.assert_array_equal(sla["pass_number"], t["pass_number"])
    adt = open_product(path, variable="adt")
    assert adt.attrs["ssh_kind"] == "adt" and adt.attrs["ssh_variable"] == "sla_filtered+mdt"
    np.testing.assert_allclose(adt["ssh"], t["ssh"] + t["mdt"], atol=1e-3)
    raw = xr.open_dataset(path, mask_and_scale=False)
    assert raw["sla_filtered"].dtype == np.int16
    assert raw["sla_filtered"].attrs["scale_factor"] == 0.001
    assert float(raw["longitude"].min()) >= 0  # 0..360 as DUACS writes


def test_cmems_writes_sla_from_adt_tracks(tmp_path: Path, rng: np.random.Generator) -> None:
    t = tracks(rng, kind="adt")
    path = cmems_l3.write(t, tmp_path / "x.nc")
    sla = open_product(path, variable="sla_unfiltered")
    np.testing.assert_allclose(sla["ssh"], t["ssh"] - t["mdt"], atol=1e-3)
    adt = open_product(path, variable="adt")
    np.testing.assert_allclose(adt["ssh"], t["ssh"], atol=1e-3)


def test_cmems_mission_from_platform_when_name_says_nothing(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = cmems_l3.write(tracks(rng, mission="c2"), tmp_path / "some_download.nc")
    assert open_product(path).attrs["mission"] == "c2"


def test_cmems_missing_variable_names_file_and_variable(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = cmems_l3.write(tracks(rng, mdt=False), tmp_path / "x.nc")
    with netCDF4.Dataset(path, "a") as nc:
        nc.renameVariable("sla_filtered", "something_else")
    with pytest.raises(InputError, match=r"x\.nc: missing variable 'sla_filtered'"):
        open_product(path, variable="sla_filtered")
    with pytest.raises(InputError, match="unknown variable 'sst'"):
        open_product(path, variable="sst")


def test_unknown_units_are_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    path = cmems_l3.write(tracks(rng), tmp_path / "x.nc")
    with netCDF4.Dataset(path, "a") as nc:
        nc["sla_filtered"].units = "furlongs"
    with pytest.raises(InputError, match="'sla_filtered' has units 'furlongs'"):
        open_product(path)


def test_centimetres_are_converted(tmp_path: Path, rng: np.random.Generator) -> None:
    t = tracks(rng)
    path = cmems_l3.write(t, tmp_path / "x.nc")
    with netCDF4.Dataset(path, "a") as nc:
        nc["sla_filtered"].units = "cm"
    np.testing.assert_allclose(open_product(path)["ssh"], t["ssh"] / 100, atol=1e-5)


def test_latest_production_keeps_the_latest() -> None:
    names = [
        "nrt_global_s3a_phy_l3_20220101_20220103.nc",
        "nrt_global_s3a_phy_l3_20220101_20220105.nc",
        "nrt_global_s3b_phy_l3_20220101_20220102.nc",
        "nrt_global_s3a_phy_l3_20220102_20220103.nc",
        "GSFC-alt_ssh20220101.nc",
    ]
    kept, superseded = cmems_l3.latest_production(Path(n) for n in names)
    assert [p.name for p in kept] == [names[i] for i in (1, 2, 3, 4)]
    assert superseded == {Path(names[0]): Path(names[1])}


# --------------------------------------------------------------------- NASA-SSH


def test_nasa_ssh_round_trip_and_flag(tmp_path: Path, rng: np.random.Generator) -> None:
    t = tracks(rng, mdt=False)
    path = nasa_ssh.write(t, tmp_path / nasa_ssh.file_name("2022-03-04"))
    assert path.name == "GSFC-alt_ssh20220304.nc"
    assert detect(path) == "nasa_ssh"
    back = open_product(path, variable="ssh")
    assert back.attrs["mission"] == "j3"
    np.testing.assert_allclose(back["ssh"], t["ssh"], atol=1e-6)
    with netCDF4.Dataset(path, "a") as nc:
        flag = nc["nasa_flag"][:]
        flag[:5] = 1
        nc["nasa_flag"][:] = flag
    assert open_product(path, variable="sla_unfiltered").sizes["obs"] == t.sizes["obs"] - 5
    smoothed = open_product(path, variable="sla_filtered")
    assert smoothed.attrs["ssh_variable"] == "ssh_smoothed"
    assert smoothed["ssh"].std() < back["ssh"].std()  # a running mean is smoother
    with pytest.raises(InputError, match="no MDT"):
        open_product(path, variable="adt")


def test_nasa_ssh_mission_is_the_last_named() -> None:
    attrs = {"source_files": "Merged_TOPEX_Jason_OSTM_Jason-3_Cycle_1079.V5_1"}
    assert nasa_ssh.mission_code(attrs) == "j3"
    assert nasa_ssh.mission_code({"source_files": "Merged_TOPEX_Jason_Cycle_300"}) == "j1"


# ------------------------------------------------------------------------- SWOT


def swath(rng: np.random.Generator, lines: int = 37, pixels: int = 11) -> xr.Dataset:
    dims = ("num_lines", "num_pixels")
    lat = np.linspace(-10, 10, lines)[:, None] + np.zeros((1, pixels))
    lon = np.linspace(-1.0, 1.0, pixels)[None, :] + np.zeros((lines, 1))  # over Greenwich
    ssha = rng.normal(0, 0.1, (lines, pixels))
    ssha[3, 4] = np.nan
    flag = np.zeros((lines, pixels), np.uint8)
    flag[5, :] = 102  # a line of KaRIn "no_data"
    return xr.Dataset(
        {
            "latitude": (dims, lat),
            "longitude": (dims, lon),
            "cross_track_distance": (
                dims,
                np.broadcast_to(np.linspace(-60, 60, pixels), (lines, pixels)),
            ),
            "ssha_filtered": (dims, ssha),
            "ssha_unfiltered": (dims, ssha + 0.01),
            "mdt": (dims, np.full((lines, pixels), 0.5)),
            "quality_flag": (dims, flag),
            "i_num_line": (("num_nadir",), np.array([5, 6], np.int16)),
            "i_num_pixel": (("num_nadir",), np.array([5, 5], np.int8)),
            "time": (("num_lines",), DAY + np.arange(lines).astype("timedelta64[s]")),
        }
    )


def test_swot_round_trip_flags_and_nadir(tmp_path: Path, rng: np.random.Generator) -> None:
    s = swath(rng)
    name = swot_l3.file_name(7, 21, s["time"].values[0], s["time"].values[-1])
    path = swot_l3.write(s, tmp_path / name)
    assert detect(path) == "swot_l3"
    back = open_product(path)
    n_good = 37 * 11 - 1 - 11 + 1  # one NaN, one flagged line, but its nadir pixel kept
    assert back.sizes["obs"] == n_good
    assert back.attrs["mission"] == "swot"
    assert int(back["cycle"][0]) == 7 and int(back["pass_number"][0]) == 21
    assert set(np.unique(back["cross_track_distance"])) <= set(np.linspace(-60, 60, 11))
    keep = np.isfinite(s["ssha_filtered"].values) & (s["quality_flag"].values == 0)
    keep[5, 5] = True
    np.testing.assert_allclose(back["ssh"], s["ssha_filtered"].values[keep], atol=1e-4)
    assert open_product(path, drop_nadir=True).sizes["obs"] == n_good - 2
    adt = open_product(path, variable="adt")
    np.testing.assert_allclose(adt["ssh"], s["ssha_filtered"].values[keep] + 0.5, atol=2e-4)
    unf = open_product(path, variable="sla_unfiltered")
    np.testing.assert_allclose(unf["ssh"], s["ssha_unfiltered"].values[keep], atol=1e-4)


def test_swot_v1_names(tmp_path: Path, rng: np.random.Generator) -> None:
    path = swot_l3.write(swath(rng), tmp_path / "swot_v1.nc")
    with netCDF4.Dataset(path, "a") as nc:
        nc.renameVariable("ssha_filtered", "ssha_noiseless")
        nc.renameVariable("ssha_unfiltered", "ssha")
    assert detect(path) == "swot_l3"
    assert open_product(path).attrs["ssh_variable"] == "ssha_noiseless"
    assert open_product(path, variable="sla_unfiltered").attrs["ssh_variable"] == "ssha"


# -------------------------------------------------------------------------- SST


def test_sst_round_trip_mask_and_celsius(tmp_path: Path, rng: np.random.Generator) -> None:
    field = 290 + rng.uniform(0, 10, (1, 7, 9))
    field[0, 0, :3] = np.nan  # land
    sst = xr.DataArray(
        field,
        dims=("time", "lat", "lon"),
        name="analysed_sst",
        coords={"time": [DAY], "lat": np.linspace(30, 33, 7), "lon": np.linspace(-5, 5, 9)},
    )
    path = sst_l4.write(sst, tmp_path / "sst.nc")
    assert detect(path) == "sst_l4"
    back = open_product(path)
    assert back["sst"].dims == ("time", "latitude", "longitude")
    np.testing.assert_allclose(back["sst"], field, atol=0.006)  # int16 x 0.01 K
    assert back["sst"].attrs["units"] == "K"
    with netCDF4.Dataset(path, "a") as nc:
        mask = nc["mask"][:]
        mask[0, 6, 8] = 3  # a lake
        nc["mask"][:] = mask
        nc["analysed_sst"].setncattr("add_offset", 0.0)
        nc["analysed_sst"].units = "celsius"
    back = open_product(path)
    assert np.isnan(back["sst"].values[0, 6, 8])
    # packed values now decode to degrees Celsius, which the reader turns back to kelvin
    np.testing.assert_allclose(back["sst"].values[0, 3, 3], field[0, 3, 3], atol=0.006)


# -------------------------------------------------------------------- bad files


def test_not_netcdf_and_truncated(tmp_path: Path, rng: np.random.Generator) -> None:
    text = tmp_path / "notes.nc"
    text.write_text("not a netcdf file\n")
    with pytest.raises(InputError, match=r"notes\.nc: not a readable NetCDF file"):
        detect(text)
    good = cmems_l3.write(tracks(rng, n=3001), tmp_path / "good.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match=r"cut\.nc: "):
        open_product(cut)
    empty = tmp_path / "empty.nc"
    empty.touch()
    with pytest.raises(InputError, match="empty file"):
        detect(empty)
    with pytest.raises(InputError, match="no such file"):
        detect(tmp_path / "absent.nc")


def test_detection_is_by_content_not_name(tmp_path: Path, rng: np.random.Generator) -> None:
    misleading = tmp_path / "SWOT_L3_LR_SSH_Expert_001_002_x.nc"
    nasa_ssh.write(tracks(rng, mdt=False), misleading)
    assert detect(misleading) == "nasa_ssh"
    other = tmp_path / "other.nc"
    xr.Dataset({"u": ("x", np.arange(3.0))}).to_netcdf(other)
    with pytest.raises(InputError, match="not a recognised product"):
        detect(other)


# --------------------------------------------------------------------- registry


def test_registry_lists_every_format_with_its_declared_options() -> None:
    assert PRODUCTS == ("nasa_ssh", "swot_l3", "cmems_l3", "sst_l4", "duacs_l4")
    assert TRACK_PRODUCTS == ("nasa_ssh", "swot_l3", "cmems_l3")
    assert GRIDDED_PRODUCTS == ("sst_l4", "duacs_l4")
    for fmt in FORMATS:
        assert product_format(fmt.name) is fmt and fmt.description
        taken = {
            name
            for name, p in inspect.signature(fmt.open).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        assert fmt.options == taken, fmt.name  # what is declared is what open takes
        assert fmt.variables, fmt.name
    assert product_format("duacs_l4").options == {"variables"}
    with pytest.raises(ValueError, match="unknown product 'grib'"):
        product_format("grib")


def test_an_option_the_format_does_not_take_is_refused(
    tmp_path: Path, rng: np.random.Generator, one_day_sst: Path
) -> None:
    nadir = cmems_l3.write(tracks(rng), tmp_path / "nadir.nc")
    with pytest.raises(
        InputError, match=r"nadir\.nc: the cmems_l3 format .* takes no option varaible"
    ):
        open_product(nadir, varaible="adt")  # a typo is no longer dropped silently
    assert open_product(nadir, drop_nadir=True).sizes["obs"] == 37  # no swath: nothing dropped
    with pytest.raises(InputError, match=r"sst\.nc: the sst_l4 format .* takes no option variable"):
        open_product(one_day_sst, variable="adt")


# ------------------------------------------------------------------- real files


@pytest.mark.real
def test_real_nasa_ssh_matches_flag_count(real_data: Path) -> None:
    path = real_data / "nadir/nasa_ssh_jason3/GSFC-alt_ssh20220101.nc"
    assert detect(path) == "nasa_ssh"
    t = open_product(path, variable="ssh")
    with netCDF4.Dataset(path) as nc:
        ssh = nc["ssh"][:]
        good = (nc["nasa_flag"][:] == 0) & ~np.ma.getmaskarray(ssh)
    assert t.sizes["obs"] == int(good.sum()) > 50_000
    assert t.attrs["mission"] == "j3"
    assert -180 <= t["longitude"].min() and t["longitude"].max() < 180
    assert abs(float(t["ssh"].mean())) < 0.5  # an anomaly vs DTU21, not a height
    assert t["time"].values.min() >= np.datetime64("2022-01-01")


@pytest.mark.real
@pytest.mark.parametrize(
    ("name", "variable", "mission", "points", "kind"),
    [
        ("l3_c2_subset.nc", "sla_unfiltered", "c2", 905, "sla"),
        ("l3_alg_subset.nc", "adt", "alg", 194, "adt"),
        ("dt_med_al_phy_vxxc_l3_20140605_20170110.nc", "sla_unfiltered", "al", 329, "sla"),
        ("dt_med_al_phy_vxxc_l3_20140605_20170110.nc", "adt", "al", 329, "adt"),
        ("dt_med_al_adt_vfec_20140101_20140829.nc", "adt", "al", 182, "adt"),
        ("nrt_blacksea_al_phy_vfec_l3_20190101_20190122.nc", "sla_filtered", "al", 76, "sla"),
    ],
)
def test_real_cmems_layouts(
    real_data: Path, name: str, variable: str, mission: str, points: int, kind: str
) -> None:
    path = real_data / "nadir/cmems_l3" / name
    assert detect(path) == "cmems_l3"
    t = validate_tracks(open_product(path, variable=variable))
    assert (t.sizes["obs"], t.attrs["mission"], t.attrs["ssh_kind"]) == (points, mission, kind)
    assert float(np.abs(t["ssh"]).max()) < 3.0


@pytest.mark.real
def test_real_cmems_adt_is_sla_plus_mdt(real_data: Path) -> None:
    path = real_data / "nadir/cmems_l3/l3_c2_subset.nc"
    with netCDF4.Dataset(path) as nc:
        expected = np.asarray(nc["sla_filtered"][:] + nc["mdt"][:], dtype=np.float64)
    np.testing.assert_allclose(open_product(path, variable="adt")["ssh"], expected, atol=1e-6)
    with pytest.raises(InputError, match="missing variable 'sla_filtered'"):
        open_product(real_data / "nadir/cmems_l3/dt_med_al_adt_vfec_20140101_20140829.nc")


@pytest.mark.real
def test_real_nrt_productions_keep_latest(real_data: Path, tmp_path: Path) -> None:
    source = real_data / "nadir/cmems_l3/nrt_blacksea_al_phy_vfec_l3_20190101_20190122.nc"
    older = tmp_path / "nrt_blacksea_al_phy_vfec_l3_20190101_20190105.nc"
    shutil.copy(source, older)
    kept, superseded = cmems_l3.latest_production([older, source])
    assert kept == [source] and superseded == {older: source}


@pytest.mark.real
def test_real_swot_nadir_pixels(real_data: Path) -> None:
    path = next((real_data / "swot_l3").glob("SWOT_L3_LR_SSH_*.nc"))
    assert detect(path) == "swot_l3"
    t = open_product(path)
    assert t.sizes["obs"] == 726  # only the copied nadir column holds data
    assert np.all(t["cross_track_distance"] == 0.0)
    assert (int(t["cycle"][0]), int(t["pass_number"][0])) == (26, 165)
    assert open_product(path, drop_nadir=True).sizes["obs"] == 0


@pytest.mark.real
def test_real_sst(real_data: Path) -> None:
    path = next((real_data / "sst_l4").glob("*.nc"))
    assert detect(path) == "sst_l4"
    sst = open_product(path)["sst"]
    assert sst.dims == ("time", "latitude", "longitude") and sst.shape == (1, 240, 384)
    assert 285 < float(sst.min()) and float(sst.max()) < 305  # kelvin, July Black Sea
    assert 0.2 < float(sst.notnull().mean()) < 0.5  # land is NaN
    assert str(sst["time"].values[0])[:10] == "2016-07-07"


@pytest.mark.real
def test_real_files_described(real_data: Path) -> None:
    for path in sorted(real_data.rglob("*.nc")):
        info = describe(path)
        assert info["kind"], path
