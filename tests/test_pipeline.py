"""`oceaninterp run`: incremental, idempotent, crash-safe, locked, distributed pipelines.

Inputs are tiny synthetic CMEMS L3 files (two missions a day over a 2 x 2 deg
box at 0.25 deg) written by the product writer; the pipelines grid them and map
them by OI, which keeps every run to a few seconds on one core.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.pipeline import PipelineLockedError, RunLock, run_pipeline
from oceaninterp.pipeline.config import RunConfig, RunDask
from oceaninterp.pipeline.manifest import Manifest
from oceaninterp.products import cmems_l3
from oceaninterp.products.schema import make_tracks

DAYS = [f"2024-01-0{d}" for d in range(1, 8)]  # the grid's period
HALO = ["2023-12-30", "2023-12-31", "2024-01-08", "2024-01-09"]  # cube days of the OI halo
# Map blocks of 4 days from the period's start: [1..4], [5..7]; with a halo of 2 days
# they read the cubes of Dec 30..Jan 6 and Jan 3..9.
MISSIONS = ("j3", "s3a")

PIPELINE = """
[pipeline]
name = "test"
output_root = "out"
on_error = "{on_error}"

[inputs]
observations = ["obs/*.nc"]
variable = "adt"

[grid]
lon_min = -60.0
lon_max = -58.0
lat_min = 35.0
lat_max = 37.0
resolution = 0.25
start = "{start}"
end = "{end}"

[[reconstruct]]
name = "oi"
method = "oi"
halo_days = 2
block_days = {block_days}
"""


MDT = 0.5  # metres, the mean dynamic topography carried by the files


def truth_ssh(time_: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The synthetic ocean: a slowly drifting wave of sea surface height (metres, ADT)."""
    days = (time_ - np.datetime64("2024-01-01", "ns")) / np.timedelta64(1, "D")
    return MDT + 0.3 * np.sin(np.radians(lon) * 40.0 + 0.1 * days) * np.cos(np.radians(lat) * 30.0)


def write_day(
    folder: Path, day: str, mission: str, *, seed: int, production: str | None = None, n: int = 120
) -> Path:
    """One mission-day of noisy along-track samples of :func:`truth_ssh` as a CMEMS L3 file."""
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(day, "ns")
    time_ = t0 + (rng.uniform(0, 86_399, n) * 1e9).astype("timedelta64[ns]")
    lat, lon = rng.uniform(35, 37, n), rng.uniform(-60, -58, n)
    ssh = truth_ssh(time_, lat, lon) + rng.normal(0.0, 0.02, n)
    tracks = make_tracks(
        time_,
        lat,
        lon,
        ssh,
        mission=mission,
        source="synthetic",
        ssh_variable="adt",
        ssh_kind="adt",
        extra={"mdt": np.full(n, MDT)},
    )
    name = cmems_l3.file_name(mission, day, production=production, timeliness="nrt")
    return cmems_l3.write(tracks, folder / name)


def write_truth(path: Path) -> Path:
    """:func:`truth_ssh` on the pipeline's grid, daily (contract 4)."""
    time_ = np.array([np.datetime64(d, "ns") for d in DAYS])
    lat, lon = np.arange(35.125, 37, 0.25), np.arange(-59.875, -58, 0.25)
    ssh = truth_ssh(time_[:, None, None], lat[None, :, None], lon[None, None, :])
    ds = xr.Dataset(
        {
            "ssh": (("time", "latitude", "longitude"), ssh.astype(np.float32), {"units": "m"}),
            "sst": (("time", "latitude", "longitude"), np.full(ssh.shape, 290.0, np.float32)),
        },
        coords={"time": time_, "latitude": lat, "longitude": lon},
    )
    ds.to_netcdf(path)
    return path


