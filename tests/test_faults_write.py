"""Writes that fail or collide (issue 14): disk full, read-only, outputs that are
inputs or files, two writers at once, leftovers of killed processes.

Each case must end as one ``error:`` line naming the output and the problem,
exit code 1, no traceback, nothing under the final name and the inputs untouched.
Root ignores permissions, so a refused write is made by a path under ``/sys``
(the kernel refuses) or by a monkeypatched writer raising ``ENOSPC``.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import xarray as xr
from test_pipeline import DAYS, make_pipeline, write_day, write_truth

from oceaninterp.cli.app import main
from oceaninterp.errors import InputError, OutputExistsError, OutputLockedError
from oceaninterp.io import atomic_path, check_output, output_lock, remove_stale, write_dataset

NO_SPACE = "No space left on device; nothing was lost"


@pytest.fixture(scope="module")
def obs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("obs")
    for i, day in enumerate(DAYS[:3]):
        write_day(folder, day, "j3", seed=i)
    return folder


def fill_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, every NetCDF, Zarr or text write to a temporary fails half-way (ENOSPC)."""

    def full(path) -> None:
        Path(path).write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    real_write_text = Path.write_text

    def write_text(self: Path, *args, **kwargs):
        if self.name.startswith(".tmp-"):
            full(self)
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda self, path, *a, **k: full(path))
    monkeypatch.setattr(xr.Dataset, "to_zarr", lambda self, path, *a, **k: full(path))
    monkeypatch.setattr(Path, "write_text", write_text)


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    fill_disk(monkeypatch)


