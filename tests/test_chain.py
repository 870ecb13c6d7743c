"""The whole chain a new user runs, with the commands' defaults only (issue 13).

``simulate truth --days 40`` -> ``simulate obs`` -> ``grid`` of the whole
output folder with no dates -> ``train --epochs 1`` -> ``reconstruct``
(4DVarNet and OI) -> ``score``, each as its own ``oceaninterp`` process, as a
user types them. Slow: ``pytest -m slow tests/test_chain.py`` took 24 min on a shared,
loaded 2-core machine, 15 of them in ``simulate truth`` (its cost is the QG grid and
spin-up, which no box or resolution flag reduces).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

#: Seconds any one command may take before the test gives up.
STEP_TIMEOUT_S = 3600


def oceaninterp(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``oceaninterp ARGS...`` in a new process; fail the test on a non-zero exit."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = [sys.executable, "-m", "oceaninterp", *map(str, args)]
    t0 = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    print(f"oceaninterp {' '.join(map(str, args))}: exit {done.returncode}, {elapsed:.0f} s")
    assert done.returncode == 0, (
        f"oceaninterp {' '.join(map(str, args))} exited {done.returncode}\n"
        f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    )
    return done


@pytest.mark.slow
def test_the_whole_chain_with_defaults_only(tmp_path: Path) -> None:
    truth_dir, obs_dir = tmp_path / "truth", tmp_path / "obs"

    oceaninterp("simulate", "truth", "-o", truth_dir, "--days", "40", cwd=tmp_path)
    truth = truth_dir / "truth.nc"
    assert truth.is_file()
    with xr.open_dataset(truth) as ds:
        assert ds.sizes["time"] == 40
        assert np.isfinite(ds["ssh"].values).all()

    oceaninterp("simulate", "obs", truth, "-o", obs_dir, cwd=tmp_path)
    assert any(obs_dir.rglob("*.nc"))

    cube = tmp_path / "cube.nc"
    oceaninterp("grid", obs_dir, "-o", cube, cwd=tmp_path)  # the whole folder, no dates
    with xr.open_dataset(cube) as ds:
        assert ds.sizes["time"] >= 38  # the span of the data found
        assert int(ds["count"].sum()) > 0

    checkpoint = tmp_path / "model.pt"
    # the simulated files carry SLA; the MDT they come with takes the truth to SLA too
    mdt = obs_dir / "mdt.nc"
    oceaninterp(
        "train",
        cube,
        "--truth",
        truth,
        "--mdt",
        mdt,
        "-o",
        checkpoint,
        "--epochs",
        "1",
        cwd=tmp_path,
    )
    assert checkpoint.is_file()

    maps = {"4dvarnet": tmp_path / "maps_4dvarnet.nc", "oi": tmp_path / "maps_oi.nc"}
    oceaninterp(
        "reconstruct",
        cube,
        "--checkpoint",
        checkpoint,
        "--mdt",
        mdt,
        "-o",
        maps["4dvarnet"],
        cwd=tmp_path,
    )
    oceaninterp("reconstruct", cube, "--method", "oi", "--mdt", mdt, "-o", maps["oi"], cwd=tmp_path)
    for path in maps.values():
        with xr.open_dataset(path) as ds:
            ssh = next(ds[v] for v in ("adt", "sla") if v in ds)
            assert ds.sizes["time"] >= 38
            assert np.isfinite(ssh.values).any()

    report = tmp_path / "report"
    oceaninterp("score", *maps.values(), "--truth", truth, "-o", report, cwd=tmp_path)
    records = json.loads((report / "scores.json").read_text())
    assert [r["name"] for r in records] == ["maps_4dvarnet", "maps_oi"]
    for record in records:
        assert 0.0 < record["mu"] <= 1.0
    assert (report / "scores.csv").is_file()