def make_pipeline(
    tmp: Path,
    days: list[str] = DAYS[:6],
    *,
    on_error: str = "skip",
    start: str = DAYS[0],
    end: str = DAYS[-1],
    score: bool = False,
    block_days: int = 4,
) -> Path:
    """A pipeline TOML in ``tmp`` with observation files for ``days`` (and a truth to score)."""
    (tmp / "obs").mkdir(parents=True, exist_ok=True)
    for i, day in enumerate(days):
        for j, mission in enumerate(MISSIONS):
            write_day(tmp / "obs", day, mission, seed=100 * i + j)
    text = PIPELINE.format(on_error=on_error, start=start, end=end, block_days=block_days)
    if score:
        write_truth(tmp / "truth.nc")
        text += '\n[score]\ntruth = "truth.nc"\n'
    path = tmp / "pipeline.toml"
    path.write_text(text)
    return path


def output_files(root: Path) -> dict[Path, int]:
    """Every output (and the manifest) under ``root`` -> its mtime (ns); logs excluded."""
    return {
        p: p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file() and "logs" not in p.parts and p.name != ".lock"
    }


def computed(summary, stage: str) -> list[str]:
    """The days (or ids) computed by ``stage`` in a run."""
    return [i.rsplit("/", 1)[-1] for i in summary.stages[stage].computed]


def assert_same_data(a: Path, b: Path) -> None:
    """The data variables of two NetCDF files are identical, bit for bit."""
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        assert set(da.data_vars) == set(db.data_vars)
        for name in da.data_vars:
            np.testing.assert_array_equal(da[name].values, db[name].values, err_msg=f"{a}: {name}")


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    return make_pipeline(tmp_path)


def test_run_maps_every_day_then_a_rerun_does_nothing(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path, score=True)
    root = pipeline.parent / "out"
    summary = run_pipeline(pipeline)
    assert summary.ok, summary.line()
    assert computed(summary, "grid") == sorted(DAYS + HALO)  # days 7 to 9 have no observation
    assert computed(summary, "maps/oi") == DAYS
    assert computed(summary, "score") == ["score"]
    (record,) = summary.scores
    assert record["name"] == "oi" and record["mu"] > 0.8  # the OI maps the drifting wave
    assert {"scores.json", "scores.csv"} <= {p.name for p in (root / "scores").iterdir()}
    for day in DAYS[:6]:
        cube = root / "cubes/2024" / f"oceaninterp_cube_{day.replace('-', '')}.nc"
        with xr.open_dataset(cube) as ds:
            assert int(ds["count"].sum()) > 0
    for day in DAYS:
        with xr.open_dataset(root / f"maps/oi/2024/oceaninterp_oi_{day.replace('-', '')}.nc") as ds:
            assert ds.sizes["time"] == 1 and str(ds.time.values[0])[:10] == day
            assert np.isfinite(ds["adt"]).all()
    assert summary.log_file is not None and "OK" in summary.log_file.read_text()

    before = output_files(root)
    again = run_pipeline(pipeline)
    assert again.ok and again.computed == 0, again.line()
    assert again.stages["grid"].current == 11 and again.stages["maps/oi"].current == 7
    assert again.stages["score"].current == 1
    assert output_files(root) == before  # nothing rewritten, manifest included

    os.utime(pipeline.parent / "obs" / cmems_l3.file_name("j3", DAYS[2], timeliness="nrt"))
    touched = run_pipeline(pipeline)  # same bytes, newer mtime: no work
    assert touched.computed == 0, touched.line()


def test_new_day_and_newer_production_recompute_only_the_days_that_see_them(
    pipeline: Path,
) -> None:
    obs = pipeline.parent / "obs"
    assert run_pipeline(pipeline).ok
    for j, mission in enumerate(MISSIONS):
        write_day(obs, DAYS[6], mission, seed=900 + j)
    new_day = run_pipeline(pipeline)
    assert computed(new_day, "grid") == [DAYS[6]]
    assert computed(new_day, "maps/oi") == DAYS[4:]  # the block that sees day 7

    newer = write_day(obs, DAYS[1], "j3", seed=555, production="2024-01-09")
    reprocessed = run_pipeline(pipeline)
    assert reprocessed.superseded == 1
    assert computed(reprocessed, "grid") == [DAYS[1]]
    assert computed(reprocessed, "maps/oi") == DAYS[:4]  # the block that sees day 2
    with xr.open_dataset(pipeline.parent / "out/cubes/2024/oceaninterp_cube_20240102.nc") as ds:
        assert newer.name in ds.attrs["source_files"]


