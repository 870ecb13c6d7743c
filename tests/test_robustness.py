"""The robustness benchmark (benchmarks/robustness.py): its pure functions, and a slow smoke run."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import xarray as xr
from benchscript import load_benchmark

from oceaninterp.experiment import compare


@pytest.fixture(scope="module")
def robustness() -> ModuleType:
    return load_benchmark("robustness")


def test_mask_moves_by_relative_position(robustness: ModuleType) -> None:
    # Source: 4 x 6 cells of 1 deg over 10..16E, 40..44N, land on the east column
    # and on the cell (41.5N, 11.5E).
    src_lat, src_lon = 40.5 + np.arange(4.0), 10.5 + np.arange(6.0)
    land = np.zeros((4, 6), bool)
    land[:, 5] = True
    land[1, 1] = True
    # Target: 8 x 12 cells of 0.5 deg over -65..-59E, 33..37N (same relative layout).
    dst_lat, dst_lon = 33.25 + 0.5 * np.arange(8), -64.75 + 0.5 * np.arange(12)
    mask = robustness.relative_nearest_mask(
        land,
        src_lat,
        src_lon,
        (10.0, 16.0, 40.0, 44.0),
        dst_lat,
        dst_lon,
        (-65.0, -59.0, 33.0, 37.0),
    )
    expected = np.repeat(np.repeat(land, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(mask, expected)


def test_mask_of_a_smaller_window_is_stretched(robustness: ModuleType) -> None:
    src = np.arange(10.0) + 0.5  # 0..10 deg, land east of 8 deg
    land = np.broadcast_to(src[None, :] > 8, (10, 10))
    dst = 0.05 + 0.1 * np.arange(20)  # target box 0..2 deg, window 6..10 deg
    mask = robustness.relative_nearest_mask(
        land, src, src, (6.0, 10.0, 6.0, 10.0), dst, dst, (0, 2, 0, 2)
    )
    # target longitude x maps to 6 + 2 x: land (centre 8.5 or 9.5) from x = 1.0 on
    assert mask.shape == (20, 20)
    assert not mask[:, :10].any() and mask[:, 10:].all()


def test_block_average_is_the_mean_of_finite_cells(robustness: ModuleType) -> None:
    lat = 33.025 + 0.05 * np.arange(4)
    lon = -64.975 + 0.05 * np.arange(6)
    ssh = np.arange(2 * 4 * 6, dtype=np.float32).reshape(2, 4, 6)
    ssh[0, 0, 0] = np.nan  # one land cell of the first block on day 0
    truth = xr.Dataset(
        {
            "ssh": (("time", "latitude", "longitude"), ssh, {"units": "m"}),
            "sst": (("time", "latitude", "longitude"), ssh + 280, {"units": "K"}),
        },
        coords={
            "time": np.array(["2022-01-01", "2022-01-02"], "datetime64[ns]"),
            "latitude": lat,
            "longitude": lon,
        },
        attrs={"resolution": 0.05},
    )
    coarse = robustness.block_average(truth, 0.1)
    assert set(coarse.data_vars) == {"ssh", "sst"}
    assert coarse["ssh"].shape == (2, 2, 3)
    np.testing.assert_allclose(coarse["latitude"], [33.05, 33.15])
    np.testing.assert_allclose(coarse["longitude"], [-64.95, -64.85, -64.75])
    # day 1, first block: cells (0,0) (0,1) (1,0) (1,1) = 24, 25, 30, 31
    assert float(coarse["ssh"][1, 0, 0]) == pytest.approx(27.5)
    # day 0, first block without its NaN cell: (1 + 6 + 7) / 3
    assert float(coarse["ssh"][0, 0, 0]) == pytest.approx(14 / 3)
    assert coarse["ssh"].attrs["units"] == "m"


def test_table_has_one_line_per_case_and_method(robustness: ModuleType, score_record) -> None:
    scores = {
        "4dvarnet": score_record(0.03, 3.5, 9.0),
        "oi_tuned": score_record(0.02, 3.0, 12.0),
        "oi_default": score_record(0.04, 3.0, 12.0),
    }
    row = {
        "case": "seed",
        "scores": scores,
        "versus": {m: compare(scores["4dvarnet"], scores[m]) for m in ("oi_tuned", "oi_default")},
    }
    lines = robustness.table([row], {"lx": 1.0, "lt": 14.0, "noise": 0.08}).splitlines()
    assert len(lines) == 5
    net, tuned, default = lines[2:]
    assert "4DVarNet" in net and "| 3.00 |" in net and net.endswith("| - | - | - |")
    assert "lx 1 deg, lt 14 d, noise 0.08 m" in tuned
    assert tuned.endswith("| -125 % | yes | MSE, lambda_x |")
    assert default.endswith("| +44 % | no | lambda_x |")


def test_tuned_oi_comes_from_the_skill_results(robustness: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "skill.json"
    path.write_text(
        json.dumps(
            {"rows": [{"system": "nadir_swot", "oi_params": {"lx": 0.8, "lt": 10, "noise": 0.1}}]}
        )
    )
    assert robustness.read_tuned_oi(path) == {"lx": 0.8, "lt": 10.0, "noise": 0.1}
    from oceaninterp.errors import InputError

    with pytest.raises(InputError, match="nadir"):
        robustness.read_tuned_oi(path, "nadir")
    with pytest.raises(InputError, match="missing"):
        robustness.read_tuned_oi(tmp_path / "absent.json")


def test_missing_real_data_is_a_clear_error(robustness: ModuleType, tmp_path: Path) -> None:
    from oceaninterp.errors import InputError

    with pytest.raises(InputError, match="OCEANINTERP_REAL_DATA"):
        robustness.real_land(tmp_path)


@pytest.mark.slow
def test_quick_run_scores_every_case(
    robustness: ModuleType, real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two coarse QG truths, observations, cubes, three maps per case, scores: minutes."""
    monkeypatch.setenv("OCEANINTERP_REAL_DATA", str(real_data))
    results, work = tmp_path / "results", tmp_path / "work"
    cases = ",".join(robustness.CASES)
    argv = ["--quick", "--cases", cases, "--work", str(work), "--results", str(results)]
    assert robustness.main(argv) == 0
    payload = json.loads((results / "robustness.json").read_text())
    assert [r["case"] for r in payload["rows"]] == list(robustness.CASES)
    for row in payload["rows"]:
        for method in robustness.METHODS:
            assert 0 < row["scores"][method]["rmse_m"] < 1
        versus = row["versus"]["oi_tuned"]
        expected = (
            1 - (row["scores"]["4dvarnet"]["rmse_m"] / row["scores"]["oi_tuned"]["rmse_m"]) ** 2
        )
        assert versus["mse_gain"] == pytest.approx(expected)
        assert versus["worse"] == (expected < 0)
    days = sorted((work / "coast" / "pipeline" / "maps" / "4dvarnet").glob("*/*.nc"))
    mapped = [xr.open_dataset(p)["adt"].notnull().any("time").values for p in days]
    truth = xr.open_dataset(work / "coast" / "truth.nc")
    land = truth["ssh"].isnull().all("time").values
    assert 0.2 < land.mean() < 0.6
    assert len(days) == 28 and not np.any(mapped, axis=0)[land].any()  # the daily maps
    assert "| coast | 4DVarNet" in (results / "robustness.md").read_text()
    assert (results / "robustness_coast_snapshots.png").exists()