def _cli(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(args)
    return int(exit_.value.code or 0), capsys.readouterr().err


def _one_error_line(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in " ".join(err.split()), err


def _grid_args(obs: Path, out: Path) -> list[str]:
    box = ["-x", "-60", "-X", "-58", "-y", "35", "-Y", "37", "-t", DAYS[0], "-T", DAYS[2]]
    return ["grid", str(obs), "-o", str(out), *box, "--variable", "adt", "--no-land-mask"]


def _nothing_left(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith((".tmp-", ".old-", ".zarr-"))]


# -- disk full, read-only ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_grid_on_a_full_disk_is_one_line_and_nothing_is_lost(
    obs: Path, tmp_path: Path, suffix: str, disk_full: None, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / f"cube{suffix}"
    code, err = _cli(_grid_args(obs, out), capsys)
    assert code == 1
    _one_error_line(err, f"cannot write {out}", NO_SPACE)
    assert not out.exists() and _nothing_left(tmp_path)


def test_reconstruct_and_score_on_a_full_disk(
    obs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    cube, maps, report = tmp_path / "cube.nc", tmp_path / "maps.nc", tmp_path / "report"
    assert _cli(_grid_args(obs, cube), capsys)[0] == 0
    truth = write_truth(tmp_path / "truth.nc")
    assert _cli(["reconstruct", str(cube), "--method", "oi", "-o", str(maps)], capsys)[0] == 0
    before = {p: p.read_bytes() for p in (cube, maps)}
    fill_disk(monkeypatch)
    code, err = _cli(
        ["reconstruct", str(cube), "--method", "oi", "-o", str(maps), "--overwrite"], capsys
    )
    assert code == 1
    _one_error_line(err, f"cannot write {maps}", NO_SPACE)
    code, err = _cli(["score", str(maps), "--truth", str(truth), "-o", str(report)], capsys)
    assert code == 1
    _one_error_line(err, "cannot write", "scores.json", NO_SPACE)
    assert {p: p.read_bytes() for p in (cube, maps)} == before  # nothing was lost
    assert not (report / "scores.json").exists() and _nothing_left(tmp_path)


def test_run_on_a_full_disk_reports_each_unit_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    pipeline = make_pipeline(tmp_path, DAYS[:2], end=DAYS[1])
    fill_disk(monkeypatch)
    code, err = _cli(["run", str(pipeline)], capsys)
    assert code == 1 and "Traceback" not in err
    failed = [line for line in err.splitlines() if "grid/" in line and "failed:" in line]
    assert len(failed) == 2 and all(NO_SPACE in line for line in failed)
    assert not list((tmp_path / "out").rglob("*.nc"))


def test_a_manifest_that_cannot_be_written_stops_the_run_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from oceaninterp.pipeline import manifest

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(manifest, "os", type("os", (), {"fsync": staticmethod(fsync)}))
    pipeline = make_pipeline(tmp_path, DAYS[:2], end=DAYS[1])
    code, err = _cli(["run", str(pipeline)], capsys)
    assert code == 1
    _one_error_line(err, "cannot write", "manifest.json", NO_SPACE)
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize("target", ["/sys/oceaninterp-test.nc", "/sys/oceaninterp/cube.nc"])
def test_a_read_only_place_is_one_line(
    obs: Path, target: str, capsys: pytest.CaptureFixture
) -> None:
    if not Path("/sys").is_dir():
        pytest.skip("no /sys")
    code, err = _cli(_grid_args(obs, Path(target)), capsys)
    assert code == 1
    _one_error_line(err, "cannot write /sys/oceaninterp", "nothing was lost")


# -- outputs that are inputs, or files -------------------------------------------------------


def test_an_output_that_is_an_input_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "cube.nc"
    source.write_bytes(b"data")
    os.link(source, tmp_path / "alias.nc")
    for output in (source, tmp_path / "sub" / ".." / "cube.nc", tmp_path / "alias.nc"):
        with pytest.raises(InputError, match="the output is also an input"):
            check_output(output, overwrite=True, inputs=[source])
    assert check_output(tmp_path / "other.nc", inputs=[source]) == tmp_path / "other.nc"
    assert source.read_bytes() == b"data"


def test_score_onto_a_map_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    maps = tmp_path / "maps.nc"
    maps.write_bytes(b"a map")
    code, err = _cli(["score", str(maps), "--truth", str(maps), "-o", str(maps)], capsys)
    assert code == 1
    _one_error_line(err, f"{maps} is a file, not a folder")
    assert maps.read_bytes() == b"a map"


# -- two writers at once ---------------------------------------------------------------------

HOLD = """
import sys, time
from oceaninterp.io import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_second_writer_of_the_same_output_fails_clearly(
    obs: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "cube.nc"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, err = _cli(_grid_args(obs, out), capsys)
        assert code == 1
        _one_error_line(err, f"{out}: another process (pid {holder.pid}) is writing")
        assert not out.exists()
    finally:
        holder.communicate("")
    assert _cli(_grid_args(obs, out), capsys)[0] == 0  # free again, lock file gone
    assert not (tmp_path / ".cube.nc.lock").exists()


def test_an_output_written_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "maps.nc"
    with pytest.raises(OutputExistsError, match="written meanwhile"):
        with atomic_path(out, overwrite=False) as tmp:
            tmp.write_text("second")
            out.write_text("first")  # another writer finished first
    assert out.read_text() == "first" and _nothing_left(tmp_path)
    with output_lock(out), pytest.raises(OutputLockedError):
        write_dataset(xr.Dataset(), tmp_path / "maps.nc", overwrite=True)


# -- leftovers of killed processes -----------------------------------------------------------

KILLED = """
import os, sys
from pathlib import Path
from oceaninterp.io import atomic_path, scratch_dir
folder = Path(sys.argv[1])
scratch_dir(folder)
with atomic_path(folder / "maps.nc") as tmp:
    tmp.write_text("half a map")
    os._exit(9)  # killed while writing
"""


def test_leftovers_of_a_killed_writer_are_removed_by_the_next_one(tmp_path: Path) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path)], check=False)
    assert killed.returncode == 9
    left = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.startswith(".tmp-") for n in left) and any(n.startswith(".zarr-") for n in left)
    check_output(tmp_path / "maps.nc")  # a command starts: the dead writer's leftovers go
    assert _nothing_left(tmp_path) and not (tmp_path / ".maps.nc.lock").exists()
    killed = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path)], check=False)
    legacy = tmp_path / ".tmp-0123abcd-maps.nc"  # named by an older oceaninterp
    legacy.write_text("old")
    mine = tmp_path / f".tmp-{os.getpid()}.000000-0123abcd-x.nc"  # another host's: kept
    mine.write_text("live")
    write_dataset(xr.Dataset({"a": ("x", [1.0])}), tmp_path / "other.nc")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([mine.name, legacy.name, "other.nc"])
    with atomic_path(tmp_path / "maps.nc") as tmp:  # the next write of maps.nc: its own too
        tmp.write_text("a map")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "maps.nc", "other.nc"])
    assert remove_stale(tmp_path) == []


def test_a_killed_standalone_grid_leaves_nothing_after_the_next_start(
    obs: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        import xarray as xr
        from oceaninterp.cli.app import main
        def killed(self, path, *args, **kwargs):
            open(path, "wb").write(b"half")
            os._exit(9)
        xr.Dataset.to_netcdf = killed
        main(sys.argv[1:])
        """
    )
    out = tmp_path / "cube.nc"
    killed = subprocess.run([sys.executable, "-c", script, *_grid_args(obs, out)], check=False)
    assert killed.returncode == 9 and not out.exists() and not _nothing_left(tmp_path)
    assert _cli(_grid_args(obs, out), capsys)[0] == 0
    assert out.exists() and _nothing_left(tmp_path)