def test_start_end_narrow_the_days_and_grid_their_halo(pipeline: Path) -> None:
    summary = run_pipeline(pipeline, start=DAYS[3], end=DAYS[3])
    assert computed(summary, "maps/oi") == DAYS[:4]  # the whole block of day 4
    assert computed(summary, "grid") == ["2023-12-30", "2023-12-31", *DAYS[:6]]
    rest = run_pipeline(pipeline)
    assert computed(rest, "grid") == [DAYS[6], "2024-01-08", "2024-01-09"]
    assert computed(rest, "maps/oi") == DAYS[4:]


def test_zarr_format_writes_one_store_per_day_with_the_same_maps(
    tmp_path: Path, reference: Path
) -> None:
    pipeline = make_pipeline(tmp_path, block_days=2)
    pipeline.write_text(
        pipeline.read_text().replace('on_error = "skip"', 'on_error = "skip"\nformat = "zarr"')
    )
    assert run_pipeline(pipeline).ok
    root = tmp_path / "out"
    stores = sorted((root / "maps/oi/2024").iterdir())
    assert [p.name for p in stores] == [f"oceaninterp_oi_{d.replace('-', '')}.zarr" for d in DAYS]
    for store in stores:
        with (
            xr.open_zarr(store, consolidated=False) as ds,
            xr.open_dataset(reference / "maps/oi/2024" / store.with_suffix(".nc").name) as nc,
        ):
            np.testing.assert_array_equal(ds["adt"].values, nc["adt"].values)
    assert run_pipeline(pipeline).computed == 0


def test_dry_run_plans_and_writes_nothing(pipeline: Path) -> None:
    result = CliRunner().invoke(app, ["run", str(pipeline), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "DRY RUN" in result.output and "maps/oi 7 to compute" in result.output
    assert not (pipeline.parent / "out").exists()


def test_ingest_sees_a_change_anywhere_in_a_file(tmp_path: Path) -> None:
    """A folder gives its NetCDF files (as ``grid``); bytes changed mid-file make a new key."""
    import hashlib

    from oceaninterp.pipeline.catalogue import catalogue, expand

    folder = tmp_path / "obs"
    folder.mkdir()
    path = folder / "big.nc"
    data = bytearray(np.random.default_rng(0).integers(0, 256, 3 << 20, dtype=np.uint8))
    path.write_bytes(data)
    assert expand(("obs",), tmp_path) == expand(("obs/*.nc",), tmp_path) == [path]
    cache: dict = {}
    (first,) = catalogue([path], options={}, cache=cache)
    data[len(data) // 2] ^= 0xFF  # same size, same first and last MiB
    path.write_bytes(data)
    mtime = cache[str(path)]["mtime_ns"] + 1_000_000_000
    os.utime(path, ns=(mtime, mtime))
    (second,) = catalogue([path], options={}, cache=cache)
    assert second.sha256 != first.sha256 and second.sha256 == hashlib.sha256(data).hexdigest()
    assert second.error is not None  # read again: not a product, said so


def test_bad_input_file_is_reported_and_the_other_days_complete(pipeline: Path) -> None:
    bad = pipeline.parent / "obs" / cmems_l3.file_name("c2", DAYS[2], timeliness="nrt")
    bad.write_bytes(b"\x89HDF\r\n\x1a\n truncated by a failed download")
    far = pipeline.parent / "obs" / cmems_l3.file_name("c2", "2023-06-01", timeliness="nrt")
    far.write_bytes(b"dated by its name far from the days mapped: never opened")
    result = CliRunner().invoke(app, ["run", str(pipeline)])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output and "1 unreadable input file" in result.output
    root = pipeline.parent / "out"
    log = next((root / "logs").glob("run-*.log")).read_text()
    assert bad.name in log
    assert len(list((root / "maps/oi").rglob("*.nc"))) == 7
    with xr.open_dataset(root / "cubes/2024/oceaninterp_cube_20240103.nc") as ds:
        assert int(ds["count"].sum()) > 0  # the day's good files were gridded

    again = run_pipeline(pipeline)  # still reported, still non-zero, no work
    assert not again.ok and again.computed == 0 and list(again.input_errors) == [str(bad)]
    bad.unlink()
    assert run_pipeline(pipeline).ok


def test_on_error_fail_stops_at_a_bad_input(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path, on_error="fail")
    (tmp_path / "obs" / cmems_l3.file_name("c2", DAYS[2])).write_bytes(b"not netcdf")
    summary = run_pipeline(pipeline)
    assert not summary.ok and summary.stopped and summary.computed == 0
    assert not (tmp_path / "out" / "cubes").exists()


def test_a_failing_day_is_reported_while_the_others_complete(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oceaninterp.pipeline import tasks

    real = tasks.grid_day

    def flaky(inputs, sst, output, spec, *args):
        if spec["start"] == DAYS[4]:
            raise OSError("disk full")
        return real(inputs, sst, output, spec, *args)

    monkeypatch.setattr(tasks, "grid_day", flaky)
    summary = run_pipeline(pipeline)
    assert not summary.ok
    assert list(summary.stages["grid"].failed) == [f"grid/{DAYS[4]}"]
    assert len(computed(summary, "grid")) == 10 and len(computed(summary, "maps/oi")) == 7
    monkeypatch.setattr(tasks, "grid_day", real)
    healed = run_pipeline(pipeline)
    assert healed.ok and computed(healed, "grid") == [DAYS[4]]
    assert computed(healed, "maps/oi") == DAYS  # both blocks read day 5


def test_concurrent_run_is_refused_or_waits(pipeline: Path) -> None:
    root = pipeline.parent / "out"
    with RunLock(root), pytest.raises(PipelineLockedError, match=f"pid {os.getpid()}"):
        run_pipeline(pipeline)
    (refused,) = (root / "logs").glob("run-*.log")
    assert "another run is in progress" in refused.read_text()  # cron sees why
    result = CliRunner().invoke(app, ["run", str(pipeline)], catch_exceptions=False)
    assert result.exit_code == 0  # the lock was released

    lock = RunLock(root)
    lock.acquire()
    threading.Timer(1.0, lock.release).start()
    waited = run_pipeline(pipeline, wait=30)
    assert waited.ok


def test_a_stale_lock_of_a_dead_run_is_recovered(pipeline: Path) -> None:
    root = pipeline.parent / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    root.mkdir()
    (root / ".lock").write_text(f'{{"pid": {dead.pid}, "host": "x", "started": "then"}}')
    summary = run_pipeline(pipeline)
    assert summary.ok
    assert f"stale lock left by pid {dead.pid}" in summary.log_file.read_text()


# The run in a subprocess, each unit slowed down so that the kill always lands
# mid-run, also on a fast idle machine (half the delay before the unit's work,
# half after it and before the manifest records it).
RUNNER = """
import sys, time
from oceaninterp.pipeline import run_pipeline, tasks

def slowed(work):
    def unit(*args, **kwargs):
        time.sleep(0.15)
        out = work(*args, **kwargs)
        time.sleep(0.15)
        return out
    return unit

tasks.grid_day = slowed(tasks.grid_day)
tasks.reconstruct_block = slowed(tasks.reconstruct_block)
run_pipeline(sys.argv[1])
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output root of one uninterrupted run (OI blocks of 2 days: 4 blocks)."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("reference"), block_days=2)
    assert run_pipeline(pipeline).ok
    return pipeline.parent / "out"


@pytest.mark.parametrize(
    ("stage", "sig"),
    [
        pytest.param("grid", signal.SIGKILL, id="grid-SIGKILL"),
        pytest.param("maps", signal.SIGKILL, id="maps-SIGKILL"),
        pytest.param("maps", signal.SIGTERM, id="maps-SIGTERM"),
    ],
)
def test_a_killed_run_leaves_valid_outputs_and_the_next_run_completes(
    tmp_path: Path, reference: Path, stage: str, sig: signal.Signals
) -> None:
    pipeline = make_pipeline(tmp_path, block_days=2)
    root = pipeline.parent / "out"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(pipeline)])
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if (root / "manifest.json").exists():
            units = Manifest(root).units
            if sum(u.startswith(stage) for u in units) >= 2:  # maps: the first of 4 blocks
                break
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait()
    expected = -signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM
    assert proc.returncode == expected, "the run ended before it could be killed"
    if sig == signal.SIGTERM:  # a clean stop: the lock file is emptied, the log says why
        assert (root / ".lock").read_text() == ""
        assert "INTERRUPTED" in next((root / "logs").glob("run-*.log")).read_text()

    finals = [p for p in root.rglob("*.nc") if not p.name.startswith(".")]
    for path in finals:  # whatever is under a final name is complete
        with xr.open_dataset(path) as ds:
            ds.load()
    summary = run_pipeline(pipeline)
    assert summary.ok, summary.line()
    assert 0 < summary.computed < 18
    assert not [p for p in root.rglob(".*") if p.name != ".lock"]
    for path in sorted(reference.rglob("*.nc")):
        assert_same_data(path, root / path.relative_to(reference))


NET = """
[[reconstruct]]
name = "net"
method = "4dvarnet"
checkpoint = "{checkpoint}"
block_days = 4
"""


def tiny_checkpoint(path: Path, tile_time: int = 5) -> Path:
    """A randomly initialised 4DVarNet for 8 x 8 tiles at 0.25 deg (ADT), saved as a checkpoint."""
    import torch

    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(
        ModelConfig(
            tile_time=tile_time,
            tile_latitude=8,
            tile_longitude=8,
            prior_width=4,
            lstm_hidden=4,
            n_step=2,
        )
    )
    meta = {"resolution": 0.25, "ssh_kind": "adt", "training": {}, "validation": {}}
    return save_checkpoint(path, model, meta)


def test_a_4dvarnet_reads_half_its_tile_length_around_each_block(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    checkpoint = tiny_checkpoint(tmp_path / "net.pt", tile_time=9)
    text = pipeline.read_text().split("[[reconstruct]]")[0]
    pipeline.write_text(text + NET.format(checkpoint=checkpoint.name))
    plan = run_pipeline(pipeline, dry_run=True)
    assert computed(plan, "grid")[0] == "2023-12-28"  # halo 9 // 2 = 4 days before Jan 1
    assert computed(plan, "maps/net") == DAYS


def test_normalise_by_the_observations_is_a_setting_of_the_maps(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path, DAYS[:4], end=DAYS[3])
    checkpoint = tiny_checkpoint(tmp_path / "net.pt")
    text = pipeline.read_text().split("[[reconstruct]]")[0] + NET.format(checkpoint=checkpoint.name)
    pipeline.write_text(text)
    first = run_pipeline(pipeline)
    assert first.ok and computed(first, "maps/net") == DAYS[:4], first.line()
    day = pipeline.parent / "out/maps/net/2024/oceaninterp_net_20240101.nc"
    with xr.open_dataset(day) as ds:
        assert "observations' mean" not in ds.attrs.get("comment", "")
        plain = ds["adt"].values
    pipeline.write_text(text + 'normalise = "observations"\n')
    second = run_pipeline(pipeline)
    assert second.ok and computed(second, "maps/net") == DAYS[:4], second.line()
    assert computed(second, "grid") == []
    with xr.open_dataset(day) as ds:
        assert "normalised SSH by the observations' mean" in ds.attrs["comment"]
        assert not np.allclose(ds["adt"].values, plain)
    assert run_pipeline(pipeline).computed == 0
    pipeline.write_text(text + 'normalise = "observations"\noi_weight = 0.5\n')
    third = run_pipeline(pipeline)
    assert third.ok and computed(third, "maps/net") == DAYS[:4], third.line()
    with xr.open_dataset(day) as ds:
        assert "0.5 x the optimal interpolation" in ds.attrs["comment"]
    assert run_pipeline(pipeline).computed == 0


def test_oi_settings_set_the_halo(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    pipeline.write_text(pipeline.read_text().replace("halo_days = 2\n", "oi = { lt = 3.0 }\n"))
    plan = run_pipeline(pipeline, dry_run=True)
    assert computed(plan, "grid")[0] == "2023-12-26"  # time_window 2 x lt 3 = 6 days


def test_local_cluster_run_equals_the_serial_run(tmp_path: Path) -> None:
    serial = make_pipeline(tmp_path / "serial", DAYS[:5], end=DAYS[3])  # one block a method
    distributed = make_pipeline(tmp_path / "distributed", DAYS[:5], end=DAYS[3])
    for pipeline in (serial, distributed):
        tiny_checkpoint(pipeline.parent / "net.pt")
        pipeline.write_text(pipeline.read_text() + NET.format(checkpoint="net.pt"))
    assert run_pipeline(serial).ok
    cfg = RunConfig.from_toml(distributed)
    cfg = RunConfig(**{**cfg.__dict__, "dask": RunDask(workers=2)})
    summary = run_pipeline(cfg)
    assert summary.ok, summary.line()
    a, b = serial.parent / "out", distributed.parent / "out"
    files = sorted(a.rglob("*.nc"))
    assert len(files) == 13  # 5 cubes (days 6 to 8 have no observation), 4 + 4 maps
    for path in files:
        assert_same_data(path, b / path.relative_to(a))


@pytest.mark.real
def test_real_nrt_files_keep_the_latest_production_date(tmp_path: Path, real_data: Path) -> None:
    """Real CMEMS Black Sea NRT L3 files; an older production of Jan 2 is superseded."""
    folder = real_data / "nadir" / "cmems_l3"
    archive = tmp_path / "archive"
    archive.mkdir()
    for day in ("20190101", "20190102", "20190103"):
        (real_file,) = folder.glob(f"nrt_blacksea_al_phy_vfec_l3_{day}_*.nc")
        (archive / real_file.name).symlink_to(real_file)
    older = archive / "nrt_blacksea_al_phy_vfec_l3_20190102_20190110.nc"
    older.symlink_to(folder / "nrt_blacksea_al_phy_vfec_l3_20190101_20190122.nc")
    (tmp_path / "nrt.toml").write_text(
        '[pipeline]\nname = "blacksea"\noutput_root = "out"\n'
        '[inputs]\nobservations = ["archive/nrt_*.nc"]\nvariable = "sla_filtered"\n'
        'land_mask = "none"\n'
        "[grid]\nlon_min = 27.0\nlon_max = 42.0\nlat_min = 40.0\nlat_max = 47.0\n"
        'resolution = 0.25\nstart = "2019-01-01"\nend = "2019-01-03"\n'
    )
    summary = run_pipeline(tmp_path / "nrt.toml")
    assert summary.ok and summary.superseded == 1, summary.line()
    counts = []
    for day in ("20190101", "20190102", "20190103"):
        with xr.open_dataset(tmp_path / f"out/cubes/2019/oceaninterp_cube_{day}.nc") as ds:
            counts.append(int(ds["count"].sum()))
    assert counts == [76, 68, 56]  # every point of each day's latest file, none of the older
